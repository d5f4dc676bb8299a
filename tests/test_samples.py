"""Samples from runs, stage files and exports in one shape; selection; images; statistics."""

import json
import shutil
from collections import Counter

import polars as pl
import pytest
from PIL import Image
from typer.testing import CliRunner

from stvqa.cli import app
from stvqa.errors import ConfigError, DataError
from stvqa.samples import ROW_KEYS, open_samples, select
from stvqa.stages.load.sources.sample import N_IMAGES, write_sample
from stvqa.stats import compute

runner = CliRunner()


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    out = tmp_path_factory.mktemp("samples") / "run"
    result = runner.invoke(app, ["build", "--out", str(out)])
    assert result.exit_code == 0, result.output
    return out


def test_a_run_a_stage_file_and_its_export_give_the_same_questions(run) -> None:
    table = pl.read_parquet(run / "qa_filtered.parquet").sort("sample_id")
    from_run, from_file, from_export = open_samples(run), open_samples(run / "qa_filtered.parquet"), open_samples(run / "dataset")
    assert (from_run.kind, from_file.kind, from_export.kind) == ("run", "stage", "export")
    assert from_run.files == [run / "qa_filtered.parquet"] and from_run.run == run and from_export.run == run
    for samples in (from_run, from_file, from_export):
        rows = sorted(samples.rows, key=lambda r: r["sample_id"])
        assert all(set(r) == set(ROW_KEYS) for r in rows)
        result = [(r["sample_id"], r["question"], r["options"], r["answer"], r["category"], r["level"], r["rating"], r["verified"]) for r in rows]
        expected = [(r["sample_id"], r["question"], r["options"], r["answer"], r["category"], r["level"], r["rating"], r["verified"])
                    for r in table.iter_rows(named=True)]
        assert result == expected
    assert {r["split"] for r in from_export.rows} == {"train", "val"} and {r["split"] for r in from_run.rows} == {None}


def test_stage_names_pick_tables_and_scenes_become_rows(run) -> None:
    assert open_samples(run, stage="verify").files == [run / "qa.parquet"]
    assert open_samples(run, stage="qa_generated").files == [run / "qa_generated.parquet"]
    scenes = open_samples(run, stage="load")
    assert scenes.files == [run / "scenes.parquet"] and len(scenes.rows) == N_IMAGES
    row = next(r for r in scenes.rows if r["image_id"] == "2")
    objects = pl.read_parquet(run / "scenes.parquet").filter(pl.col("image_id") == "2")["objects"][0]
    assert row["kind"] == "scene" and [o["id"] for o in json.loads(row["scene"])["objects"]] == [o["id"] for o in objects]
    with pytest.raises(ConfigError, match="unknown --stage 'nope'"):
        open_samples(run, stage="nope")
    with pytest.raises(ConfigError, match="--stage picks a file of a run directory"):
        open_samples(run / "dataset", stage="qa")


def test_verified_false_on_a_run_reads_the_rejects(run) -> None:
    assert open_samples(run, verified="false").files == [run / "rejects.parquet"]
    assert open_samples(run, verified="true").files == [run / "qa_filtered.parquet"]


def test_select_filters_and_shuffles_deterministically(run) -> None:
    rows = open_samples(run).rows
    counts = select(rows, category="count")
    assert counts and all(r["category"] == "count" for r in counts)
    assert [r["row"] for r in select(rows, index=[5, 2])] == [2, 5]
    first_image = select(rows, image_id=int(rows[0]["image_id"]), level=rows[0]["level"])
    assert rows[0] in first_image and all(r["image_id"] == rows[0]["image_id"] and r["level"] == rows[0]["level"] for r in first_image)
    assert select(rows, verified="unchecked") == [] and len(select(rows, verified=True)) == len(rows)
    first = [r["row"] for r in select(rows, random=True, seed=1, limit=10)]
    assert first == [r["row"] for r in select(rows, random=True, seed=1, limit=10)]
    assert first != [r["row"] for r in select(rows, random=True, seed=2, limit=10)]
    assert first != list(range(10)) and len(set(first)) == 10
    assert [r["row"] for r in select(rows, limit=3)] == [0, 1, 2]


def test_images_come_from_the_data_dir_or_the_export(run) -> None:
    samples = open_samples(run)
    row = samples.rows[0]
    image, note = samples.image(row)
    data_dir = json.loads((run / "manifest.json").read_text())["stages"]["load"]["data_dir"]
    scene = pl.read_parquet(run / "scenes.parquet").filter(pl.col("image_id") == row["image_id"]).row(0, named=True)
    expected = Image.open(f"{data_dir}/{scene['image_path']}").convert("RGB")
    assert note is None and image.size == expected.size and image.getpixel((5, 5)) == expected.getpixel((5, 5))
    export = open_samples(run / "dataset")
    exported, note = export.image(export.rows[0])
    assert note is None and exported.size == (export.rows[0]["width"], export.rows[0]["height"])


def test_missing_images_give_a_note(tmp_path) -> None:
    data = tmp_path / "vg"
    write_sample(data, n_images=3)
    out = tmp_path / "run"
    assert runner.invoke(app, ["build", "--data-dir", str(data), "--out", str(out)]).exit_code == 0
    shutil.rmtree(data / "VG_100K")
    samples = open_samples(out)
    image, note = samples.image(samples.rows[0])
    assert image is None and note.startswith("image missing: VG_100K/") and str(data) in note


def test_paths_that_are_nothing_stvqa_wrote_are_refused(tmp_path) -> None:
    with pytest.raises(DataError, match="does not exist: expected a run directory"):
        open_samples(tmp_path / "nope")
    (tmp_path / "notes.txt").write_text("x")
    with pytest.raises(DataError, match="is not a run, a stage file or an exported dataset: expected a run directory"):
        open_samples(tmp_path)
    pl.DataFrame({"a": [1]}).write_parquet(tmp_path / "other.parquet")
    with pytest.raises(DataError, match="not a stvqa table"):
        open_samples(tmp_path / "other.parquet")


def test_stats_equal_counts_computed_from_the_parquet(run) -> None:
    table = pl.read_parquet(run / "qa_filtered.parquet")
    result = compute(open_samples(run))
    assert result["rows"] == table.height
    for key, column in (("category", "category"), ("level", "level"), ("answer", "answer"), ("rating", "rating")):
        expected = {str(k): n for k, n in table.group_by(column).len().iter_rows()}
        got = {k: v["n"] for k, v in result["by"][key].items() if v["n"]}
        assert got == expected, key
        assert sum(v["share"] for v in result["by"][key].values()) == pytest.approx(1.0, abs=1e-3)
    assert result["by"]["category"]["relation"]["share"] == pytest.approx(expected_share(table, "category", "relation"), abs=1e-4)
    assert set(result["by"]["category"]) >= {"relation", "count", "existence"}  # known values listed even when absent
    manifest = json.loads((run / "manifest.json").read_text())["stages"]
    assert [s["stage"] for s in result["funnel"]] == ["load", "generate", "verify", "debias", "filter", "export"]
    for step in result["funnel"]:
        stats = manifest[step["stage"]]["stats"]
        assert (step["in"], step["kept"], step["dropped"]) == (stats["in"], stats["kept"], sum(stats["dropped"].values()))
    rejects = pl.read_parquet(run / "rejects.parquet")
    expected_rejects = Counter({(s, r): n for s, r, n in rejects.group_by("reject_stage", "reject_reason").len().iter_rows()})
    assert Counter({(s, r): n for s, reasons in result["rejects"].items() for r, n in reasons.items()}) == expected_rejects


def expected_share(table: pl.DataFrame, column: str, value: str) -> float:
    return table.filter(pl.col(column) == value).height / table.height


def test_stats_of_an_export_count_splits(run) -> None:
    result = compute(open_samples(run / "dataset"))
    files = {f.name.split("-")[0]: pl.read_parquet(f).height for f in (run / "dataset" / "data").glob("*.parquet")}
    assert {k: v["n"] for k, v in result["by"]["split"].items()} == files
    assert result["rows"] == sum(files.values()) and result["funnel"]  # the run around the dataset gives the funnel

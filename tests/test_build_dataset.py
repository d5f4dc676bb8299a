"""`stvqa build` end to end: load -> generate -> verify -> export, read back with `datasets`."""

import json
import os
import shutil
import subprocess
import sys
from collections import Counter

import polars as pl
import pytest
from typer.testing import CliRunner

from stvqa.cli import app
from stvqa.rewards import score
from stvqa.stages.load.sources.sample import write_sample

runner = CliRunner()


def build(*args: str):
    result = runner.invoke(app, ["build", *args])
    return result


@pytest.fixture(scope="module")
def sample_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("run") / "sample"
    result = build("--out", str(out))
    assert result.exit_code == 0, result.output
    return out, result.output


@pytest.fixture(scope="module")
def big_run(tmp_path_factory):
    """120 drawn scenes, 5 slots each: a few hundred samples."""
    data = tmp_path_factory.mktemp("vg") / "vg"
    write_sample(data, n_images=120, seed=3)
    out = data.parent / "run"
    result = build("--data-dir", str(data), "--out", str(out), "--per-image", "5", "--no-images")
    assert result.exit_code == 0, result.output
    return out


def test_build_summary_and_files(sample_run) -> None:
    out, output = sample_run
    for name in ("scenes.parquet", "qa_generated.parquet", "qa.parquet", "rejects.parquet", "manifest.json", "dataset/README.md"):
        assert (out / name).exists(), name
    assert "rows per stage" in output and "questions per category" in output and str(out / "dataset") in output
    manifest = json.loads((out / "manifest.json").read_text())
    assert set(manifest["stages"]) == {"load", "generate", "verify", "debias", "filter", "export"}


def test_load_dataset_round_trip_with_images(sample_run) -> None:
    from datasets import Image, load_dataset

    out, _ = sample_run
    ds = load_dataset("parquet", data_dir=str(out / "dataset"))
    assert set(ds) == {"train", "val"}
    train = ds["train"]
    # The image is stored once, as one `Image` named `image`: what TRL reads and the viewer shows.
    assert isinstance(train.features["image"], Image) and "images" not in train.column_names
    stvqa_7k = {"image_id", "problem", "question_only", "question_with_options", "options", "answer", "answer_only",
                "answer_text", "answer_option_text", "category", "level", "rating"}
    trl = {"prompt", "image", "solution", "scene", "image_width", "image_height", "verified", "generator"}
    assert stvqa_7k | trl <= set(train.column_names)
    for row in train.select(range(10)):
        assert row["image"].size == (row["image_width"], row["image_height"])
        assert row["prompt"][0]["role"] == "user" and f"Image size: ({row['image_width']} x {row['image_height']})" in row["prompt"][0]["content"]
        scene = json.loads(row["scene"])
        assert all(0 <= x1 < x2 <= row["image_width"] and 0 <= y1 < y2 <= row["image_height"] for x1, y1, x2, y2 in (o["bbox"] for o in scene["objects"]))
        assert row["answer"] == f"<scene>{row['scene']}</scene>\n<answer>{row['answer_only']}</answer>"
        # The exported ground truth is what the reward reads: a completion that repeats it scores 1.
        perfect = f"<observe>.</observe><scene>{row['scene']}</scene><think>.</think><answer>{row['solution']}</answer>"
        assert score(perfect, row["answer_option_text"], row["image_width"], row["image_height"])["overall"] == 1.0


def test_splits_do_not_share_images(big_run) -> None:
    train = pl.read_parquet(big_run / "dataset" / "data" / "train-*.parquet")
    val = pl.read_parquet(big_run / "dataset" / "data" / "val-*.parquet")
    assert val.height > 0 and train.height > 5 * val.height
    assert not set(train["image_id"]) & set(val["image_id"])
    assert set(val["category"]) >= {"relation"}


def test_letters_are_balanced(big_run) -> None:
    qa = pl.read_parquet(big_run / "qa.parquet").with_columns(n=pl.col("options").list.len())
    assert qa.height > 300
    for n, group in qa.group_by("n"):
        letters = Counter(group["answer"])
        expected = group.height / n[0]
        for letter in "ABCD"[: n[0]]:
            # within 4 standard deviations of a fair draw
            sd = (group.height * (1 / n[0]) * (1 - 1 / n[0])) ** 0.5
            assert abs(letters[letter] - expected) <= 4 * sd + 1, (n, letters)


def test_every_category_is_served(big_run) -> None:
    qa = pl.read_parquet(big_run / "qa.parquet")
    assert set(qa["category"]) == {"relation", "reach", "size", "orientation", "instance_location", "depth", "distance", "count", "existence"}
    share = (qa["category"] == "relation").mean()
    assert 0.35 < share < 0.65


def build_in_processes(tmp_path, *args: str) -> list[tuple[pl.DataFrame, pl.DataFrame]]:
    frames = []
    for hash_seed in ("1", "2"):
        out = tmp_path / f"run{hash_seed}"
        env = dict(os.environ, PYTHONHASHSEED=hash_seed, STVQA_HOME=str(tmp_path / f"home{hash_seed}"), POLARS_MAX_THREADS=hash_seed)
        subprocess.run([sys.executable, "-m", "stvqa", "build", "--out", str(out), *args], check=True, env=env, capture_output=True)
        frames.append((pl.read_parquet(out / "qa.parquet"), pl.read_parquet(out / "dataset" / "data" / "*.parquet")))
    return frames


def test_builds_are_identical_across_processes(tmp_path) -> None:
    (qa1, ds1), (qa2, ds2) = build_in_processes(tmp_path)
    assert qa1.equals(qa2) and ds1.equals(ds2)


def test_builds_of_real_records_are_identical_across_processes(vg_sample, tmp_path) -> None:
    # The real records have hundreds of names, so ties in any name ranking would show here (not on the sample).
    data = tmp_path / "vg"
    shutil.copytree(vg_sample / "v1.2-annotations-6-50", data)
    (qa1, ds1), (qa2, ds2) = build_in_processes(tmp_path, "--data-dir", str(data), "--per-image", "10", "--no-images")
    assert qa1.height > 120 and qa1.equals(qa2) and ds1.equals(ds2)


def test_sharded_builds_merge_into_the_unsharded_dataset(tmp_path) -> None:
    data = tmp_path / "vg"
    write_sample(data, n_images=40, seed=5)
    common = ("--data-dir", str(data), "--per-image", "4", "--no-images", "--val-split", "0.3")
    assert build(*common, "--out", str(tmp_path / "whole")).exit_code == 0
    for i in range(4):
        assert build(*common, "--out", str(tmp_path / f"shard{i}"), "--shard", f"{i}/4").exit_code == 0
    shards = [str(tmp_path / f"shard{i}") for i in range(4)]
    merged = runner.invoke(app, ["merge", *shards, "--out", str(tmp_path / "merged")])
    assert merged.exit_code == 0, merged.output

    def rows(run, split):
        return pl.read_parquet(tmp_path / run / "dataset" / "data" / f"{split}-*.parquet").sort("sample_id")

    for split in ("train", "val"):
        assert rows("merged", split).height > 0 and rows("merged", split).equals(rows("whole", split)), split
    whole, merged_manifest = (json.loads((tmp_path / r / "manifest.json").read_text())["stages"] for r in ("whole", "merged"))
    for stage in ("load", "generate", "verify", "export"):
        assert merged_manifest[stage]["stats"] == whole[stage]["stats"], stage


def test_merge_refuses_runs_that_are_not_shards_of_one_build(tmp_path) -> None:
    a, b = tmp_path / "a", tmp_path / "b"
    assert build("--out", str(a), "--shard", "0/2").exit_code == 0
    assert build("--out", str(b), "--shard", "1/2", "--per-image", "5").exit_code == 0
    different = runner.invoke(app, ["merge", str(a), str(b), "--out", str(tmp_path / "m")])
    assert different.exit_code == 1 and "different settings (generate per_image: 3" in different.output
    twice = runner.invoke(app, ["merge", str(a), str(a), "--out", str(tmp_path / "m")])
    assert twice.exit_code == 1 and "not distinct shards" in twice.output


def test_max_pixels_downsizes_images_and_boxes(tmp_path, sample_run) -> None:
    from datasets import load_dataset

    small = tmp_path / "small"
    result = runner.invoke(app, ["export", str(sample_run[0]), "--out", str(small), "--max-pixels", str(160 * 120)])
    assert result.exit_code == 0, result.output
    full = {r["sample_id"]: r for r in load_dataset("parquet", data_dir=str(sample_run[0] / "dataset"))["train"]}
    for row in load_dataset("parquet", data_dir=str(small))["train"].select(range(5)):
        assert (row["image_width"], row["image_height"]) == row["image"].size == (160, 120)
        original = full[row["sample_id"]]
        for a, b in zip(json.loads(row["scene"])["objects"], json.loads(original["scene"])["objects"]):
            assert a["bbox"] == [round(v * 0.25) for v in b["bbox"]]


def test_stvqa7k_layout_names_the_image_column_images(tmp_path, sample_run) -> None:
    from datasets import Image, load_dataset

    default = sample_run[0] / "dataset"
    stvqa7k = tmp_path / "stvqa7k"
    result = runner.invoke(app, ["export", str(sample_run[0]), "--out", str(stvqa7k), "--layout", "stvqa7k"])
    assert result.exit_code == 0, result.output
    train = load_dataset("parquet", data_dir=str(stvqa7k))["train"]
    assert isinstance(train.features["images"], Image) and "image" not in train.column_names
    reference = load_dataset("parquet", data_dir=str(default))["train"]
    assert train[0]["images"].tobytes() == reference[0]["image"].tobytes()
    # One copy of each image: about the size of the default layout, not twice it.
    size = lambda folder: sum(f.stat().st_size for f in (folder / "data").glob("*.parquet"))  # noqa: E731
    assert abs(size(stvqa7k) - size(default)) < 0.05 * size(default)
    assert "| layout | stvqa7k |" in (stvqa7k / "README.md").read_text()
    bad = runner.invoke(app, ["export", str(sample_run[0]), "--out", str(tmp_path / "x"), "--layout", "veRL"])
    assert bad.exit_code == 1 and "--layout 'veRL' is not a layout" in bad.output and "trl, stvqa7k" in bad.output


def test_existing_export_dir_is_refused_unless_overwrite(tmp_path, sample_run) -> None:
    target = tmp_path / "ds"
    target.mkdir()
    (target / "keep.txt").write_text("mine")
    # A folder stvqa did not write is never replaced, not even with --overwrite.
    for flags in ([], ["--overwrite"]):
        refused = runner.invoke(app, ["export", str(sample_run[0]), "--out", str(target), *flags])
        assert refused.exit_code == 1 and "not written by `stvqa export`" in refused.output, refused.output
    assert (target / "keep.txt").read_text() == "mine"
    dataset = tmp_path / "dataset"
    assert runner.invoke(app, ["export", str(sample_run[0]), "--out", str(dataset)]).exit_code == 0
    again = runner.invoke(app, ["export", str(sample_run[0]), "--out", str(dataset), "--val-split", "0.5"])
    assert again.exit_code == 1 and "already holds a dataset" in again.output and "--overwrite" in again.output
    done = runner.invoke(app, ["export", str(sample_run[0]), "--out", str(dataset), "--val-split", "0.5", "--overwrite"])
    assert done.exit_code == 0 and (dataset / "README.md").exists()


@pytest.mark.parametrize("where", ["run", "parent", "data_dir_parent"])
def test_export_never_replaces_the_run_or_a_folder_holding_it(tmp_path, where) -> None:
    data = tmp_path / "vg"
    write_sample(data, n_images=4)
    (tmp_path / "unrelated.txt").write_text("keep me")
    run = tmp_path / "runs" / "r"
    assert build("--data-dir", str(data), "--out", str(run), "--no-images").exit_code == 0
    target = {"run": run, "parent": tmp_path / "runs", "data_dir_parent": tmp_path}[where]
    before = sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*"))
    result = runner.invoke(app, ["export", str(run), "--out", str(target), "--overwrite"])
    assert result.exit_code == 1 and "is or contains" in result.output, result.output
    assert sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*")) == before
    assert (tmp_path / "unrelated.txt").read_text() == "keep me"


def test_undecodable_image_is_rejected_with_its_reason(tmp_path) -> None:
    data = tmp_path / "vg"
    write_sample(data, n_images=6)
    (data / "VG_100K" / "2.jpg").write_bytes(b"not a jpeg")
    out = tmp_path / "run"
    result = build("--data-dir", str(data), "--out", str(out), "--per-image", "10")
    assert result.exit_code == 0, result.output
    assert "image_undecodable" in result.output
    rejects = pl.read_parquet(out / "rejects.parquet")
    assert set(rejects.filter((pl.col("image_id") == "2") & (pl.col("reject_stage") == "export"))["reject_reason"]) == {"image_undecodable"}
    exported = pl.read_parquet(out / "dataset" / "data" / "*.parquet")
    assert "2" not in set(exported["image_id"]) and exported.height > 0


def test_dataset_card(sample_run) -> None:
    card = (sample_run[0] / "dataset" / "README.md").read_text()
    assert card.startswith("---\nlicense: cc-by-4.0")
    assert "path: data/train-*" in card and "path: data/val-*" in card
    assert "## Rows by category" in card and "## Rows by answer letter" in card and "CC BY 4.0" in card


@pytest.mark.parametrize(("args", "message"), [
    (["--mix", "relation=0.5,colour=0.5"], "unknown category 'colour'"),
    (["--mix", "relation=x"], "the share of relation ('x') is not a number"),
    (["--mix", "relation=nan,count=1"], "must be a finite number"),
    (["--mix", "relation=inf"], "must be a finite number"),
    (["--mix", "relation=1e308,count=1e308"], "too large to add up"),
    (["--mix", "relation=1,relation=2"], "relation is given twice"),
    (["--mix", ""], "--mix gives no category a positive share"),  # not silently the default mix
    (["--limit", "0"], "--limit 0 is out of range"),
    (["--per-image", "0"], "--per-image 0 is out of range"),
    (["--val-split", "1.5"], "--val-split 1.5 is out of range"),
    (["--per-image", "three"], "Invalid value for '--per-image'"),
    (["--generator", "gpt"], "unknown --generator 'gpt'"),
])
def test_bad_flags_give_one_error_and_hint_and_exit_1(tmp_path, args, message) -> None:
    result = build("--out", str(tmp_path / "r"), *args)
    assert result.exit_code == 1 and message in result.output, result.output
    assert result.output.startswith("error:") and "\nhint:" in result.output and "Usage" not in result.output
    assert not (tmp_path / "r" / "scenes.parquet").exists()  # refused before any work


def test_rebuild_reuses_every_stage(sample_run) -> None:
    out, _ = sample_run
    result = build("--out", str(out))
    assert result.exit_code == 0
    assert result.output.count("unchanged") == 6  # every stage of the build


def test_real_vg_sample_produces_questions(real_vg_dir, tmp_path) -> None:
    out = tmp_path / "run"
    result = build("--data-dir", str(real_vg_dir), "--out", str(out), "--per-image", "10")
    assert result.exit_code == 0, result.output
    qa = pl.read_parquet(out / "qa.parquet")
    assert qa.height >= 5 and qa["category"].n_unique() >= 3
    assert pl.read_parquet(out / "dataset" / "data" / "*.parquet").height == pl.read_parquet(out / "qa_filtered.parquet").height


def test_large_splits_are_sharded_and_read_back_whole(tmp_path, sample_run) -> None:
    from datasets import load_dataset

    from stvqa.stages.export.parquet import ExportConfig
    from stvqa.pipeline.rundir import RunDir
    from stvqa.pipeline.runner import run_stages
    from stvqa.stages import stage

    run = RunDir(sample_run[0])
    out = tmp_path / "sharded"
    run_stages(run, [(stage("export"), ExportConfig(shard_bytes=200_000, out=str(out)))])
    files = sorted(p.name for p in (out / "data").glob("train-*.parquet"))
    assert len(files) > 2 and all(f.endswith(f"-of-{len(files):05d}.parquet") for f in files)
    assert not list((out / "data").glob(".*"))  # no temporary shards left behind
    total = pl.read_parquet(sample_run[0] / "qa_filtered.parquet").height  # what export reads
    ds = load_dataset("parquet", data_dir=str(out))
    assert ds["train"].num_rows + ds["val"].num_rows == total


def test_missing_images_are_rejected_and_the_summary_says_what_to_do(tmp_path) -> None:
    data = tmp_path / "vg"
    write_sample(data, n_images=4)
    shutil.rmtree(data / "VG_100K")
    out = tmp_path / "run"
    result = build("--data-dir", str(data), "--out", str(out))
    # Zero exported rows is a failure that names the cause and the fix; the rejected rows are kept apart
    # (rejects_failed.parquet), and nothing of the run's is replaced: no dataset/ appears.
    assert result.exit_code == 1, result.output
    assert "export: no rows left (image_missing" in result.output and "--no-images" in result.output
    assert "previous output is unchanged" in result.output and not (out / "dataset").exists()
    rejects = pl.read_parquet(out / "rejects_failed.parquet").filter(pl.col("reject_stage") == "export")
    assert rejects.height == pl.read_parquet(out / "qa.parquet").height > 0
    assert pl.read_parquet(out / "rejects.parquet").filter(pl.col("reject_stage") == "export").height == 0
    assert set(rejects["reject_reason"]) == {"image_missing"}
    text_only = build("--data-dir", str(data), "--out", str(out), "--no-images")
    assert text_only.exit_code == 0
    assert pl.read_parquet(out / "dataset" / "data" / "*.parquet").height == rejects.height
    assert pl.read_parquet(out / "rejects.parquet").filter(pl.col("reject_stage") == "export").height == 0


def test_vg150_with_embedded_images_builds_end_to_end(tmp_path) -> None:
    import io

    import pyarrow as pa
    import pyarrow.parquet as pq
    from datasets import load_dataset
    from PIL import Image as PILImage

    rows = []
    for i in range(6):
        buf = io.BytesIO()
        PILImage.new("RGB", (400, 300), (20 * i, 100, 150)).save(buf, format="JPEG")
        objects = [{"id": "man.1", "bbox": [40, 60, 120, 280]}, {"id": "horse.1", "bbox": [30, 150, 220, 290]},
                   {"id": "tree.1", "bbox": [300, 10, 390, 200]}, {"id": "dog.1", "bbox": [310, 250, 350, 290]}]
        rels = [{"subject": "man.1", "predicate": "riding", "object": "horse.1"}, {"subject": "tree.1", "predicate": "behind", "object": "dog.1"},
                {"subject": "dog.1", "predicate": "near", "object": "tree.1"}]
        rows.append({"image_id": str(100 + i), "image": {"bytes": buf.getvalue(), "path": None},
                     "objects": json.dumps(objects), "relationships": json.dumps(rels)})
    data = tmp_path / "vg150"
    data.mkdir()
    pq.write_table(pa.Table.from_pylist(rows), data / "train.parquet")
    out = tmp_path / "run"
    result = build("--source", "vg150", "--data-dir", str(data), "--out", str(out), "--per-image", "4", "--max-pixels", str(200 * 150))
    assert result.exit_code == 0, result.output
    ds = load_dataset("parquet", data_dir=str(out / "dataset"))
    rows_out = [r for split in ds.values() for r in split]
    assert len(rows_out) >= 8
    assert all(r["image"].size == (200, 150) == (r["image_width"], r["image_height"]) for r in rows_out)


def test_every_generated_sample_matches_the_schema(sample_run) -> None:
    from stvqa.schema import schema_errors

    rows = pl.read_parquet(sample_run[0] / "qa_generated.parquet").to_dicts()
    assert rows and [e for r in rows for e in schema_errors("qa_sample", r)] == []

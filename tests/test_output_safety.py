"""Nobody loses data: commands replace only what stvqa wrote, a failed step keeps the last good output, merges
refuse runs that are not one build's shards, and a source never reads what stvqa wrote."""

from __future__ import annotations

import json
import shutil
import time
from pathlib import Path

import polars as pl
import pytest
from typer.testing import CliRunner

from stvqa.cli import app
from stvqa.stages.load.sources.sample import write_sample

runner = CliRunner()


def stvqa(*args: str):
    return runner.invoke(app, [str(a) for a in args])


def tree(folder: Path) -> dict[str, bytes]:
    """Every file below `folder` with its bytes: what a command must leave as it was."""
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file() and p.name != ".lock"}


@pytest.fixture(scope="module")
def small_data(tmp_path_factory) -> Path:
    data = tmp_path_factory.mktemp("vg") / "vg"
    write_sample(data, n_images=12, seed=2)
    return data


@pytest.fixture
def run(small_data, tmp_path) -> Path:
    out = tmp_path / "run"
    result = stvqa("build", "--data-dir", small_data, "--out", out, "--no-images")
    assert result.exit_code == 0, result.output
    return out


# 1. export --overwrite replaces only what an export wrote

def test_export_overwrite_refuses_a_folder_with_the_users_files_beside_an_export(run, tmp_path) -> None:
    target = tmp_path / "ds"
    assert stvqa("export", run, "--out", target, "--no-images").exit_code == 0
    (target / "MY_NOTES.txt").write_text("mine")
    (target / "extra").mkdir()
    (target / "extra" / "keep.txt").write_text("mine too")
    before = tree(target)
    result = stvqa("export", run, "--out", target, "--no-images", "--val-split", "0.5", "--overwrite")
    assert result.exit_code == 1 and "holds files that stvqa did not write: MY_NOTES.txt, extra/keep.txt" in result.output, result.output
    assert "Traceback" not in result.output and tree(target) == before


def test_a_readme_with_the_mark_does_not_make_a_folder_replaceable(run, tmp_path) -> None:
    from stvqa.pipeline.ownership import EXPORT_MARK

    target = tmp_path / "notes"
    target.mkdir()
    (target / "README.md").write_text(f"my notes\n{EXPORT_MARK}\nmore notes\n")
    (target / "paper.tex").write_text("\\begin{document}")
    before = tree(target)
    result = stvqa("export", run, "--out", target, "--overwrite")
    assert result.exit_code == 1 and "was not written by `stvqa export`" in result.output, result.output
    assert tree(target) == before


def test_export_overwrite_replaces_its_own_earlier_export_and_lists_what_it_wrote(run, tmp_path) -> None:
    target = tmp_path / "ds"
    assert stvqa("export", run, "--out", target, "--no-images").exit_code == 0
    again = stvqa("export", run, "--out", target, "--no-images", "--val-split", "0.5", "--overwrite")
    assert again.exit_code == 0, again.output
    listed = json.loads((target / "stvqa_export.json").read_text())["files"]
    present = {p.relative_to(target).as_posix() for p in target.rglob("*") if p.is_file()} - {"stvqa_export.json"}
    assert present <= set(listed) and "README.md" in listed and any(f.startswith("data/val-") for f in listed)


def test_an_export_written_before_the_file_list_existed_is_still_replaceable(run, tmp_path) -> None:
    target = tmp_path / "old"
    assert stvqa("export", run, "--out", target, "--no-images").exit_code == 0
    (target / "stvqa_export.json").unlink()  # as stvqa wrote exports before the list
    assert stvqa("export", run, "--out", target, "--no-images", "--overwrite").exit_code == 0
    (target / "stvqa_export.json").unlink()
    (target / "mine.txt").write_text("x")
    refused = stvqa("export", run, "--out", target, "--no-images", "--overwrite")
    assert refused.exit_code == 1 and "not written by `stvqa export`" in refused.output and (target / "mine.txt").exists()


# 2. build writes only into a new or empty folder, or a run it made

def test_build_refuses_a_run_whose_dataset_folder_holds_a_users_file(run, small_data) -> None:
    (run / "dataset" / "my_split.csv").write_text("id\n1\n")
    before = tree(run / "dataset")
    result = stvqa("build", "--data-dir", small_data, "--out", run, "--no-images", "--val-split", "0.3")
    assert result.exit_code == 1 and "holds files that stvqa did not write: my_split.csv" in result.output, result.output
    assert tree(run / "dataset") == before


@pytest.mark.parametrize("foreign", ["scenes.parquet", "rejects.parquet", "manifest.json"])
def test_build_refuses_a_folder_it_did_not_make(tmp_path, foreign) -> None:
    out = tmp_path / "mine"
    out.mkdir()
    (out / foreign).write_bytes(b'{"my": "data"}')
    result = stvqa("build", "--out", out)
    assert result.exit_code == 1 and "is not empty and is not a stvqa run" in result.output, result.output
    assert "Traceback" not in result.output and tree(out) == {foreign: b'{"my": "data"}'}


def test_build_into_an_empty_folder_or_its_own_run_works(tmp_path) -> None:
    out = tmp_path / "empty"
    out.mkdir()
    assert stvqa("build", "--out", out, "--per-image", "1").exit_code == 0
    assert stvqa("build", "--out", out, "--per-image", "2").exit_code == 0  # its own run


def test_a_damaged_rejects_table_in_a_run_is_one_message(run, small_data) -> None:
    (run / "rejects.parquet").write_bytes(b"not parquet")
    result = stvqa("build", "--data-dir", small_data, "--out", run, "--no-images", "--per-image", "4")
    assert result.exit_code == 1 and "is not a readable rejects table" in result.output and "Traceback" not in result.output


# 3. merge replaces a run only with --overwrite, and never a folder stvqa did not write

@pytest.fixture(scope="module")
def shards(small_data, tmp_path_factory) -> list[Path]:
    root = tmp_path_factory.mktemp("shards")
    runs = []
    for i in range(2):
        out = root / f"s{i}"
        assert stvqa("build", "--data-dir", small_data, "--out", out, "--shard", f"{i}/2", "--no-images").exit_code == 0
        runs.append(out)
    return runs


def test_merge_into_an_existing_run_needs_overwrite(shards, run) -> None:
    before = tree(run)
    refused = stvqa("merge", *shards, "--out", run)
    assert refused.exit_code == 1 and "already holds a run" in refused.output and "--overwrite" in refused.output
    assert tree(run) == before
    assert stvqa("merge", *shards, "--out", run, "--overwrite").exit_code == 0


def test_merge_never_replaces_a_folder_with_the_users_files(shards, tmp_path) -> None:
    out = tmp_path / "mine"
    out.mkdir()
    (out / "thesis.pdf").write_bytes(b"%PDF")
    for flags in ([], ["--overwrite"]):
        result = stvqa("merge", *shards, "--out", out, *flags)
        assert result.exit_code == 1 and "is not empty and is not a stvqa run" in result.output
    assert tree(out) == {"thesis.pdf": b"%PDF"}


# 4. a run never overlaps its data dir, and vg150 never reads what stvqa wrote

def _vg150(folder: Path, n: int = 6) -> None:
    folder.mkdir(parents=True)
    rows = [{"image_id": str(i), "width": 200, "height": 100,
             "objects": json.dumps([{"id": "cup.1", "bbox": [10, 10, 40, 40]}, {"id": "table.1", "bbox": [0, 40, 200, 100]}]),
             "relationships": json.dumps([{"subject": "cup.1", "predicate": "on", "object": "table.1"}])} for i in range(n)]
    pl.DataFrame(rows).write_parquet(folder / "train.parquet")


@pytest.mark.parametrize("where", ["same", "inside", "around"])
@pytest.mark.parametrize("source", ["vg150", "vg"])
def test_out_and_data_dir_must_not_overlap(tmp_path, where, source, small_data) -> None:
    data = tmp_path / "data"
    if source == "vg150":
        _vg150(data)
    else:
        shutil.copytree(small_data, data)
    out = {"same": data, "inside": data / "runs" / "r", "around": tmp_path}[where]
    before = tree(tmp_path)
    result = stvqa("build", "--source", source, "--data-dir", data, "--out", out, "--no-images")
    assert result.exit_code == 1 and "the data dir" in result.output and "Traceback" not in result.output, result.output
    assert tree(tmp_path) == before


def test_vg150_reads_neither_runs_nor_exports_it_finds_in_the_data_dir(tmp_path) -> None:
    data = tmp_path / "data"
    _vg150(data)
    run = tmp_path / "run"
    assert stvqa("build", "--source", "vg150", "--data-dir", data, "--out", run, "--no-images").exit_code == 0
    # A run and an export that ended up inside the data dir (copied there by hand) are not input.
    shutil.copytree(run, data / "old-run")
    shutil.copytree(run / "dataset", data / "old-export")
    (data / ".train.parquet.123.tmp").write_bytes(b"half written")
    again = tmp_path / "again"
    assert stvqa("build", "--source", "vg150", "--data-dir", data, "--out", again, "--no-images").exit_code == 0
    assert pl.read_parquet(again / "scenes.parquet").height == pl.read_parquet(run / "scenes.parquet").height == 6


# 5. merge accepts exactly the shards 0..N-1 of one build

@pytest.mark.parametrize(("flags", "message"), [
    ((["--shard", "0/2"], ["--shard", "1/3"]), "shards of different builds"),
    ((["--shard", "0/2", "--limit", "5"], ["--shard", "1/2"]), "load limit: 5"),
    ((["--shard", "0/2"], ["--shard", "1/2", "--images"]), "export embed_images"),
    ((["--shard", "0/2", "--min-rating", "5"], ["--shard", "1/2"]), "filter min_rating: 5"),
    ((["--shard", "0/2"],), "shards 1/2 are missing"),
    ((["--shard", "0/2"], []), "was not built with --shard"),
])
def test_merge_refuses_runs_that_are_not_the_shards_of_one_build(small_data, tmp_path, flags, message) -> None:
    runs = []
    for i, extra in enumerate(flags):
        out = tmp_path / f"r{i}"
        images = [] if "--images" in extra else ["--no-images"]
        assert stvqa("build", "--data-dir", small_data, "--out", out, *images, *[f for f in extra if f != "--images"]).exit_code == 0
        runs.append(out)
    result = stvqa("merge", *runs, "--out", tmp_path / "merged")
    assert result.exit_code == 1 and message in result.output, result.output
    assert not (tmp_path / "merged").exists() or not any((tmp_path / "merged").iterdir())


def test_merged_tables_are_in_the_unsharded_builds_row_order(tmp_path) -> None:
    data = tmp_path / "vg"
    write_sample(data, n_images=30, seed=4)
    common = ("--data-dir", data, "--per-image", "4", "--no-images", "--no-dedup")
    assert stvqa("build", *common, "--out", tmp_path / "whole").exit_code == 0
    for i in range(3):
        assert stvqa("build", *common, "--out", tmp_path / f"s{i}", "--shard", f"{i}/3").exit_code == 0
    # Given in another order than their shard numbers: the order of the rows must not follow it.
    merged = stvqa("merge", tmp_path / "s2", tmp_path / "s0", tmp_path / "s1", "--out", tmp_path / "merged")
    assert merged.exit_code == 0, merged.output
    for name in ("scenes.parquet", "qa_generated.parquet", "qa.parquet", "qa_debiased.parquet", "qa_filtered.parquet", "rejects.parquet"):
        whole, joined = pl.read_parquet(tmp_path / "whole" / name), pl.read_parquet(tmp_path / "merged" / name)
        assert joined.height > 0 and joined.equals(whole), name
    for split in ("train", "val"):
        files = sorted((tmp_path / "whole" / "dataset" / "data").glob(f"{split}-*.parquet"))
        assert pl.read_parquet(files).equals(pl.read_parquet(sorted((tmp_path / "merged" / "dataset" / "data").glob(f"{split}-*.parquet"))))


# 6. one image, one scene; sample ids unique in every export

def test_a_repeated_record_yields_one_scene_and_unique_sample_ids(tmp_path) -> None:
    data = tmp_path / "vg"
    write_sample(data, n_images=6)
    objects = json.loads((data / "objects.json").read_text())
    (data / "objects.json").write_text(json.dumps(objects + [objects[2]]))
    out = tmp_path / "run"
    result = stvqa("build", "--data-dir", data, "--out", out, "--no-dedup", "--per-image", "5")
    assert result.exit_code == 0, result.output
    scenes = pl.read_parquet(out / "scenes.parquet")
    assert scenes["image_id"].n_unique() == scenes.height == 6
    load = json.loads((out / "manifest.json").read_text())["stages"]["load"]["stats"]
    assert load["dropped"]["record_repeated_image_id"] == 1 and load["in"] == 7
    exported = pl.read_parquet(sorted((out / "dataset" / "data").glob("*.parquet")))
    assert exported["sample_id"].n_unique() == exported.height > 0


# 7. a failure keeps what was there

def test_a_filter_that_keeps_nothing_keeps_the_previous_questions_and_dataset(run) -> None:
    before = tree(run)
    result = stvqa("filter", run, "--min-rating", "10", "--level", "hard")  # the best-rated questions are easy ones
    assert result.exit_code == 1 and "filter: no rows left (" in result.output and "previous output is unchanged" in result.output
    after = tree(run)
    assert set(after) - set(before) == {"rejects_failed.parquet"}
    assert all(after[name] == data for name, data in before.items()), "the run changed"
    kept_apart = pl.read_parquet(run / "rejects_failed.parquet")
    assert set(kept_apart["reject_reason"]) <= {"rating_below_min", "level_not_selected", "duplicate_question", "near_duplicate_question"}
    assert kept_apart.height == pl.read_parquet(run / "qa_debiased.parquet").height


def test_a_build_whose_export_keeps_nothing_keeps_the_previous_dataset(small_data, tmp_path) -> None:
    data = tmp_path / "vg"
    shutil.copytree(small_data, data)
    out = tmp_path / "run"
    assert stvqa("build", "--data-dir", data, "--out", out).exit_code == 0
    dataset = tree(out / "dataset")
    shutil.rmtree(data / "VG_100K")
    result = stvqa("build", "--data-dir", data, "--out", out, "--force")
    assert result.exit_code == 1 and "export: no rows left (image_missing" in result.output
    assert tree(out / "dataset") == dataset


def test_a_failed_side_export_does_not_change_the_run(small_data, tmp_path) -> None:
    data = tmp_path / "vg"
    shutil.copytree(small_data, data)
    out = tmp_path / "run"
    assert stvqa("build", "--data-dir", data, "--out", out, "--no-images").exit_code == 0
    shutil.rmtree(data / "VG_100K")
    before = tree(out)
    result = stvqa("export", out, "--out", tmp_path / "with-images", "--images")
    assert result.exit_code == 1 and "image_missing" in result.output
    assert tree(out) == before and not (tmp_path / "with-images").exists()
    assert stvqa("export", out, "--out", tmp_path / "text", "--no-images").exit_code == 0
    assert tree(out) == before  # a side export that works does not change the run either


# 8. judges stop when the endpoint cannot be reached

def test_a_judge_against_an_unreachable_endpoint_stops_with_one_message(run) -> None:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # closed again below: nothing listens there
    before = tree(run)
    started = time.monotonic()
    result = stvqa("filter", run, "--judge", "vlm", "--model", "m", "--base-url", f"http://127.0.0.1:{port}/v1", "--max-retries", "0",
                   "--concurrency", "4")
    assert result.exit_code == 1 and f"http://127.0.0.1:{port}/v1 cannot be reached" in result.output, result.output
    assert "Traceback" not in result.output and time.monotonic() - started < 60
    after = tree(run)
    assert {k: v for k, v in after.items() if k in before and k != "judge_cache.sqlite"} == {k: v for k, v in before.items()}


def test_a_non_local_endpoint_without_a_key_is_warned_about(caplog, monkeypatch) -> None:
    import asyncio
    import logging

    from stvqa.llm.client import LLMClient
    from stvqa.llm.config import LLMConfig

    monkeypatch.delenv("STVQA_TEST_KEY", raising=False)

    async def make(url: str) -> None:
        await LLMClient(LLMConfig(base_url=url, model="m", api_key_env="STVQA_TEST_KEY")).aclose()

    with caplog.at_level(logging.WARNING, logger="stvqa.llm.client"):
        asyncio.run(make("http://127.0.0.1:9/v1"))
        assert not caplog.records
        asyncio.run(make("https://api.example.com/v1"))
    assert "$STVQA_TEST_KEY is not set" in caplog.text and "https://api.example.com/v1" in caplog.text

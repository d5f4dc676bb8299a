"""`--workers N`: the image-wise stages on several processes give exactly what one process gives (same rows, same
order, same manifest counts), and faults in a worker reach the user as they would from the main process."""

from __future__ import annotations

import json
from collections import Counter
from functools import partial

import polars as pl
import pytest
from typer.testing import CliRunner

from stvqa.cli import app
from stvqa.errors import DataError
from stvqa.pipeline.workers import ordered_map
from stvqa.stages.load import scenes
from stvqa.stages.load.sources.sample import write_sample

TABLES = ("scenes", "qa_generated", "qa", "qa_debiased", "qa_filtered", "rejects")


@pytest.fixture
def small_parts(monkeypatch):
    """Parts of a few scenes, so that the bundled sample's 60 images keep several workers busy."""
    monkeypatch.setattr(scenes, "CHUNK_RECORDS", 7)
    monkeypatch.setattr(scenes, "PART_ROWS", 9)


def stats_of(run) -> dict:
    return {name: {k: v for k, v in record["stats"].items()} for name, record in json.loads((run / "manifest.json").read_text())["stages"].items()}


@pytest.mark.parametrize("images", ["--images", "--no-images"])
def test_two_workers_build_exactly_what_one_does(small_parts, tmp_path, images) -> None:
    data = tmp_path / "vg"
    write_sample(data, n_images=40, seed=6)
    runs = {}
    for workers in ("1", "2"):
        out = tmp_path / f"w{workers}"
        result = CliRunner().invoke(app, ["build", "--data-dir", str(data), "--out", str(out), "--workers", workers, images,
                                          "--per-image", "4", "--max-pixels", "20000"])
        assert result.exit_code == 0, result.output
        runs[workers] = out
    for name in TABLES:
        one, two = (pl.read_parquet(runs[w] / f"{name}.parquet") for w in ("1", "2"))
        assert one.height > 0 and one.equals(two), name
    for split in ("train", "val"):
        one, two = (pl.read_parquet(sorted((runs[w] / "dataset" / "data").glob(f"{split}-*.parquet"))) for w in ("1", "2"))
        assert one.equals(two), split  # image bytes too, where there are images
    assert stats_of(runs["1"]) == stats_of(runs["2"])


def _square_unless_seven(item: int, stats: Counter) -> int:
    if item == 7:
        raise DataError("seven is not allowed", "Leave out seven.")
    stats["seen"] += 1
    return item * item


def test_ordered_map_keeps_the_order_and_the_counts() -> None:
    stats: Counter = Counter()
    assert list(ordered_map(_square_unless_seven, (i for i in range(200) if i != 7), 2, stats, chunk=16)) == [i * i for i in range(200) if i != 7]
    assert stats["seen"] == 199


def test_a_user_error_in_a_worker_arrives_whole() -> None:
    with pytest.raises(DataError) as info:
        list(ordered_map(_square_unless_seven, range(100), 2, Counter(), chunk=4))
    assert info.value.message == "seven is not allowed" and info.value.hint == "Leave out seven."


def test_workers_is_a_flag_checked_like_any_other(tmp_path) -> None:
    result = CliRunner().invoke(app, ["build", "--out", str(tmp_path / "r"), "--workers", "0"])
    assert result.exit_code == 1 and "--workers 0 is out of range" in result.output

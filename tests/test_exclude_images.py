"""`stvqa build --exclude-images FILE`: a benchmark's images (by VG or COCO id) never reach the dataset, counted
in the manifest and the card; a bad file is one message and loses nothing."""

import json
import shutil

import polars as pl
from typer.testing import CliRunner

from stvqa.cli import app
from stvqa.stages.load.sources.sample import sample_dir

runner = CliRunner()


def _data_with_coco_ids(tmp_path):
    """The bundled sample, with COCO ids given to its first three images (VG's image_data.json has them)."""
    data = tmp_path / "vg"
    shutil.copytree(sample_dir(), data, ignore=shutil.ignore_patterns("_COMPLETE"))
    records = json.loads((data / "image_data.json").read_text())
    for i, record in enumerate(records[:3]):
        record["coco_id"] = 9000 + i
    (data / "image_data.json").write_text(json.dumps(records))
    return data, [str(r["image_id"]) for r in records]


def test_listed_images_are_left_out_by_vg_or_coco_id_and_counted(tmp_path) -> None:
    data, ids = _data_with_coco_ids(tmp_path)
    listing = tmp_path / "benchmark-images.txt"
    listing.write_text(f"# CV-Bench's COCO images\ncoco:9001\ncoco:424242  # not in this data\n\nvg:{ids[5]}\n{ids[6]}\n")
    run = tmp_path / "run"
    result = runner.invoke(app, ["build", "--out", str(run), "--data-dir", str(data), "--no-images", "--exclude-images", str(listing)])
    assert result.exit_code == 0, result.output
    left_out = {ids[1], ids[5], ids[6]}
    scenes = set(pl.read_parquet(run / "scenes.parquet", columns=["image_id"])["image_id"])
    assert scenes and not scenes & left_out and len(scenes) == len(ids) - 3
    exported = pl.read_parquet(sorted((run / "dataset" / "data").glob("*.parquet")), columns=["image_id"])
    assert exported.height and not set(exported["image_id"]) & left_out
    load = json.loads((run / "manifest.json").read_text())["stages"]["load"]
    assert load["stats"]["dropped"]["image_excluded"] == 3
    assert {k: load["excluded_images"][k] for k in ("vg_ids", "coco_ids", "coco_ids_in_data")} == {"vg_ids": 2, "coco_ids": 2, "coco_ids_in_data": 1}
    assert "| image_excluded | 3 images" in (run / "dataset" / "README.md").read_text()


def test_a_changed_list_builds_again_and_a_bad_line_is_one_message(tmp_path) -> None:
    data, ids = _data_with_coco_ids(tmp_path)
    listing = tmp_path / "list.txt"
    listing.write_text(f"{ids[0]}\n")
    run = tmp_path / "run"
    args = ["build", "--out", str(run), "--data-dir", str(data), "--no-images", "--exclude-images", str(listing)]
    assert runner.invoke(app, args).exit_code == 0
    first = set(pl.read_parquet(run / "scenes.parquet", columns=["image_id"])["image_id"])
    listing.write_text(f"{ids[0]}\n{ids[1]}\n")  # an input of the load stage: a new list is a new build
    assert runner.invoke(app, args).exit_code == 0
    assert set(pl.read_parquet(run / "scenes.parquet", columns=["image_id"])["image_id"]) == first - {ids[1]}
    listing.write_text("coco:12\nflickr:77\n")
    result = runner.invoke(app, args)
    assert result.exit_code == 1 and "line 2: 'flickr:77' is not vg:ID, coco:ID" in result.output and "Traceback" not in result.output
    assert set(pl.read_parquet(run / "scenes.parquet", columns=["image_id"])["image_id"]) == first - {ids[1]}  # kept
    missing = runner.invoke(app, [*args[:-1], str(tmp_path / "nope.txt")])
    assert missing.exit_code == 1 and "does not exist" in missing.output

"""`stvqa stats` (tables and --json) and `stvqa render` (contact sheets, one PNG per sample)."""

import json

import polars as pl
import pytest
from PIL import Image
from typer.testing import CliRunner

from stvqa.cli import app
from stvqa.render import PALETTE

runner = CliRunner()
PAD, MAX_SIDE = 8, 512  # contact_sheet's padding, render's default card image side


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    out = tmp_path_factory.mktemp("stats") / "run"
    result = runner.invoke(app, ["build", "--out", str(out)])
    assert result.exit_code == 0, result.output
    return out


def test_stats_json_matches_counts_from_the_parquet(run) -> None:
    result = runner.invoke(app, ["stats", str(run), "--json"])
    assert result.exit_code == 0, result.output
    stats = json.loads(result.output)
    table = pl.read_parquet(run / "qa_filtered.parquet")
    assert stats["rows"] == table.height
    for key in ("category", "level", "answer", "rating"):
        expected = {str(k): n for k, n in table.group_by(key).len().iter_rows()}
        assert {k: v["n"] for k, v in stats["by"][key].items() if v["n"]} == expected, key
        assert all(v["share"] == round(v["n"] / table.height, 4) for v in stats["by"][key].values())
    manifest = json.loads((run / "manifest.json").read_text())["stages"]
    assert [(s["stage"], s["in"], s["kept"], s["dropped"]) for s in stats["funnel"]] == [
        (name, manifest[name]["stats"]["in"], manifest[name]["stats"]["kept"], sum(manifest[name]["stats"]["dropped"].values()))
        for name in ("load", "generate", "verify", "debias", "filter", "export")]
    rejects = pl.read_parquet(run / "rejects.parquet")
    expected: dict[str, dict[str, int]] = {}
    for stage, reason, n in rejects.group_by("reject_stage", "reject_reason").len().iter_rows():
        expected.setdefault(stage, {})[reason] = n  # a stage may reject for several reasons
    assert stats["rejects"] == expected


def test_stats_tables_show_counts_funnel_and_rejects(run) -> None:
    result = runner.invoke(app, ["stats", str(run)])
    assert result.exit_code == 0, result.output
    table = pl.read_parquet(run / "qa_filtered.parquet")
    relation = table.filter(pl.col("category") == "relation").height
    line = next(line for line in result.output.splitlines() if "│ relation " in line)
    assert f" {relation} " in line and f"{relation / table.height:.1%}" in line and "█" in line
    for title in ("by category", "by level", "by answer", "by rating", "funnel", "rejects by stage and reason"):
        assert title in result.output, title
    generate = json.loads((run / "manifest.json").read_text())["stages"]["generate"]["stats"]
    assert any(line.startswith("│ generate ") and f" {generate['in']} " in line and f" {generate['kept']} " in line
               for line in result.output.splitlines())


def box_edge_pixel(run, sample_row) -> tuple[tuple[int, int], tuple[int, int, int]]:
    """Where the first focus box's left edge lands on the sample's card, and its colour."""
    scene = pl.read_parquet(run / "scenes.parquet").filter(pl.col("image_id") == sample_row["image_id"]).row(0, named=True)
    factor = min(1.0, MAX_SIDE / max(scene["width"], scene["height"]))
    scaled_width = round(scene["width"] * factor)
    factor = scaled_width / scene["width"]  # draw_boxes scales boxes by the resized width
    x1, y1, x2, y2 = json.loads(sample_row["focus"])["objects"][0]["bbox"]
    return (round(x1 * factor) + 1, round((y1 + y2) / 2 * factor)), PALETTE[0]


def test_render_sheet_draws_boxes_where_the_scene_says(run, tmp_path) -> None:
    table = pl.read_parquet(run / "qa_filtered.parquet")
    index = table.with_row_index().filter(pl.col("category") == "instance_location")["index"][0]  # one object in focus
    out = tmp_path / "sheet.png"
    result = runner.invoke(app, ["render", str(run), "--out", str(out), "--index", str(index)])
    assert result.exit_code == 0, result.output
    sheet = Image.open(out).convert("RGB")
    (x, y), colour = box_edge_pixel(run, table.row(index, named=True))
    assert sheet.getpixel((PAD + x, PAD + y)) == colour
    assert sheet.getpixel((PAD + x - 6, PAD + y)) != colour  # just outside the box: the photo


def test_render_sheet_size_follows_the_cards(run, tmp_path) -> None:
    out = tmp_path / "sheet.png"
    result = runner.invoke(app, ["render", str(run), "--out", str(out), "-n", "5", "--columns", "2"])
    assert result.exit_code == 0 and "5 samples" in result.output, result.output
    sheet = Image.open(out)
    card_height = MAX_SIDE * 480 // 640  # the bundled sample's images are 640×480
    assert sheet.width == 2 * MAX_SIDE + 3 * PAD
    assert sheet.height > 3 * card_height + 4 * PAD  # three rows of cards, each image plus its caption


def test_render_per_sample_writes_one_png_each(run, tmp_path) -> None:
    out = tmp_path / "cards"
    result = runner.invoke(app, ["render", str(run), "--out", str(out), "--per-sample", "-n", "4", "--random", "--seed", "5"])
    assert result.exit_code == 0, result.output
    files = sorted(p.name for p in out.iterdir())
    assert len(files) == 4 and all(":" not in f and f.endswith(".png") for f in files)
    table = pl.read_parquet(run / "qa_filtered.parquet")
    assert set(files) <= {s.replace(":", "_") + ".png" for s in table["sample_id"]}
    assert all(Image.open(out / f).width == MAX_SIDE for f in files)


def test_render_refuses_an_out_of_the_wrong_kind(run, tmp_path) -> None:
    folder = tmp_path / "folder"
    folder.mkdir()
    sheet = runner.invoke(app, ["render", str(run), "--out", str(folder)])
    assert sheet.exit_code == 1 and "error: --out" in sheet.output and "is a folder" in sheet.output and "hint:" in sheet.output
    a_file = tmp_path / "file.png"
    a_file.write_bytes(b"x")
    per_sample = runner.invoke(app, ["render", str(run), "--out", str(a_file), "--per-sample"])
    assert per_sample.exit_code == 1 and "is a file" in per_sample.output and a_file.read_bytes() == b"x"
    nothing = runner.invoke(app, ["render", str(run), "--out", str(tmp_path / "s.png"), "--image-id", "no-such-image"])
    assert nothing.exit_code == 1 and "nothing matches --image-id no-such-image" in nothing.output

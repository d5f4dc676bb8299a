import json
import os
from pathlib import Path

import polars as pl
import pytest
from typer.testing import CliRunner

from stvqa.cli import app
from stvqa.focus import INTERACTION_PREDICATES
from stvqa.stages.load.sources.sample import N_IMAGES

runner = CliRunner()


def build(*args: str):
    return runner.invoke(app, ["build", *args])


def test_build_on_bundled_sample_writes_scenes_and_manifest(tmp_path) -> None:
    out = tmp_path / "run"
    result = build("--source", "vg", "--out", str(out))
    assert result.exit_code == 0, result.output
    scenes = pl.read_parquet(out / "scenes.parquet")
    manifest = json.loads((out / "manifest.json").read_text())
    load = manifest["stages"]["load"]
    assert scenes.height == load["stats"]["kept"] == load["stats"]["in"] == N_IMAGES
    assert load["stats"]["counters"]["object_merged_duplicate"] > 0  # the planted duplicates were merged
    assert manifest["stvqa_version"] and load["inputs"] and load["config"]["normalize"]["dedup_iou"] == 0.7
    assert set(scenes["image_status"]) == {"ok"}


def test_second_build_is_skipped_and_force_reruns(tmp_path) -> None:
    out = tmp_path / "run"
    assert build("--out", str(out)).exit_code == 0
    mtime = (out / "scenes.parquet").stat().st_mtime_ns
    again = build("--out", str(out))
    assert again.exit_code == 0 and "unchanged" in again.output
    assert (out / "scenes.parquet").stat().st_mtime_ns == mtime
    forced = build("--out", str(out), "--force")
    assert "unchanged" not in forced.output
    assert (out / "scenes.parquet").stat().st_mtime_ns != mtime


def test_changed_config_reruns(tmp_path) -> None:
    out = tmp_path / "run"
    build("--out", str(out))
    result = build("--out", str(out), "--dedup-iou", "1.0")
    assert "unchanged" not in result.output
    manifest = json.loads((out / "manifest.json").read_text())
    assert "object_merged_duplicate" not in manifest["stages"]["load"]["stats"]["counters"]


def test_limit_and_shards_select_deterministically(tmp_path) -> None:
    ids = {}
    for i in range(3):
        out = tmp_path / f"shard{i}"
        assert build("--out", str(out), "--shard", f"{i}/3").exit_code == 0
        ids[i] = pl.read_parquet(out / "scenes.parquet")["image_id"].to_list()
    everything = sum(ids.values(), [])
    assert sorted(everything, key=int) == [str(i) for i in range(1, N_IMAGES + 1)]  # shards partition the images
    assert build("--out", str(tmp_path / "lim"), "--limit", "5").exit_code == 0
    assert pl.read_parquet(tmp_path / "lim" / "scenes.parquet")["image_id"].to_list() == ["1", "2", "3", "4", "5"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--data-dir", "/nonexistent/vg"], "data dir /nonexistent/vg does not exist"),
        (["--shard", "3/2"], "--shard '3/2' is not of the form i/N"),
        (["--source", "coco"], "unknown --source 'coco'"),
        (["--source", "gqa"], "--source gqa needs --data-dir"),
    ],
)
def test_user_mistakes_give_one_message_and_exit_1(tmp_path, args, message) -> None:
    result = build("--out", str(tmp_path / "r"), *args)
    assert result.exit_code == 1
    assert message in result.output
    assert "Traceback" not in result.output


def test_failed_stage_leaves_previous_output_intact(tmp_path, monkeypatch) -> None:
    out = tmp_path / "run"
    build("--out", str(out))
    before = (out / "scenes.parquet").read_bytes()

    def explode(*args, **kwargs):
        yield from ()
        raise RuntimeError("killed mid-write")

    monkeypatch.setattr("stvqa.stages.load.canonical_batches", explode)
    with pytest.raises(RuntimeError):
        runner.invoke(app, ["build", "--out", str(out), "--force"], catch_exceptions=False)
    assert (out / "scenes.parquet").read_bytes() == before
    assert [p.name for p in out.iterdir() if p.name.endswith(".tmp")] == []


def test_inspect_shows_rows(tmp_path) -> None:
    out = tmp_path / "run"
    build("--out", str(out))
    result = runner.invoke(app, ["inspect", str(out), "--stage", "scenes", "-n", "1", "--image-id", "2"])
    assert result.exit_code == 0, result.output
    assert "image 2 " in result.output and "car.1" in result.output
    missing = runner.invoke(app, ["inspect", str(tmp_path / "nope")])
    assert missing.exit_code == 1 and "does not exist" in missing.output


def test_version() -> None:
    result = runner.invoke(app, ["--version"])
    assert result.exit_code == 0 and result.output.startswith("stvqa ")


def test_bundled_sample_serves_every_category(tmp_path) -> None:
    out = tmp_path / "run"
    build("--out", str(out))
    scenes = pl.read_parquet(out / "scenes.parquet").to_dicts()
    predicates = {r["predicate"] for s in scenes for r in s["relationships"]}
    assert predicates & {"left of", "above", "on", "near", "next to", "sitting on"}  # relation
    assert predicates & INTERACTION_PREDICATES  # reach
    assert "in front of" in predicates  # depth

    def names(s):
        return [o["name"] for o in s["objects"]]

    assert sum(any(names(s).count(n) >= 2 for n in set(names(s))) for s in scenes) >= 10  # count
    assert all(sum(names(s).count(n) == 1 for n in set(names(s))) >= 3 for s in scenes)  # instance location, distance
    vocabulary = {n for s in scenes for n in names(s)}
    assert all(len(vocabulary - set(names(s))) >= 3 for s in scenes)  # existence "no" answers

    def area(o):
        x1, y1, x2, y2 = o["bbox"]
        return (x2 - x1) * (y2 - y1)

    def clear_size_pair(s):
        unique = [o for o in s["objects"] if names(s).count(o["name"]) == 1]
        return any(area(a) >= 1.5 * area(b) for a in unique for b in unique if a is not b)

    assert all(clear_size_pair(s) for s in scenes)  # size
    def separated(s):  # orientation: two objects clearly left/right of each other
        return any(a["bbox"][2] < b["bbox"][0] for a in s["objects"] for b in s["objects"])

    assert all(separated(s) for s in scenes)


def test_config_file_sets_defaults_and_flags_win(tmp_path) -> None:
    config = tmp_path / "build.yaml"
    config.write_text(f"out: {tmp_path / 'from-config'}\nper_image: 4\nlimit: 4\n")
    assert build("--config", str(config)).exit_code == 0
    manifest = json.loads((tmp_path / "from-config" / "manifest.json").read_text())
    assert manifest["stages"]["generate"]["config"]["per_image"] == 4
    assert manifest["stages"]["load"]["stats"]["kept"] == 4
    assert build("--config", str(config), "--per-image", "5").exit_code == 0
    manifest = json.loads((tmp_path / "from-config" / "manifest.json").read_text())
    assert manifest["stages"]["generate"]["config"]["per_image"] == 5


def test_config_file_with_unknown_key_is_refused(tmp_path) -> None:
    config = tmp_path / "bad.yaml"
    config.write_text("per_imag: 3\n")
    result = build("--config", str(config))
    assert result.exit_code == 1 and "unknown keys per_imag" in result.output and result.output.startswith("error:")


def test_shipped_pipeline_configs_are_valid(tmp_path) -> None:
    from conftest import REPO

    for config in (REPO / "pipelines").glob("*.yaml"):
        if config.name.startswith("grpo_"):
            continue  # training recipes (tests/test_train_recipe.py)
        result = runner.invoke(app, ["build", "--config", str(config), "--help"])
        assert result.exit_code == 0, (config, result.output)


def test_inspect_questions_show_options_and_answer(tmp_path) -> None:
    out = tmp_path / "run"
    build("--out", str(out))
    result = runner.invoke(app, ["inspect", str(out), "--stage", "qa", "--category", "count", "-n", "1"])
    assert result.exit_code == 0, result.output
    row = pl.read_parquet(out / "qa.parquet").filter(pl.col("category") == "count").row(0, named=True)
    assert row["question"] in result.output
    assert f"✓ ({row['answer']}) {row['answer_text']}" in result.output
    bad = runner.invoke(app, ["inspect", str(out), "--stage", "nope"])
    assert bad.exit_code == 1 and "unknown --stage 'nope'" in bad.output


def test_every_command_has_help() -> None:
    top = runner.invoke(app, ["--help"])
    assert top.exit_code == 0
    for command in ("build", "export", "inspect", "stats", "render"):
        assert command in top.output
        result = runner.invoke(app, [command, "--help"])
        assert result.exit_code == 0 and "Usage" in result.output, command


def test_verbose_adds_the_traceback(tmp_path) -> None:
    quiet = runner.invoke(app, ["build", "--data-dir", str(tmp_path / "none"), "--out", str(tmp_path / "r")])
    loud = runner.invoke(app, ["--verbose", "build", "--data-dir", str(tmp_path / "none"), "--out", str(tmp_path / "r")])
    assert quiet.exit_code == loud.exit_code == 1
    assert "Traceback" not in quiet.output and "Traceback" in loud.output


def test_images_added_later_rerun_the_load(tmp_path) -> None:
    from stvqa.stages.load.sources.sample import write_sample

    data = tmp_path / "vg"
    write_sample(data, n_images=3)
    images = data / "VG_100K"
    images.rename(tmp_path / "held_back")
    out = tmp_path / "run"
    build("--data-dir", str(data), "--out", str(out), "--no-images")
    assert set(pl.read_parquet(out / "scenes.parquet")["image_status"]) == {"missing"}
    (tmp_path / "held_back").rename(images)
    again = build("--data-dir", str(data), "--out", str(out))
    assert "load: done" in again.output
    assert set(pl.read_parquet(out / "scenes.parquet")["image_status"]) == {"ok"}


def test_a_build_that_keeps_no_image_fails_clearly_and_leaves_the_run_consistent(tmp_path) -> None:
    data = tmp_path / "vg"
    data.mkdir()
    for name in ("objects.json", "relationships.json", "image_data.json"):
        (data / name).write_text("[]")
    out = tmp_path / "run"
    result = build("--data-dir", str(data), "--out", str(out))
    assert result.exit_code == 1 and "error: load: its input has no rows" in result.output and "--source matches" in result.output, result.output
    assert "Traceback" not in result.output
    # Nothing downstream ran on an empty table, and the failed load left no output and no record.
    assert {p.name for p in out.iterdir()} == {".lock"}


def test_a_shard_that_selects_nothing_says_so(tmp_path) -> None:
    result = build("--out", str(tmp_path / "run"), "--shard", "0/500")
    assert result.exit_code == 1 and "outside_shard" in result.output and "fewer shards" in result.output, result.output


def test_out_that_is_a_file_or_read_only_is_one_error(tmp_path) -> None:
    a_file = tmp_path / "file.txt"
    a_file.write_text("x")
    result = build("--out", str(a_file))
    assert result.exit_code == 1 and "is a file, not a folder" in result.output and "Traceback" not in result.output
    if os.geteuid() == 0:
        read_only = Path("/sys/stvqa-run")  # root ignores permissions, but not a read-only file system
    else:
        read_only = tmp_path / "ro"
        read_only.mkdir(mode=0o500)
    result = build("--out", str(read_only / "run"))
    assert result.exit_code == 1 and "error: --out" in result.output and "Choose a folder you can write to" in result.output, result.output
    export = runner.invoke(app, ["export", str(tmp_path), "--out", str(a_file)])
    assert export.exit_code == 1 and "not a stvqa run directory" in export.output


def test_plain_progress_lines_when_output_is_not_a_terminal_and_quiet_silences_them(tmp_path) -> None:
    import io

    from stvqa.progress import PlainProgress

    stream = io.StringIO()
    task = PlainProgress(stream, interval=0).task("generate: images", total=4)
    for _ in range(4):
        task.advance(1)
    task.close()
    lines = stream.getvalue().splitlines()
    assert lines[0].startswith("[generate: images] running: 1/4 at ") and "ETA" in lines[0]
    assert lines[-1].startswith("[generate: images] done: 4/4")
    quiet = runner.invoke(app, ["--quiet", "build", "--out", str(tmp_path / "q")])
    assert quiet.exit_code == 0 and "running:" not in quiet.output


def test_export_keeps_the_build_command_and_names_its_target(tmp_path, monkeypatch) -> None:
    out = tmp_path / "run"
    monkeypatch.setattr("sys.argv", ["stvqa", "build", "--per-image", "2"])
    build("--out", str(out), "--per-image", "2")
    monkeypatch.setattr("sys.argv", ["stvqa", "export"])
    result = runner.invoke(app, ["export", str(out), "--out", str(tmp_path / "ds")])
    assert result.exit_code == 0, result.output
    assert f"{out}: export" in result.output and f"Dataset: {tmp_path / 'ds'}" in result.output  # "run: stage", not backwards
    stages = json.loads((out / "manifest.json").read_text())["stages"]
    assert "--per-image" in stages["load"]["command"] and set(stages) == {"load", "generate", "verify", "debias", "filter", "export"}
    # An export to another folder keeps its record there: the run it read is not changed.
    record = json.loads((tmp_path / "ds" / "stvqa_export.json").read_text())["record"]
    assert record["command"] == "stvqa export" and record["path"] == str(tmp_path / "ds")


def test_inspect_selection_that_matches_nothing_gives_a_hint(tmp_path) -> None:
    out = tmp_path / "run"
    build("--out", str(out))
    result = runner.invoke(app, ["inspect", str(out), "--stage", "qa", "--image-id", "no-such-image"])
    assert result.exit_code == 0 and "showing 0" in result.output and "nothing matches --image-id no-such-image" in result.output
    assert "image ids here: " in result.output
    result = runner.invoke(app, ["inspect", str(out), "--stage", "qa", "--category", "colour"])  # not a category at all
    assert result.exit_code == 1 and "--category 'colour' is not a question category" in result.output and "relation" in result.output
    result = runner.invoke(app, ["inspect", str(out), "--level", "extreme"])
    assert result.exit_code == 1 and "--level 'extreme' is not a level" in result.output and "easy, medium, hard" in result.output


def test_a_bad_value_in_a_config_file_is_one_error(tmp_path) -> None:
    config = tmp_path / "build.yaml"
    config.write_text("per_image: 0\n")
    result = build("--config", str(config), "--out", str(tmp_path / "r"))
    # Named as the user wrote it: the file's key and the file, not a flag they never typed.
    assert result.exit_code == 1 and result.output.startswith(f"error: per_image in {config}: 0 is out of range"), result.output
    result = build("--config", str(config), "--per-image", "-1", "--out", str(tmp_path / "r"))  # the flag wins, and is named
    assert result.exit_code == 1 and result.output.startswith("error: --per-image -1 is out of range"), result.output


def test_export_to_a_file_is_one_error(tmp_path) -> None:
    out = tmp_path / "run"
    assert build("--out", str(out)).exit_code == 0
    a_file = tmp_path / "file.txt"
    a_file.write_text("x")
    result = runner.invoke(app, ["export", str(out), "--out", str(a_file)])
    assert result.exit_code == 1 and "is a file" in result.output and a_file.read_text() == "x"

"""Environment faults and user mistakes end with one `error:` line, one `hint:` line and exit 1, and lose nothing.

Read-only folders and full disks are real: a read-only bind mount and a tiny tmpfs (root ignores file
permissions, but not those); where this machine cannot mount, those tests skip with the reason.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest
from typer.testing import CliRunner

from stvqa.cli import app
from stvqa.stages.load.sources.sample import write_sample

runner = CliRunner()


def stvqa(*args, **kwargs):
    return runner.invoke(app, [str(a) for a in args], **kwargs)


def one_error(result, *needles: str) -> None:
    assert result.exit_code == 1, result.output
    assert "Traceback" not in result.output and result.output.count("error:") == 1 and "hint:" in result.output, result.output
    for needle in needles:
        assert needle in result.output, result.output


def _mount(*args: str) -> bool:
    return subprocess.run(["mount", *args], capture_output=True).returncode == 0


def _is_mount_point(folder: Path) -> bool:
    """From the kernel's mount table (a bind mount of a folder onto itself is invisible to os.path.ismount)."""
    try:
        table = Path("/proc/self/mountinfo").read_text()
    except OSError:
        return False
    return str(folder.resolve()) in {line.split()[4] for line in table.splitlines() if len(line.split()) > 4}


def _unmount(folder: Path) -> None:
    """Every mount stacked on `folder` (a failed test must not leave one behind)."""
    while _is_mount_point(folder) and subprocess.run(["umount", str(folder)], capture_output=True).returncode == 0:
        pass


@contextlib.contextmanager
def read_only(folder: Path):
    """`folder` on a read-only file system (a bind mount of itself), for the duration."""
    if not shutil.which("mount") or not _mount("--bind", str(folder), str(folder)):
        pytest.skip("cannot bind-mount here, so no read-only folder to test with (needs root and mount)")
    try:
        if not _mount("-o", "remount,bind,ro", str(folder)):
            pytest.skip("cannot remount read-only here")
        yield folder
    finally:
        _unmount(folder)


@contextlib.contextmanager
def tiny_disk(folder: Path, kilobytes: int):
    folder.mkdir(parents=True, exist_ok=True)
    if not shutil.which("mount") or not _mount("-t", "tmpfs", "-o", f"size={kilobytes}k", "tmpfs", str(folder)):
        pytest.skip("cannot mount a tmpfs here, so no full disk to test with (needs root and mount)")
    try:
        yield folder
    finally:
        _unmount(folder)


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("faults")
    data = root / "vg"
    write_sample(data, n_images=8, seed=1)
    result = stvqa("build", "--data-dir", data, "--out", root / "run")
    assert result.exit_code == 0, result.output
    return root / "run"


def tree(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file() and p.name != ".lock"}


# read-only places

def test_export_and_render_into_a_read_only_folder(built, tmp_path) -> None:
    target = tmp_path / "ro"
    target.mkdir()
    with read_only(target):
        one_error(stvqa("export", built, "--out", target / "ds"), "read-only file system")
        one_error(stvqa("render", built, "--out", target / "sheet.png"), "read-only file system")


def test_export_of_a_read_only_run_works_and_filter_says_why_it_cannot(built, tmp_path) -> None:
    run = tmp_path / "run"
    shutil.copytree(built, run)
    before = tree(run)
    with read_only(run):
        exported = stvqa("export", run, "--out", tmp_path / "ds", "--no-images")
        assert exported.exit_code == 0, exported.output  # an export only reads the run
        one_error(stvqa("filter", run, "--min-rating", "3"), "read-only")
    assert tree(run) == before


def test_stvqa_home_that_is_a_file_or_read_only(tmp_path, monkeypatch) -> None:
    home = tmp_path / "home"
    home.write_text("not a folder")
    monkeypatch.setenv("STVQA_HOME", str(home))
    one_error(stvqa("build", "--out", tmp_path / "run"), f"STVQA_HOME {home} is a file", "Set STVQA_HOME")
    folder = tmp_path / "rohome"
    folder.mkdir()
    monkeypatch.setenv("STVQA_HOME", str(folder))
    with read_only(folder):
        one_error(stvqa("build", "--out", tmp_path / "run2"), f"STVQA_HOME {folder} cannot be written")


# full disks

def test_a_full_disk_names_the_file_and_the_space_and_a_rerun_resumes(built, tmp_path) -> None:
    data = tmp_path / "vg"
    write_sample(data, n_images=40, seed=3)
    with tiny_disk(tmp_path / "small", 96) as small:
        result = stvqa("build", "--data-dir", data, "--out", small / "run")
        one_error(result, "no space left on the device while writing", "MB free there", "the run resumes")
        leftovers = [p.name for p in (small / "run").iterdir()] if (small / "run").exists() else []
        assert not [n for n in leftovers if n.endswith((".tmp", ".partial"))]  # no half-written file under any name
    # On a disk with room, the same command finishes.
    assert stvqa("build", "--data-dir", data, "--out", tmp_path / "run").exit_code == 0


def test_a_run_directory_that_becomes_read_only_mid_run(tmp_path, monkeypatch) -> None:
    from stvqa.stages import generate as generate_stage

    out = tmp_path / "run"
    out.mkdir()
    original = generate_stage.STAGE.fn

    def generate_then_lose_the_disk(io, cfg):
        outcome = original(io, cfg)
        if not _mount("--bind", str(out), str(out)) or not _mount("-o", "remount,bind,ro", str(out)):
            pytest.skip("cannot remount read-only here")
        return outcome

    from dataclasses import replace

    from stvqa import stages

    patched = tuple(replace(s, fn=generate_then_lose_the_disk) if s.name == "generate" else s for s in stages.BUILD)
    monkeypatch.setattr(stages, "BUILD", patched)
    try:
        result = stvqa("build", "--out", out)
        one_error(result, "read-only file system", "the run resumes")
    finally:
        _unmount(out)
    assert json.loads((out / "manifest.json").read_text())["stages"].keys() == {"load"}  # load's work is kept
    monkeypatch.undo()
    again = stvqa("build", "--out", out)
    assert again.exit_code == 0 and "load: inputs and config unchanged" in again.output


# unreadable inputs

def test_an_objects_json_that_cannot_be_read(tmp_path, monkeypatch) -> None:
    data = tmp_path / "vg"
    write_sample(data, n_images=4)
    real_open = open

    def no_permission(file, *args, **kwargs):
        if str(file).endswith("objects.json"):
            raise PermissionError(13, "Permission denied", str(file))
        return real_open(file, *args, **kwargs)

    monkeypatch.setattr("builtins.open", no_permission)
    one_error(stvqa("build", "--data-dir", data, "--out", tmp_path / "run"), "objects.json is not accessible (permission denied)")


def test_an_unreadable_image_is_unreadable_not_missing(tmp_path) -> None:
    data = tmp_path / "vg"
    write_sample(data, n_images=4)
    image = data / "VG_100K" / "2.jpg"
    image.unlink()
    image.mkdir()  # there, but not a readable file
    out = tmp_path / "run"
    result = stvqa("build", "--data-dir", data, "--out", out)
    assert result.exit_code == 0, result.output
    import polars as pl

    rejects = pl.read_parquet(out / "rejects.parquet").filter(pl.col("image_id") == "2")
    assert set(rejects.filter(pl.col("reject_stage") == "export")["reject_reason"]) == {"image_unreadable"}


# config files

def test_a_config_file_that_is_not_utf8_or_repeats_a_key(tmp_path) -> None:
    latin = tmp_path / "run.yaml"
    latin.write_bytes("per_image: 2\n# café\n".encode("latin-1"))
    one_error(stvqa("build", "--config", latin, "--out", tmp_path / "r"), "is not UTF-8 text", "save it as UTF-8")
    twice = tmp_path / "twice.yaml"
    twice.write_text("per_image: 2\nseed: 1\nper_image: 5\n")
    one_error(stvqa("build", "--config", twice, "--out", tmp_path / "r"), "'per_image' is given twice")


def test_a_shipped_config_is_found_by_its_name_from_any_folder(tmp_path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    result = stvqa("build", "--config", "stvqa-7k", "--out", tmp_path / "r")
    one_error(result, "vg150 needs --data-dir")  # the file was found and read: its source is vg150
    one_error(stvqa("build", "--config", "no-such-config", "--out", tmp_path / "r"), "no-such-config does not exist", "stvqa-7k")


# commands and flags

def test_stvqa_alone_shows_the_help_without_an_error() -> None:
    result = stvqa()
    assert result.exit_code == 0 and "Commands" in result.output and "error:" not in result.output


@pytest.mark.parametrize(("args", "message"), [
    (["--dedup-iou", "2"], "--dedup-iou 2.0 is out of range"),
    (["--judge", "vlm"], "--judge-model NAME"),
])
def test_build_flag_mistakes(tmp_path, args, message) -> None:
    one_error(stvqa("build", "--out", tmp_path / "r", *args), message)


def test_valid_but_surely_unmeant_export_settings_are_warned_about(tmp_path) -> None:
    result = stvqa("build", "--out", tmp_path / "r", "--val-split", "1", "--max-pixels", "10", "--per-image", "1")
    assert result.exit_code == 0, result.output  # valid, so it runs; but the user hears that train is empty, images tiny
    text = " ".join(result.output.split())
    assert "every image into the val split: the train split will be empty" in text and "about 3×3 pixels" in text


def test_export_takes_the_runs_seed_and_images_setting(tmp_path) -> None:
    run = tmp_path / "run"
    assert stvqa("build", "--out", run, "--no-images", "--seed", "3", "--per-image", "2").exit_code == 0
    result = stvqa("export", run, "--out", tmp_path / "ds")
    assert result.exit_code == 0, result.output
    card = (tmp_path / "ds" / "README.md").read_text()
    assert "| seed | 3 |" in card
    import polars as pl

    exported = pl.read_parquet(sorted((tmp_path / "ds" / "data").glob("*.parquet")))
    assert exported["image"].struct.field("bytes").is_null().all()  # text-only, as the run was built
    assert exported.sort("sample_id").equals(pl.read_parquet(sorted((run / "dataset" / "data").glob("*.parquet"))).sort("sample_id"))


def test_eval_refuses_a_zero_batch_and_a_folder_report_before_loading_anything(tmp_path) -> None:
    one_error(stvqa("eval", "/no/model", "/no/data", "--batch-size", "0"), "--batch-size 0 is out of range")
    one_error(stvqa("eval", "/no/model", "/no/data", "--out", tmp_path), f"--out {tmp_path} is a folder")


def test_train_checks_the_dataset_before_the_model_and_values_before_loading(tmp_path) -> None:
    pytest.importorskip("trl")
    one_error(stvqa("train", tmp_path / "no-dataset", "model=Qwen/Qwen2.5-VL-3B-Instruct"), "no-dataset does not exist")
    export = tmp_path / "run"
    assert stvqa("build", "--out", export, "--per-image", "1", "--max-pixels", "3136").exit_code == 0
    # The tests run offline (HF_HUB_OFFLINE=1): a Hub model that is not cached is said so, at once.
    one_error(stvqa("train", export / "dataset", "model=Qwen/Qwen2.5-VL-3B-Instruct"), "no Hub model of that id is cached locally")
    one_error(stvqa("train", export / "dataset", "beta=abc"), "beta='abc' is not a valid value", "expects a float")


def test_every_slow_stage_reports_progress_with_a_total_when_output_is_a_file(tmp_path, monkeypatch) -> None:
    import io

    from stvqa.progress import PlainProgress
    from stvqa.pipeline.rundir import RunDir
    from stvqa.stages import BuildConfig, build

    stream = io.StringIO()
    build(RunDir.open(tmp_path / "run"), BuildConfig(), PlainProgress(stream, interval=0))
    finals = {line.split("]")[0].strip("["): line for line in stream.getvalue().splitlines() if "] done:" in line}
    from stvqa.stages.load.sources.sample import N_IMAGES

    assert f"done: {N_IMAGES}/{N_IMAGES} " in finals["load: scene graphs"]  # counted from image_data.json before reading
    assert "export: images" in finals and "/" in finals["export: images"].split("done:")[1].split(" at ")[0]


def test_load_repairs_are_in_the_summary_and_named_per_image_with_verbose(tmp_path) -> None:
    data = tmp_path / "vg"
    write_sample(data, n_images=4)
    objects = json.loads((data / "objects.json").read_text())
    objects[1]["objects"][0]["names"] = [""]  # an object without a name
    objects[1]["objects"][1]["w"] = 0  # a box without area
    (data / "objects.json").write_text(json.dumps(objects))
    result = stvqa("build", "--data-dir", data, "--out", tmp_path / "run", "--no-images")
    assert result.exit_code == 0, result.output
    line = next(x for x in result.output.splitlines() if x.startswith("load repairs:"))
    assert "object_without_name 1" in line and "object_zero_area 1" in line
    verbose = stvqa("--verbose", "build", "--data-dir", data, "--out", tmp_path / "run", "--no-images", "--force")
    assert f"image {objects[1]['image_id']}: 1 object_without_name, 1 object_zero_area" in " ".join(verbose.output.split())

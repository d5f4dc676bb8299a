"""`stvqa inspect`: samples in the terminal (colour, no colour, not a terminal), selection, browsing."""

import io
import json
import shutil

import polars as pl
import pytest
from rich.console import Console
from typer.testing import CliRunner

from stvqa import views
from stvqa.cli import app
from stvqa.records import LETTERS
from stvqa.render import PALETTE
from stvqa.samples import open_samples, select
from stvqa.stages.load.sources.sample import write_sample

runner = CliRunner()


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    out = tmp_path_factory.mktemp("inspect") / "run"
    result = runner.invoke(app, ["build", "--out", str(out)])
    assert result.exit_code == 0, result.output
    return out


def recording(width: int = 100, **kwargs) -> Console:
    return Console(record=True, width=width, file=io.StringIO(), **kwargs)


def assert_shows_question(output: str, row: dict) -> None:
    assert row["question"] in output
    for i, option in enumerate(row["options"]):
        mark = "✓" if LETTERS[i] == row["answer"] else " "
        assert f"{mark} ({LETTERS[i]}) {option}" in output, option


@pytest.mark.parametrize("where", ["run", "stage file", "export"])
def test_inspect_shows_question_options_and_marked_answer(run, where) -> None:
    path = {"run": run, "stage file": run / "qa.parquet", "export": run / "dataset"}[where]
    row = pl.read_parquet(run / "qa_filtered.parquet").filter(pl.col("category") == "distance").sort("sample_id").row(0, named=True)
    result = runner.invoke(app, ["inspect", str(path), "--category", "distance", "--limit", "5"])
    assert result.exit_code == 0, result.output
    assert_shows_question(result.output, row)
    assert f"sample {row['sample_id']}" in result.output and "distance · " in result.output and f"rating {row['rating']}" in result.output
    assert f"verified ✓ ({row['verify_reason']})" in result.output
    # Not a terminal: no half-blocks, a one-line note instead of the picture.
    assert "▀" not in result.output and "not drawn: the output is not a terminal" in result.output


def test_inspect_in_a_colour_terminal_draws_the_image_with_box_colours(run, monkeypatch) -> None:
    console = recording(color_system="truecolor")
    monkeypatch.setattr("stvqa.commands.inspect.console", console)
    row = pl.read_parquet(run / "qa_filtered.parquet").row(4, named=True)
    result = runner.invoke(app, ["inspect", str(run), "--index", "4"])
    assert result.exit_code == 0, result.output
    text = console.export_text(clear=False)
    assert_shows_question(text, row)
    assert text.count("▀") > 500  # the picture
    focus_ids = [o["id"] for o in json.loads(row["focus"])["objects"]]
    assert all(i in text for i in focus_ids)  # ids written on the picture and listed in the table
    styled = console.export_text(styles=True)
    assert "48;2;{};{};{}".format(*PALETTE[0]) in styled and "48;2;{};{};{}".format(*PALETTE[1]) in styled  # box colours


def test_a_terminal_without_colour_gets_ascii(run) -> None:
    samples = open_samples(run)
    for console in (recording(force_terminal=True, color_system=None), recording(force_terminal=True, no_color=True)):
        views.show(console, samples, select(samples.rows, index=0))
        text = console.file.getvalue()  # what reached the terminal
        assert "▀" not in text and "38;2;" not in text and "48;2;" not in text  # no half-blocks, no colours
        assert "***" in text or "+++" in text  # the brightness ramp
        assert_shows_question(text, samples.rows[0])


def test_a_missing_image_shows_a_note_not_a_crash(tmp_path, monkeypatch) -> None:
    data = tmp_path / "vg"
    write_sample(data, n_images=3)
    out = tmp_path / "run"
    assert runner.invoke(app, ["build", "--data-dir", str(data), "--out", str(out)]).exit_code == 0
    shutil.rmtree(data / "VG_100K")
    console = recording(color_system="truecolor")
    monkeypatch.setattr("stvqa.commands.inspect.console", console)
    result = runner.invoke(app, ["inspect", str(out), "-n", "2"])
    assert result.exit_code == 0, result.output
    text = console.export_text()
    assert text.count("image missing") >= 2 and "VG_100K/" in text
    assert_shows_question(text, open_samples(out).rows[0])
    sheet = runner.invoke(app, ["render", str(out), "--out", str(tmp_path / "sheet.png"), "-n", "2"])
    assert sheet.exit_code == 0 and sheet.output.count("drawn as a placeholder") == 2 and (tmp_path / "sheet.png").exists()


def test_an_export_without_images_shows_a_note(run, tmp_path) -> None:
    target = tmp_path / "text-only"
    assert runner.invoke(app, ["export", str(run), "--out", str(target), "--no-images"]).exit_code == 0
    result = runner.invoke(app, ["inspect", str(target), "-n", "1"])
    assert result.exit_code == 0 and "exported without images (--no-images)" in result.output


def test_verified_false_shows_only_failures(run, tmp_path) -> None:
    failing = tmp_path / "run"
    shutil.copytree(run, failing)
    qa = pl.read_parquet(run / "qa.parquet")
    failed = qa.head(2).with_columns(verified=pl.lit(False), verify_reason=pl.lit("relation_not_in_graph"),
                                     reject_reason=pl.lit("relation_not_in_graph"), reject_stage=pl.lit("verify"))
    rejects = pl.read_parquet(run / "rejects.parquet")
    pl.concat([rejects, failed], how="diagonal_relaxed").write_parquet(failing / "rejects.parquet")
    result = runner.invoke(app, ["inspect", str(failing), "--verified", "false", "-n", "10"])
    assert result.exit_code == 0, result.output
    assert "showing 2" in result.output and result.output.count("verify failed ✗ (relation_not_in_graph)") == 2
    assert all(q in result.output for q in failed["question"])
    assert "rejected at verify: relation_not_in_graph" in result.output and "verified ✓" not in result.output


def test_selection_flags_are_deterministic(run) -> None:
    def titles(*flags):
        result = runner.invoke(app, ["inspect", str(run), *flags])
        assert result.exit_code == 0, result.output
        return [line.split("─")[1].strip() for line in result.output.splitlines() if line.startswith("╭─ #")]

    shuffled = titles("--random", "--seed", "3", "-n", "4")
    assert len(shuffled) == 4 and shuffled == titles("--random", "--seed", "3", "-n", "4")
    assert shuffled != titles("-n", "4")
    assert titles("--index", "7") == [t for t in titles("-n", "8") if t.startswith("#7 ")]
    levels = titles("--level", "hard", "-n", "100")
    assert len(levels) == pl.read_parquet(run / "qa_filtered.parquet").filter(pl.col("level") == "hard").height


def test_browse_with_scripted_keys(run) -> None:
    samples = open_samples(run)
    rows = samples.rows[:5]
    console = recording(color_system="truecolor")
    shown = views.browse(console, samples, rows, iter(["n", "n", "p", "q"]).__next__)
    assert shown == [0, 1, 2, 1]
    text = console.export_text()
    order = [line.split(" of ")[0].strip() for line in text.splitlines() if " of 5  (" in line]
    assert order == ["1", "2", "3", "2"]
    assert [r["row"] for r in rows] == [0, 1, 2, 3, 4]
    jumped = views.browse(recording(), samples, rows, iter(["g", "3", "\r", "\x1b[D", "n", "n", "n"]).__next__)
    assert jumped == [0, 3, 2, 3, 4, 4]  # jump to #3 (as titles number rows), ←, then next until the last; the keys running out quits
    later = [r for r in samples.rows if r["row"] >= 10][:3]
    console = recording()
    assert views.browse(console, samples, later, iter(["g", "11", "\r", "g", "2", "\r"]).__next__) == [0, 1, 1]
    assert "(#2 is not in this selection)" in " ".join(console.export_text().split())


def test_browse_from_the_command_line(run, monkeypatch) -> None:
    monkeypatch.setattr(views, "terminal_keys", lambda: iter(["n", "q"]).__next__)
    result = runner.invoke(app, ["inspect", str(run), "--browse", "--category", "relation"])
    assert result.exit_code == 0, result.output
    n = pl.read_parquet(run / "qa_filtered.parquet").filter(pl.col("category") == "relation").height
    assert f"1 of {n}" in result.output and f"2 of {n}" in result.output and f"3 of {n}" not in result.output


def test_browse_needs_a_terminal(run) -> None:
    result = runner.invoke(app, ["inspect", str(run), "--browse"])
    assert result.exit_code == 1 and "error: --browse reads keys from a terminal" in result.output


def test_a_bad_path_says_what_was_expected(tmp_path) -> None:
    (tmp_path / "notes.txt").write_text("x")
    for command in ("inspect", "stats"):
        result = runner.invoke(app, [command, str(tmp_path)])
        assert result.exit_code == 1, result.output
        assert result.output.startswith("error:") and "expected a run directory (with manifest.json), a stage Parquet file" in result.output
        assert "hint:" in result.output


def test_a_reader_that_stops_early_is_a_success(run) -> None:
    # `stvqa inspect RUN | head -1`: rich's default exits 1 when the pipe closes, which breaks `set -o pipefail`.
    import subprocess
    import sys

    proc = subprocess.Popen([sys.executable, "-m", "stvqa", "inspect", str(run), "--limit", "50"], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    proc.stdout.close()  # the reader is gone before the first line: every write fails
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 0 and b"Traceback" not in err, err.decode()[-500:]

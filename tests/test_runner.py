"""The stage runner and run directory: one stats shape, rejects, skipping, atomic outputs, modes, locks."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from dataclasses import dataclass, field

import polars as pl
import pytest

from stvqa.errors import DataError
from stvqa.pipeline.rundir import RunDir
from stvqa.pipeline.runner import Outcome, Stage, run_stage, run_stages


@dataclass(frozen=True)
class NumbersConfig:
    keep_even: bool = field(default=True, metadata={"help": "Keep even numbers."})


def numbers(io, cfg: NumbersConfig) -> Outcome:
    """A toy stage over a literal table: keeps even numbers, drops the odd ones with a reason."""
    frame = pl.DataFrame({"sample_id": [str(i) for i in range(5)], "category": ["count", "count", "size", "size", "size"],
                          "n": list(range(5))})
    even = pl.col("n") % 2 == 0
    kept = frame.filter(even if cfg.keep_even else ~even)
    dropped = frame.filter(~even if cfg.keep_even else even).with_columns(pl.lit("odd_number").alias("reject_reason"))
    return Outcome(n_in=frame.height, kept=kept, dropped=dropped, counters={"seen": 5})


NUMBERS = Stage("numbers", numbers, NumbersConfig, table="numbers.parquet")


def test_a_declared_stage_gets_stats_table_and_rejects_from_the_runner(tmp_path) -> None:
    run = RunDir.open(tmp_path / "run")
    [result] = run_stages(run, [(NUMBERS, NumbersConfig())])
    expected = {"in": 5, "kept": 3, "dropped": {"odd_number": 2}, "counters": {"seen": 5},
                "by_category": {"kept": {"count": 1, "size": 2}, "dropped": {"count": 1, "size": 1}}}
    assert result.record["stats"] == expected
    assert pl.read_parquet(run.file("numbers.parquet"))["n"].to_list() == [0, 2, 4]
    rejects = pl.read_parquet(run.file("rejects.parquet"))
    assert rejects.select("sample_id", "reject_reason", "reject_stage").rows() == [("1", "odd_number", "numbers"), ("3", "odd_number", "numbers")]


def test_a_stage_that_reruns_replaces_only_its_own_rejects(tmp_path) -> None:
    run = RunDir.open(tmp_path / "run")
    other = Stage("other", numbers, NumbersConfig, table="other.parquet")
    run_stages(run, [(NUMBERS, NumbersConfig()), (other, NumbersConfig())])
    run_stages(run, [(NUMBERS, NumbersConfig(keep_even=False))])
    rejects = pl.read_parquet(run.file("rejects.parquet"))
    assert sorted(rejects.group_by("reject_stage").len().rows()) == [("numbers", 3), ("other", 2)]


def test_unchanged_stage_is_skipped_and_a_changed_config_reruns(tmp_path) -> None:
    run = RunDir.open(tmp_path / "run")
    assert not run_stages(run, [(NUMBERS, NumbersConfig())])[0].skipped
    assert run_stages(run, [(NUMBERS, NumbersConfig())])[0].skipped
    assert not run_stages(run, [(NUMBERS, NumbersConfig(keep_even=False))])[0].skipped
    assert not run_stages(run, [(NUMBERS, NumbersConfig(keep_even=False))], force=True)[0].skipped


def test_zero_kept_rows_is_an_error_naming_the_top_reasons_and_changes_nothing_but_keeps_the_drops(tmp_path) -> None:
    def numbers_or_nothing(io, cfg):
        if cfg.keep_even:
            return numbers(io, cfg)
        frame = pl.DataFrame({"sample_id": ["a", "b"], "reject_reason": ["image_missing", "image_missing"]})
        return Outcome(n_in=2, kept=pl.DataFrame({"sample_id": []}, schema={"sample_id": pl.Utf8}), dropped=frame)

    run = RunDir.open(tmp_path / "run")
    stage = Stage("maybe", numbers_or_nothing, NumbersConfig, table="m.parquet")
    run_stages(run, [(stage, NumbersConfig())])
    before = {name: run.file(name).read_bytes() for name in ("m.parquet", "rejects.parquet", "manifest.json")}
    with pytest.raises(DataError, match=r"maybe: no rows left \(image_missing \(2\)\); its previous output is unchanged") as info:
        run_stages(run, [(stage, NumbersConfig(keep_even=False))])
    assert "--no-images" in info.value.hint
    # The last good output, its rejects and its record stay; the failed attempt's drops are kept apart.
    assert {name: run.file(name).read_bytes() for name in before} == before
    assert pl.read_parquet(run.file("rejects_failed.parquet"))["reject_stage"].to_list() == ["maybe", "maybe"]
    assert run_stages(run, [(stage, NumbersConfig())])[0].skipped  # the good record still describes the files


def test_a_failing_stage_leaves_no_temporaries_and_no_record(tmp_path) -> None:
    def explode(io, cfg):
        io.output("half.parquet").write_text("half")
        raise RuntimeError("killed")

    run = RunDir.open(tmp_path / "run")
    with pytest.raises(RuntimeError):
        run_stages(run, [(Stage("boom", explode, NumbersConfig, writes=("half.parquet",)), NumbersConfig())])
    assert sorted(p.name for p in run.path.iterdir()) == [".lock"]
    assert run.record("boom") is None


def test_files_follow_the_umask_not_the_temporary_file_modes(tmp_path) -> None:
    old = os.umask(0o022)
    try:
        run = RunDir.open(tmp_path / "run")
        run_stages(run, [(NUMBERS, NumbersConfig())])
    finally:
        os.umask(old)
    for name in ("numbers.parquet", "rejects.parquet", "manifest.json"):
        assert oct(run.file(name).stat().st_mode & 0o777) == oct(0o644), name


def test_temporaries_of_a_killed_run_are_removed_by_the_next_run(tmp_path) -> None:
    run = RunDir.open(tmp_path / "run")
    (run.path / ".scenes.parquet.abc123.tmp").write_text("left by a killed run")
    (run.path / ".dataset.xyz.partial").mkdir()
    (run.path / "notes.txt").write_text("the user's")
    run_stages(run, [(NUMBERS, NumbersConfig())])
    assert sorted(p.name for p in run.path.iterdir()) == [".lock", "manifest.json", "notes.txt", "numbers.parquet", "rejects.parquet"]


def test_a_second_process_is_refused_and_told_who_holds_the_run(tmp_path) -> None:
    run = RunDir.open(tmp_path / "run")
    holder = textwrap.dedent(f"""
        import sys, time
        from stvqa.pipeline.rundir import RunDir
        with RunDir({str(run.path)!r}).lock():
            print("locked", flush=True)
            sys.stdin.readline()
    """)
    proc = subprocess.Popen([sys.executable, "-c", holder], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout.readline().strip() == "locked"
        with pytest.raises(DataError, match=f"in use by process {proc.pid}"):
            run_stages(run, [(NUMBERS, NumbersConfig())])
    finally:
        proc.communicate("\n", timeout=30)
    assert not run_stages(run, [(NUMBERS, NumbersConfig())])[0].skipped  # free again once the holder is done


def test_a_stage_may_only_read_what_it_declares(tmp_path) -> None:
    def sneaky(io, cfg):
        io.path("numbers.parquet")

    run = RunDir.open(tmp_path / "run")
    run_stages(run, [(NUMBERS, NumbersConfig())])
    with pytest.raises(KeyError, match="without declaring it"):
        run_stage(run, Stage("sneaky", sneaky, NumbersConfig), NumbersConfig())


def test_manifest_records_each_stage_command_and_key(tmp_path) -> None:
    run = RunDir.open(tmp_path / "run")
    run_stages(run, [(NUMBERS, NumbersConfig())])
    record = json.loads(run.file("manifest.json").read_text())["stages"]["numbers"]
    assert record["command"] and len(record["key"]) == 64 and record["config"] == {"keep_even": True}

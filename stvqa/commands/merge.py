"""`stvqa merge`: the runs of `stvqa build --shard i/N` -> one run and its dataset."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from ..merge import later_stages, merge_runs
from ..pipeline.rundir import RunDir
from ..pipeline.runner import run_stages
from .common import progress, user_errors
from .report import print_build_summary, require_run


@user_errors
def merge(
    runs: Annotated[list[Path], typer.Argument(help="The run directories of `stvqa build --shard i/N`, one per shard.")],
    out: Annotated[Path, typer.Option(help="Run directory to write the merged run and its dataset into (new or empty).")],
    overwrite: Annotated[bool, typer.Option(help="Replace the run that --out holds (never a folder stvqa did not write).")] = False,
) -> None:
    """Merge sharded builds into one run whose dataset equals the unsharded build's (same rows, same split)."""
    shards = [require_run(path) for path in runs]
    target = RunDir.open(out)
    merged = merge_runs(shards, target, overwrite)
    finished = run_stages(target, later_stages(shards[0]), progress())
    print_build_summary(merged + finished, target)

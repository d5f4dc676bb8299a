"""`stvqa export`: a run's verified questions -> a Hugging Face-ready dataset folder. Its flags are the fields of
`ExportConfig`; one not given takes the run's own export setting."""

from __future__ import annotations

import inspect
from dataclasses import fields, replace
from pathlib import Path
from typing import Annotated, Any

import typer

from ..stages import export_to, recorded_config, stage
from ..stages.export.parquet import ExportConfig
from .common import progress, user_errors
from .hub import HUB_PARAMS, hub_values, push_if_asked
from .flags import ConfigCommand, Flag, Group, flags_of, values_at
from .report import print_stage, require_run

OWN = frozenset({"out", "overwrite"})  # this command's own flags, not the run's settings


def export_flags() -> list[Flag]:
    return flags_of([Group(ExportConfig, skip=OWN, defaults=lambda name: None, show_default=lambda name: "the run's")])


def _export(run: Path, out: Path, overwrite: bool, **values: Any) -> None:
    """Export a run's curated questions as Parquet that `datasets.load_dataset("parquet", data_dir=OUT)` reads with
    images. Settings not given are the run's own export settings (split, seed, pixels, images, layout)."""
    run_dir = require_run(run)
    hub = hub_values(values)
    given = values_at(export_flags(), values, ())
    own = recorded_config(run_dir, stage("export"))
    cfg = replace(own, **{f.name: given[f.name] for f in fields(ExportConfig) if f.name in given}, out=str(out), overwrite=overwrite)
    print_stage(export_to(run_dir, cfg, progress()), run_dir)
    push_if_asked(out, hub)


FIXED = [
    inspect.Parameter("run", inspect.Parameter.POSITIONAL_OR_KEYWORD, annotation=Annotated[Path, typer.Argument(help="A run directory written by `stvqa build`.")]),
    inspect.Parameter("out", inspect.Parameter.KEYWORD_ONLY, annotation=Annotated[Path, typer.Option(
        help="Dataset folder to write (data/train-*.parquet, data/val-*.parquet, README.md): new, empty, or an earlier export "
             "(with --overwrite).", show_default=False)]),
    inspect.Parameter("overwrite", inspect.Parameter.KEYWORD_ONLY, default=False, annotation=Annotated[bool, typer.Option(
        help="Replace --out when it holds an earlier `stvqa export` and nothing else.")]),
    *HUB_PARAMS,
]
export = user_errors(ConfigCommand(_export, FIXED, export_flags))

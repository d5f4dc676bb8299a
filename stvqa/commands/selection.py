"""The flags that pick samples, shared by `stvqa inspect` and `stvqa render`: the fields of `Selection`."""

from __future__ import annotations

import inspect
from pathlib import Path
from typing import Annotated, Any, Optional

import typer

from ..samples import Selection
from .flags import Flag, Group, build_config, flags_of

Source = Annotated[Path, typer.Argument(help="A run directory, one of its stage files (.parquet), or an exported dataset folder.")]
StageName = Annotated[Optional[str], typer.Option(
    "--stage", help="Which table of a run: a stage (load, generate, verify, debias, filter), a file name (scenes, qa_generated, qa, "
                    "qa_debiased, qa_filtered) or rejects; default: the last question table.")]
SOURCE = inspect.Parameter("path", inspect.Parameter.POSITIONAL_OR_KEYWORD, annotation=Source)
STAGE = inspect.Parameter("stage", inspect.Parameter.KEYWORD_ONLY, default=None, annotation=StageName)


def selection_flags(limit: int | None = None) -> list[Flag]:
    """`Selection`'s fields as flags; `limit`: this command's default number of samples."""
    return flags_of([Group(Selection, defaults=(lambda name: limit if name == "limit" else _default(name)) if limit else None)])


def _default(name: str) -> Any:
    from dataclasses import fields

    return next(f.default for f in fields(Selection) if f.name == name)


def selection(flags: list[Flag], values: dict[str, Any]) -> Selection:
    return build_config(Selection, flags, values)

"""The flags that pick samples, shared by `stvqa inspect` and `stvqa render` (help from `Selection`)."""

from __future__ import annotations

from enum import Enum
from pathlib import Path
from typing import Annotated, Optional

import typer

from ..samples import Selection
from .common import option

S = Selection


class Verified(str, Enum):
    true = "true"
    false = "false"
    unchecked = "unchecked"


Source = Annotated[Path, typer.Argument(help="A run directory, one of its stage files (.parquet), or an exported dataset folder.")]
StageName = Annotated[Optional[str], typer.Option("--stage", help="Which table of a run: a stage (load, generate, verify, debias, filter), "
                                                  "a file name (scenes, qa_generated, qa, qa_debiased, qa_filtered) or rejects; default: the last question table.")]
Index = Annotated[Optional[list[int]], option(S, "index", "--index")]
ImageId = Annotated[Optional[str], option(S, "image_id", "--image-id")]
Category = Annotated[Optional[str], option(S, "category", "--category")]
Level = Annotated[Optional[str], option(S, "level", "--level")]
VerifiedFlag = Annotated[Optional[Verified], option(S, "verified", "--verified")]
Random = Annotated[bool, option(S, "random", "--random")]
Seed = Annotated[int, option(S, "seed", "--seed")]
Limit = Annotated[Optional[int], option(S, "limit", "--limit", "-n")]


def selection(index: list[int] | None, image_id: str | None, category: str | None, level: str | None,
              verified: Verified | None, random: bool, seed: int, limit: int | None) -> Selection:
    return Selection(tuple(index or ()), image_id, category, level, verified.value if verified else None, random, seed, limit)

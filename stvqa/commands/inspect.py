"""`stvqa inspect`: samples in the terminal, with their images, boxes, options and verification."""

from __future__ import annotations

from dataclasses import replace
from typing import Annotated

import typer

from .. import views
from ..samples import apply, no_match_hint, open_samples
from .common import console, user_errors
from .selection import Category, ImageId, Index, Level, Limit, Random, Seed, Source, StageName, VerifiedFlag, selection

DEFAULT_LIMIT = 3


@user_errors
def inspect(
    path: Source,
    stage: StageName = None,
    index: Index = None,
    image_id: ImageId = None,
    category: Category = None,
    level: Level = None,
    verified: VerifiedFlag = None,
    random: Random = False,
    seed: Seed = 0,
    limit: Limit = None,
    browse: Annotated[bool, typer.Option("--browse", help="Page through the selection with the keyboard: n/space/→ next, p/← previous, g NUMBER Enter jump to #NUMBER (the row number in the titles), q quit.")] = False,
) -> None:
    """Show samples: the image with the subgraph's boxes, the question, the options with the answer marked ✓,
    category, level, rating, verification and the subgraph, one object per line (3 samples unless --limit)."""
    chosen = selection(index, image_id, category, level, verified, random, seed, limit)
    samples = open_samples(path, stage, chosen.verified)
    rows = apply(samples.rows, chosen if limit or browse else replace(chosen, limit=DEFAULT_LIMIT))
    console.print(f"{samples.source}: {len(samples.rows):,} rows; showing {len(rows):,}", highlight=False)
    if not rows:
        console.print(f"[yellow]hint:[/] {no_match_hint(samples.rows, chosen)}", highlight=False)
    elif browse:
        views.browse(console, samples, rows, views.terminal_keys())
    else:
        views.show(console, samples, rows)

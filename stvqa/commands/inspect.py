"""`stvqa inspect`: samples in the terminal, with their images, boxes, options and verification."""

from __future__ import annotations

import inspect as inspect_module
from dataclasses import replace
from pathlib import Path
from typing import Annotated, Any

import typer

from .. import views
from ..samples import apply, no_match_hint, open_samples
from .common import console, user_errors
from .flags import ConfigCommand
from .selection import SOURCE, STAGE, selection, selection_flags

DEFAULT_LIMIT = 3


def _inspect(path: Path, stage: str | None, browse: bool, **values: Any) -> None:
    """Show samples: the image with the subgraph's boxes, the question, the options with the answer marked ✓,
    category, level, rating, verification and the subgraph, one object per line (3 samples unless --limit)."""
    chosen = selection(FLAGS, values)
    samples = open_samples(path, stage, chosen.verified)
    rows = apply(samples.rows, chosen if chosen.limit or browse else replace(chosen, limit=DEFAULT_LIMIT))
    console.print(f"{samples.source}: {len(samples.rows):,} rows; showing {len(rows):,}", highlight=False)
    if not rows:
        console.print(f"[yellow]hint:[/] {no_match_hint(samples.rows, chosen)}", highlight=False)
    elif browse:
        views.browse(console, samples, rows, views.terminal_keys())
    else:
        views.show(console, samples, rows)


FLAGS = selection_flags()
FIXED = [
    SOURCE, STAGE,
    inspect_module.Parameter("browse", inspect_module.Parameter.KEYWORD_ONLY, default=False, annotation=Annotated[bool, typer.Option(
        "--browse", help="Page through the selection with the keyboard: n/space/→ next, p/← previous, g NUMBER Enter jump to #NUMBER "
                         "(the row number in the titles), q quit.")]),
]
inspect = user_errors(ConfigCommand(_inspect, FIXED, lambda: FLAGS))

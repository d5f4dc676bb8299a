"""`stvqa render`: a contact sheet of samples (or one PNG each) to share."""

from __future__ import annotations

import inspect
from pathlib import Path
from typing import Annotated, Any

import typer

from ..errors import DataError
from ..samples import apply, no_match_hint, open_samples
from ..views import write_cards, write_sheet
from .common import console, user_errors
from .flags import ConfigCommand
from .selection import SOURCE, STAGE, selection, selection_flags


def _render(path: Path, out: Path, per_sample: bool, columns: int, max_side: int, stage: str | None, **values: Any) -> None:
    """Draw samples as cards (image with the subgraph's boxes and ids, question, options, answer) on one sheet."""
    chosen = selection(FLAGS, values)
    samples = open_samples(path, stage, chosen.verified)
    rows = apply(samples.rows, chosen)
    if not rows:
        raise DataError(f"{samples.source}: {no_match_hint(samples.rows, chosen)}", "Drop a filter, or inspect the table first: `stvqa inspect PATH`.")
    if per_sample:
        written, notes = write_cards(samples, rows, out, max_side)
        console.print(f"wrote {len(written):,} PNGs to {out}", highlight=False)
    else:
        sheet, notes = write_sheet(samples, rows, out, columns, max_side)
        console.print(f"wrote {out} ({sheet.width}×{sheet.height}, {len(rows):,} sample{'s' if len(rows) != 1 else ''})", highlight=False)
    for note in notes:
        console.print(f"[yellow]note:[/] {note}; drawn as a placeholder", highlight=False)


FLAGS = selection_flags(limit=12)
FIXED = [
    SOURCE,
    inspect.Parameter("out", inspect.Parameter.KEYWORD_ONLY, annotation=Annotated[Path, typer.Option(
        "--out", help="The sheet to write (.png, .jpg, .webp); with --per-sample, a folder.")]),
    inspect.Parameter("per_sample", inspect.Parameter.KEYWORD_ONLY, default=False, annotation=Annotated[bool, typer.Option(
        "--per-sample", help="Write one PNG per sample into --out, named by sample id.")]),
    inspect.Parameter("columns", inspect.Parameter.KEYWORD_ONLY, default=3, annotation=Annotated[int, typer.Option(
        "--columns", min=1, help="Cards per row of the sheet.")]),
    inspect.Parameter("max_side", inspect.Parameter.KEYWORD_ONLY, default=512, annotation=Annotated[int, typer.Option(
        "--max-side", min=64, help="Longest side of each card's image, in pixels.")]),
    STAGE,
]
render = user_errors(ConfigCommand(_render, FIXED, lambda: FLAGS))

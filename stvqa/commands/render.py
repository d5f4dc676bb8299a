"""`stvqa render`: a contact sheet of samples (or one PNG each) to share."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from ..errors import DataError
from ..samples import apply, no_match_hint, open_samples
from ..views import write_cards, write_sheet
from .common import console, user_errors
from .selection import Category, ImageId, Index, Level, Limit, Random, Seed, Source, StageName, VerifiedFlag, selection


@user_errors
def render(
    path: Source,
    out: Annotated[Path, typer.Option("--out", help="The sheet to write (.png, .jpg, .webp); with --per-sample, a folder.")],
    per_sample: Annotated[bool, typer.Option("--per-sample", help="Write one PNG per sample into --out, named by sample id.")] = False,
    columns: Annotated[int, typer.Option("--columns", min=1, help="Cards per row of the sheet.")] = 3,
    max_side: Annotated[int, typer.Option("--max-side", min=64, help="Longest side of each card's image, in pixels.")] = 512,
    stage: StageName = None,
    index: Index = None,
    image_id: ImageId = None,
    category: Category = None,
    level: Level = None,
    verified: VerifiedFlag = None,
    random: Random = False,
    seed: Seed = 0,
    limit: Limit = 12,
) -> None:
    """Draw samples as cards (image with the subgraph's boxes and ids, question, options, answer) on one sheet."""
    chosen = selection(index, image_id, category, level, verified, random, seed, limit)
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

"""`stvqa stats`: counts and shares by category, level, answer letter and rating; the funnel; rejects."""

from __future__ import annotations

import json
from typing import Annotated

import typer

from ..samples import open_samples
from ..stats import compute
from ..views import stats_tables
from .common import console, user_errors
from .selection import Source, StageName


@user_errors
def stats(
    path: Source,
    stage: StageName = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the numbers as JSON (for scripts) instead of tables.")] = False,
) -> None:
    """Counts and shares by category, level, answer letter and rating, the filter funnel from the manifest,
    and rejects by stage and reason."""
    result = compute(open_samples(path, stage))
    if as_json:
        typer.echo(json.dumps(result, indent=2))
        return
    for renderable in stats_tables(result):
        console.print(renderable, soft_wrap=False)

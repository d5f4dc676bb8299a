"""`stvqa inspect`: look at rows of a run's Parquet files in the terminal."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any, Optional

import polars as pl
import typer
from rich.panel import Panel

from ..cli import app, console, user_errors
from ..errors import DataError

STAGES = {"scenes": "scenes.parquet", "generated": "qa_generated.parquet", "qa": "qa.parquet", "rejects": "rejects.parquet"}
LETTERS = "ABCD"


@app.command()
@user_errors
def inspect(
    run: Annotated[Path, typer.Argument(help="A run directory (or one of its Parquet files).")],
    stage: Annotated[str, typer.Option(help="Which file of the run: scenes, generated, qa or rejects.")] = "scenes",
    n: Annotated[int, typer.Option("-n", min=1, help="How many rows to show.")] = 3,
    image_id: Annotated[Optional[str], typer.Option(help="Show only this image.")] = None,
    category: Annotated[Optional[str], typer.Option(help="Show only this question category (qa, generated, rejects).")] = None,
) -> None:
    """Print rows of a run's stage output: scene graphs as JSON, questions with their options and answer."""
    if run.suffix != ".parquet" and stage not in STAGES:
        raise DataError(f"unknown --stage {stage!r}", f"Choose one of: {', '.join(STAGES)}.")
    path = run if run.suffix == ".parquet" else run / STAGES[stage]
    if not path.exists():
        raise DataError(f"{path} does not exist", f"Run `stvqa build --out {run}` first, or pass a Parquet file.")
    frame = pl.read_parquet(path)
    if image_id is not None:
        frame = frame.filter(pl.col("image_id") == image_id)
    if category is not None and "category" in frame.columns:
        frame = frame.filter(pl.col("category") == category)
    console.print(f"{path}: {frame.height:,} rows, columns: {', '.join(frame.columns)}")
    for row in frame.head(n).drop([c for c in ("image_bytes", "image", "images") if c in frame.columns]).to_dicts():
        if "question" in row:
            console.print(_question_panel(row))
            console.print(f"[dim]focus:[/] {row['focus']}", highlight=False)
        else:
            console.print(Panel(json.dumps(row, indent=1, default=str), title=str(row.get("image_id", "")), expand=False))


def _question_panel(row: dict[str, Any]) -> Panel:
    lines = [f"[bold]{row['question']}[/]"]
    for i, option in enumerate(row["options"]):
        mark = "[green]✓[/]" if LETTERS[i] == row["answer"] else " "
        lines.append(f" {mark} ({LETTERS[i]}) {option}")
    lines.append(f"[dim]{row['category']} · {row['level']} · rating {row['rating']} · {row.get('template')} · generator {row['generator']}[/]")
    if "verified" in row:
        lines.append(f"[dim]verified: {row['verified']} ({row['verify_reason']})[/]")
    if row.get("reject_reason"):
        lines.append(f"[red]rejected at {row['reject_stage']}: {row['reject_reason']}[/]")
    return Panel("\n".join(lines), title=f"{row['sample_id']}", expand=False)

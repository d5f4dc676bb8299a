"""`stvqa inspect`: look at rows of a run's stage files in the terminal."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any, Optional

import polars as pl
import typer
from rich.panel import Panel

from ..errors import DataError
from ..records import LETTERS
from ..runner import REJECTS_FILE
from ..stages import BUILD
from .common import console, user_errors


def stage_files() -> dict[str, str]:
    """`--stage` names -> run files: every stage's Parquet outputs, by stage name and by file name, plus rejects."""
    files: dict[str, str] = {}
    for stage in BUILD:
        for name in (stage.table, *stage.writes):
            if name and name.endswith(".parquet"):
                files.setdefault(stage.name, name)
                files[Path(name).stem] = name
    files["rejects"] = REJECTS_FILE
    return files


@user_errors
def inspect(
    run: Annotated[Path, typer.Argument(help="A run directory (or one of its Parquet files).")],
    stage: Annotated[str, typer.Option(help="Which file of the run: a stage (load, generate, verify), a file name (scenes, qa_generated, qa) or rejects.")] = "scenes",
    n: Annotated[int, typer.Option("-n", help="How many rows to show.")] = 3,
    image_id: Annotated[Optional[str], typer.Option(help="Show only this image.")] = None,
    category: Annotated[Optional[str], typer.Option(help="Show only this question category (question files).")] = None,
) -> None:
    """Print rows of a run's stage output: scene graphs as JSON, questions with their options and answer."""
    files = stage_files()
    if run.suffix != ".parquet" and stage not in files:
        described = ", ".join(f"{s.name} ({s.help})" for s in BUILD if s.name in files)
        raise DataError(f"unknown --stage {stage!r}", f"Choose a stage: {described}; a file name; or rejects.")
    path = run if run.suffix == ".parquet" else run / files[stage]
    if not path.exists():
        raise DataError(f"{path} does not exist", f"Run `stvqa build --out {run}` first, or pass a Parquet file.")
    frame = pl.read_parquet(path)
    selection = []
    if image_id is not None:
        frame = frame.filter(pl.col("image_id") == image_id)
        selection.append(f"--image-id {image_id}")
    if category is not None and "category" in frame.columns:
        frame = frame.filter(pl.col("category") == category)
        selection.append(f"--category {category}")
    console.print(f"{path}: {frame.height:,} rows, columns: {', '.join(frame.columns)}")
    if frame.height == 0 and selection:
        console.print(f"[yellow]hint:[/] nothing matches {' '.join(selection)}; drop a filter or check the value "
                      f"(`stvqa inspect {run} --stage {stage} -n 1` shows what the file holds).", highlight=False)
    for row in frame.head(max(n, 0)).drop([c for c in ("image_bytes", "image", "images") if c in frame.columns]).to_dicts():
        if "question" in row and row.get("question"):
            console.print(_question_panel(row))
            console.print(f"[dim]focus:[/] {row['focus']}", highlight=False)
        else:
            console.print(Panel(json.dumps(row, indent=1, default=str), title=str(row.get("image_id", "")), expand=False))


def _question_panel(row: dict[str, Any]) -> Panel:
    lines = [f"[bold]{row['question']}[/]"]
    for i, option in enumerate(row["options"] or []):
        mark = "[green]✓[/]" if LETTERS[i] == row["answer"] else " "
        lines.append(f" {mark} ({LETTERS[i]}) {option}")
    lines.append(f"[dim]{row['category']} · {row['level']} · rating {row['rating']} · {row.get('template')} · generator {row['generator']}[/]")
    if "verified" in row:
        lines.append(f"[dim]verified: {row['verified']} ({row['verify_reason']})[/]")
    if row.get("reject_reason"):
        lines.append(f"[red]rejected at {row['reject_stage']}: {row['reject_reason']}[/]")
    return Panel("\n".join(lines), title=f"{row['sample_id']}", expand=False)

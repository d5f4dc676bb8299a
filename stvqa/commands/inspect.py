"""`stvqa inspect`: look at rows of a run's Parquet files in the terminal."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Optional

import polars as pl
import typer
from rich.panel import Panel

from ..cli import app, console, user_errors
from ..errors import DataError


@app.command()
@user_errors
def inspect(
    run: Annotated[Path, typer.Argument(help="A run directory (or one of its Parquet files).")],
    stage: Annotated[str, typer.Option(help="Which file of the run: scenes, qa, rejects.")] = "scenes",
    n: Annotated[int, typer.Option("-n", min=1, help="How many rows to show.")] = 3,
    image_id: Annotated[Optional[str], typer.Option(help="Show only this image.")] = None,
) -> None:
    """Print rows of a run's stage output."""
    path = run if run.suffix == ".parquet" else run / f"{stage}.parquet"
    if not path.exists():
        raise DataError(f"{path} does not exist", f"Run `stvqa build --out {run}` first, or pass a Parquet file.")
    frame = pl.read_parquet(path)
    if image_id is not None:
        frame = frame.filter(pl.col("image_id") == image_id)
    console.print(f"{path}: {frame.height:,} rows, columns: {', '.join(frame.columns)}")
    for row in frame.head(n).drop([c for c in ("image_bytes", "image", "images") if c in frame.columns]).to_dicts():
        console.print(Panel(json.dumps(row, indent=1, default=str), title=str(row.get("image_id", "")), expand=False))

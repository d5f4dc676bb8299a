"""`stvqa export`: a run's verified questions -> a Hugging Face-ready dataset folder."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from ..cli import app, user_errors
from ..pipeline import export_stage, source_of_run
from ..qa.export import ExportConfig
from ..rundir import RunDir
from .report import print_stage


@app.command()
@user_errors
def export(
    run: Annotated[Path, typer.Argument(help="A run directory written by `stvqa build`.")],
    out: Annotated[Path, typer.Option(help="Dataset folder to write (data/train-*.parquet, data/val-*.parquet, README.md).")],
    val_split: Annotated[float, typer.Option(min=0.0, max=1.0, help="Share of images in the val split.")] = 0.1,
    seed: Annotated[int, typer.Option(help="Seed of the split.")] = 0,
    max_pixels: Annotated[Optional[int], typer.Option(min=1, help="Downsize images above this many pixels (boxes rescaled to match).")] = None,
    images: Annotated[bool, typer.Option(help="Embed images; --no-images writes text-only rows.")] = True,
    overwrite: Annotated[bool, typer.Option(help="Replace --out if it already exists.")] = False,
) -> None:
    """Export RUN/qa.parquet as Parquet that `datasets.load_dataset("parquet", data_dir=OUT)` reads with images."""
    run_dir = RunDir(run)
    cfg = ExportConfig(val_split=val_split, seed=seed, max_pixels=max_pixels, embed_images=images)
    print_stage(export_stage(run_dir, source_of_run(run_dir), cfg, out=out, overwrite=overwrite, force=overwrite), run_dir)

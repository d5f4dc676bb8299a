"""`stvqa export`: a run's verified questions -> a Hugging Face-ready dataset folder."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from ..qa.export import ExportConfig
from ..stages.export import export_elsewhere
from .common import option, progress, user_errors
from .report import print_stage, require_run

E = ExportConfig


@user_errors
def export(
    run: Annotated[Path, typer.Argument(help="A run directory written by `stvqa build`.")],
    out: Annotated[Path, option(E, "out")],
    val_split: Annotated[float, option(E, "val_split")] = 0.1,
    seed: Annotated[int, option(E, "seed")] = 0,
    max_pixels: Annotated[Optional[int], option(E, "max_pixels")] = None,
    images: Annotated[bool, option(E, "embed_images", "--images/--no-images")] = True,
    overwrite: Annotated[bool, option(E, "overwrite")] = False,
    layout: Annotated[str, option(E, "layout")] = "trl",
) -> None:
    """Export a run's curated questions (RUN/qa_filtered.parquet) as Parquet that `datasets.load_dataset("parquet", data_dir=OUT)` reads with images."""
    run_dir = require_run(run)
    cfg = ExportConfig(val_split=val_split, seed=seed, max_pixels=max_pixels, embed_images=images, out=str(out), overwrite=overwrite,
                       layout=layout)
    print_stage(export_elsewhere(run_dir, cfg, progress()), run_dir)

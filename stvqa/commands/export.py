"""`stvqa export`: a run's verified questions -> a Hugging Face-ready dataset folder."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from ..stages.export.parquet import ExportConfig
from ..stages import export_to
from .common import option, progress, user_errors
from .report import print_stage, require_run

E = ExportConfig


@user_errors
def export(
    run: Annotated[Path, typer.Argument(help="A run directory written by `stvqa build`.")],
    out: Annotated[Path, typer.Option(help="Dataset folder to write (data/train-*.parquet, data/val-*.parquet, README.md); "
                                           "new, empty, or an earlier export (with --overwrite).", show_default=False)],
    val_split: Annotated[Optional[float], option(E, "val_split", show_default="the run's")] = None,
    seed: Annotated[Optional[int], option(E, "seed", show_default="the run's")] = None,
    max_pixels: Annotated[Optional[int], typer.Option(help="Downsize images above this many pixels (boxes are rescaled to match); 0: never.",
                                                      show_default="the run's")] = None,
    images: Annotated[Optional[bool], option(E, "embed_images", "--images/--no-images", show_default="the run's")] = None,
    overwrite: Annotated[bool, option(E, "overwrite")] = False,
    layout: Annotated[Optional[str], option(E, "layout", show_default="the run's")] = None,
) -> None:
    """Export a run's curated questions (RUN/qa_filtered.parquet) as Parquet that `datasets.load_dataset("parquet", data_dir=OUT)`
    reads with images. Settings not given are the run's own export settings (split, seed, pixels, images, layout)."""
    run_dir = require_run(run)
    given = {"val_split": val_split, "seed": seed, "embed_images": images, "layout": layout,
             "max_pixels": (max_pixels or None) if max_pixels is not None else None}
    earlier = (run_dir.record("export") or {}).get("config") or {}
    settings = {k: v for k, v in earlier.items() if k in {"val_split", "seed", "max_pixels", "embed_images", "layout", "shard_bytes", "jpeg_quality"}}
    settings.update({k: v for k, v in given.items() if v is not None or (k == "max_pixels" and max_pixels == 0)})
    cfg = ExportConfig(**settings, out=str(out), overwrite=overwrite)
    print_stage(export_to(run_dir, cfg, progress()), run_dir)

"""`stvqa build`: scene graphs in, canonical scenes (and later stages) out."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from ..cli import app, console, user_errors
from ..normalize import NormalizeConfig
from ..pipeline import SourceSpec, load_stage
from ..rundir import RunDir
from ..scenes import LoadConfig, Shard
from .report import print_stage


@app.command()
@user_errors
def build(
    source: Annotated[str, typer.Option(help="Scene-graph source: vg, vg150 or gqa.")] = "vg",
    data_dir: Annotated[Optional[Path], typer.Option(help="Folder with the source's files. Without it, --source vg uses the bundled sample.")] = None,
    out: Annotated[Path, typer.Option(help="Run directory; stages write their files here.")] = Path("runs/default"),
    limit: Annotated[Optional[int], typer.Option(min=1, help="Keep at most N images (after --shard), in file order.")] = None,
    shard: Annotated[Optional[str], typer.Option(help="Keep shard i of N, e.g. 0/4 (stable hash of the image id).")] = None,
    dedup_iou: Annotated[float, typer.Option(min=0.0, max=1.0, help="Merge same-name objects whose boxes overlap at least this IoU; 1.0 disables.")] = 0.7,
    aliases: Annotated[bool, typer.Option(help="Apply VG's alias lists (object_alias.txt, relationship_alias.txt) when present.")] = True,
    validate_every: Annotated[int, typer.Option(min=1, help="Check every k-th scene against the JSON Schema (1 = all).")] = 100,
    force: Annotated[bool, typer.Option(help="Re-run stages even when inputs and config are unchanged.")] = False,
) -> None:
    """Load scene graphs, normalise them and write RUN/scenes.parquet plus RUN/manifest.json."""
    if shard:
        Shard.parse(shard)  # fail on a bad value before any work
    spec = SourceSpec.resolve(source, data_dir)
    if spec.is_sample:
        console.print(f"Using the bundled sample at {spec.data_dir}")
    cfg = LoadConfig(normalize=NormalizeConfig(dedup_iou=dedup_iou), use_aliases=aliases, limit=limit, shard=shard, validate_every=validate_every)
    run = RunDir(out)
    print_stage(load_stage(run, spec, cfg, force=force), run)

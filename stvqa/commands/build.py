"""`stvqa build`: scene graphs in, a verified spatial VQA dataset out."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from ..cli import app, console, load_config_defaults, user_errors
from ..errors import ConfigError
from ..normalize import NormalizeConfig
from ..pipeline import BuildConfig, SourceSpec, build as run_build
from ..qa.export import ExportConfig
from ..qa.templates import PAPER_MIX, GenerateConfig, parse_mix
from ..qa.verify import VerifyConfig
from ..rundir import RunDir
from ..scenes import LoadConfig, Shard
from .report import print_build_summary


@app.command()
@user_errors
def build(
    config: Annotated[Optional[Path], typer.Option(help="YAML file of build flags (keys with underscores, e.g. pipelines/default.yaml); flags given here win.",
                                                   is_eager=True, callback=load_config_defaults)] = None,
    source: Annotated[str, typer.Option(help="Scene-graph source: vg, vg150 or gqa.")] = "vg",
    data_dir: Annotated[Optional[Path], typer.Option(help="Folder with the source's files. Without it, --source vg uses the bundled sample.")] = None,
    out: Annotated[Path, typer.Option(help="Run directory; stages write their files here.")] = Path("runs/default"),
    limit: Annotated[Optional[int], typer.Option(min=1, help="Keep at most N images (after --shard), in file order.")] = None,
    shard: Annotated[Optional[str], typer.Option(help="Keep shard i of N, e.g. 0/4 (stable hash of the image id).")] = None,
    dedup_iou: Annotated[float, typer.Option(min=0.0, max=1.0, help="Merge same-name objects whose boxes overlap at least this IoU; 1.0 disables.")] = 0.7,
    aliases: Annotated[bool, typer.Option(help="Apply VG's alias lists (object_alias.txt, relationship_alias.txt) when present.")] = True,
    validate_every: Annotated[int, typer.Option(min=1, help="Check every k-th scene against the JSON Schema (1 = all).")] = 100,
    generator: Annotated[str, typer.Option(help="Question generator: template (offline, deterministic).")] = "template",
    per_image: Annotated[int, typer.Option(min=1, help="Question slots per image.")] = 3,
    mix: Annotated[Optional[str], typer.Option(help="Category shares, e.g. relation=0.5,count=0.25,size=0.25 (default: the paper's 50% relation, the rest evenly).")] = None,
    seed: Annotated[int, typer.Option(help="Seed of every choice: categories, phrasings, option order, split.")] = 0,
    val_split: Annotated[float, typer.Option(min=0.0, max=1.0, help="Share of images in the val split.")] = 0.1,
    max_pixels: Annotated[Optional[int], typer.Option(min=1, help="Downsize images above this many pixels (boxes rescaled to match).")] = None,
    images: Annotated[bool, typer.Option(help="Embed images in the exported Parquet; --no-images writes text-only rows.")] = True,
    force: Annotated[bool, typer.Option(help="Re-run stages even when inputs and config are unchanged.")] = False,
) -> None:
    """Load scene graphs, generate and verify questions, and export a Hugging Face-ready dataset to RUN/dataset."""
    if shard:
        Shard.parse(shard)  # fail on a bad value before any work
    try:
        mix_pairs = parse_mix(mix) if mix else tuple(PAPER_MIX.items())
    except ValueError as exc:
        raise ConfigError(f"--mix {mix!r}: {exc}", "Example: --mix relation=0.5,count=0.25,size=0.25") from None
    spec = SourceSpec.resolve(source, data_dir)
    if spec.is_sample:
        console.print(f"Using the bundled sample at {spec.data_dir}")
    generate = GenerateConfig(per_image=per_image, mix=mix_pairs, seed=seed)
    cfg = BuildConfig(
        load=LoadConfig(normalize=NormalizeConfig(dedup_iou=dedup_iou), use_aliases=aliases, limit=limit, shard=shard, validate_every=validate_every),
        generate=generate,
        verify=VerifyConfig(thresholds=generate),
        export=ExportConfig(val_split=val_split, seed=seed, max_pixels=max_pixels, embed_images=images),
        generator=generator,
    )
    run = RunDir(out)
    print_build_summary(run_build(run, spec, cfg, force=force), run)

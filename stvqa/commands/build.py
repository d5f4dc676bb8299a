"""`stvqa build`: scene graphs in, a verified spatial VQA dataset out."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from ..normalize import NormalizeConfig
from ..qa.config import GenerateConfig
from ..qa.export import ExportConfig
from ..qa.verify import VerifyConfig
from ..rundir import RunDir
from ..stages import BuildConfig, build as run_build, check
from ..stages.debias import DebiasConfig
from ..stages.load import LoadConfig
from .common import console, load_config_defaults, option, progress, user_errors
from .report import print_build_summary

L, G, E = LoadConfig, GenerateConfig, ExportConfig


@user_errors
def build(
    config: Annotated[Optional[Path], typer.Option(help="YAML file of build flags (keys with underscores, e.g. pipelines/default.yaml); flags given here win.",
                                                   is_eager=True, callback=load_config_defaults)] = None,
    source: Annotated[str, option(L, "source")] = "vg",
    data_dir: Annotated[Optional[Path], option(L, "data_dir")] = None,
    out: Annotated[Path, typer.Option(help="Run directory; stages write their files here.")] = Path("runs/default"),
    limit: Annotated[Optional[int], option(L, "limit")] = None,
    shard: Annotated[Optional[str], option(L, "shard")] = None,
    dedup_iou: Annotated[float, option(NormalizeConfig, "dedup_iou")] = 0.7,
    aliases: Annotated[bool, option(L, "use_aliases")] = True,
    validate_every: Annotated[int, option(L, "validate_every")] = 100,
    generator: Annotated[str, option(G, "generator")] = "template",
    per_image: Annotated[int, option(G, "per_image")] = 3,
    mix: Annotated[Optional[str], option(G, "mix")] = None,
    seed: Annotated[int, option(G, "seed")] = 0,
    val_split: Annotated[float, option(E, "val_split")] = 0.1,
    max_pixels: Annotated[Optional[int], option(E, "max_pixels")] = None,
    images: Annotated[bool, option(E, "embed_images", "--images/--no-images")] = True,
    max_blind_excess: Annotated[float, option(DebiasConfig, "max_excess")] = 0.1,
    force: Annotated[bool, typer.Option(help="Re-run stages even when inputs and config are unchanged.")] = False,
) -> None:
    """Load scene graphs, generate and verify questions, and export a Hugging Face-ready dataset to RUN/dataset."""
    load = LoadConfig(source=source, data_dir=str(data_dir) if data_dir else None, normalize=NormalizeConfig(dedup_iou=dedup_iou),
                      use_aliases=aliases, limit=limit, shard=shard, validate_every=validate_every)
    generate = GenerateConfig(generator=generator, per_image=per_image, seed=seed, **({"mix": mix} if mix else {}))
    cfg = BuildConfig(load=load, generate=generate, verify=VerifyConfig(thresholds=generate), debias=DebiasConfig(seed=seed, max_excess=max_blind_excess),
                      export=ExportConfig(val_split=val_split, seed=seed, max_pixels=max_pixels, embed_images=images))
    check(cfg)
    run = RunDir.open(out)
    if load.is_sample:
        console.print(f"Using the bundled sample at {load.folder()}")
    print_build_summary(run_build(run, cfg, progress(), force=force), run)

"""`stvqa build`: scene graphs in, a verified spatial VQA dataset out."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from ..llm.config import LLMConfig
from ..stages.load.normalize import NormalizeConfig
from ..stages.generate.config import GenerateConfig
from ..stages.export.parquet import ExportConfig
from ..stages.verify.checks import VerifyConfig
from ..pipeline.rundir import RunDir
from ..stages import BuildConfig, build as run_build, check, plan_llm
from ..stages.debias import DebiasConfig
from ..stages.load import LoadConfig
from .common import console, load_config_defaults, option, progress, user_errors
from .filter import BalanceLetters, Dedup, Judges, JudgeMaxSide, K, Levels, MaxBlind, MinConsistency, MinRating, PassRate, Rule, Target, filter_config
from .report import print_build_summary, print_plan

L, G, E, M = LoadConfig, GenerateConfig, ExportConfig, LLMConfig


@user_errors
def build(
    ctx: typer.Context,
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
    base_url: Annotated[str, option(M, "base_url")] = "https://api.openai.com/v1",
    model: Annotated[Optional[str], option(M, "model")] = None,
    api_key_env: Annotated[str, option(M, "api_key_env")] = "OPENAI_API_KEY",
    concurrency: Annotated[int, option(M, "concurrency")] = 16,
    rpm: Annotated[Optional[int], option(M, "rpm")] = None,
    tpm: Annotated[Optional[int], option(M, "tpm")] = None,
    temperature: Annotated[float, option(M, "temperature")] = 0.7,
    max_tokens: Annotated[int, option(M, "max_tokens")] = 2048,
    timeout: Annotated[float, option(M, "timeout")] = 120.0,
    max_retries: Annotated[int, option(M, "max_retries")] = 5,
    price_in: Annotated[float, option(M, "price_in")] = 0.0,
    price_out: Annotated[float, option(M, "price_out")] = 0.0,
    max_cost: Annotated[Optional[float], option(M, "max_cost")] = None,
    cache: Annotated[Optional[Path], option(M, "cache")] = None,
    dry_run: Annotated[bool, typer.Option(help="With --generator llm: load the scenes, then print how many requests would be sent and their estimated tokens and cost; send nothing.")] = False,
    val_split: Annotated[float, option(E, "val_split")] = 0.1,
    max_pixels: Annotated[Optional[int], option(E, "max_pixels")] = None,
    images: Annotated[bool, option(E, "embed_images", "--images/--no-images")] = True,
    layout: Annotated[str, option(E, "layout")] = "trl",
    max_blind_excess: Annotated[float, option(DebiasConfig, "max_excess")] = 0.1,
    judge: Judges = None,
    judge_base_url: Annotated[Optional[str], typer.Option(help="Endpoint of the --judge (default: --base-url).", show_default=False)] = None,
    judge_model: Annotated[Optional[str], typer.Option(help="Model of the --judge, e.g. gpt-4o-mini (other endpoint settings: as for --generator llm).",
                                                       show_default=False)] = None,
    k: K = 4,
    judge_max_side: JudgeMaxSide = 640,
    min_consistency: MinConsistency = 0.75,
    rule: Rule = "threshold",
    max_blind: MaxBlind = None,
    pass_rate: PassRate = "0.125..0.875",
    min_rating: MinRating = None,
    level: Levels = None,
    target: Target = None,
    dedup: Dedup = True,
    balance_letters: BalanceLetters = True,
    force: Annotated[bool, typer.Option(help="Re-run stages even when inputs and config are unchanged.")] = False,
) -> None:
    """Load scene graphs, generate, verify and curate questions, and export a Hugging Face-ready dataset to RUN/dataset."""
    load = LoadConfig(source=source, data_dir=str(data_dir) if data_dir else None, normalize=NormalizeConfig(dedup_iou=dedup_iou),
                      use_aliases=aliases, limit=limit, shard=shard, validate_every=validate_every)
    llm = LLMConfig(base_url=base_url, model=model or "", api_key_env=api_key_env, concurrency=concurrency, rpm=rpm, tpm=tpm, temperature=temperature,
                    max_tokens=max_tokens, timeout=timeout, max_retries=max_retries, price_in=price_in, price_out=price_out, max_cost=max_cost,
                    cache=str(cache) if cache else None) if generator == "llm" else None
    generate = GenerateConfig(generator=generator, per_image=per_image, seed=seed, llm=llm, **({"mix": mix} if mix is not None else {}))
    # The judge shares the generator's endpoint settings (key, limits, prices), with its own URL and model.
    judge_llm = LLMConfig(base_url=judge_base_url or base_url, model=judge_model or "", api_key_env=api_key_env, concurrency=concurrency, rpm=rpm,
                          tpm=tpm, temperature=1.0, max_tokens=64, timeout=timeout, max_retries=max_retries, price_in=price_in,
                          price_out=price_out, max_cost=max_cost)
    curation = filter_config(judges=judge, llm=judge_llm, k=k, seed=seed, judge_max_side=judge_max_side, min_consistency=min_consistency,
                             rule=rule, max_blind=max_blind, pass_rate=pass_rate, min_rating=min_rating, levels=level, target=target,
                             mix=generate.mix, dedup=dedup, balance_letters=balance_letters)
    cfg = BuildConfig(load=load, generate=generate, verify=VerifyConfig(thresholds=generate), debias=DebiasConfig(seed=seed, max_excess=max_blind_excess), filter=curation,
                      export=ExportConfig(val_split=val_split, seed=seed, max_pixels=max_pixels, embed_images=images, layout=layout))
    check(cfg, out)
    run = RunDir.open(out)
    if load.is_sample:
        console.print(f"Using the bundled sample at {load.folder()}")
    if dry_run:
        return print_plan(plan_llm(run, cfg, progress(), force=force), cfg.generate.llm)
    print_build_summary(run_build(run, cfg, progress(), force=force), run)

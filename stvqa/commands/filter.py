"""`stvqa filter`: curate a run's verified questions (dedup, rating, judges, balance), then export them."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Annotated, Optional

import typer

from ..errors import ConfigError
from ..llm.config import LLMConfig
from ..stages.export.parquet import ExportConfig
from ..pipeline.runner import run_stages
from ..stages import after, recorded_config, stage
from ..stages.filter import FilterConfig
from .common import load_config_defaults, option, progress, user_errors
from .report import print_filter_summary, require_run

F, M = FilterConfig, LLMConfig

# The curation flags, shared with `stvqa build` (which names the judge's endpoint --judge-base-url / --judge-model).
Judges = Annotated[Optional[list[str]], option(F, "judges", "--judge", show_default=False)]
K = Annotated[int, option(F, "k", "--k")]
JudgeMaxSide = Annotated[int, option(F, "judge_max_side")]
MinConsistency = Annotated[float, option(F, "min_consistency")]
Rule = Annotated[str, option(F, "rule")]
MaxBlind = Annotated[Optional[float], option(F, "max_blind", show_default=False)]
PassRate = Annotated[str, option(F, "pass_rate")]
MinRating = Annotated[Optional[int], option(F, "min_rating", show_default=False)]
Levels = Annotated[Optional[list[str]], option(F, "levels", "--level", show_default=False)]
Target = Annotated[Optional[int], option(F, "target", show_default=False)]
Dedup = Annotated[bool, option(F, "dedup", "--dedup/--no-dedup")]
BalanceLetters = Annotated[bool, option(F, "balance_letters", "--balance-letters/--no-balance-letters")]


def parse_pass_rate(text: str) -> tuple[float, float]:
    """"0.125..0.875" -> (0.125, 0.875)."""
    try:
        low, high = (float(x) for x in text.split(".."))
    except ValueError:
        raise ConfigError(f"--pass-rate {text!r} is not a range", "Write it as LOW..HIGH, e.g. --pass-rate 0.125..0.875.") from None
    return low, high


def filter_config(*, judges, llm, k, seed, judge_max_side, min_consistency, rule, max_blind, pass_rate, min_rating, levels, target,
                  mix, dedup, balance_letters, **judge_endpoints) -> FilterConfig:
    return FilterConfig(judges=tuple(judges or ()), llm=llm if judges else None, k=k, seed=seed, judge_max_side=judge_max_side,
                        min_consistency=min_consistency, rule=rule, max_blind=max_blind, pass_rate=parse_pass_rate(pass_rate),
                        min_rating=min_rating, levels=tuple(levels or ()), target=target, dedup=dedup, balance_letters=balance_letters,
                        **({"mix": mix} if mix is not None else {}), **judge_endpoints)


@user_errors
def filter_run(
    ctx: typer.Context,
    run: Annotated[Path, typer.Argument(help="Run directory of a `stvqa build`.")],
    config: Annotated[Optional[Path], typer.Option(help="YAML file of filter flags (keys with underscores); flags given here win.",
                                                   is_eager=True, callback=load_config_defaults)] = None,
    judge: Judges = None,
    base_url: Annotated[str, option(M, "base_url")] = "https://api.openai.com/v1",
    model: Annotated[Optional[str], option(M, "model", show_default=False)] = None,
    blind_model: Annotated[Optional[str], option(F, "blind_model", show_default=False)] = None,
    policy_base_url: Annotated[Optional[str], option(F, "policy_base_url", show_default=False)] = None,
    policy_model: Annotated[Optional[str], option(F, "policy_model", show_default=False)] = None,
    policy_max_tokens: Annotated[int, option(F, "policy_max_tokens")] = 1024,
    api_key_env: Annotated[str, option(M, "api_key_env")] = "OPENAI_API_KEY",
    k: K = 4,
    temperature: Annotated[float, typer.Option(help="Sampling temperature of the judges (above 0, so the k tries differ).")] = 1.0,
    max_tokens: Annotated[int, typer.Option(help="Most tokens of a vlm or blind judge's reply (a letter needs one).")] = 64,
    judge_max_side: JudgeMaxSide = 640,
    concurrency: Annotated[int, option(M, "concurrency")] = 16,
    rpm: Annotated[Optional[int], option(M, "rpm", show_default=False)] = None,
    tpm: Annotated[Optional[int], option(M, "tpm", show_default=False)] = None,
    timeout: Annotated[float, option(M, "timeout")] = 120.0,
    max_retries: Annotated[int, option(M, "max_retries")] = 5,
    price_in: Annotated[float, option(M, "price_in")] = 0.0,
    price_out: Annotated[float, option(M, "price_out")] = 0.0,
    max_cost: Annotated[Optional[float], option(M, "max_cost", show_default=False)] = None,
    cache: Annotated[Optional[Path], typer.Option(help="SQLite file of judge replies (default: RUN/judge_cache.sqlite).", show_default=False)] = None,
    min_consistency: MinConsistency = 0.75,
    rule: Rule = "threshold",
    max_blind: MaxBlind = None,
    pass_rate: PassRate = "0.125..0.875",
    min_rating: MinRating = None,
    level: Levels = None,
    target: Target = None,
    mix: Annotated[Optional[str], option(F, "mix", show_default=False)] = None,
    dedup: Dedup = True,
    balance_letters: BalanceLetters = True,
    seed: Annotated[int, option(F, "seed")] = 0,
    out: Annotated[Optional[Path], typer.Option(help="Export the curated dataset here (default: RUN/dataset).", show_default=False)] = None,
    overwrite: Annotated[bool, option(ExportConfig, "overwrite")] = False,
    force: Annotated[bool, typer.Option(help="Re-run the filter even when its inputs and config are unchanged.")] = False,
) -> None:
    """Curate a run's questions: dedup, rating and level, judges (vlm, blind, policy), balance; then export and print the funnel."""
    run_dir = require_run(run)
    llm = LLMConfig(base_url=base_url, model=model or "", api_key_env=api_key_env, concurrency=concurrency, rpm=rpm, tpm=tpm,
                    temperature=temperature, max_tokens=max_tokens, timeout=timeout, max_retries=max_retries, price_in=price_in,
                    price_out=price_out, max_cost=max_cost, cache=str(cache) if cache else None)
    cfg = filter_config(judges=judge, llm=llm, k=k, seed=seed, judge_max_side=judge_max_side, min_consistency=min_consistency, rule=rule,
                        max_blind=max_blind, pass_rate=pass_rate, min_rating=min_rating, levels=level, target=target, mix=mix, dedup=dedup,
                        balance_letters=balance_letters, blind_model=blind_model, policy_base_url=policy_base_url,
                        policy_model=policy_model, policy_max_tokens=policy_max_tokens)
    earlier = recorded_config(run_dir, stage("export"))  # export as the build did (split, pixels, layout)
    export_cfg = replace(earlier, out=str(out) if out else None, overwrite=overwrite)
    results = run_stages(run_dir, [(s, cfg if s.name == "filter" else export_cfg if s.name == "export" else recorded_config(run_dir, s))
                                   for s in after("filter")], progress(), force=force)
    print_filter_summary(results, run_dir)

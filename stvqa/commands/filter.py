"""`stvqa filter`: curate a run's verified questions (dedup, rating, judges, balance), then export them. Its flags
are the fields of `FilterConfig` and of the judges' endpoint (`JudgeLLMConfig`)."""

from __future__ import annotations

import inspect
from dataclasses import replace
from pathlib import Path
from typing import Annotated, Any, Optional

import typer

from ..llm.config import JudgeLLMConfig
from ..pipeline.runner import run_stages
from ..stages import after, recorded_config, stage
from ..stages.filter import FilterConfig
from .common import config_option, progress, user_errors
from .flags import ConfigCommand, Flag, Group, build_config, flags_of
from .hub import HUB_PARAMS, hub_values, push_if_asked
from .report import print_filter_summary, require_run


def filter_flags() -> list[Flag]:
    return flags_of([Group(FilterConfig, skip=frozenset({"llm"})), Group(JudgeLLMConfig, ("llm",))])


def _filter(ctx: typer.Context, run: Path, config: Optional[Path], out: Optional[Path], overwrite: bool, force: bool, **values: Any) -> None:
    """Curate a run's questions: dedup, rating and level, judges (vlm, blind, policy), balance; then export and print the funnel."""
    run_dir = require_run(run)
    hub = hub_values(values)
    cfg = build_config(FilterConfig, filter_flags(), values)
    export = replace(recorded_config(run_dir, stage("export")), out=str(out) if out else None, overwrite=overwrite)  # as the build exported
    chosen = {"filter": cfg, "export": export}
    results = run_stages(run_dir, [(s, chosen.get(s.name) or recorded_config(run_dir, s)) for s in after("filter")], progress(), force=force)
    print_filter_summary(results, run_dir)
    push_if_asked(Path(out) if out else Path(run_dir.record("export")["path"]), hub)


def _renamed() -> dict[str, str]:
    return {old: f.param for f in filter_flags() for old in f.old_keys}


FIXED = [
    inspect.Parameter("ctx", inspect.Parameter.POSITIONAL_OR_KEYWORD, annotation=typer.Context),
    inspect.Parameter("run", inspect.Parameter.POSITIONAL_OR_KEYWORD, annotation=Annotated[Path, typer.Argument(help="Run directory of a `stvqa build`.")]),
    inspect.Parameter("config", inspect.Parameter.KEYWORD_ONLY, default=None, annotation=Annotated[Optional[Path], config_option(
        "YAML file of filter settings (keys: the flags' names with underscores); flags given here win.", _renamed)]),
    inspect.Parameter("out", inspect.Parameter.KEYWORD_ONLY, default=None, annotation=Annotated[Optional[Path], typer.Option(
        help="Export the curated dataset here (default: RUN/dataset).", show_default=False)]),
    inspect.Parameter("overwrite", inspect.Parameter.KEYWORD_ONLY, default=False, annotation=Annotated[bool, typer.Option(
        help="Replace --out when it holds an earlier `stvqa export` and nothing else.")]),
    inspect.Parameter("force", inspect.Parameter.KEYWORD_ONLY, default=False, annotation=Annotated[bool, typer.Option(
        help="Re-run the filter even when its inputs and config are unchanged.")]),
    *HUB_PARAMS,
]
filter_run = user_errors(ConfigCommand(_filter, FIXED, filter_flags))

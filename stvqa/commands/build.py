"""`stvqa build`: scene graphs in, a verified spatial VQA dataset out. Its flags are the fields of the stages'
configs, in pipeline order (`stvqa.stages.BUILD`)."""

from __future__ import annotations

import inspect
from pathlib import Path
from typing import Annotated, Any, Optional

import typer

from .. import stages
from ..llm.config import RUN_CONTROL_FIELDS
from ..pipeline.rundir import RunDir
from .common import config_option, console, progress, user_errors
from .flags import ConfigCommand, Flag, Group, build_config, flags_of
from .hub import HUB_PARAMS, hub_values, push_if_asked
from .report import print_build_summary, print_plan

# The judge's endpoint in a build: its own URL, model and sampling, the generator's key, limits and prices.
JUDGE = ("filter", "llm")
SKIPPED = {"export": frozenset({"out", "overwrite"})}  # a build exports into RUN/dataset, which is its own


def build_flags() -> list[Flag]:
    groups = []
    for stage in stages.BUILD:
        groups.append(Group(stage.config, (stage.name,), skip=SKIPPED.get(stage.name, frozenset()) | ({"llm"} if stage.name == JUDGE[0] else set())))
        if stage.name == JUDGE[0]:
            groups.append(Group(_judge_config(), JUDGE, prefix="judge_", share=RUN_CONTROL_FIELDS - {"cache"}, defaults=_judge_default,
                                show_default=lambda name: "--base-url" if name == "base_url" else None))
    return flags_of(groups)


def _judge_config() -> type:
    from ..llm.config import JudgeLLMConfig

    return JudgeLLMConfig


def _judge_default(name: str) -> Any:
    """The judge's endpoint defaults to the generator's (`--base-url`); its other settings to the judge's own."""
    from dataclasses import fields

    return None if name == "base_url" else next(f.default for f in fields(_judge_config()) if f.name == name)


def _build(ctx: typer.Context, config: Optional[Path], out: Path, dry_run: bool, force: bool, **values: Any) -> None:
    """Load scene graphs, generate, verify and curate questions, and export a Hugging Face-ready dataset to RUN/dataset."""
    flags = build_flags()
    hub = hub_values(values)
    values["judge_base_url"] = values.get("judge_base_url") or values.get("base_url")
    cfg = stages.BuildConfig(**{s.name: build_config(s.config, flags, values, (s.name,)) for s in stages.BUILD})
    stages.check(cfg, out)
    run = RunDir.open(out)
    if cfg.load.is_sample:
        console.print(f"Using the bundled sample at {cfg.load.folder()}")
    if dry_run:
        return print_plan(stages.plan_llm(run, cfg, progress(), force=force), cfg.generate.llm)
    print_build_summary(stages.build(run, cfg, progress(), force=force), run)
    push_if_asked(Path(run.record("export")["path"]), hub)


def _renamed() -> dict[str, str]:
    return {old: f.param for f in build_flags() for old in f.old_keys}


FIXED = [
    inspect.Parameter("ctx", inspect.Parameter.POSITIONAL_OR_KEYWORD, annotation=typer.Context),
    inspect.Parameter("config", inspect.Parameter.KEYWORD_ONLY, default=None, annotation=Annotated[Optional[Path], config_option(
        "YAML file of build settings: keys are the flags' names with underscores (per_image: 3); a path, or the name of a "
        "config in pipelines/ (stvqa-7k); flags given here win.", _renamed)]),
    inspect.Parameter("out", inspect.Parameter.KEYWORD_ONLY, default=Path("runs/default"),
                      annotation=Annotated[Path, typer.Option(help="Run directory (new, empty, or a run stvqa made); stages write their files here.")]),
    inspect.Parameter("dry_run", inspect.Parameter.KEYWORD_ONLY, default=False, annotation=Annotated[bool, typer.Option(
        help="With --generator llm: load the scenes, then print how many requests would be sent and their estimated tokens and cost; send nothing.")]),
    inspect.Parameter("force", inspect.Parameter.KEYWORD_ONLY, default=False,
                      annotation=Annotated[bool, typer.Option(help="Re-run stages even when inputs and config are unchanged.")]),
    *HUB_PARAMS,
]
build = user_errors(ConfigCommand(_build, FIXED, build_flags))

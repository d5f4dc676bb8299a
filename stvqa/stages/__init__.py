"""The pipeline's stages, one module each, and `stvqa build`'s list of them.

To add a stage: write a module that declares `STAGE = Stage(name, fn, ConfigClass, reads=..., table=...)`
and add it to `BUILD` (and its config to `BuildConfig`); the runner, the summary and `inspect` need no change.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any

from ..errors import ConfigError
from ..progress import Progress
from ..qa.config import GenerateConfig
from ..qa.export import ExportConfig
from ..qa.llm_generator import Plan, plan
from ..qa.verify import VerifyConfig
from ..rundir import RunDir
from ..runner import Stage, StageResult, run_stages
from . import debias, export, filter, generate, load, verify
from .debias import DebiasConfig
from .filter import FilterConfig
from .load import LoadConfig

BUILD: tuple[Stage, ...] = (load.STAGE, generate.STAGE, verify.STAGE, debias.STAGE, filter.STAGE, export.STAGE)


@dataclass(frozen=True)
class BuildConfig:
    """One config per stage of `BUILD`, under the stage's name."""

    load: LoadConfig = LoadConfig()
    generate: GenerateConfig = GenerateConfig()
    verify: VerifyConfig = VerifyConfig()
    debias: DebiasConfig = DebiasConfig()
    filter: FilterConfig = FilterConfig()
    export: ExportConfig = ExportConfig()

    def of(self, stage: Stage) -> Any:
        return getattr(self, stage.name)


def check(cfg: BuildConfig) -> None:
    """Refuse a bad config before anything runs (each stage's own check)."""
    for stage in BUILD:
        if stage.check:
            stage.check(cfg.of(stage))


def build(run: RunDir, cfg: BuildConfig, progress: Progress | None = None, force: bool = False) -> list[StageResult]:
    """load -> generate -> verify -> debias -> filter -> export, each skipped when its inputs and config are unchanged."""
    assert {f.name for f in fields(BuildConfig)} == {s.name for s in BUILD}, "every stage needs a config"
    return run_stages(run, [(stage, cfg.of(stage)) for stage in BUILD], progress, force)


def plan_llm(run: RunDir, cfg: BuildConfig, progress: Progress | None = None, force: bool = False) -> Plan:
    """`--dry-run`: the load stage (as in a build), then what generate would send to the LLM; nothing is sent."""
    if cfg.generate.generator != "llm":
        raise ConfigError("--dry-run plans LLM requests: it needs --generator llm", "Add --generator llm --model NAME (and --base-url).")
    run_stages(run, [(load.STAGE, cfg.load)], progress, force)
    return plan(run.file(load.SCENES_FILE), cfg.generate, run.path)

"""The pipeline's stages, one module each, and `stvqa build`'s list of them.

To add a stage: write a module that declares `STAGE = Stage(name, fn, ConfigClass, reads=..., table=...)`
and add it to `BUILD` (and its config to `BuildConfig`); the runner, the summary and `inspect` need no change.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from pathlib import Path
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


def check(cfg: BuildConfig, out: Path | None = None) -> None:
    """Refuse a bad config before anything runs (each stage's own check), and a run directory that overlaps
    the data dir."""
    for stage in BUILD:
        if stage.check:
            stage.check(cfg.of(stage))
    if out is not None:
        check_out(cfg, out)


def check_out(cfg: BuildConfig, out: Path) -> None:
    """A run directory must not overlap the data dir: a build would read its own outputs as input."""
    if cfg.load.data_dir is not None:
        run, data = Path(out).expanduser().resolve(), Path(cfg.load.data_dir).expanduser().resolve()
        if run.is_relative_to(data) or data.is_relative_to(run):
            where = "is the data dir" if run == data else "is inside the data dir" if run.is_relative_to(data) else "contains the data dir"
            raise ConfigError(f"--out {out} {where} ({data})",
                              "Keep the run apart from the data: a build reads every file of --data-dir its source names; e.g. --out runs/NAME.")


def build(run: RunDir, cfg: BuildConfig, progress: Progress | None = None, force: bool = False) -> list[StageResult]:
    """load -> generate -> verify -> debias -> filter -> export, each skipped when its inputs and config are unchanged."""
    assert {f.name for f in fields(BuildConfig)} == {s.name for s in BUILD}, "every stage needs a config"
    check_out(cfg, run.path)
    return run_stages(run, [(stage, cfg.of(stage)) for stage in BUILD], progress, force)


def plan_llm(run: RunDir, cfg: BuildConfig, progress: Progress | None = None, force: bool = False) -> Plan:
    """`--dry-run`: the load stage (as in a build), then what generate would send to the LLM; nothing is sent."""
    if cfg.generate.generator != "llm":
        raise ConfigError("--dry-run plans LLM requests: it needs --generator llm", "Add --generator llm --model NAME (and --base-url).")
    run_stages(run, [(load.STAGE, cfg.load)], progress, force)
    return plan(run.file(load.SCENES_FILE), cfg.generate, run.path)

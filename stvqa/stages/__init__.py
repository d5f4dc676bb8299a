"""The pipeline: one package (or module) per stage, and `stvqa build`'s list of them, in order.

To add a stage: write a module that declares `STAGE = Stage(name, fn, ConfigClass, takes_questions=True,
table=...)` and put it into `BUILD` where it belongs. `wire` hands it the question table of the stage before it
and the stages after it read its table; its config gets its flags and its place in `BuildConfig`; the runner,
the summary, merge and `inspect` need no change.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ..config import config_from_dict
from ..errors import ConfigError
from ..pipeline.rundir import RunDir
from ..pipeline.runner import Stage, StageResult, run_stage, run_stages, wire
from ..progress import Progress
from . import debias, export, filter, generate, load, verify
from .generate.llm_writer import Plan, plan

BUILD: tuple[Stage, ...] = wire((load.STAGE, generate.STAGE, verify.STAGE, debias.STAGE, filter.STAGE, export.STAGE))


def stage(name: str) -> Stage:
    """A stage of `BUILD`, wired as the build runs it."""
    return next(s for s in BUILD if s.name == name)


def after(name: str) -> tuple[Stage, ...]:
    """The stage named and every stage after it (what `stvqa filter RUN` runs again)."""
    names = [s.name for s in BUILD]
    return BUILD[names.index(name):]


class BuildConfig:
    """One config per stage of `BUILD`, under the stage's name: `BuildConfig(export=ExportConfig(max_pixels=...))`;
    a stage not given gets its config's defaults. `cfg.load`, `cfg.of(stage)`."""

    def __init__(self, **configs: Any) -> None:
        unknown = sorted(set(configs) - {s.name for s in BUILD})
        if unknown:
            raise TypeError(f"BuildConfig has no stage {', '.join(unknown)} (stages: {', '.join(s.name for s in BUILD)})")
        self._configs = {s.name: configs[s.name] if configs.get(s.name) is not None else s.config() for s in BUILD}

    def of(self, stage: Stage) -> Any:
        return self._configs[stage.name]

    def __getattr__(self, name: str) -> Any:
        try:
            return self.__dict__["_configs"][name]
        except KeyError:
            raise AttributeError(name) from None

    def __repr__(self) -> str:
        return f"BuildConfig({', '.join(f'{k}={v!r}' for k, v in self._configs.items())})"


def recorded_config(run: RunDir, stage: Stage) -> Any:
    """The config a stage last ran with in `run` (its config's defaults when it never ran)."""
    record = run.record(stage.name)
    return config_from_dict(stage.config, record["config"]) if record else stage.config()


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
    """Every stage of `BUILD` in order, each skipped when its inputs and config are unchanged."""
    check_out(cfg, run.path)
    return run_stages(run, [(s, cfg.of(s)) for s in BUILD], progress, force)


def export_to(run: RunDir, cfg: Any, progress: Progress | None = None) -> StageResult:
    """`stvqa export RUN --out X`: reads the run (under a shared lock, so a build cannot change it meanwhile) and
    writes nothing into it."""
    with run.reading():
        return run_stage(run, stage("export"), cfg, progress, force=cfg.overwrite)


def plan_llm(run: RunDir, cfg: BuildConfig, progress: Progress | None = None, force: bool = False) -> Plan:
    """`--dry-run`: the load stage (as in a build), then what generate would send to the LLM; nothing is sent."""
    if cfg.generate.generator != "llm":
        raise ConfigError("--dry-run plans LLM requests: it needs --generator llm", "Add --generator llm --model NAME (and --base-url).")
    run_stages(run, [(stage("load"), cfg.load)], progress, force)
    return plan(run.file(load.SCENES_FILE), cfg.generate, run.path)

"""`stvqa eval`: greedy generation over a split; accuracy, reward components and format failures."""

from __future__ import annotations

import inspect
import json
import os
from pathlib import Path
from typing import Annotated, Any, Optional

import typer
from rich.table import Table

from ..errors import ConfigError
from ..pipeline.rundir import atomic_write_text
from ..train.evaluate import EvalConfig as E
from .common import console, progress, settings, user_errors
from .flags import ConfigCommand, Group, build_config, flags_of


def _eval(model: str, dataset: str, recipe: Optional[str], out: Optional[Path], **values: Any) -> None:
    """Evaluate a model on a split: accuracy overall and per category, reward components, format failures."""
    from ..train import require_extra
    from ..train.evaluate import evaluate

    cfg = build_config(E, FLAGS, values)
    out = out or (Path(model) / f"eval-{cfg.split}.json" if Path(model).is_dir() else Path(f"eval-{cfg.split}.json"))
    check_report_path(out)  # before hours of generation, not after
    require_extra("stvqa eval")
    report = evaluate(model, dataset, cfg, recipe=recipe, progress=progress(), quiet=settings["quiet"])
    atomic_write_text(out, json.dumps(report, indent=1) + "\n")
    console.print(eval_table(report))
    rewards = ", ".join(f"{k} {v:.3f}" for k, v in report["rewards"].items())
    console.print(f"reward means: {rewards}; {report['tokens_per_second']} tokens/s. Report: [bold]{out}[/]")


FLAGS = flags_of([Group(E)])
FIXED = [
    inspect.Parameter("model", inspect.Parameter.POSITIONAL_OR_KEYWORD, annotation=Annotated[str, typer.Argument(
        help="A model folder (e.g. written by `stvqa train`) or a Hub id.")]),
    inspect.Parameter("dataset", inspect.Parameter.POSITIONAL_OR_KEYWORD, annotation=Annotated[str, typer.Argument(
        help="Exported dataset: a folder, a Parquet file or a Hub id.")]),
    inspect.Parameter("recipe", inspect.Parameter.KEYWORD_ONLY, default=None, annotation=Annotated[Optional[str], typer.Option(
        help="Recipe whose prompt, pixel bounds and reward settings to use; default: the model's stvqa_recipe.yaml, else grpo_spatialthinker.")]),
    inspect.Parameter("out", inspect.Parameter.KEYWORD_ONLY, default=None, annotation=Annotated[Optional[Path], typer.Option(
        help="JSON report; default MODEL/eval-SPLIT.json for a local model, else ./eval-SPLIT.json.")]),
]
eval = user_errors(ConfigCommand(_eval, FIXED, lambda: FLAGS))  # noqa: A001 - the command's name


def check_report_path(out: Path) -> None:
    if out.is_dir():
        raise ConfigError(f"--out {out} is a folder", f"Pass a file name for the JSON report, e.g. --out {out / 'eval.json'}.")
    folder = out.parent if str(out.parent) else Path(".")
    probe = folder
    while not probe.exists() and probe != probe.parent:
        probe = probe.parent
    if not probe.is_dir() or not os.access(probe, os.W_OK):
        raise ConfigError(f"--out {out} cannot be written (its folder {probe} is not a writable folder)", "Pass a path you can write to.")


def eval_table(report: dict) -> Table:
    table = Table(title=f"{report['model']} on {report['dataset']} ({report['split']})", header_style="bold")
    for column in ("category", "rows", "accuracy", "format failures", "reward"):
        table.add_column(column, justify="left" if column == "category" else "right")
    for name, part in [*report["by_category"].items(), ("all", report)]:
        table.add_row(f"[bold]{name}[/]" if name == "all" else name, str(part["rows"]), f"{part['accuracy']:.3f}",
                      f"{part['format_failure_rate']:.3f}", f"{part['rewards']['overall']:.3f}")
    return table

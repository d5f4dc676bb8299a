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


def _eval(model: str, dataset: Optional[str], recipe: Optional[str], out: Optional[Path], benchmark: Optional[str],
          data_dir: Optional[Path], **values: Any) -> None:
    """Evaluate a model on a split of an exported dataset (accuracy per category, reward components, format failures)
    or on a published benchmark (--benchmark: accuracy per task with standard errors)."""
    from ..train import require_extra

    cfg = build_config(E, FLAGS, values)
    if (dataset is None) == (benchmark is None):
        raise ConfigError("stvqa eval needs a DATASET or a --benchmark (one of them)",
                          "Pass an exported dataset (runs/default/dataset), or --benchmark cvbench|blink|3dsrbench [--data-dir COPY].")
    if data_dir is not None and benchmark is None:
        raise ConfigError("--data-dir is the local copy of a --benchmark", "Pass --benchmark NAME with it, or give the dataset as DATASET.")
    stem = f"eval-{benchmark}" if benchmark else f"eval-{cfg.split}"
    out = out or (Path(model) / f"{stem}.json" if Path(model).is_dir() else Path(f"{stem}.json"))
    check_report_path(out)  # before hours of generation, not after
    require_extra("stvqa eval")
    if benchmark:
        from ..train.evaluate import evaluate_benchmark

        report = evaluate_benchmark(model, benchmark, cfg, data_dir=data_dir, recipe=recipe, progress=progress(), quiet=settings["quiet"])
        atomic_write_text(out, json.dumps(report, indent=1) + "\n")
        console.print(benchmark_table(report))
        console.print(f"{report['tokens_per_second']} tokens/s. Report: [bold]{out}[/]")
        return
    from ..train.evaluate import evaluate

    report = evaluate(model, dataset, cfg, recipe=recipe, progress=progress(), quiet=settings["quiet"])
    atomic_write_text(out, json.dumps(report, indent=1) + "\n")
    console.print(eval_table(report))
    rewards = ", ".join(f"{k} {v:.3f}" for k, v in report["rewards"].items())
    console.print(f"reward means: {rewards}; {report['tokens_per_second']} tokens/s. Report: [bold]{out}[/]")


FLAGS = flags_of([Group(E)])
FIXED = [
    inspect.Parameter("model", inspect.Parameter.POSITIONAL_OR_KEYWORD, annotation=Annotated[str, typer.Argument(
        help="A model folder (e.g. written by `stvqa train`) or a Hub id.")]),
    inspect.Parameter("dataset", inspect.Parameter.POSITIONAL_OR_KEYWORD, default=None, annotation=Annotated[Optional[str], typer.Argument(
        help="Exported dataset: a folder, a Parquet file or a Hub id (or --benchmark instead).")]),
    inspect.Parameter("recipe", inspect.Parameter.KEYWORD_ONLY, default=None, annotation=Annotated[Optional[str], typer.Option(
        help="Recipe whose prompt, pixel bounds and reward settings to use; default: the model's stvqa_recipe.yaml, else grpo_spatialthinker.")]),
    inspect.Parameter("out", inspect.Parameter.KEYWORD_ONLY, default=None, annotation=Annotated[Optional[Path], typer.Option(
        help="JSON report; default MODEL/eval-SPLIT.json (eval-BENCHMARK.json) for a local model, else in the current folder.")]),
    inspect.Parameter("benchmark", inspect.Parameter.KEYWORD_ONLY, default=None, annotation=Annotated[Optional[str], typer.Option(
        help="A published benchmark instead of DATASET: cvbench, blink (its single-image spatial subsets) or 3dsrbench (circular).")]),
    inspect.Parameter("data_dir", inspect.Parameter.KEYWORD_ONLY, default=None, annotation=Annotated[Optional[Path], typer.Option(
        help="A local copy of the benchmark's Hub files (Parquet); default: load it from the Hub.")]),
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


def benchmark_table(report: dict) -> Table:
    title = f"{report['model']} on {report['benchmark']}" + (" (circular)" if report["circular"] else "")
    table = Table(title=title, header_style="bold")
    for column in ("task", "questions", "accuracy", "± s.e.", "unparseable"):
        table.add_column(column, justify="left" if column == "task" else "right")
    for name, part in [*report["by_task"].items(), ("all", report)]:
        table.add_row(f"[bold]{name}[/]" if name == "all" else name, str(part["questions"]), f"{part['accuracy']:.3f}",
                      f"{part['stderr']:.3f}", f"{part['unparseable_rate']:.3f}")
    return table

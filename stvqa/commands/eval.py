"""`stvqa eval`: greedy generation over a split; accuracy, reward components and format failures."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.table import Table

from ..errors import ConfigError
from ..pipeline.rundir import atomic_write_text
from ..train.evaluate import EvalConfig as E
from .common import console, option, progress, settings, user_errors


@user_errors
def eval(  # noqa: A001 - the command's name
    model: Annotated[str, typer.Argument(help="A model folder (e.g. written by `stvqa train`) or a Hub id.")],
    dataset: Annotated[str, typer.Argument(help="Exported dataset: a folder, a Parquet file or a Hub id.")],
    split: Annotated[str, option(E, "split")] = "val",
    limit: Annotated[Optional[int], option(E, "limit")] = None,
    batch_size: Annotated[int, option(E, "batch_size")] = 8,
    max_new_tokens: Annotated[int, option(E, "max_new_tokens")] = 1024,
    recipe: Annotated[Optional[str], typer.Option(help="Recipe whose prompt, pixel bounds and reward settings to use; "
                                                       "default: the model's stvqa_recipe.yaml, else grpo_spatialthinker.")] = None,
    out: Annotated[Optional[Path], typer.Option(help="JSON report; default MODEL/eval-SPLIT.json for a local model, else ./eval-SPLIT.json.")] = None,
) -> None:
    """Evaluate a model on a split: accuracy overall and per category, reward components, format failures."""
    from ..train import require_extra
    from ..train.evaluate import evaluate

    cfg = E(split=split, limit=limit, batch_size=batch_size, max_new_tokens=max_new_tokens)
    out = out or (Path(model) / f"eval-{split}.json" if Path(model).is_dir() else Path(f"eval-{split}.json"))
    check_report_path(out)  # before hours of generation, not after
    require_extra("stvqa eval")
    report = evaluate(model, dataset, cfg, recipe=recipe, progress=progress(), quiet=settings["quiet"])
    atomic_write_text(out, json.dumps(report, indent=1) + "\n")
    console.print(eval_table(report))
    rewards = ", ".join(f"{k} {v:.3f}" for k, v in report["rewards"].items())
    console.print(f"reward means: {rewards}; {report['tokens_per_second']} tokens/s. Report: [bold]{out}[/]")


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

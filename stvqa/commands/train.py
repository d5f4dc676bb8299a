"""`stvqa train`: GRPO on an exported dataset with the spatial rewards (TRL's GRPOTrainer)."""

from __future__ import annotations

import inspect
from dataclasses import fields
from pathlib import Path
from typing import Annotated, Any, Optional

import typer
from rich.table import Table

from ..train.recipe import TrainRecipe
from .common import console, settings, user_errors
from .flags import ConfigCommand, Group, flags_of, values_at

AS_FLAGS = frozenset({"model", "lora", "use_vllm", "vllm_mode", "report_to"})  # the recipe's settings a flag may set too


def _train(dataset: Optional[str], overrides: Optional[list[str]], recipe: str, output_dir: Optional[Path], resume: bool, overwrite: bool,
           smoke: bool, **values: Any) -> None:
    """Train a vision-language model with GRPO and the dense spatial reward on an exported dataset."""
    from ..train import require_extra
    from ..train.commands import run_train

    require_extra()
    result = run_train(dataset, list(overrides or []), recipe, output_dir, smoke=smoke, resume=resume, overwrite=overwrite,
                       quiet=settings["quiet"], flags=values_at(FLAGS, values, ()))
    if result.is_main_process:
        console.print(reward_table(result.reward_means()))
        console.print(f"Trained in {result.seconds:.1f} s. Model saved to [bold]{result.output_dir}[/] (recipe: stvqa_recipe.yaml, log: train_log.json)")


FLAGS = flags_of([Group(TrainRecipe, skip=frozenset(f.name for f in fields(TrainRecipe)) - AS_FLAGS, defaults=lambda name: None,
                        show_default=lambda name: "the recipe's")])
FIXED = [
    inspect.Parameter("dataset", inspect.Parameter.POSITIONAL_OR_KEYWORD, default=None, annotation=Annotated[Optional[str], typer.Argument(
        help="Exported dataset: a folder (stvqa build/export), a Parquet file or a Hub id. With --smoke, default: the bundled sample.")]),
    inspect.Parameter("overrides", inspect.Parameter.POSITIONAL_OR_KEYWORD, default=None, annotation=Annotated[Optional[list[str]], typer.Argument(
        help="Recipe values, key=value (beta=0.02 max_steps=10 reward_config.gating=false).", show_default=False)]),
    inspect.Parameter("recipe", inspect.Parameter.KEYWORD_ONLY, default="grpo_spatialthinker", annotation=Annotated[str, typer.Option(
        help="Recipe: a name in pipelines/ (grpo_spatialthinker, grpo_vanilla) or a YAML file.")]),
    inspect.Parameter("output_dir", inspect.Parameter.KEYWORD_ONLY, default=None, annotation=Annotated[Optional[Path], typer.Option(
        help="Where the model, the recipe and the log go; default runs/train-RECIPE.")]),
    inspect.Parameter("resume", inspect.Parameter.KEYWORD_ONLY, default=False, annotation=Annotated[bool, typer.Option(
        "--resume", help="Continue from the last checkpoint-N in --output-dir (resume_from_checkpoint=PATH for another one).")]),
    inspect.Parameter("overwrite", inspect.Parameter.KEYWORD_ONLY, default=False, annotation=Annotated[bool, typer.Option(
        "--overwrite", help="Train into an --output-dir that holds an earlier run.")]),
    inspect.Parameter("smoke", inspect.Parameter.KEYWORD_ONLY, default=False, annotation=Annotated[bool, typer.Option(
        "--smoke", help="Check the installation: a tiny random Qwen2.5-VL built offline, two CPU steps, saved.")]),
]
train = user_errors(ConfigCommand(_train, FIXED, lambda: FLAGS))


def reward_table(means: dict[str, list[float]]) -> Table:
    table = Table(title="rewards (batch mean)", header_style="bold")
    for column in ("reward", "first step", "last step", "steps"):
        table.add_column(column, justify="left" if column == "reward" else "right")
    for name, values in means.items():
        table.add_row(name, *(f"{v:.3f}" for v in (values[:1] + values[-1:] if values else [float("nan")] * 2)), str(len(values)))
    return table

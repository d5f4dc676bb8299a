"""`stvqa train`: GRPO on an exported dataset with the spatial rewards (TRL's GRPOTrainer)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.table import Table

from ..train.recipe import TrainRecipe as R
from .common import console, option, settings, user_errors


@user_errors
def train(
    dataset: Annotated[Optional[str], typer.Argument(help="Exported dataset: a folder (stvqa build/export), a Parquet file or a Hub id. "
                                                           "With --smoke, default: the bundled sample.")] = None,
    overrides: Annotated[Optional[list[str]], typer.Argument(help="Recipe values, key=value (beta=0.02 max_steps=10 reward_config.gating=false).",
                                                            show_default=False)] = None,
    recipe: Annotated[str, typer.Option(help="Recipe: a name in pipelines/ (grpo_spatialthinker, grpo_vanilla) or a YAML file.")] = "grpo_spatialthinker",
    model: Annotated[Optional[str], option(R, "model", show_default=False)] = None,
    output_dir: Annotated[Optional[Path], typer.Option(help="Where the model, the recipe and the log go; default runs/train-RECIPE.")] = None,
    lora: Annotated[Optional[bool], option(R, "lora", "--lora", show_default=False)] = None,
    use_vllm: Annotated[Optional[bool], option(R, "use_vllm", "--use-vllm", show_default=False)] = None,
    vllm_mode: Annotated[Optional[str], option(R, "vllm_mode", show_default=False)] = None,
    report_to: Annotated[Optional[str], option(R, "report_to", show_default=False)] = None,
    resume: Annotated[bool, typer.Option("--resume", help="Continue from the last checkpoint-N in --output-dir "
                                                         "(resume_from_checkpoint=PATH for another one).")] = False,
    overwrite: Annotated[bool, typer.Option("--overwrite", help="Train into an --output-dir that holds an earlier run.")] = False,
    smoke: Annotated[bool, typer.Option("--smoke", help="Check the installation: a tiny random Qwen2.5-VL built offline, two CPU steps, saved.")] = False,
) -> None:
    """Train a vision-language model with GRPO and the dense spatial reward on an exported dataset."""
    from ..train import require_extra
    from ..train.commands import run_train

    require_extra()
    result = run_train(dataset, list(overrides or []), recipe, output_dir, smoke=smoke, resume=resume, overwrite=overwrite,
                       quiet=settings["quiet"], flags={"model": model, "lora": lora, "use_vllm": use_vllm,
                                                       "vllm_mode": vllm_mode, "report_to": report_to})
    if result.is_main_process:
        console.print(reward_table(result.reward_means()))
        console.print(f"Trained in {result.seconds:.1f} s. Model saved to [bold]{result.output_dir}[/] (recipe: stvqa_recipe.yaml, log: train_log.json)")


def reward_table(means: dict[str, list[float]]) -> Table:
    table = Table(title="rewards (batch mean)", header_style="bold")
    for column in ("reward", "first step", "last step", "steps"):
        table.add_column(column, justify="left" if column == "reward" else "right")
    for name, values in means.items():
        table.add_row(name, *(f"{v:.3f}" for v in (values[:1] + values[-1:] if values else [float("nan")] * 2)), str(len(values)))
    return table

"""`stvqa train --smoke`: the whole recipe on a tiny random-weight Qwen2.5-VL, offline, on CPU, in seconds.

It builds the bundled sample dataset with images of at most 56 x 56 pixels (four image tokens each) when no
dataset is given, builds the tiny model and processor, and runs two GRPO steps with the recipe's rewards plus
`variety_reward` (see its docstring), then saves. The tests run the same path.
"""

from __future__ import annotations

from pathlib import Path

from .recipe import TrainRecipe, apply_overrides

SMOKE_PIXELS = 56 * 56
# Small enough for two CPU steps in about a second; the recipe's own rewards, prompt and reward settings stay.
SMOKE_OVERRIDES = {
    "max_steps": 2, "num_generations": 4, "per_device_train_batch_size": 4, "gradient_accumulation_steps": 1,
    "max_completion_length": 24, "min_pixels": 28 * 28, "max_pixels": SMOKE_PIXELS, "max_samples": 16,
    "gradient_checkpointing": False, "bf16": False, "use_vllm": False, "report_to": "none",
    "logging_steps": 1, "save_strategy": "no", "dataloader_num_workers": 0,
    # One update per rollout and no evaluation: seconds, not minutes (eval_strategy=steps turns it on again).
    "steps_per_generation": 1, "eval_strategy": "no", "eval_on_start": False, "log_completions": False,
}


def smoke_recipe(recipe: TrainRecipe, model: Path) -> TrainRecipe:
    weights = list(recipe.reward_weights or [1.0] * len(recipe.rewards))
    return apply_overrides(recipe, {**SMOKE_OVERRIDES, "model": str(model),
                                    "rewards": [*recipe.rewards, "stvqa.train.rewards.variety_reward"],
                                    "reward_weights": [*weights, 0.01]})


def smoke_dataset(folder: Path) -> Path:
    """The bundled sample, built and exported with tiny images (`stvqa build --max-pixels 3136`)."""
    from ..stages.export.parquet import ExportConfig
    from ..pipeline.rundir import RunDir
    from ..stages import BuildConfig, build

    build(RunDir.open(folder), BuildConfig(export=ExportConfig(max_pixels=SMOKE_PIXELS)))
    return folder / "dataset"


def smoke_model(folder: Path) -> Path:
    from .tiny import build_tiny

    return build_tiny(folder, max_pixels=SMOKE_PIXELS)

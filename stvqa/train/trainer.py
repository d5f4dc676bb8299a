"""The GRPO recipe: a prepared dataset, stvqa's reward functions and TRL's GRPOTrainer, glued; nothing else.

Everything heavy (torch, transformers, trl, peft) is imported inside the functions, so that building datasets
never needs the `train` extra.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import ConfigError, DataError
from .data import check_source, load_split, prepare
from .frame import apply_bounds, check_vllm_bounds, grid_of
from .models import check_devices, check_report_to, load_processor, resolve_model, tame_libraries
from .recipe import RECIPE_FILE, TrainRecipe, check_trl_keys, save_recipe
from .rewards import reward_funcs

LOG_FILE = "train_log.json"  # TRL's log history (loss, KL, rewards/<name>/mean per step) beside the model


@dataclass
class TrainResult:
    output_dir: Path
    recipe: TrainRecipe
    reward_names: list[str]
    log_history: list[dict[str, Any]] = field(default_factory=list)
    seconds: float = 0.0
    is_main_process: bool = True

    def reward_means(self) -> dict[str, list[float]]:
        """Per reward function, its batch mean at every logged step."""
        return {name: [h[f"rewards/{name}/mean"] for h in self.log_history if f"rewards/{name}/mean" in h]
                for name in self.reward_names}


def check_output_dir(output_dir: Path, resume: bool | str, overwrite: bool) -> bool | str:
    """Refuse to mix a new run into an earlier one; returns what to pass as `resume_from_checkpoint`."""
    if output_dir.exists() and not output_dir.is_dir():
        raise ConfigError(f"--output-dir {output_dir} is a file", "Choose a folder for the trained model.")
    checkpoints = sorted(output_dir.glob("checkpoint-*")) if output_dir.is_dir() else []
    if resume:
        if isinstance(resume, str):
            if not Path(resume).is_dir():
                raise DataError(f"checkpoint {resume} does not exist", f"Pass a checkpoint-N folder, or --resume alone for the last one in {output_dir}.")
            return resume
        if not checkpoints:
            raise DataError(f"--resume: {output_dir} has no checkpoint-N folder", "Checkpoints are written every save_steps; train without --resume.")
        return True
    earlier = checkpoints or (output_dir / RECIPE_FILE).exists()
    if earlier and not overwrite:
        raise ConfigError(f"--output-dir {output_dir} already holds a training run",
                          "Pass --resume to continue it, --overwrite to train into it again, or choose another --output-dir.")
    return False


def grpo_config(recipe: TrainRecipe, output_dir: Path, bf16: bool, quiet: bool = False):
    from trl import GRPOConfig

    from .models import has_gpu

    kwargs = {
        "output_dir": str(output_dir), "reward_weights": list(recipe.reward_weights) if recipe.reward_weights else None,
        "gradient_checkpointing": recipe.gradient_checkpointing, "bf16": bf16, "use_cpu": not has_gpu(),
        "use_vllm": recipe.use_vllm, "vllm_mode": recipe.vllm_mode, "report_to": recipe.report_targets or "none",
        "remove_unused_columns": False,  # the rewards read the ground-truth columns
        **({"disable_tqdm": True} if quiet else {}),
        **recipe.trl,
        **({"learning_rate": recipe.lora_learning_rate} if recipe.lora else {}),
    }
    if not recipe.eval_split:
        kwargs.update(eval_strategy="no", eval_on_start=False)
    try:
        return GRPOConfig(**kwargs)
    except (ValueError, TypeError) as exc:
        raise ConfigError(f"TRL refused the recipe: {exc}", "Change the recipe value it names (key=value on the command line).") from None


def lora_config(recipe: TrainRecipe):
    from peft import LoraConfig

    targets = recipe.lora_target_modules
    return LoraConfig(r=recipe.lora_r, lora_alpha=recipe.lora_alpha, lora_dropout=recipe.lora_dropout, task_type="CAUSAL_LM",
                      target_modules=list(targets) if isinstance(targets, (list, tuple)) else targets)


def train(dataset: str, recipe: TrainRecipe, output_dir: Path, resume: bool | str = False, overwrite: bool = False,
          quiet: bool = False) -> TrainResult:
    """Train `recipe.model` on `dataset` with GRPO; save the model (or LoRA adapter), the processor, the resolved
    recipe (`stvqa_recipe.yaml`) and the log history (`train_log.json`) in `output_dir`."""
    # Everything a user can get wrong is checked before a model or a dataset is loaded.
    check_trl_keys(recipe)
    check_source(dataset)  # a dataset that is not there is said before the model is looked up (which may ask the Hub)
    model = resolve_model(recipe.model)
    bf16 = check_devices(recipe.bf16, recipe.use_vllm)
    check_report_to(recipe.report_targets)
    resume_from = check_output_dir(output_dir, resume, overwrite)
    funcs = reward_funcs(recipe)
    tame_libraries(quiet)
    args = grpo_config(recipe, output_dir, bf16, quiet)

    from trl import GRPOTrainer

    processor = load_processor(model)
    if recipe.use_vllm:
        check_vllm_bounds(processor, recipe.min_pixels, recipe.max_pixels)
    apply_bounds(processor, recipe.min_pixels, recipe.max_pixels)
    data = prepare(load_split(dataset, recipe.train_split), recipe.prompt_file, recipe.min_pixels, recipe.max_pixels,
                   recipe.max_samples, source=dataset, grid=grid_of(processor))
    evaluation = None
    if args.eval_strategy != "no" or args.eval_on_start:
        evaluation = prepare(load_split(dataset, recipe.eval_split), recipe.prompt_file, recipe.min_pixels, recipe.max_pixels,
                             recipe.max_eval_samples, source=dataset, grid=grid_of(processor))
    try:
        trainer = GRPOTrainer(model=model, reward_funcs=funcs, args=args, train_dataset=data, eval_dataset=evaluation, processing_class=processor,
                              peft_config=lora_config(recipe) if recipe.lora else None)
    except ValueError as exc:
        raise ConfigError(f"TRL refused the recipe: {exc}", "Change the recipe value it names (key=value on the command line).") from None
    start = time.perf_counter()
    trainer.train(resume_from_checkpoint=resume_from or None)
    seconds = time.perf_counter() - start
    trainer.save_model(str(output_dir))
    main = trainer.accelerator.is_main_process
    if main:
        save_recipe(recipe, output_dir / RECIPE_FILE)
        (output_dir / LOG_FILE).write_text(json.dumps(trainer.state.log_history, indent=1))
    if hasattr(trainer, "end"):
        trainer.end()  # finish the trackers, destroy the process group
    return TrainResult(output_dir, recipe, [getattr(f, "__name__", str(f)) for f in funcs], trainer.state.log_history, seconds, main)

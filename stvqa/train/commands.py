"""What `stvqa train` does with its flags: resolve the recipe (file, flags, key=value), the smoke set-up, the run."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ..errors import ConfigError
from .recipe import apply_overrides, load_recipe, with_fields
from .trainer import TrainResult, train


def split_arguments(dataset: str | None, overrides: list[str]) -> tuple[str | None, list[str]]:
    """`stvqa train --smoke beta=0.1`: a first argument with `=` that is no existing path is an override."""
    if dataset is not None and "=" in dataset and not Path(dataset).exists():
        return None, [dataset, *overrides]
    return dataset, overrides


def run_train(dataset: str | None, overrides: list[str], recipe_name: str, output_dir: Path | None, *, smoke: bool = False,
              resume: bool = False, overwrite: bool = False, quiet: bool = False, flags: dict[str, Any] | None = None) -> TrainResult:
    dataset, overrides = split_arguments(dataset, overrides)
    base = load_recipe(recipe_name)
    recipe = apply_overrides(with_fields(base, **(flags or {})), overrides)
    if smoke and ((flags or {}).get("use_vllm") or apply_overrides(with_fields(base, use_vllm=False), overrides).use_vllm):
        raise ConfigError("--smoke runs on CPU with HF generation and cannot use vLLM",
                          "Drop --use-vllm (or use_vllm=true) for the smoke run; use it with a dataset on a GPU machine.")
    resume_path = recipe.trl.pop("resume_from_checkpoint", None)
    output_dir = (output_dir or Path("runs") / f"train-{'smoke' if smoke else recipe.name}").expanduser()
    if not smoke:
        if dataset is None:
            raise ConfigError("stvqa train needs a DATASET", "Pass an exported dataset (e.g. runs/default/dataset), or --smoke to check the installation.")
        return train(dataset, recipe, output_dir, resume=resume_path or resume, overwrite=overwrite, quiet=quiet)
    from .smoke import smoke_dataset, smoke_model, smoke_recipe

    inputs = output_dir / "smoke-inputs"
    if dataset is None:
        dataset = str(smoke_dataset(inputs / "sample-run"))  # a second smoke run reuses it (stages are skipped)
    model = smoke_model(inputs / "tiny-qwen2.5-vl")
    # The user's key=value still win over the smoke settings.
    recipe = apply_overrides(smoke_recipe(recipe, model), overrides)
    return train(dataset, recipe, output_dir, resume=resume_path or resume, overwrite=True, quiet=quiet)

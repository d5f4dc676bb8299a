"""Training recipes: YAML files in `pipelines/` (`grpo_spatialthinker.yaml`, `grpo_vanilla.yaml`) read into a
`TrainRecipe`, with `key=value` overrides from the command line.

A recipe's keys are either `TrainRecipe` fields (what stvqa itself decides: model, rewards, images, LoRA,
devices) or fields of TRL's `GRPOConfig` (`beta`, `learning_rate`, `num_generations`, ...), which are passed
to TRL as they are, so every GRPO option can be set in a recipe or on the command line. This module needs
no torch or TRL; `grpo_fields()` checks TRL's keys when TRL is installed.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields, replace
from pathlib import Path
from typing import Any

import yaml

from ..config import check_range
from ..errors import ConfigError
from ..resources import resource_dir

RECIPE_FILE = "stvqa_recipe.yaml"  # the resolved recipe, saved beside the trained model
REPORT_TARGETS = {"tensorboard": "tensorboard", "wandb": "wandb", "trackio": "trackio", "mlflow": "mlflow",
                  "comet_ml": "comet_ml", "clearml": "clearml"}  # report_to value -> the module it needs


@dataclass(frozen=True)
class TrainRecipe:
    """What stvqa decides for a GRPO run; every other key of a recipe is a TRL `GRPOConfig` field (`trl`)."""

    name: str = field(default="custom", metadata={"help": "Recipe name (the file's stem)."})
    model: str = field(default="Qwen/Qwen2.5-VL-7B-Instruct", metadata={"help": "Model to train: a local folder or a Hub id."})
    rewards: tuple[str, ...] = field(default=("format", "count", "accuracy", "spatial"), metadata={
        "help": "Reward functions: format, count, accuracy, spatial, spatial_thinker (all four in one), or a dotted import path."})
    reward_weights: tuple[float, ...] | None = field(default=(0.1, 0.2, 0.5, 0.2), metadata={
        "help": "One weight per reward (TRL sums the weighted rewards); none = all 1."})
    reward_config: dict[str, Any] = field(default_factory=dict, metadata={
        "help": "SpatialRewardConfig fields for the stvqa rewards, e.g. gating, strict_answer, required_tags."})
    prompt_file: str = field(default="reasoning.txt", metadata={
        "help": "Prompt template ({width}, {height}, {question}): a file in prompts/ or a path."})
    train_split: str = field(default="train", metadata={"help": "Split of the dataset to train on."})
    max_samples: int | None = field(default=None, metadata={"help": "Train on the first N rows only."})
    eval_split: str | None = field(default="val", metadata={
        "help": "Split TRL evaluates on (eval_strategy, eval_steps, eval_on_start); none: no evaluation while training."})
    max_eval_samples: int | None = field(default=None, metadata={"help": "Evaluate on the first N rows of eval_split only."})
    min_pixels: int = field(default=262_144, metadata={"help": "Images smaller than this are enlarged (boxes and the prompt's size follow)."})
    max_pixels: int = field(default=4_194_304, metadata={"help": "Images larger than this are downsized (boxes and the prompt's size follow)."})
    lora: bool = field(default=False, metadata={"flag": "--lora", "help": "Train a LoRA adapter instead of all weights (peft)."})
    lora_r: int = field(default=16, metadata={"help": "LoRA rank."})
    lora_alpha: int = field(default=32, metadata={"help": "LoRA alpha."})
    lora_dropout: float = field(default=0.05, metadata={"help": "LoRA dropout."})
    lora_target_modules: str | tuple[str, ...] = field(default="all-linear", metadata={"help": "Modules LoRA adapts."})
    lora_learning_rate: float = field(default=1e-5, metadata={
        "help": "Learning rate with lora (replaces learning_rate): an adapter needs a larger one than full weights."})
    gradient_checkpointing: bool = field(default=True, metadata={"help": "Recompute activations in the backward pass (less memory)."})
    bf16: bool | None = field(default=None, metadata={"help": "bf16 mixed precision; none = on when a GPU is present."})
    use_vllm: bool = field(default=False, metadata={"flag": "--use-vllm", "help": "Generate completions with vLLM (needs a GPU and `pip install vllm`)."})
    vllm_mode: str = field(default="colocate", metadata={
        "help": "colocate: vLLM in the training processes; server: a separate `trl vllm-serve` (vllm_server_base_url=...)."})
    report_to: str = field(default="none", metadata={"help": "Where to log metrics: none, or a comma list of tensorboard, wandb, trackio."})
    trl: dict[str, Any] = field(default_factory=dict, metadata={"help": "Other keys, passed to TRL's GRPOConfig as they are."})

    def __post_init__(self) -> None:
        if not self.rewards:
            raise ConfigError("the recipe has no rewards", "Set rewards, e.g. rewards=[format,accuracy].")
        if self.reward_weights is not None and len(self.reward_weights) != len(self.rewards):
            raise ConfigError(f"{len(self.reward_weights)} reward_weights for {len(self.rewards)} rewards",
                              "Give one weight per reward, in the same order.")
        check_range("min_pixels", self.min_pixels, 1)
        check_range("max_pixels", self.max_pixels, self.min_pixels)
        if self.vllm_mode not in ("colocate", "server"):
            raise ConfigError(f"vllm_mode {self.vllm_mode!r} is not colocate or server", "Pass --vllm-mode colocate or --vllm-mode server.")
        for target in self.report_targets:
            if target not in REPORT_TARGETS:
                raise ConfigError(f"report_to {target!r} is not known", f"Choose none or some of: {', '.join(REPORT_TARGETS)}.")
        for key in ("max_samples", "max_eval_samples"):
            if getattr(self, key) is not None:
                check_range(key, getattr(self, key), 1)

    @property
    def report_targets(self) -> list[str]:
        return [t.strip() for t in str(self.report_to).split(",") if t.strip() and t.strip() != "none"]

    def to_dict(self) -> dict[str, Any]:
        """The flat form of a recipe file: stvqa's fields, then TRL's."""
        data = asdict(self)
        trl = data.pop("trl")
        data = {k: list(v) if isinstance(v, tuple) else v for k, v in data.items()}
        return {**data, **trl}


_FIELDS = {f.name for f in fields(TrainRecipe)} - {"trl"}
_TUPLES = {"rewards", "reward_weights", "lora_target_modules"}


def recipe_from_dict(data: dict[str, Any], name: str = "custom") -> TrainRecipe:
    """A recipe from a flat mapping: stvqa's fields by name, anything else goes to TRL's GRPOConfig."""
    if not isinstance(data, dict):
        raise ConfigError("a recipe must be a mapping of keys to values", "See pipelines/grpo_spatialthinker.yaml.")
    ours = {k: v for k, v in data.items() if k in _FIELDS}
    trl = {k: v for k, v in data.items() if k not in _FIELDS}
    for key in _TUPLES & set(ours):
        value = ours[key]
        if isinstance(value, list):
            ours[key] = tuple(value)
        elif isinstance(value, str) and key != "lora_target_modules":
            ours[key] = tuple(v.strip() for v in value.split(",") if v.strip())
    if ours.get("reward_config") is None:
        ours["reward_config"] = {}
    ours.setdefault("name", name)
    try:
        return TrainRecipe(**ours, trl=trl)
    except TypeError as exc:
        raise ConfigError(f"bad recipe value: {exc}", "Check the recipe's keys and values.") from None


def recipe_names() -> list[str]:
    return sorted(p.stem for p in resource_dir("pipelines").glob("grpo_*.yaml"))


def find_recipe(name_or_path: str) -> Path:
    """A recipe file: a path, or a name in `pipelines/` (`grpo_spatialthinker`, or just `spatialthinker`)."""
    path = Path(name_or_path).expanduser()
    if path.is_file():
        return path
    for stem in (name_or_path, f"grpo_{name_or_path}"):
        candidate = resource_dir("pipelines") / f"{stem.removesuffix('.yaml')}.yaml"
        if candidate.is_file() and candidate.stem.startswith("grpo_"):
            return candidate
    raise ConfigError(f"no recipe {name_or_path!r}", f"Pass a YAML file or one of: {', '.join(recipe_names())}.")


def load_recipe(name_or_path: str, overrides: list[str] | tuple[str, ...] = ()) -> TrainRecipe:
    path = find_recipe(name_or_path)
    try:
        data = yaml.safe_load(path.read_text()) or {}
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path} is not valid YAML: {exc}", "Fix the recipe file.") from None
    name = path.stem.removeprefix("grpo_")
    return apply_overrides(recipe_from_dict(data, name), overrides)


def parse_override(item: str) -> tuple[str, Any]:
    """`key=value` with the value read as YAML (`beta=0.02`, `lora=true`, `rewards=[format,accuracy]`)."""
    key, sep, raw = item.partition("=")
    key = key.strip().lstrip("-").replace("-", "_")
    if not sep or not key:
        raise ConfigError(f"override {item!r} is not key=value", "Write overrides as key=value, e.g. beta=0.02 max_steps=10.")
    try:
        value = yaml.safe_load(raw) if raw.strip() else None
    except yaml.YAMLError:
        value = raw
    if isinstance(value, str):
        try:
            value = float(value)  # YAML reads 1e-6 (no dot) as a string
        except ValueError:
            pass
    return key, value


def apply_overrides(recipe: TrainRecipe, overrides: list[str] | tuple[str, ...] | dict[str, Any]) -> TrainRecipe:
    """A new recipe with `key=value` overrides applied; `reward_config.KEY=value` sets one reward setting."""
    items = list(overrides.items()) if isinstance(overrides, dict) else [parse_override(o) for o in overrides]
    if not items:
        return recipe
    data = recipe.to_dict()
    for key, value in items:
        if key.startswith("reward_config."):
            data["reward_config"] = {**(data.get("reward_config") or {}), key.split(".", 1)[1]: value}
        else:
            data[key] = value
    return recipe_from_dict(data, recipe.name)


def with_fields(recipe: TrainRecipe, **changes: Any) -> TrainRecipe:
    """The recipe with some of stvqa's fields changed (the command's own flags)."""
    changes = {k: v for k, v in changes.items() if v is not None}
    return replace(recipe, **changes) if changes else recipe


def save_recipe(recipe: TrainRecipe, path: Path) -> None:
    header = f"# The resolved recipe of this run (stvqa train): `stvqa train DATASET --recipe {path}` repeats it.\n"
    path.write_text(header + yaml.safe_dump(recipe.to_dict(), sort_keys=False))


def grpo_fields() -> set[str]:
    from dataclasses import fields as dc_fields

    from trl import GRPOConfig

    return {f.name for f in dc_fields(GRPOConfig)}


def check_trl_keys(recipe: TrainRecipe) -> None:
    """Every key that is not stvqa's must be a GRPOConfig field (a typo is an error, not a silent no-op), with a
    value of the field's type: TRL does not check them, and `beta=abc` would crash minutes later inside it."""
    unknown = sorted(set(recipe.trl) - grpo_fields())
    if unknown:
        ours = ", ".join(sorted(_FIELDS))
        raise ConfigError(f"unknown recipe keys: {', '.join(unknown)}",
                          f"Use stvqa's keys ({ours}) or fields of TRL's GRPOConfig (see `trl grpo --help`).")
    from typing import get_type_hints

    from trl import GRPOConfig

    hints = get_type_hints(GRPOConfig)
    for key, value in recipe.trl.items():
        if not value_fits(value, hints.get(key, Any)):
            raise ConfigError(f"{key}={value!r} is not a valid value: TRL's GRPOConfig expects {type_name(hints[key])}",
                              f"Pass {key}= with a value of that type (key=value on the command line, or in the recipe file).")


def value_fits(value: Any, hint: Any) -> bool:
    """Whether `value` (as YAML read it) fits a dataclass field's type hint; types it cannot judge fit."""
    import enum
    import types
    import typing

    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if hint is Any:
        return True
    if origin in (typing.Union, types.UnionType):
        return any(value_fits(value, arm) for arm in args)
    if hint is type(None):
        return value is None
    if origin is typing.Literal:
        return value in args
    if hint is bool:
        return isinstance(value, bool)
    if hint is int:
        return isinstance(value, int) and not isinstance(value, bool)
    if hint is float:
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    if hint is str:
        return isinstance(value, str)
    if isinstance(hint, type) and issubclass(hint, enum.Enum):
        return value in {m.value for m in hint} or value in hint.__members__
    if origin in (list, tuple, set, typing.Sequence):
        return isinstance(value, (list, tuple)) and (not args or all(value_fits(v, args[0]) for v in value))
    if origin is dict or hint is dict:
        return isinstance(value, dict)
    return True


def type_name(hint: Any) -> str:
    """`float | None` -> 'a float or None' (for messages)."""
    import types
    import typing

    arms = typing.get_args(hint) if typing.get_origin(hint) in (typing.Union, types.UnionType) else (hint,)
    names = ["None" if a is type(None) else getattr(a, "__name__", str(a)) for a in arms]
    return " or ".join(f"a {n}" if n != "None" else n for n in names)

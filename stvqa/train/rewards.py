"""Reward names of a recipe -> TRL reward functions: one dict of stvqa's rewards, and a dotted import path for
anything else (as `trl grpo --reward_funcs` does).

>>> from stvqa.train.recipe import TrainRecipe
>>> [f.__name__ for f in reward_funcs(TrainRecipe())]
['format_reward', 'count_reward', 'accuracy_reward', 'spatial_reward']
>>> reward_config(TrainRecipe(rewards=("format", "accuracy"), reward_weights=(0.5, 0.5))).weights
{'format': 0.5, 'accuracy': 0.5}
"""

from __future__ import annotations

import importlib
from typing import Any, Callable

from ..errors import ConfigError
from ..rewards import COMPONENTS, SpatialRewardConfig, SpatialThinkerReward
from .recipe import TrainRecipe

# name in a recipe -> component of the SpatialThinker reward
REWARDS = {"format": "format", "count": "count", "accuracy": "accuracy", "spatial": "spatial", "spatial_thinker": "overall"}


def reward_config(recipe: TrainRecipe) -> SpatialRewardConfig:
    """The recipe's `reward_config`, with each component weighted as the recipe weighs its reward function, so
    that `score(...)["overall"]` (what `stvqa eval` reports) equals the reward TRL trains on."""
    settings = dict(recipe.reward_config)
    if "required_tags" in settings:
        settings["required_tags"] = tuple(settings["required_tags"])
    try:
        cfg = SpatialRewardConfig(**settings)
    except TypeError as exc:
        raise ConfigError(f"bad reward_config: {exc}", "Use fields of stvqa.rewards.SpatialRewardConfig, e.g. gating, strict_answer.") from None
    if all(REWARDS.get(name) in COMPONENTS for name in recipe.rewards):
        weights = dict(zip(recipe.rewards, recipe.reward_weights or [1.0] * len(recipe.rewards)))
        cfg = cfg.replace(**{f"{c}_weight": float(weights.get(c, 0.0)) for c in COMPONENTS})
    return cfg


def import_reward(path: str) -> Callable[..., Any]:
    module, _, name = path.rpartition(".")
    try:
        return getattr(importlib.import_module(module), name)
    except (ImportError, AttributeError, ValueError) as exc:
        raise ConfigError(f"cannot import reward {path!r}: {exc}",
                          f"Use one of {', '.join(REWARDS)} or a dotted path such as trl.rewards.accuracy_reward.") from None


def reward_funcs(recipe: TrainRecipe) -> list[Callable[..., Any]]:
    cfg = reward_config(recipe)
    funcs = []
    for name in recipe.rewards:
        if name in REWARDS:
            funcs.append(SpatialThinkerReward(REWARDS[name], cfg))
        elif "." in name:
            funcs.append(import_reward(name))
        else:
            raise ConfigError(f"unknown reward {name!r}", f"Use one of {', '.join(REWARDS)} or a dotted import path.")
    return funcs


def variety_reward(completions: list[Any], **kwargs: Any) -> list[float]:
    """Share of distinct characters in a completion: a signal that differs between any two random completions.

    `stvqa train --smoke` adds it (weight 0.01) because a random-weight model's completions all score 0 on the
    four spatial rewards; with equal rewards GRPO's advantages are 0 and no weight would change, so the check
    would not cover the backward pass.

    >>> variety_reward(["aaaa", "abcd"])
    [0.25, 1.0]
    """
    from ..rewards.trl import completion_text

    texts = [completion_text(c) for c in completions]
    return [len(set(t)) / len(t) if t else 0.0 for t in texts]

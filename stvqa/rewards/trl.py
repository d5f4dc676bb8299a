"""Reward functions in TRL's shape: `f(completions, **columns) -> list[float]`.

They read the ground truth from the dataset columns that `stvqa export` writes: `scene` (the ground-truth
question-focused subgraph JSON), `solution` (the answer, e.g. `(B) behind`), `image_width`, `image_height`
and optionally `options`. Datasets in the paper's layout work too: `answer_option_text`
(`<scene>{...}</scene>\\n<answer>(B) behind</answer>`) is used when `scene`/`solution` are absent.

    trl grpo ... --reward_funcs stvqa.rewards.spatial_thinker_reward

Inside TRL, the combined reward also logs each component's batch mean through `log_metric`.
"""

from __future__ import annotations

import re
from typing import Any

from ..errors import ConfigError
from .config import SpatialRewardConfig
from .core import COMPONENTS, score_batch
from .parsing import parse_ground_truth
from .similarity import LabelSimilarity, NameSimilarity

_IMAGE_SIZE = re.compile(r"Image size:\s*\(?\s*(\d+)\s*[x×]\s*(\d+)")


def completion_text(completion: Any) -> str:
    """The text of a completion: a string, or TRL's conversational `[{"role": "assistant", "content": ...}]`."""
    if isinstance(completion, str):
        return completion
    if isinstance(completion, list) and completion:
        content = completion[-1].get("content", "") if isinstance(completion[-1], dict) else completion[-1]
        if isinstance(content, list):  # multimodal parts
            return "".join(part.get("text", "") for part in content if isinstance(part, dict))
        return content if isinstance(content, str) else ""
    return ""


def _ground_truth(columns: dict[str, Any], i: int):
    def col(name):
        values = columns.get(name)
        return values[i] if values is not None and i < len(values) else None

    scene, solution, paper = col("scene"), col("solution"), col("answer_option_text")
    if scene is not None and solution is not None:
        return parse_ground_truth(str(solution), str(scene))
    if paper is not None:
        return parse_ground_truth(str(paper))
    if solution is not None:
        return parse_ground_truth(str(solution))
    raise ConfigError(
        "the reward needs the ground truth in dataset columns `scene` and `solution` (or `answer_option_text`)",
        "Use a dataset written by `stvqa export`, or add those columns.",
    )


def _image_size(columns: dict[str, Any], i: int) -> tuple[float, float]:
    widths, heights = columns.get("image_width"), columns.get("image_height")
    if widths is not None and heights is not None:
        return widths[i], heights[i]
    for name in ("image", "images"):
        image = (columns.get(name) or [None] * (i + 1))[i]
        image = image[0] if isinstance(image, list) and image else image
        if hasattr(image, "size"):
            return image.size
    prompt = (columns.get("prompts") or [None] * (i + 1))[i]
    match = _IMAGE_SIZE.search(completion_text(prompt) if not isinstance(prompt, str) else prompt) if prompt else None
    if match:
        return float(match[1]), float(match[2])
    raise ConfigError("the reward needs the image size: columns `image_width` and `image_height`",
                      "Use a dataset written by `stvqa export`, or add those columns.")


class SpatialThinkerReward:
    """A picklable TRL reward: one component (`format`, `count`, `accuracy`, `spatial`) or `overall`."""

    def __init__(self, component: str = "overall", config: SpatialRewardConfig | None = None,
                 similarity: LabelSimilarity | None = None, name: str | None = None) -> None:
        if component not in ("overall", *COMPONENTS):
            raise ConfigError(f"unknown reward component {component!r}", f"Choose one of: overall, {', '.join(COMPONENTS)}.")
        self.component = component
        self.config = config or SpatialRewardConfig()
        self.similarity = similarity or NameSimilarity()
        self.__name__ = name or ("spatial_thinker_reward" if component == "overall" else f"{component}_reward")

    def scores(self, completions: list[Any], **columns: Any) -> list[dict[str, float]]:
        items = []
        for i, completion in enumerate(completions):
            width, height = _image_size(columns, i)
            options = (columns.get("options") or [None] * (i + 1))[i]
            items.append((completion_text(completion), _ground_truth(columns, i), width, height, options))
        try:
            return score_batch(items, self.config, self.similarity)
        except Exception:  # never end a training run on odd completions: score them one by one
            return [self._score_alone(item) for item in items]

    def _score_alone(self, item) -> dict[str, float]:
        try:
            return score_batch([item], self.config, self.similarity)[0]
        except Exception:
            return {"overall": 0.0, **{k: 0.0 for k in COMPONENTS}}

    def __call__(self, completions: list[Any], **columns: Any) -> list[float]:
        scores = self.scores(completions, **columns)
        log_metric = columns.get("log_metric")
        if self.component == "overall" and callable(log_metric) and scores:
            for key in COMPONENTS:
                log_metric(f"spatial_thinker/{key}", sum(s[key] for s in scores) / len(scores))
        return [s[self.component] for s in scores]


def get_spatial_thinker_reward(config: SpatialRewardConfig | None = None, similarity: LabelSimilarity | None = None,
                               component: str = "overall") -> SpatialThinkerReward:
    """A reward with settings, e.g. the paper's sparse baseline: `get_spatial_thinker_reward(SpatialRewardConfig.vanilla())`."""
    return SpatialThinkerReward(component, config, similarity)


spatial_thinker_reward = SpatialThinkerReward("overall")
format_reward = SpatialThinkerReward("format")
count_reward = SpatialThinkerReward("count")
accuracy_reward = SpatialThinkerReward("accuracy")
spatial_reward = SpatialThinkerReward("spatial")
vanilla_reward = SpatialThinkerReward("overall", SpatialRewardConfig.vanilla(), name="vanilla_reward")

"""`SpatialRewardConfig`: weights and switches of the dense spatial reward, so ablations are one setting."""

from __future__ import annotations

from dataclasses import dataclass, field, replace

ALL_TAGS = ("observe", "scene", "think", "answer")


@dataclass(frozen=True)
class SpatialRewardConfig:
    """Settings of the SpatialThinker reward (arXiv 2511.07403).

    >>> SpatialRewardConfig().weights
    {'format': 0.1, 'count': 0.2, 'accuracy': 0.5, 'spatial': 0.2}
    >>> SpatialRewardConfig.vanilla().weights
    {'format': 0.5, 'accuracy': 0.5}
    """

    format_weight: float = field(default=0.1, metadata={"help": "Weight of the format reward."})
    count_weight: float = field(default=0.2, metadata={"help": "Weight of the object/relation count reward; 0 disables it."})
    accuracy_weight: float = field(default=0.5, metadata={"help": "Weight of the answer accuracy reward."})
    spatial_weight: float = field(default=0.2, metadata={"help": "Weight of the CIoU grounding reward; 0 disables it."})
    gating: bool = field(default=True, metadata={"help": "Lexicographic gating: count, accuracy and spatial need format; spatial needs a correct answer."})
    strict_answer: bool = field(default=False, metadata={"help": "Paper's answer match (case-insensitive exact text); otherwise also letter-only and text-only answers."})
    required_tags: tuple[str, ...] = field(default=ALL_TAGS, metadata={"help": "Tags that must each occur exactly once, in this order."})
    require_scene_json: bool = field(default=True, metadata={"help": "Format also needs a valid scene-graph JSON inside <scene>."})
    object_relation_split: float = field(default=0.7, metadata={"help": "Share of the count reward for objects (the rest for relations, when the ground truth has any)."})
    label_weight: float = field(default=2.0, metadata={"help": "Matching cost weight of 1 - label similarity."})
    box_weight: float = field(default=1.0, metadata={"help": "Matching cost weight of 1 - CIoU mapped to [0, 1]."})
    max_objects: int = field(default=100, metadata={"help": "Predicted objects considered for matching (the rest are ignored; counts still see them)."})
    max_completion_chars: int = field(default=200_000, metadata={"help": "Longer completions score 0 (bounds the time a reward can take)."})

    @property
    def weights(self) -> dict[str, float]:
        pairs = {"format": self.format_weight, "count": self.count_weight, "accuracy": self.accuracy_weight, "spatial": self.spatial_weight}
        return {k: v for k, v in pairs.items() if v}

    @classmethod
    def vanilla(cls) -> "SpatialRewardConfig":
        """The paper's sparse-reward baseline ("vanilla GRPO"): 0.5 format (<think> and <answer>) + 0.5 accuracy."""
        return cls(format_weight=0.5, count_weight=0.0, accuracy_weight=0.5, spatial_weight=0.0,
                   required_tags=("think", "answer"), require_scene_json=False)

    def replace(self, **changes) -> "SpatialRewardConfig":
        return replace(self, **changes)

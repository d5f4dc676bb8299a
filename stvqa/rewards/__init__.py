"""Dense spatial rewards of SpatialThinker (arXiv 2511.07403): format, count, accuracy and CIoU grounding
with lexicographic gating, as plain functions (`score`) and as TRL reward functions.

>>> from stvqa.rewards import score
>>> gt = '<scene>{"objects": [], "relationships": []}</scene>\\n<answer>(A) yes</answer>'
>>> completion = '<observe>.</observe><scene>{"objects": [], "relationships": []}</scene><think>.</think><answer>A</answer>'
>>> score(completion, gt, 640, 480)["overall"]
1.0
"""

from .config import SpatialRewardConfig
from .core import COMPONENTS, count_score, format_score, score, score_batch, spatial_score
from .geometry import ciou_matrix, ciou_pair
from .parsing import answer_matches, parse_completion, parse_ground_truth
from .similarity import EmbeddingSimilarity, LabelSimilarity, NameSimilarity, SpacySimilarity
from .trl import (
    SpatialThinkerReward,
    accuracy_reward,
    count_reward,
    format_reward,
    get_spatial_thinker_reward,
    spatial_reward,
    spatial_thinker_reward,
    vanilla_reward,
)

__all__ = [
    "COMPONENTS", "EmbeddingSimilarity", "LabelSimilarity", "NameSimilarity", "SpacySimilarity", "SpatialRewardConfig",
    "SpatialThinkerReward", "accuracy_reward", "answer_matches", "ciou_matrix", "ciou_pair", "count_reward", "count_score",
    "format_reward", "format_score", "get_spatial_thinker_reward", "parse_completion", "parse_ground_truth", "score",
    "score_batch", "spatial_reward", "spatial_score", "spatial_thinker_reward", "vanilla_reward",
]

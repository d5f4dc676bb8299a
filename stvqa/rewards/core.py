"""The four reward components and their gated combination (shared/DESIGN.md "Rewards").

>>> gt = '<scene>{"objects": [{"id": "man.1", "bbox": [10, 10, 50, 90]}], "relationships": []}</scene>\\n<answer>(B) left</answer>'
>>> good = ('<observe>a man</observe><scene>{"objects": [{"id": "man.1", "bbox": [10, 10, 50, 90]}], '
...         '"relationships": []}</scene><think>he is on the left</think><answer>(B) left</answer>')
>>> score(good, gt, width=100, height=100)
{'overall': 1.0, 'format': 1.0, 'count': 1.0, 'accuracy': 1.0, 'spatial': 1.0}
>>> score(good.replace("(B) left", "(A) right"), gt, width=100, height=100)["spatial"]  # gated: wrong answer
0.0
"""

from __future__ import annotations

import gc
import math
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy.optimize import linear_sum_assignment

from .config import SpatialRewardConfig
from .geometry import ciou_gathered
from .parsing import Completion, GroundTruth, answer_matches, parse_completion, parse_ground_truth
from .similarity import LabelSimilarity, NameSimilarity, label_of

COMPONENTS = ("format", "count", "accuracy", "spatial")
_DEFAULT_CONFIG = SpatialRewardConfig()
_DEFAULT_SIMILARITY = NameSimilarity()


def format_score(c: Completion, cfg: SpatialRewardConfig) -> float:
    return 1.0 if c.tags_ok and (c.scene_ok or not cfg.require_scene_json) else 0.0


def _count_term(predicted: int, expected: int) -> float:
    return max(0.0, 1.0 - abs(predicted - expected) / max(expected, 1))


def count_score(c: Completion, gt: GroundTruth, cfg: SpatialRewardConfig) -> float:
    """Objects `max(0, 1 - |n_p - n_g| / max(n_g, 1))`, relations likewise, 0.7/0.3 when the ground truth has relations."""
    if not c.scene_ok:
        return 0.0
    objects = _count_term(len(c.objects), len(gt.objects))
    if gt.n_relationships == 0:
        return objects
    w = cfg.object_relation_split
    return w * objects + (1 - w) * _count_term(c.n_relationships, gt.n_relationships)


def _positive(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v) and v > 0


@dataclass
class _SpatialJob:
    """One completion whose spatial reward needs matching."""

    index: int
    pred: list[tuple[str, list[float]]]  # (id, bbox) in pixels, at most `max_objects`
    gt: GroundTruth
    scale: tuple[float, float, float, float]  # image width, height, width, height


def _spatial_job(index: int, c: Completion, gt: GroundTruth, width: Any, height: Any, cfg: SpatialRewardConfig) -> _SpatialJob:
    w = float(width) if _positive(width) else 1.0
    h = float(height) if _positive(height) else 1.0
    return _SpatialJob(index, c.objects[: cfg.max_objects], gt, (w, h, w, h))


def _solve_spatial(jobs: list[_SpatialJob], cfg: SpatialRewardConfig, similarity: LabelSimilarity) -> list[float]:
    """Spatial rewards of many completions at once: CIoU and label similarity of every (predicted,
    ground-truth) pair of every job in one vectorised pass, then one small Hungarian problem per job."""
    # GRPO scores several completions per prompt: each distinct ground truth (and image size) is laid out once.
    distinct: dict[tuple[int, tuple[float, ...]], int] = {}
    gts: list[_SpatialJob] = []
    job_gt = []
    for j in jobs:
        key = (id(j.gt), j.scale)
        if key not in distinct:
            distinct[key] = len(gts)
            gts.append(j)
        job_gt.append(distinct[key])
    sizes_p = np.array([len(j.pred) for j in jobs])
    distinct_sizes = np.array([len(j.gt.objects) for j in gts])
    job_gt_array = np.array(job_gt)
    sizes_g = distinct_sizes[job_gt_array]
    pairs = sizes_p * sizes_g
    job_of_pair = np.repeat(np.arange(len(jobs)), pairs)
    local = np.arange(int(pairs.sum())) - np.repeat(np.cumsum(pairs) - pairs, pairs)
    g_of_pair = sizes_g[job_of_pair]
    pred_index = (np.cumsum(sizes_p) - sizes_p)[job_of_pair] + local // g_of_pair
    gt_index = (np.cumsum(distinct_sizes) - distinct_sizes)[job_gt_array][job_of_pair] + local % g_of_pair
    # Flat lists convert to arrays much faster than lists of lists.
    pred_boxes = np.array([v for j in jobs for _, b in j.pred for v in b], dtype=float).reshape(-1, 4) / np.repeat(
        np.array([j.scale for j in jobs], dtype=float), sizes_p, axis=0)
    gt_boxes = np.array([v for j in gts for _, b in j.gt.objects for v in b], dtype=float).reshape(-1, 4) / np.repeat(
        np.array([j.scale for j in gts], dtype=float), distinct_sizes, axis=0)
    ciou01 = (ciou_gathered(pred_boxes, gt_boxes, pred_index, gt_index) + 1.0) / 2.0
    if isinstance(similarity, NameSimilarity):  # exact-or-nothing labels: compare integer codes, vectorised
        key, codes = similarity.key, {}  # codes live for this batch only, so memory stays bounded
        pred_codes = np.array([codes.setdefault(key(i), len(codes)) for j in jobs for i, _ in j.pred])
        gt_codes = np.array([codes.setdefault(key(i), len(codes)) for j in gts for i, _ in j.gt.objects])
        labels = (pred_codes[pred_index] == gt_codes[gt_index]).astype(float)
    else:
        labels = np.concatenate([
            similarity.matrix([label_of(i) for i, _ in j.pred], [label_of(i) for i, _ in j.gt.objects]).ravel() for j in jobs
        ]) if jobs else np.zeros(0)
    cost = cfg.label_weight * (1.0 - labels) + cfg.box_weight * (1.0 - ciou01)
    all_rows: list[np.ndarray] = []
    all_cols: list[np.ndarray] = []
    starts = (np.cumsum(pairs) - pairs).tolist()
    for start, p, g in zip(starts, sizes_p.tolist(), sizes_g.tolist()):
        rows, cols = linear_sum_assignment(cost[start : start + p * g].reshape(p, g))
        all_rows.append(rows)
        all_cols.append(cols)
    # Index arithmetic and the sums of matched CIoU for every job in one pass (every job has matches).
    counts = np.minimum(sizes_p, sizes_g)
    rows, cols = np.concatenate(all_rows), np.concatenate(all_cols)
    matched = np.repeat(np.array(starts), counts) + rows * np.repeat(sizes_g, counts) + cols
    sums = np.add.reduceat(ciou01[matched], np.cumsum(counts) - counts)
    return (sums / sizes_g).tolist()


def spatial_score(c: Completion, gt: GroundTruth, width: float, height: float, cfg: SpatialRewardConfig = _DEFAULT_CONFIG,
                  similarity: LabelSimilarity = _DEFAULT_SIMILARITY) -> float:
    """Hungarian matching on `label_weight * (1 - sim) + box_weight * (1 - CIoU01)`, boxes normalised by the
    image size; the mean over ground-truth objects of the matched CIoU01 (unmatched ground truth scores 0).
    A ground truth without objects scores 1 only for an empty (valid) prediction."""
    if not gt.objects:
        return 1.0 if c.scene_ok and not c.objects else 0.0
    if not c.scene_ok or not c.objects:
        return 0.0
    return _solve_spatial([_spatial_job(0, c, gt, width, height, cfg)], cfg, similarity)[0]


def score_batch(items: list[tuple[Any, GroundTruth, Any, Any, list[str] | None]], config: SpatialRewardConfig | None = None,
                similarity: LabelSimilarity | None = None) -> list[dict[str, float]]:
    """Score `(completion, ground truth, width, height, options)` items; the spatial matching of the whole
    batch is vectorised, which is what makes a GRPO batch cheap."""
    with _gc_paused():
        return _score_batch(items, config or _DEFAULT_CONFIG, similarity or _DEFAULT_SIMILARITY)


@contextmanager
def _gc_paused():
    """Scoring allocates many small lists and dicts that never form cycles; the cyclic collector's passes over
    them are wasted work (measured: 10-20% of a batch), so it waits until the batch is done."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def _score_batch(items, cfg: SpatialRewardConfig, similarity: LabelSimilarity) -> list[dict[str, float]]:
    weights = cfg.weights
    results: list[dict[str, float]] = []
    jobs: list[_SpatialJob] = []
    for index, (text, gt, width, height, options) in enumerate(items):
        c = parse_completion(text, cfg)
        fmt = format_score(c, cfg)
        values = {"format": fmt, "count": 0.0, "accuracy": 0.0, "spatial": 0.0}
        if fmt == 1.0 or not cfg.gating:
            if "count" in weights:
                values["count"] = count_score(c, gt, cfg)
            values["accuracy"] = 1.0 if answer_matches(c.answer, gt, cfg.strict_answer, options) else 0.0
            if "spatial" in weights and (values["accuracy"] == 1.0 or not cfg.gating):
                if gt.objects and c.scene_ok and c.objects:
                    jobs.append(_spatial_job(index, c, gt, width, height, cfg))
                else:
                    values["spatial"] = spatial_score(c, gt, width, height, cfg, similarity)
        results.append(values)
    if jobs:
        for job, value in zip(jobs, _solve_spatial(jobs, cfg, similarity)):
            results[job.index]["spatial"] = value
    wf, wc, wa, ws = (weights.get(k, 0.0) for k in COMPONENTS)
    return [
        {"overall": min(1.0, max(0.0, wf * v["format"] + wc * v["count"] + wa * v["accuracy"] + ws * v["spatial"])), **v}
        for v in results
    ]


def score(completion: str, ground_truth: str, width: int, height: int, config: SpatialRewardConfig | None = None,
          similarity: LabelSimilarity | None = None, options: list[str] | None = None) -> dict[str, float]:
    """Score one completion against the paper's ground-truth string (`answer_option_text`:
    `<scene>{...}</scene>\\n<answer>(B) behind</answer>`) for an image of `width` x `height` pixels.

    Returns `overall`, `format`, `count`, `accuracy` and `spatial`, each a finite float in [0, 1]; never raises.
    """
    try:
        gt = parse_ground_truth(ground_truth if isinstance(ground_truth, str) else str(ground_truth))
        return score_batch([(completion, gt, width, height, options)], config, similarity)[0]
    except Exception:  # a reward that raises ends a multi-hour run; any input we failed to foresee scores 0
        return {"overall": 0.0, **{k: 0.0 for k in COMPONENTS}}

"""Generate and verify as functions over batches of scenes and QA rows (no file I/O here)."""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Iterable
from typing import Any

from ..schema import schema_errors
from .hashing import unit
from .templates import GenerateConfig, generate_for_scene
from .verify import VerifyConfig, verify_sample

log = logging.getLogger(__name__)

def dataset_vocabulary(name_counts: Counter, limit: int = 400, min_count: int = 1) -> tuple[str, ...]:
    """The most frequent object names of the dataset: where existence questions find their "no" objects."""
    return tuple(sorted(n for n, c in name_counts.most_common(limit) if c >= min_count))


def generate_qa(scenes: Iterable[dict[str, Any]], cfg: GenerateConfig, vocabulary: tuple[str, ...], stats: Counter) -> list[dict[str, Any]]:
    """Template questions for every scene; `stats` gets per-category counts and shortfalls."""
    rows: list[dict[str, Any]] = []
    for scene in scenes:
        shortfalls: Counter = Counter()
        samples = generate_for_scene(scene, cfg, vocabulary, shortfalls)
        stats["images"] += 1
        stats["images_without_questions"] += not samples
        for category, n in shortfalls.items():
            stats[f"shortfall_{category}"] += n
        for s in samples:
            stats[f"generated_{s['category']}"] += 1
        rows.extend(samples)
    stats["generated"] += len(rows)
    return rows


_OUTCOME = {True: "verified", None: "unverified", False: "rejected"}


def verify_qa(samples: Iterable[dict[str, Any]], scenes_by_id: dict[str, dict[str, Any]], cfg: VerifyConfig, stats: Counter) -> tuple[list[dict], list[dict]]:
    """(kept, rejected): kept rows carry `verified` (True or None) and `verify_reason`; rejected rows
    carry `reject_reason` too. `stats` counts `verified:<reason>`, `unverified:<reason>` and `rejected:<reason>`."""
    kept, rejected = [], []
    for sample in samples:
        scene = scenes_by_id.get(sample["image_id"])
        # A hash of the sample id picks which samples are schema-checked: the same ones in any order or process.
        checked = cfg.validate_every and unit("validate", sample.get("sample_id")) * cfg.validate_every < 1
        schema_problems = schema_errors("qa_sample", sample) if checked else []
        if schema_problems:
            log.warning("sample %s does not match the QA sample schema: %s", sample.get("sample_id"), "; ".join(schema_problems[:3]))
            verified, reason = False, "sample_schema_invalid"
        elif scene is None:
            verified, reason, sample = False, "scene_not_found", sample
        else:
            verified, reason, sample = verify_sample(sample, scene, cfg)
        row = dict(sample, verified=verified, verify_reason=reason)
        stats[f"{_OUTCOME[verified]}:{reason}"] += 1
        if verified is False:
            rejected.append(dict(row, reject_reason=reason, reject_stage="verify"))
        else:
            kept.append(row)
    stats["kept"] += len(kept)
    stats["rejected"] += len(rejected)
    return kept, rejected

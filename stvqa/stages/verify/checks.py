"""The verify stage's config and the per-image loop: every question through the gate (`gate.py`).

`verified` is True (the gate proved the answer), False (wrong or not allowed: the question is rejected with the
reason) or None (the gate cannot tell: rejected as `unverifiable_<why>` unless `keep_unverified`). Count answers
that disagree with the graph are corrected, as the paper does, and keep their question-focused subgraph (the
reference pipeline wrote the full graph there).
"""

from __future__ import annotations

import json
import logging
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from ...config import check_range
from ...hashing import unit
from ...pipeline.workers import CORES, WORKERS_FIELD, check_workers
from ...scene_view import SceneView
from ...schema import schema_errors
from ..generate.config import Thresholds
from .gate import gate

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class VerifyConfig:
    thresholds: Thresholds = field(default_factory=Thresholds, metadata={"help": "Margins the answers must clear (those generation used)."})
    correct_counts: bool = field(default=True, metadata={"help": "Fix count answers that disagree with the graph instead of rejecting them."})
    validate_questions_every: int = field(default=100, metadata={
        "help": "Check every k-th question against schemas/qa_sample.schema.json (about 0.3 ms a question); 1 checks all, 0 none."})
    keep_unverified: bool = field(default=False, metadata={
        "help": "Keep the questions the gate cannot prove or refute, with verified = null (by default they are rejected as unverifiable_*)."})
    workers: int = field(default=CORES, metadata=WORKERS_FIELD)

    def __post_init__(self) -> None:
        check_range("--validate-questions-every", self.validate_questions_every, 0)
        check_workers("--workers", self.workers)


_OUTCOME = {True: "verified", None: "unverified", False: "rejected"}


def verify_samples(samples: Iterable[dict[str, Any]], scene: dict[str, Any] | None, cfg: VerifyConfig, outcomes: Counter) -> tuple[list[dict], list[dict]]:
    """(kept, rejected) for the questions of one image, each through the gate: kept rows carry `verified` (True,
    or None where the gate could not tell and `keep_unverified` keeps them) and `verify_reason`; rejected rows
    carry `reject_reason` too. `outcomes` counts `verified:<reason>` and `unverified:<reason>` of the kept rows.
    One image asks about one pair of objects once: a later question about two objects an earlier one asked
    about is rejected (`pair_asked_twice`)."""
    kept, rejected = [], []
    view = SceneView(scene) if scene is not None else None
    asked: list[frozenset[str]] = []
    for sample in samples:
        # A hash of the sample id picks which samples are schema-checked: the same ones in any order or process.
        checked = cfg.validate_questions_every and unit("validate", sample.get("sample_id")) * cfg.validate_questions_every < 1
        schema_problems = schema_errors("qa_sample", sample) if checked else []
        if schema_problems:
            log.warning("sample %s does not match the QA sample schema: %s", sample.get("sample_id"), "; ".join(schema_problems[:3]))
            verified, reason = False, "sample_schema_invalid"
        elif scene is None:
            verified, reason = False, "scene_not_found"
        else:
            verified, reason, sample, pair = gate(sample, scene, view, cfg)
            if verified is not False and len(pair) > 1 and any(len(pair & earlier) > 1 for earlier in asked):
                verified, reason = False, "pair_asked_twice"
            elif verified is not False:
                asked.append(pair)
        row = dict(sample, verified=verified, verify_reason=reason)
        if verified is False or (verified is None and not cfg.keep_unverified):
            rejected.append(dict(row, reject_reason=reason))
        else:
            outcomes[f"{_OUTCOME[verified]}:{reason}"] += 1
            kept.append(row)
    return kept, rejected


def verify_sample(sample: dict[str, Any], scene: dict[str, Any], cfg: VerifyConfig = VerifyConfig()) -> tuple[bool | None, str, dict[str, Any]]:
    """One question through the gate (see `gate.py`)."""
    return gate(sample, scene, SceneView(scene), cfg)[:3]

"""Numbers about a table of samples, as one JSON-serialisable dict: counts and shares by category, level,
answer letter and rating; the filter funnel from the run's manifest; rejects by stage and reason."""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

import polars as pl

from .records import LETTERS, LEVELS, RATING_RANGE
from .categories import CATEGORIES
from .pipeline.runner import REJECTS_FILE
from .samples import Samples
from . import stages as pipeline

# The values every table is counted over, zeros included (a category with no rows is news); others follow.
KNOWN: dict[str, tuple] = {
    "category": CATEGORIES,
    "level": LEVELS,
    "answer": tuple(LETTERS),
    "rating": tuple(range(RATING_RANGE[0], RATING_RANGE[1] + 1)),
}


def counts(values: list[Any], known: tuple = ()) -> dict[str, dict[str, float]]:
    """{value: {"n": count, "share": count / total}}, known values first (in their order), then the rest sorted."""
    tally = Counter(v for v in values if v is not None)
    total = sum(tally.values())
    order = [*known, *sorted((v for v in tally if v not in known), key=str)]
    return {str(v): {"n": tally[v], "share": round(tally[v] / total, 4) if total else 0.0} for v in order}


def by_column(rows: list[dict]) -> dict[str, dict]:
    """Counts by category, level, answer letter and rating (and split, for exports) over question rows."""
    questions = [r for r in rows if r["kind"] != "scene"]
    if not questions:
        return {}
    result = {key: counts([r[key] for r in questions], known) for key, known in KNOWN.items()}
    result["verified"] = counts([_verified(r["verified"]) for r in questions], ("true", "false", "unchecked"))
    if any(r["split"] for r in questions):
        result["split"] = counts([r["split"] for r in questions])
    return result


def _verified(value: bool | None) -> str:
    return "unchecked" if value is None else str(value).lower()


def funnel(manifest: dict[str, Any] | None) -> list[dict[str, Any]]:
    """Each recorded stage's in, kept and dropped rows with the reasons, in BUILD order, then any other stage recorded."""
    stages = (manifest or {}).get("stages") or {}
    order = [s.name for s in pipeline.BUILD if s.name in stages] + sorted(n for n in stages if n not in {s.name for s in pipeline.BUILD})
    steps = []
    for name in order:
        stats = stages[name].get("stats") or {}
        dropped = stats.get("dropped") or {}
        steps.append({"stage": name, "in": stats.get("in", 0), "kept": stats.get("kept", 0),
                      "dropped": sum(dropped.values()), "reasons": dict(dropped)})
    return steps


def rejects(run: Path | None, manifest: dict[str, Any] | None) -> dict[str, dict[str, int]]:
    """{stage: {reason: rows}} from rejects.parquet, or from the manifest when the run has no rejects file."""
    path = run / REJECTS_FILE if run else None
    if path is None or not path.exists():
        return {step["stage"]: step["reasons"] for step in funnel(manifest) if step["reasons"]}
    frame = pl.read_parquet(path, columns=["reject_stage", "reject_reason"])
    found: dict[str, dict[str, int]] = {}
    for stage, reason, n in frame.group_by("reject_stage", "reject_reason").len().sort("len", "reject_reason", descending=[True, False]).iter_rows():
        found.setdefault(stage, {})[reason] = n
    rank = {s.name: i for i, s in enumerate(pipeline.BUILD)}
    return {stage: found[stage] for stage in sorted(found, key=lambda s: (rank.get(s, len(rank)), s))}


def compute(samples: Samples) -> dict[str, Any]:
    """Everything `stvqa stats` shows, as plain JSON-ready data."""
    manifest = samples.manifest
    return {
        "path": str(samples.path),
        "files": [str(f) for f in samples.files],
        "rows": len(samples.rows),
        "by": by_column(samples.rows),
        "funnel": funnel(manifest),
        "rejects": rejects(samples.run, manifest),
    }

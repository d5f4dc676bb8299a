"""The filter stage's report: how many questions each curation step kept, per category, and what the
judges saw (letters, consistency histogram, blind-solvable share, cost). JSON in the manifest and in
`RUN/filter_report.json`; Markdown for the dataset card (the CLI draws it with rich)."""

from __future__ import annotations

from collections import Counter
from typing import Any

from ...records import CATEGORIES


def by_category(rows: list[dict[str, Any]]) -> dict[str, int]:
    counts = Counter(r["category"] for r in rows)
    return {c: counts[c] for c in CATEGORIES if counts[c]}


class Funnel:
    def __init__(self, rows: list[dict[str, Any]]) -> None:
        self.steps: list[dict[str, Any]] = [{"step": "in", "rows": len(rows), "by_category": by_category(rows), "dropped": {}}]

    def step(self, name: str, kept: list[dict[str, Any]], dropped: list[dict[str, Any]]) -> None:
        """Record one step; every row of the previous step is either kept or dropped (checked)."""
        before = self.steps[-1]["rows"]
        assert len(kept) + len(dropped) == before, f"{name}: {len(kept)} kept + {len(dropped)} dropped != {before}"
        self.steps.append({"step": name, "rows": len(kept), "by_category": by_category(kept),
                           "dropped": dict(Counter(r["reject_reason"] for r in dropped).most_common())})


def histogram(values: list[float | None]) -> dict[str, int]:
    """Counts of each rate (a share of k tries takes few values), as strings with two decimals, ascending."""
    counts = Counter(f"{v:.2f}" for v in values if v is not None)
    return dict(sorted(counts.items()))


def funnel_markdown(report: dict[str, Any]) -> str:
    """The funnel as a Markdown table (steps x categories), then the judges' figures."""
    steps = report["steps"]
    categories = [c for c in CATEGORIES if any(c in s["by_category"] for s in steps)]
    lines = ["| step | rows | " + " | ".join(categories) + " |", "|---|---|" + "---|" * len(categories)]
    for s in steps:
        lines.append(f"| {s['step']} | {s['rows']} | " + " | ".join(str(s["by_category"].get(c, 0)) for c in categories) + " |")
    notes = [f"- {note}" for note in funnel_notes(report)]
    return "\n".join(lines + ([""] + notes if notes else []))


def funnel_notes(report: dict[str, Any]) -> list[str]:
    """Shortfalls, unjudged rows, each judge's rates and cost, the blind-solvable share, the answer letters."""
    notes = []
    if report.get("shortfalls"):
        notes.append("Short of the target: " + ", ".join(f"{c} {n}" for c, n in report["shortfalls"].items()) + ".")
    if report.get("unjudged"):
        notes.append("Unjudged (kept apart, judged again by the next run): " + ", ".join(f"{r} {n}" for r, n in report["unjudged"].items()) + ".")
    for name, judge in (report.get("judges") or {}).items():
        hist = ", ".join(f"{k}: {v}" for k, v in judge.get("histogram", {}).items())
        notes.append(f"Judge `{name}` ({judge.get('model')}, k={judge.get('k')}): rates {hist or 'none'}; "
                     f"{judge.get('requests', 0)} requests sent, {judge.get('cache_hits', 0)} from the cache, ${judge.get('cost_usd', 0):.4f}.")
    if report.get("blind_solvable_share") is not None:
        notes.append(f"Blind-solvable (the blind judge right on every try): {report['blind_solvable_share']:.1%}.")
    if report.get("letters"):
        notes.append("Answer letters: " + ", ".join(f"{k} {v}" for k, v in report["letters"].items()) + ".")
    return notes

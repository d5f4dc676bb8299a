"""The filter stage's report as people read it: how many questions each curation step kept, per category (the
steps are counted by `pipeline.runner.Steps`, as every stage is), and what the judges saw (letters,
consistency histogram, blind-solvable share, cost). Markdown for the dataset card; the CLI draws it with rich."""

from __future__ import annotations

from collections import Counter
from typing import Any

from ...categories import CATEGORIES


def histogram(values: list[float | None]) -> dict[str, int]:
    """Counts of each rate (a share of k tries takes few values), as strings with two decimals, ascending."""
    counts = Counter(f"{v:.2f}" for v in values if v is not None)
    return dict(sorted(counts.items()))


def kept_in(step: dict[str, Any], category: str) -> int:
    return (step.get("by_category") or {}).get("kept", {}).get(category, 0)


def step_categories(steps: list[dict[str, Any]]) -> list[str]:
    """The categories any step kept, in the records' order."""
    return [c for c in CATEGORIES if any(kept_in(s, c) for s in steps)]


def funnel_markdown(report: dict[str, Any]) -> str:
    """The funnel as a Markdown table (steps x categories), then the judges' figures."""
    steps = report["steps"]
    categories = step_categories(steps)
    lines = ["| step | rows | " + " | ".join(categories) + " |", "|---|---|" + "---|" * len(categories)]
    for s in steps:
        lines.append(f"| {s['step']} | {s['kept']} | " + " | ".join(str(kept_in(s, c)) for c in categories) + " |")
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

"""What the gate did, per generator and category: questions verified, corrected (a count fixed, options trimmed),
kept unverified (`--keep-unverified`), rejected, and why. The verify stage records it in the manifest (`gate`);
the build's summary and the dataset card show it."""

from __future__ import annotations

from collections import Counter, defaultdict
from typing import Any

CORRECTED_SUFFIXES = ("_corrected", "_options_trimmed")  # verify_reason of a kept question the gate changed
OUTCOMES = ("verified", "corrected", "unverified", "rejected")


def outcome(row: dict[str, Any]) -> str:
    """One of OUTCOMES for a row the gate saw (a rejected row has `reject_reason`)."""
    if row.get("reject_reason"):
        return "rejected"
    if row.get("verified") is None:
        return "unverified"
    return "corrected" if str(row.get("verify_reason") or "").endswith(CORRECTED_SUFFIXES) else "verified"


def gate_report(kept: list[dict[str, Any]], rejected: list[dict[str, Any]]) -> dict[str, dict[str, dict[str, Any]]]:
    """{generator: {category: {verified, corrected, unverified, rejected, why: {reason: n}}}}, sorted."""
    counts: dict[tuple[str, str], Counter] = defaultdict(Counter)
    why: dict[tuple[str, str], Counter] = defaultdict(Counter)
    for row in (*kept, *rejected):
        key = (str(row.get("generator")), str(row.get("category")))
        counts[key][outcome(row)] += 1
        if row.get("reject_reason"):
            why[key][row["reject_reason"]] += 1
    report: dict[str, dict[str, dict[str, Any]]] = {}
    for generator, category in sorted(counts):
        c = counts[(generator, category)]
        report.setdefault(generator, {})[category] = {**{o: c[o] for o in OUTCOMES},
                                                      "why": dict(sorted(why[(generator, category)].items(), key=lambda kv: (-kv[1], kv[0])))}
    return report


def rows(report: dict[str, dict[str, dict[str, Any]]], top: int = 3) -> list[tuple[str, ...]]:
    """(generator, category, verified, corrected, unverified, rejected, top reasons) per line, for tables."""
    lines = []
    for generator, categories in report.items():
        for category, c in categories.items():
            reasons = ", ".join(f"{r} {n:,}" for r, n in list(c["why"].items())[:top]) + (f", +{len(c['why']) - top} more" if len(c["why"]) > top else "")
            lines.append((generator, category, *(f"{c[o]:,}" for o in OUTCOMES), reasons))
    return lines


def gate_markdown(report: dict[str, dict[str, dict[str, Any]]]) -> str:
    """The report as a Markdown table (for the dataset card)."""
    lines = ["| generator | category | " + " | ".join(OUTCOMES) + " | why rejected (most common) |", "|---|---|" + "---|" * (len(OUTCOMES) + 1)]
    lines += ["| " + " | ".join(line) + " |" for line in rows(report)]
    return "\n".join(lines)

"""Score an annotator's judgments against our answers (cards from quality/annotation_cards.py).

    python quality/score_annotations.py /tmp/round4/key.json /tmp/round4/judgments_*.jsonl

Each judgment is one JSON object per line: {"card", "answer" (an option text), "confidence" (high, medium or
low), "sensible" (true or false), "note"}. Prints agreement per category, every card where the annotator
disagreed, doubted or called the question not sensible, and how well the ratings rank the questions answered
as we do with high confidence above the others (AUC: 0.5 is a coin, 1.0 perfect).
"""

from __future__ import annotations

import argparse
import json
from collections import Counter
from pathlib import Path


def auc(positives: list[float], negatives: list[float]) -> float | None:
    """P(a positive scores above a negative), ties counting half."""
    if not positives or not negatives:
        return None
    wins = sum((p > n) + 0.5 * (p == n) for p in positives for n in negatives)
    return wins / (len(positives) * len(negatives))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("key", type=Path)
    parser.add_argument("judgments", type=Path, nargs="+")
    args = parser.parse_args()
    key = json.loads(args.key.read_text())
    judged = {j["card"]: j for path in args.judgments for line in path.read_text().splitlines() if line.strip() for j in [json.loads(line)]}
    judged_per, agreed_per = Counter(), Counter()
    sure, doubted, disagreed = [], [], []
    for card, j in sorted(judged.items()):
        ours = key[card]
        agrees = j["answer"].strip() == ours["answer_text"]
        judged_per[ours["category"]] += 1
        agreed_per[ours["category"]] += agrees
        if agrees and j["confidence"] == "high" and j.get("sensible", True):
            sure.append(ours["rating"])
            continue
        (doubted if agrees else disagreed).append(ours["rating"])
        print(f'{card} {ours["category"]}: {ours["question"]} | ours: {ours["answer_text"]} | annotator: {j["answer"]} '
              f'({j["confidence"]}{"" if j.get("sensible", True) else ", not sensible"}) | rating {ours["rating"]} | {j.get("note", "")}')
    print("\n| category | judged | annotator agrees | disagrees |\n|---|---:|---:|---:|")
    for category, n in judged_per.most_common():
        print(f"| {category} | {n} | {agreed_per[category]} | {n - agreed_per[category]} |")
    n, agreed = sum(judged_per.values()), sum(agreed_per.values())
    print(f"| **all** | **{n}** | **{agreed} ({agreed / n:.1%})** | **{n - agreed}** |")
    def shown(value: float | None) -> str:
        return "n/a" if value is None else f"{value:.3f}"

    print(f"\nratings: AUC sure vs the others {shown(auc(sure, doubted + disagreed))} ({len(sure)} vs {len(doubted) + len(disagreed)}); "
          f"sure or doubted vs disagreed {shown(auc(sure + doubted, disagreed))} ({len(disagreed)} disagreed)")


if __name__ == "__main__":
    main()

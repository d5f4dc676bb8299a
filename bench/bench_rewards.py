"""Benchmark: reward evaluations per second for a GRPO-sized batch (1,024 completions, 3-10 objects each),
`stvqa.rewards` against the straightforward implementation (`straightforward_reward.py`: per-pair Python CIoU,
scipy's Hungarian on a full cost matrix), on the same inputs in the same run, after checking both agree.

    python bench/bench_rewards.py
"""

from __future__ import annotations

import json
import random
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import straightforward_reward  # noqa: E402

from stvqa.rewards import SpatialRewardConfig, parse_ground_truth, score, score_batch  # noqa: E402

LABELS = ["man", "woman", "dog", "cup", "table", "chair", "car", "tree", "bench", "umbrella"]


def make_batch(n: int = 1024, group: int = 8, seed: int = 0) -> list[tuple[str, str, int, int]]:
    """`n` completions in groups of `group` per prompt (as GRPO samples them), with their ground truths."""
    rng = random.Random(seed)
    batch = []
    for _ in range(n // group):
        width, height = rng.choice([(640, 480), (800, 600), (500, 375)])
        gt_objects = []
        for i in range(rng.randint(3, 10)):
            x, y = rng.uniform(0, width - 50), rng.uniform(0, height - 50)
            gt_objects.append({"id": f"{rng.choice(LABELS)}.{i + 1}", "bbox": [round(x), round(y), round(min(width, x + rng.uniform(20, 300))), round(min(height, y + rng.uniform(20, 300)))]})
        gt_rels = [{"subject": gt_objects[0]["id"], "predicate": "near", "object": gt_objects[1]["id"]}]
        gt = f"<scene>{json.dumps({'objects': gt_objects, 'relationships': gt_rels})}</scene>\n<answer>(B) left</answer>"
        for _ in range(group):
            objs = [{"id": o["id"], "bbox": [round(v + rng.uniform(-30, 30)) for v in o["bbox"]]} for o in gt_objects if rng.random() < 0.9]
            while len(objs) < 3:
                objs.append({"id": f"{rng.choice(LABELS)}.{len(objs) + 20}", "bbox": [10, 10, 60, 80]})
            rng.shuffle(objs)
            answer = rng.choice(["(B) left", "(A) right", "(b) left"])
            text = (f"<observe>I see {len(objs)} objects.</observe>\n<scene>{json.dumps({'objects': objs[:10], 'relationships': gt_rels})}</scene>\n"
                    f"<think>Comparing the boxes, the first is left of the second.</think>\n<answer>{answer}</answer>")
            batch.append((text, gt, width, height))
    return batch


def timed_per_completion(fn, batch) -> float:
    started = time.perf_counter()
    fn(batch)
    return (time.perf_counter() - started) / len(batch) * 1e3


def interleaved(variants: dict, batch, rounds: int) -> dict[str, list[float]]:
    """ms per completion of every variant, measured round-robin so that load on the machine hits all alike."""
    times: dict[str, list[float]] = {name: [] for name in variants}
    for _ in range(rounds):
        for name, fn in variants.items():
            times[name].append(timed_per_completion(fn, batch))
    return times


def main() -> None:
    batch = make_batch()
    strict = SpatialRewardConfig(strict_answer=True)

    def ours(text, gt, w, h):
        return score(text, gt, w, h, strict)

    batch_scores = score_batch([(text, parse_ground_truth(gt), w, h, None) for text, gt, w, h in batch], strict)
    mismatches = 0
    for (text, gt, w, h), a_batch in zip(batch, batch_scores):
        a, b = ours(text, gt, w, h), straightforward_reward.compute_score(text, gt, w, h)
        mismatches += any(abs(a[k] - b[k]) > 1e-6 or abs(a_batch[k] - b[k]) > 1e-6 for k in b)
    assert mismatches == 0, f"{mismatches} completions disagree"

    variants = {
        "straightforward": lambda b: [straightforward_reward.compute_score(*x) for x in b],
        "one_call_each": lambda b: [ours(*x) for x in b],
        "batched": lambda b: score_batch([(text, parse_ground_truth(gt), w, h, None) for text, gt, w, h in b], strict),
    }
    times = interleaved(variants, batch, rounds=15)
    median = {name: statistics.median(t) for name, t in times.items()}
    ratios = [b / o for b, o in zip(times["straightforward"], times["batched"])]
    report = {
        "completions": len(batch),
        "agree_within_1e-6": True,
        "rounds": 15,
        "straightforward_ms_per_completion": round(median["straightforward"], 4),
        "stvqa_batched_ms_per_completion": round(median["batched"], 4),
        "stvqa_one_call_each_ms_per_completion": round(median["one_call_each"], 4),
        "stvqa_batched_evaluations_per_s": round(1e3 / median["batched"]),
        "straightforward_evaluations_per_s": round(1e3 / median["straightforward"]),
        "speedup_batched": round(median["straightforward"] / median["batched"], 2),
        "speedup_batched_per_round_min_median_max": [round(min(ratios), 2), round(statistics.median(ratios), 2), round(max(ratios), 2)],
        "speedup_one_call_each": round(median["straightforward"] / median["one_call_each"], 2),
    }
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()

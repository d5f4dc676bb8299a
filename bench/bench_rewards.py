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


def one_by_one(fn, batch, repeats: int) -> float:
    """Median over repeats of the time per completion, scoring completions one call each (ms)."""
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        for text, gt, w, h in batch:
            fn(text, gt, w, h)
        times.append((time.perf_counter() - started) / len(batch))
    return statistics.median(times) * 1e3


def batched(batch, cfg, repeats: int) -> float:
    """Median over repeats of the time per completion when the batch is scored in one call, as TRL calls a
    reward function (ground-truth parsing included, as the TRL wrapper does it per completion) (ms)."""
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        score_batch([(text, parse_ground_truth(gt), w, h, None) for text, gt, w, h in batch], cfg)
        times.append((time.perf_counter() - started) / len(batch))
    return statistics.median(times) * 1e3


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

    base = one_by_one(straightforward_reward.compute_score, batch, repeats=7)
    single = one_by_one(ours, batch, repeats=7)
    whole = batched(batch, strict, repeats=7)
    report = {
        "completions": len(batch),
        "agree_within_1e-6": True,
        "straightforward_ms_per_completion": round(base, 4),
        "stvqa_batched_ms_per_completion": round(whole, 4),
        "stvqa_one_call_each_ms_per_completion": round(single, 4),
        "stvqa_batched_evaluations_per_s": round(1e3 / whole),
        "straightforward_evaluations_per_s": round(1e3 / base),
        "speedup_batched": round(base / whole, 2),
        "speedup_one_call_each": round(base / single, 2),
    }
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()

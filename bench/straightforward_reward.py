"""A straightforward implementation of the SpatialThinker reward, written the way the reference code does it:
regular expressions for tags, per-pair CIoU in plain Python, scipy's Hungarian on a full cost matrix,
exact-match answers. Labels are compared by exact name (so it agrees with any similarity on labels that are
identical or unrelated). It is the baseline of `bench_rewards.py` and the oracle of tests/test_rewards_reference.py.
"""

from __future__ import annotations

import json
import math
import re

from scipy.optimize import linear_sum_assignment

TAGS = ("observe", "scene", "think", "answer")


def ciou(a, b) -> float:
    ax1, ay1, ax2, ay2 = a
    bx1, by1, bx2, by2 = b
    aw, ah = max(ax2 - ax1, 0.0), max(ay2 - ay1, 0.0)
    bw, bh = max(bx2 - bx1, 0.0), max(by2 - by1, 0.0)
    iw = max(min(ax2, bx2) - max(ax1, bx1), 0.0)
    ih = max(min(ay2, by2) - max(ay1, by1), 0.0)
    inter = iw * ih
    union = aw * ah + bw * bh - inter
    iou = inter / union if union > 0 else 0.0
    cw = max(ax2, bx2) - min(ax1, bx1)
    ch = max(ay2, by2) - min(ay1, by1)
    c2 = cw**2 + ch**2
    rho2 = ((ax1 + ax2 - bx1 - bx2) ** 2 + (ay1 + ay2 - by1 - by2) ** 2) / 4
    v = 4 / math.pi**2 * (math.atan2(bw, bh) - math.atan2(aw, ah)) ** 2
    alpha = v / (1 - iou + v) if (1 - iou + v) > 0 else 0.0
    return max(-1.0, min(1.0, iou - (rho2 / c2 if c2 > 0 else 0.0) - alpha * v))


def _scene(text):
    m = re.search(r"<scene>(.*?)</scene>", text, re.DOTALL)
    return json.loads(m.group(1)) if m else None


def format_reward(text: str) -> float:
    for tag in TAGS:
        if text.count(f"<{tag}>") != 1 or text.count(f"</{tag}>") != 1:
            return 0.0
    if not re.search(r"<observe>.*?</observe>.*?<scene>.*?</scene>.*?<think>.*?</think>.*?<answer>.*?</answer>", text, re.DOTALL):
        return 0.0
    try:
        scene = _scene(text)
    except Exception:
        return 0.0
    if not isinstance(scene, dict) or not isinstance(scene.get("objects"), list) or not isinstance(scene.get("relationships"), list):
        return 0.0
    ids = set()
    for o in scene["objects"]:
        if not isinstance(o, dict) or set(o) != {"id", "bbox"} or not isinstance(o["id"], str) or not re.fullmatch(r"[a-zA-Z_]+\.\d+", o["id"]):
            return 0.0
        if o["id"] in ids or not isinstance(o["bbox"], list) or len(o["bbox"]) != 4:
            return 0.0
        if not all(isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v) for v in o["bbox"]):
            return 0.0
        ids.add(o["id"])
    for r in scene["relationships"]:
        if not isinstance(r, dict) or set(r) != {"subject", "predicate", "object"} or not all(isinstance(v, str) for v in r.values()):
            return 0.0
    return 1.0


def compute_score(predict: str, ground_truth: str, width: float, height: float) -> dict[str, float]:
    fmt = format_reward(predict)
    gt_scene = _scene(ground_truth)
    gt_answer = re.search(r"<answer>(.*?)</answer>", ground_truth, re.DOTALL).group(1)
    if not fmt:
        return {"overall": 0.0, "format": 0.0, "count": 0.0, "accuracy": 0.0, "spatial": 0.0}
    scene = _scene(predict)
    answer = re.search(r"<answer>(.*?)</answer>", predict, re.DOTALL).group(1)
    n_p, n_g = len(scene["objects"]), len(gt_scene["objects"])
    r_p, r_g = len(scene["relationships"]), len(gt_scene["relationships"])
    obj = max(0.0, 1 - abs(n_p - n_g) / max(n_g, 1))
    count = 0.7 * obj + 0.3 * max(0.0, 1 - abs(r_p - r_g) / max(r_g, 1)) if r_g else obj
    accuracy = float(answer.strip().lower() == gt_answer.strip().lower())
    spatial = 0.0
    if accuracy:
        if n_g == 0:
            spatial = 1.0 if n_p == 0 else 0.0
        elif n_p:
            def norm(b):
                return [b[0] / width, b[1] / height, b[2] / width, b[3] / height]

            def label(i):
                return re.sub(r"\.\d+$", "", i).replace("_", " ").lower()

            pred, gt = scene["objects"][:100], gt_scene["objects"]
            ciou01 = [[(ciou(norm(p["bbox"]), norm(g["bbox"])) + 1) / 2 for g in gt] for p in pred]
            cost = [[2.0 * (1 - float(label(p["id"]) == label(g["id"]))) + (1 - ciou01[i][j]) for j, g in enumerate(gt)] for i, p in enumerate(pred)]
            rows, cols = linear_sum_assignment(cost)
            spatial = sum(ciou01[r][c] for r, c in zip(rows, cols)) / n_g
    overall = 0.1 * fmt + 0.2 * count + 0.5 * accuracy + 0.2 * spatial
    return {"overall": overall, "format": fmt, "count": count, "accuracy": accuracy, "spatial": spatial}

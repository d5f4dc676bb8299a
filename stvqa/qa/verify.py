"""The verify stage: recompute every answer from the scene graph where the category allows.

`verified` is True (the graph and boxes agree), False (they contradict it: the sample is rejected with
the reason) or None (the category cannot be checked from the graph for this sample). Count answers that
disagree with the graph are corrected, as the paper does, and the corrected sample keeps its
question-focused subgraph (the reference pipeline wrote the full graph there).
"""

from __future__ import annotations

import json
import logging
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from ..config import check_range
from ..focus import mentioned_in_order
from ..records import LETTERS, option_text
from ..schema import schema_errors
from . import geometry as geo
from .config import GenerateConfig
from .hashing import unit
from .vocabulary import group_of, stated_in_front

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class VerifyConfig:
    thresholds: GenerateConfig = field(default_factory=GenerateConfig, metadata={"help": "Margins the answers must clear (shared with generation)."})
    correct_counts: bool = field(default=True, metadata={"help": "Fix count answers that disagree with the graph instead of rejecting them."})
    validate_every: int = field(default=100, metadata={"help": "Check every k-th sample against schemas/qa_sample.schema.json (about 0.3 ms a sample); 1 checks all."})

    def __post_init__(self) -> None:
        check_range("--validate-every", self.validate_every, 0)


_OUTCOME = {True: "verified", None: "unverified", False: "rejected"}
_OBJECT_ARGS = ("a", "b", "ref", "larger", "smaller", "nearer", "farther", "closer")


def verify_samples(samples: Iterable[dict[str, Any]], scene: dict[str, Any] | None, cfg: VerifyConfig, outcomes: Counter) -> tuple[list[dict], list[dict]]:
    """(kept, rejected) for the samples of one image: kept rows carry `verified` (True or None) and
    `verify_reason`; rejected rows carry `reject_reason` too. `outcomes` counts `verified:<reason>` and
    `unverified:<reason>` of the kept rows."""
    kept, rejected = [], []
    for sample in samples:
        # A hash of the sample id picks which samples are schema-checked: the same ones in any order or process.
        checked = cfg.validate_every and unit("validate", sample.get("sample_id")) * cfg.validate_every < 1
        schema_problems = schema_errors("qa_sample", sample) if checked else []
        if schema_problems:
            log.warning("sample %s does not match the QA sample schema: %s", sample.get("sample_id"), "; ".join(schema_problems[:3]))
            verified, reason = False, "sample_schema_invalid"
        elif scene is None:
            verified, reason = False, "scene_not_found"
        else:
            verified, reason, sample = verify_sample(sample, scene, cfg)
        row = dict(sample, verified=verified, verify_reason=reason)
        if verified is False:
            rejected.append(dict(row, reject_reason=reason))
        else:
            outcomes[f"{_OUTCOME[verified]}:{reason}"] += 1
            kept.append(row)
    return kept, rejected


def verify_sample(sample: dict[str, Any], scene: dict[str, Any], cfg: VerifyConfig = VerifyConfig()) -> tuple[bool | None, str, dict[str, Any]]:
    """(verified, reason, sample after any correction). Samples without template `args` (any other
    generator's) are checked from the objects their question names, where those are unambiguous."""
    chosen = option_text(sample)
    if not chosen:
        return False, "answer_letter_not_an_option", sample
    try:
        args = json.loads(sample.get("args") or "null")
    except json.JSONDecodeError:
        args = None
    if not isinstance(args, dict) or not args:
        args = args_from_question(sample, scene, chosen)
        if args is None:
            return None, "objects_not_identified", sample
    objects = {o["id"]: o for o in scene["objects"]}
    if any(objects.get(v) is None for k, v in args.items() if k in _OBJECT_ARGS):
        return None, "objects_not_identified", sample
    check = CHECKS.get(sample["category"])
    if check is None:
        return None, "not_checkable", sample
    return check(sample, scene, objects, args, chosen, cfg)


def args_from_question(sample: dict[str, Any], scene: dict[str, Any], chosen: str) -> dict[str, Any] | None:
    """What the template generator would have recorded, recovered from the question text: the objects it
    names, in order, when each name has exactly one instance in the scene. None when that is not possible."""
    category = sample.get("category")
    names = mentioned_in_order(sample.get("question") or "", [o["name"] for o in scene["objects"]])
    if category in ("count", "existence"):
        return {"name": names[0]} if len(names) == 1 else None
    instances = Counter(o["name"] for o in scene["objects"])
    first = {o["name"]: o for o in reversed(scene["objects"])}
    if any(instances[n] != 1 for n in names):
        return None
    ids = [first[n]["id"] for n in names]
    if category == "instance_location" and len(ids) == 1:
        return {"a": ids[0]}
    if len(ids) != 2:
        return None
    a, b = ids
    if category in ("relation", "reach"):
        return {"a": a, "b": b}
    if category == "orientation":
        axis = {"left": "horizontal", "right": "horizontal", "above": "vertical", "below": "vertical"}.get(chosen)
        return {"a": a, "b": b, "axis": axis} if axis else None
    if category == "size":
        boxes = {o["id"]: o["bbox"] for o in scene["objects"]}
        larger, smaller = (a, b) if geo.area(boxes[a]) >= geo.area(boxes[b]) else (b, a)
        return {"larger": larger, "smaller": smaller}
    if category == "depth":
        closer = a if chosen == names[0] else b
        return {"closer": closer, "farther": b if closer == a else a}
    return None  # distance: which name is the reference cannot be read off reliably


def _name(objects, oid) -> str:
    return objects[oid]["name"]


def _check_relation(sample, scene, objects, args, chosen, cfg):
    if not {"a", "b"} <= args.keys():
        return None, "objects_not_identified", sample
    stated = {r["predicate"] for r in scene["relationships"] if r["subject"] == args["a"] and r["object"] == args["b"]}
    if chosen in stated or any(chosen in group_of(p) for p in stated):
        return True, "relation_in_graph", sample
    return False, "relation_not_in_graph", sample


def _check_size(sample, scene, objects, args, chosen, cfg):
    larger, smaller = objects[args["larger"]], objects[args["smaller"]]
    a_area, b_area = geo.area(larger["bbox"]), geo.area(smaller["bbox"])
    if chosen == smaller["name"] and b_area > a_area:
        larger, smaller, a_area, b_area = smaller, larger, b_area, a_area
    if chosen != larger["name"] or a_area < b_area:
        return False, "size_answer_contradicts_boxes", sample
    if a_area < cfg.thresholds.size_ratio * max(b_area, 1e-9):
        return False, "size_ratio_unclear", sample
    return True, "size_matches_boxes", sample


def _check_orientation(sample, scene, objects, args, chosen, cfg):
    a, b = objects[args["a"]]["bbox"], objects[args["b"]]["bbox"]
    if args.get("axis") == "vertical":
        truth = geo.vertical_order(a, b, scene["height"], cfg.thresholds.position_margin)
    else:
        truth = geo.horizontal_order(a, b, scene["width"], cfg.thresholds.position_margin)
    if truth is None:
        return False, "orientation_unclear", sample
    return (True, "orientation_matches_boxes", sample) if chosen == truth else (False, "orientation_contradicts_boxes", sample)


def _check_instance_location(sample, scene, objects, args, chosen, cfg):
    cell, margin = geo.grid_cell(objects[args["a"]]["bbox"], scene["width"], scene["height"])
    if chosen != cell:
        return False, "cell_contradicts_box", sample
    if margin < cfg.thresholds.cell_margin:
        return False, "cell_unclear", sample
    return True, "cell_matches_box", sample


def _check_depth(sample, scene, objects, args, chosen, cfg):
    front = stated_in_front(scene["relationships"], args.get("closer"), args.get("farther"))
    if not front:
        return None, "depth_not_stated", sample
    if len(front) > 1:
        return False, "depth_graph_contradicts_itself", sample
    return (True, "depth_stated_in_graph", sample) if chosen == _name(objects, front.pop()) else (False, "depth_contradicts_graph", sample)


def _check_distance(sample, scene, objects, args, chosen, cfg):
    ref, near, far = (objects[args[k]]["bbox"] for k in ("ref", "nearer", "farther"))
    dn, df = geo.centre_distance(ref, near), geo.centre_distance(ref, far)
    truth = _name(objects, args["nearer"]) if dn < df else _name(objects, args["farther"])
    if chosen != truth:
        return False, "distance_contradicts_boxes", sample
    if max(dn, df) < cfg.thresholds.distance_ratio * max(min(dn, df), 1e-9):
        return False, "distance_unclear", sample
    return True, "distance_matches_boxes", sample


def _check_count(sample, scene, objects, args, chosen, cfg):
    name = args.get("name")
    truth = sum(o["name"] == name for o in scene["objects"])
    if truth == 0:
        return False, "count_object_not_in_graph", sample  # never "corrected" to 0: the name is simply not annotated
    if chosen == str(truth):
        return True, "count_matches_graph", sample
    if not cfg.correct_counts:
        return False, "count_contradicts_graph", sample
    # The paper's auto-correction: the right count becomes the answer (replacing the wrong one among the
    # options when it is not offered), and the answer keeps the question-focused subgraph.
    options = list(sample["options"])
    if str(truth) not in options:
        options[options.index(chosen)] = str(truth)
    corrected = dict(sample, options=options, answer=LETTERS[options.index(str(truth))], answer_text=str(truth))
    return True, "count_corrected", corrected


def _check_existence(sample, scene, objects, args, chosen, cfg):
    name = args.get("name")
    present = any(o["name"] == name for o in scene["objects"])
    if chosen not in ("yes", "no"):
        return False, "existence_answer_not_yes_no", sample
    return (True, "existence_matches_graph", sample) if (chosen == "yes") == present else (False, "existence_contradicts_graph", sample)


CHECKS = {
    "relation": _check_relation,
    "reach": _check_relation,
    "size": _check_size,
    "orientation": _check_orientation,
    "instance_location": _check_instance_location,
    "depth": _check_depth,
    "distance": _check_distance,
    "count": _check_count,
    "existence": _check_existence,
}

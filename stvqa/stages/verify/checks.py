"""The verify stage: recompute every answer from the scene graph where the category allows.

`verified` is True (the graph and boxes agree), False (they contradict it: the sample is rejected with
the reason) or None (the category cannot be checked from the graph for this sample). Count answers that
disagree with the graph are corrected, as the paper does, and the corrected sample keeps its
question-focused subgraph (the reference pipeline wrote the full graph there).
"""

from __future__ import annotations

import json
import logging
import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from ...config import check_range
from ...pipeline.workers import CORES, WORKERS_FIELD, check_workers
from ...focus import mentioned_in_order
from ...records import LETTERS, option_text
from ...schema import schema_errors
from ... import geometry as geo
from ..generate.config import Thresholds
from ...lexicon import objecthood, predicates
from ...hashing import unit
from ...scene_view import distinct
from ..generate.templates import SAME

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class VerifyConfig:
    thresholds: Thresholds = field(default_factory=Thresholds, metadata={"help": "Margins the answers must clear (those generation used)."})
    correct_counts: bool = field(default=True, metadata={"help": "Fix count answers that disagree with the graph instead of rejecting them."})
    validate_questions_every: int = field(default=100, metadata={
        "help": "Check every k-th question against schemas/qa_sample.schema.json (about 0.3 ms a question); 1 checks all, 0 none."})
    workers: int = field(default=CORES, metadata=WORKERS_FIELD)

    def __post_init__(self) -> None:
        check_range("--validate-questions-every", self.validate_questions_every, 0)
        check_workers("--workers", self.workers)


_OUTCOME = {True: "verified", None: "unverified", False: "rejected"}
_OBJECT_ARGS = ("a", "b", "ref", "larger", "smaller", "closer", "farther")


def verify_samples(samples: Iterable[dict[str, Any]], scene: dict[str, Any] | None, cfg: VerifyConfig, outcomes: Counter) -> tuple[list[dict], list[dict]]:
    """(kept, rejected) for the samples of one image: kept rows carry `verified` (True or None) and
    `verify_reason`; rejected rows carry `reject_reason` too. `outcomes` counts `verified:<reason>` and
    `unverified:<reason>` of the kept rows."""
    kept, rejected = [], []
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
    if category in ("relation", "reach", "orientation") and _names_reference_first(sample.get("question") or "", names[0]):
        a, b = b, a
    if category in ("relation", "reach"):
        return {"a": a, "b": b}
    if category == "orientation":
        axis = {"left": "horizontal", "right": "horizontal", "above": "vertical", "below": "vertical"}.get(chosen)
        return {"a": a, "b": b, "axis": axis} if axis else None
    if category == "size":
        return {"a": a, "b": b}
    if category == "depth":
        closer = a if chosen == names[0] else b
        return {"closer": closer, "farther": b if closer == a else a}
    return None  # distance: which name is the reference cannot be read off reliably


_REFERENCE_LEAD = r"\b(?:side of|relative to|compared (?:to|with)|with respect to)\s+(?:the\s+|a\s+|an\s+)?"


def _names_reference_first(question: str, first_name: str) -> bool:
    """Whether the first-mentioned name is the reference ("Which side of the plate is the cup on?"), so
    the located object comes second.

    >>> _names_reference_first("Seen from the camera, which side of the plate is the cup on?", "plate")
    True
    >>> _names_reference_first("Is the cup to the left or to the right of the plate?", "cup")
    False
    """
    return re.search(_REFERENCE_LEAD + re.escape(first_name.lower()), question.lower()) is not None


def _text(args, objects, oid) -> str:
    """How the question named the object: its referring phrase when the generator recorded one."""
    return (args.get("texts") or {}).get(oid) or objects[oid]["name"]


def _compare(chosen: str, x: float, y: float, text_x: str, text_y: str, ratio: float, same: float, what: str):
    """Check a two-object comparison that may be answered "about the same"."""
    big, small = max(x, y), max(min(x, y), 1e-9)
    if chosen == SAME:
        return (True, f"{what}_about_the_same", None) if big <= same * small else (False, f"{what}_not_the_same", None)
    if chosen not in (text_x, text_y):
        return False, f"{what}_answer_names_neither", None
    winner = text_x if x > y else text_y
    if chosen != winner:
        return False, f"{what}_contradicts_boxes", None
    if big < ratio * small:
        return False, f"{what}_unclear", None
    return True, f"{what}_matches_boxes", None


def _check_relation(sample, scene, objects, args, chosen, cfg):
    a, b = args["a"], args["b"]
    forward = [r["predicate"] for r in scene["relationships"] if (r["subject"], r["object"]) == (a, b)]
    backward = [r["predicate"] for r in scene["relationships"] if (r["subject"], r["object"]) == (b, a)]
    stated = predicates.true_of_pair(forward, backward, objects[a]["bbox"], objects[b]["bbox"])
    answer = predicates.canonical(chosen)
    if answer is None or answer not in stated:
        return False, "relation_not_in_graph", sample
    others = [o for o in sample["options"] if o != chosen]
    if any((c := predicates.canonical(o)) and (c in stated or predicates.compatible(c, answer)) for o in others):
        return False, "relation_distractor_also_true", sample
    return True, "relation_in_graph", sample


def _check_size(sample, scene, objects, args, chosen, cfg):
    a, b = args.get("a") or args.get("larger"), args.get("b") or args.get("smaller")
    verdict, reason, _ = _compare(chosen, geo.area(objects[a]["bbox"]), geo.area(objects[b]["bbox"]), _text(args, objects, a),
                                  _text(args, objects, b), cfg.thresholds.size_ratio, cfg.thresholds.same_ratio, "size")
    return verdict, reason, sample


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


def stated_in_front(relationships: list[dict[str, str]], a: str, b: str) -> set[str]:
    """Which of objects a and b the graph says is in front (both, when its statements disagree)."""
    front = set()
    for r in relationships:
        if {r["subject"], r["object"]} == {a, b}:
            predicate = predicates.canonical(r["predicate"])
            if predicate == "in front of":
                front.add(r["subject"])
            elif predicate == "behind":
                front.add(r["object"])
    return front


def _check_depth(sample, scene, objects, args, chosen, cfg):
    front = stated_in_front(scene["relationships"], args.get("closer"), args.get("farther"))
    if not front:
        return None, "depth_not_stated", sample
    if len(front) > 1:
        return False, "depth_graph_contradicts_itself", sample
    truth = _text(args, objects, front.pop())
    return (True, "depth_stated_in_graph", sample) if chosen == truth else (False, "depth_contradicts_graph", sample)


def _check_distance(sample, scene, objects, args, chosen, cfg):
    if "ref" not in args or "a" not in args:
        return None, "objects_not_identified", sample
    ref = objects[args["ref"]]["bbox"]
    a, b = args["a"], args["b"]
    da, db = geo.centre_distance(ref, objects[a]["bbox"]), geo.centre_distance(ref, objects[b]["bbox"])
    # The nearer one is the answer: compare the distances the other way round.
    verdict, reason, _ = _compare(chosen, db, da, _text(args, objects, a), _text(args, objects, b),
                                  cfg.thresholds.distance_ratio, cfg.thresholds.same_ratio, "distance")
    return verdict, reason, sample


def _instances(scene, name: str) -> int:
    """Objects of the class `name` in the scene, each annotated-twice object once."""
    canonical = objecthood.canonical(name)
    return len(distinct([o for o in scene["objects"] if objecthood.canonical(o["name"]) == canonical]))


def _check_count(sample, scene, objects, args, chosen, cfg):
    truth = _instances(scene, args.get("name") or "")
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
    name = args.get("name") or ""
    if chosen not in ("yes", "no"):
        return False, "existence_answer_not_yes_no", sample
    if args.get("predicate"):
        return _check_relational_existence(sample, scene, objects, args, chosen)
    if chosen == "yes":
        return (True, "existence_matches_graph", sample) if _instances(scene, name) else (False, "existence_contradicts_graph", sample)
    if any(objecthood.overlaps(name, o["name"]) for o in scene["objects"]):
        return False, "existence_no_but_related_present", sample  # "no street" beside an annotated road
    return True, "existence_matches_graph", sample


def _check_relational_existence(sample, scene, objects, args, chosen):
    """"Is there a cup on the table?": yes needs a stated relation the boxes allow; no needs the boxes to
    refute it for every cup."""
    predicate, ref = args["predicate"], objects[args["ref"]]
    canonical = objecthood.canonical(args["name"])
    members = [o for o in scene["objects"] if objecthood.canonical(o["name"]) == canonical]
    if not members:
        return False, "existence_object_not_in_graph", sample
    ids = {m["id"] for m in members}
    stated = predicates.with_implied(r["predicate"] for r in scene["relationships"] if r["object"] == ref["id"] and r["subject"] in ids)
    refuted = all(predicates.refuted_by_boxes(predicate, m["bbox"], ref["bbox"], scene["width"], scene["height"]) for m in members)
    if chosen == "yes":
        return (True, "existence_relation_stated", sample) if predicate in stated else (False, "existence_relation_not_stated", sample)
    if predicate in stated or not refuted:
        return False, "existence_relation_not_refuted", sample
    return True, "existence_relation_refuted_by_boxes", sample


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

"""instance_location: where a thing is in the image, as the cell of a 3 x 3 grid that holds its box centre."""

from __future__ import annotations

from .. import geometry as geo
from ..hashing import permutation
from ..scene_view import SceneView
from .base import Candidate, Category, Check, Verdict, slots_of


def candidates(view: SceneView, cfg, key: str, limit: int) -> list[Candidate]:
    out = []
    for a in view.named:
        if view.refers_by[a["id"]] == "position":
            continue
        cell, margin = geo.grid_cell(a["bbox"], view.width, view.height)
        if margin < cfg.thresholds.cell_margin:
            continue
        others = [c for c in geo.ALL_CELLS if c != cell]
        distractors = [others[i] for i in permutation(len(others), key, "cells", a["id"])[:3]]
        # Clear when the centre is far from a cell border and the box lies mostly in its cell: a building filling
        # the whole left third is "left" by its centre, "top-left" to some.
        clarity = min(1.0, margin / (1 / 6), geo.share_in_cell(a["bbox"], cell, view.width, view.height) / 0.8)
        out.append(Candidate("instance_location", slots_of(view, a=a), cell, [cell, *distractors], [a], clarity,
                             {"a": a["id"], "pool": others}, frozenset((a["id"],))))
    return out[:limit]


def check(q: Check) -> Verdict:
    if set(q.sample["options"]) - set(geo.ALL_CELLS):
        return False, "cell_option_not_a_cell", q.sample
    if q.by_position("a"):
        return False, "cell_named_by_position", q.sample
    cell, margin = geo.grid_cell(q.objects[q.args["a"]]["bbox"], q.scene["width"], q.scene["height"])
    if q.chosen != cell:
        return False, "cell_contradicts_box", q.sample
    if margin < q.cfg.thresholds.cell_margin:
        return False, "cell_unclear", q.sample
    return True, "cell_matches_box", q.sample


PHRASINGS = {
    "instance_location": (
        "In which part of the image {be_a} the {a}?",
        "Where in the image (as a 3 x 3 grid) {be_a} the {a} located?",
        "Which region of the image contains the {a}?",
    ),
}


CATEGORY = Category(
    "instance_location", "loc", 0.0625, {"subject": "a"},
    "instance_location: where one object is in the image, as the cell of a 3 x 3 grid holding its box centre. Options from: "
    "top-left, top, top-right, left, center, right, bottom-left, bottom, bottom-right. Roles: subject.",
    candidates, check, phrasings=PHRASINGS,
)

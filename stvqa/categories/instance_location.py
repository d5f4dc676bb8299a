"""instance_location: where a thing is in the image, as the cell of a 3 x 3 grid that holds its box centre."""

from __future__ import annotations

from .. import geometry as geo
from ..hashing import permutation
from ..scene_view import SceneView
from .base import Candidate, Category, Check, Verdict, slots_of

MAX_EXTENT = 2 / 3  # of the image's width or height: a longer box reaches into three columns or rows
MIN_CELL_SHARE = 0.5  # of the box inside its centre's cell, unless the centre is DEEP_MARGIN (of the image) inside it
DEEP_MARGIN = 0.1


def candidates(view: SceneView, cfg, key: str, limit: int) -> list[Candidate]:
    out = []
    for a in view.named:
        if view.refers_by[a["id"]] == "position":
            continue
        found = locate(view, a, cfg)
        if isinstance(found, str):
            continue
        cell, margin = found
        others = [c for c in geo.ALL_CELLS if c != cell]
        distractors = [others[i] for i in permutation(len(others), key, "cells", a["id"])[:3]]
        # Clear when the centre is far from a cell border and the box lies mostly in its cell: a building filling
        # the whole left third is "left" by its centre, "top-left" to some.
        clarity = min(1.0, margin / (1 / 6), geo.share_in_cell(a["bbox"], cell, view.width, view.height) / 0.8)
        out.append(Candidate("instance_location", slots_of(view, a=a), cell, [cell, *distractors], [a], clarity,
                             {"a": a["id"], "pool": others}, frozenset((a["id"],))))
    return out[:limit]


def locate(view: SceneView, a: dict, cfg) -> tuple[str, float] | str:
    """The cell of the thing's box centre and the centre's distance from the cell's borders, or why the question may
    not be asked: the one rule of the candidates and of the check. Not of a box across all three columns or rows,
    and a box that lies half outside its centre's cell only when that centre sits deep inside the cell: a horse
    across two cells with its centre near their border is "bottom" to some and "bottom-right" to others."""
    cell, margin = geo.grid_cell(a["bbox"], view.width, view.height)
    if margin < cfg.thresholds.cell_margin:
        return "cell_unclear"
    x1, y1, x2, y2 = a["bbox"]
    if max((x2 - x1) / view.width, (y2 - y1) / view.height) > MAX_EXTENT:
        return "cell_box_spans_cells"  # a fence across the bottom row: "bottom", "bottom-left", "bottom-right"
    if geo.share_in_cell(a["bbox"], cell, view.width, view.height) < MIN_CELL_SHARE and margin < DEEP_MARGIN:
        return "cell_box_mostly_elsewhere"
    return cell, margin


def check(q: Check) -> Verdict:
    if set(q.sample["options"]) - set(geo.ALL_CELLS):
        return False, "cell_option_not_a_cell", q.sample
    if q.by_position("a"):
        return False, "cell_named_by_position", q.sample
    found = locate(q.view, q.objects[q.args["a"]], q.cfg)
    if isinstance(found, str):
        return False, found, q.sample
    return (True, "cell_matches_box", q.sample) if q.chosen == found[0] else (False, "cell_contradicts_box", q.sample)


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

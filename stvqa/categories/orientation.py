"""orientation: from the camera's viewpoint, is one thing left or right of (or above or below) another."""

from __future__ import annotations

from .. import geometry as geo
from ..hashing import unit
from ..scene_view import SceneView
from .base import Candidate, Category, Check, Verdict, pairs, slots_of

AXES = {"left": "horizontal", "right": "horizontal", "above": "vertical", "below": "vertical"}


def candidates(view: SceneView, cfg, key: str, limit: int) -> list[Candidate]:
    out = []
    for a, b in pairs(view, by_position=False):  # "the chair on the left" would give a left/right answer away
        if view.spans_picture(a) or view.spans_picture(b):
            continue
        if unit(key, "orientation-order", a["id"], b["id"]) < 0.5:
            a, b = b, a
        for axis, order, extent, labels in (("horizontal", geo.horizontal_order, view.width, ("left", "right")),
                                             ("vertical", geo.vertical_order, view.height, ("above", "below"))):
            side = order(a["bbox"], b["bbox"], extent, cfg.thresholds.position_margin)
            if side:
                i = 0 if axis == "horizontal" else 1
                gap = abs(geo.centre(a["bbox"])[i] - geo.centre(b["bbox"])[i]) / extent
                out.append(Candidate(f"orientation_{axis}", slots_of(view, a=a, b=b), side, list(labels), [a, b], min(1.0, gap / 0.5),
                                     {"a": a["id"], "b": b["id"], "axis": axis}, frozenset((a["id"], b["id"]))))
                break
    return out[:limit]


def check(q: Check) -> Verdict:
    axis = q.args.get("axis") or AXES.get(q.chosen)
    if axis is None or {AXES.get(o) for o in q.sample["options"]} != {axis}:
        return False, "orientation_options_not_one_axis", q.sample
    if q.by_position("a", "b"):
        return False, "orientation_named_by_position", q.sample
    if q.view.spans_picture(q.objects[q.args["a"]]) or q.view.spans_picture(q.objects[q.args["b"]]):
        return False, "orientation_object_spans_picture", q.sample  # left of a counter across the whole picture?
    a, b = q.objects[q.args["a"]]["bbox"], q.objects[q.args["b"]]["bbox"]
    if axis == "vertical":
        truth = geo.vertical_order(a, b, q.scene["height"], q.cfg.thresholds.position_margin)
    else:
        truth = geo.horizontal_order(a, b, q.scene["width"], q.cfg.thresholds.position_margin)
    if truth is None:
        return False, "orientation_unclear", q.sample
    return (True, "orientation_matches_boxes", q.sample) if q.chosen == truth else (False, "orientation_contradicts_boxes", q.sample)


PHRASINGS = {
    "orientation_horizontal": (
        "From the camera's viewpoint, {be_a} the {a} to the left or to the right of the {b}?",
        "Seen from the camera, which side of the {b} {be_a} the {a} on?",
        "In the image, {be_a} the {a} left or right of the {b} (from the viewer's perspective)?",
    ),
    "orientation_vertical": (
        "From the camera's viewpoint, {be_a} the {a} above or below the {b}?",
        "In the image, {be_a} the {a} higher or lower than the {b}?",
        "Seen from the camera, {be_a} the {a} positioned above or below the {b}?",
    ),
}


CATEGORY = Category(
    "orientation", "orient", 0.0625, {"subject": "a", "reference": "b"},
    "orientation: from the camera's viewpoint, is one object left or right of (or above or below) another, by box centres at "
    "least a tenth of the image apart. Options: left, right (or above, below). Roles: subject, reference.",
    candidates, check, phrasings=PHRASINGS, compares=True,
)

"""size: which of two things looks larger in the image, by box area."""

from __future__ import annotations

from .. import geometry as geo
from ..lexicon import sizes
from ..scene_view import SceneView
from .base import SAME, Candidate, Category, Check, Verdict, compare, pairs, slots_of



def candidates(view: SceneView, cfg, key: str, limit: int) -> list[Candidate]:
    """The larger of two things by box area. No "about the same": box areas of partly hidden objects are not
    what a person sees, and people judged the close cases differently from the boxes (see the README).

    A guesser who knows what things usually are answers "the car or the cup?" without looking. So where the
    kinds' typical sizes differ a lot (`sizes.prior_larger`), `args["prior"]` says whether the image "agrees"
    with them or "contradicts" them (a far-off car smaller than a cup near the camera), and the debias stage
    thins the agreeing ones over the whole table until the prior no longer pays. Boxes that fill the frame (the
    photo itself) are never compared."""
    out = []
    for a, b in pairs(view):
        found = measure(view, a, b, cfg)
        if isinstance(found, str):
            continue
        verdict, clarity = found
        winner = a if verdict == "x" else b
        pa, pb = view.phrase[a["id"]], view.phrase[b["id"]]
        answer = pa if verdict == "x" else pb
        args = {"a": a["id"], "b": b["id"]}
        if prior := sizes.prior_larger(a["name"], b["name"]):
            args["prior"] = "agrees" if prior == winner["name"] else "contradicts"
        out.append(Candidate("size", slots_of(view, a=a, b=b), answer, [pa, pb], [a, b], clarity,
                             args, frozenset((a["id"], b["id"])), swappable=True))
    return out[:limit]


def measure(view: SceneView, a: dict, b: dict, cfg) -> tuple[str, float] | str:
    """Which of a and b is larger ('x' for a, 'y' for b) and how clearly, or why the question may not be asked: the
    one rule of the candidates and of the check."""
    if view.fills_frame(a) or view.fills_frame(b):
        return "size_object_fills_frame"  # the photo itself, or a close-up's backdrop
    found = compare(geo.area(a["bbox"]), geo.area(b["bbox"]), cfg.thresholds.size_ratio, cfg.thresholds.same_ratio)
    if found is None:
        return "size_unclear"
    if found[0] == SAME:
        return "size_about_the_same_not_asked"
    big, small = sorted((geo.area(a["bbox"]), geo.area(b["bbox"])), reverse=True)
    if (1 - view.occlusion(a if found[0] == "x" else b)) * big < cfg.thresholds.size_ratio * small:
        return "size_larger_one_occluded"  # the larger box is partly covered by another: its visible part may not be larger
    return found


def check(q: Check) -> Verdict:
    a, b = q.args["a"], q.args["b"]
    if set(q.sample["options"]) - {q.text(a), q.text(b)}:
        return False, "size_option_not_one_of_the_two", q.sample
    found = measure(q.view, q.objects[a], q.objects[b], q.cfg)
    if isinstance(found, str):
        return False, found, q.sample
    truth = q.text(a) if found[0] == "x" else q.text(b)
    return (True, "size_matches_boxes", q.sample) if q.chosen == truth else (False, "size_contradicts_boxes", q.sample)


PHRASINGS = {
    "size": (
        "Which appears larger in the image: the {a} or the {b}?",
        "Which takes up more of the image: the {a} or the {b}?",
        "Comparing their apparent size in the image, which is bigger: the {a} or the {b}?",
    ),
}


CATEGORY = Category(
    "size", "size", 0.0625, {"first": "a", "second": "b"},
    "size: which of two objects looks larger in the image, by box area; only when one box is at least 1.5 times the other. "
    "Options: the two objects. Roles: first, second (the two compared).",
    candidates, check, phrasings=PHRASINGS, compares=True,
)

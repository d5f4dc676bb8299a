"""distance: which of two things is nearer a third, the reference, in the image."""

from __future__ import annotations

from .. import geometry as geo
from ..hashing import unit
from ..scene_view import SceneView, contains
from .base import SAME, Candidate, Category, Check, Verdict, compare, distinct_things, slots_of

MAX_REFERENCE_SHARE = 0.1  # the reference of a distance question is a compact thing
# Distances in the picture equal distances in the scene only at equal depth; where the ground line of two boxes
# differs by more than this share of the image height, one is nearer the camera (or raised off the ground, a sign
# on a wall) and "about the same" in the picture is not what a person sees.
SAME_DISTANCE_LEVEL = 0.15
# The picture's distances are the scene's only where the three things stand at comparable depth: their boxes' ground
# lines within this share of the image height (one band of the ground), or one of them so much nearer the reference
# (FAR_RATIO times) that depth cannot reverse it. Else people judge in the room, not on the screen ("closer to the
# parking sign": the sign on a pole up the street, the car below it near the camera).
GROUND_BAND = 0.2
FAR_RATIO = 3.0
MAX_CANDIDATE_SHARE = 0.15  # the two compared are compact things too


def measure(view: SceneView, ref: dict, a: dict, b: dict, cfg) -> tuple[str, float] | str:
    """Which of a and b is nearer the reference in the picture ('x' for a, 'y' for b, SAME) and how clearly, or why
    the question may not be asked: the one rule of the template generator's candidates and of the gate's check
    (`from_reference` for each object, two distinct things, then `compared`)."""
    if view.share(ref) > MAX_REFERENCE_SHARE:
        return "distance_reference_not_compact"  # "closer to the building" means little when the building fills the picture
    near_a, near_b = from_reference(view, ref, a), from_reference(view, ref, b)
    for found in (near_a, near_b):
        if isinstance(found, str):
            return found
    if not distinct_things(view, a, b):
        return "distance_objects_not_distinct"
    return compared(view, ref, a, b, near_a, near_b, cfg)


def from_reference(view: SceneView, ref: dict, o: dict) -> tuple[float, float] | str:
    """(centre distance, gap) of an object from the reference, or why it may not be one of the two compared."""
    if view.share(o) > MAX_CANDIDATE_SHARE:
        return "distance_object_not_compact"  # a building is near everything at one end and far at the other
    if not distinct_things(view, o, ref):
        return "distance_objects_not_distinct"
    gap = geo.gap(ref["bbox"], o["bbox"])
    if gap <= 0:
        return "distance_object_touches_reference"  # neither closer nor farther in any way a person would agree on
    return geo.centre_distance(ref["bbox"], o["bbox"]), gap


def compared(view: SceneView, ref: dict, a: dict, b: dict, near_a: tuple[float, float], near_b: tuple[float, float], cfg) -> tuple[str, float] | str:
    """`measure` for two distinct things that may each be compared (`from_reference`); the cheapest tests first."""
    (da, ga), (db, gb) = near_a, near_b
    found = compare(db, da, cfg.thresholds.distance_ratio, cfg.thresholds.same_ratio)  # the nearer one wins: compare reversed
    if found is None:
        return "distance_unclear"
    if contains(a["bbox"], b["bbox"]) or contains(b["bbox"], a["bbox"]):
        return "distance_one_inside_the_other"  # "the building or the sign on it?": one is part of the other's place
    # People judge nearness by the gaps between objects as well as by their middles: ask only where both agree.
    if found[0] != gap_verdict(ga, gb, cfg):
        return "distance_measures_disagree"
    if found[0] == SAME and abs(a["bbox"][3] - b["bbox"][3]) > SAME_DISTANCE_LEVEL * view.height:
        return "distance_same_at_different_depths"  # a white car "as near the clock" as a sign far off in the picture
    bottoms = (ref["bbox"][3], a["bbox"][3], b["bbox"][3])
    if max(bottoms) - min(bottoms) > GROUND_BAND * view.height and max(da, db) < FAR_RATIO * max(min(da, db), 1e-9):
        return "distance_depths_not_comparable"
    return found


def candidates(view: SceneView, cfg, key: str, limit: int) -> list[Candidate]:
    out = []
    named = view.named
    apart = {(x["id"], y["id"]): distinct_things(view, x, y) for i, x in enumerate(named) for y in named[i + 1 :]}
    for ref in named:
        if view.share(ref) > MAX_REFERENCE_SHARE:
            continue
        near = {o["id"]: from_reference(view, ref, o) for o in named if o is not ref}
        others = [o for o in named if o is not ref and not isinstance(near[o["id"]], str)]
        for i, a in enumerate(others):
            for b in others[i + 1 :]:
                if not apart[(a["id"], b["id"])]:
                    continue
                found = compared(view, ref, a, b, near[a["id"]], near[b["id"]], cfg)
                if isinstance(found, str):
                    continue
                verdict, clarity = found
                pa, pb = view.phrase[a["id"]], view.phrase[b["id"]]
                answer = {"x": pa, "y": pb, SAME: SAME}[verdict]
                out.append(Candidate("distance", slots_of(view, ref=ref, a=a, b=b), answer, [answer, *(t for t in (pa, pb, SAME) if t != answer)],
                                     [ref, a, b], clarity, {"ref": ref["id"], "a": a["id"], "b": b["id"]}, frozenset((ref["id"], a["id"], b["id"])),
                                     swappable=True))
        if len(out) >= 8 * limit:
            break
    return prefer_balance(out, key, limit)


def gap_verdict(ga: float, gb: float, cfg) -> str | None:
    """The gap measure's answer: 'x' when a is clearly nearer, 'y' when b is, SAME when alike, else None."""
    slack = 0.02 * max(ga, gb, 1.0)  # gaps of touching boxes are 0: compare with a little slack
    found = compare(gb + slack, ga + slack, cfg.thresholds.distance_ratio, cfg.thresholds.same_ratio)
    return found[0] if found else None


def prefer_balance(candidates: list[Candidate], key: str, limit: int) -> list[Candidate]:
    """Candidates of each answer kind (a named object, or SAME) in turn, so SAME is the answer about as
    often as it is offered divided by the options: its text then says nothing about its truth."""
    same = [c for c in candidates if c.answer == SAME]
    named = [c for c in candidates if c.answer != SAME]
    out = []
    while (same or named) and len(out) < limit:
        take_same = same and (not named or unit(key, "same", len(out)) < 1 / 3)
        out.append((same if take_same else named).pop(0))
    return out


def check(q: Check) -> Verdict:
    ref, a, b = (q.objects[q.args[k]] for k in ("ref", "a", "b"))
    if set(q.sample["options"]) - {q.text(a["id"]), q.text(b["id"]), SAME}:
        return False, "distance_option_not_a_candidate", q.sample
    found = measure(q.view, ref, a, b, q.cfg)
    if isinstance(found, str):
        return False, found, q.sample
    truth = {"x": q.text(a["id"]), "y": q.text(b["id"]), SAME: SAME}[found[0]]
    return (True, "distance_matches_boxes", q.sample) if q.chosen == truth else (False, "distance_contradicts_boxes", q.sample)


PHRASINGS = {
    "distance": (
        "In the picture, which is closer to the {ref}: the {a} or the {b}?",
        "Which object is nearer to the {ref} in the image: the {a} or the {b}?",
        "Measured in the picture from the {ref}, which is closer: the {a} or the {b}?",
    ),
}


CATEGORY = Category(
    "distance", "dist", 0.0625, {"reference": "ref", "first": "a", "second": "b"},
    "distance: which of two objects is nearer to a third one (the reference) in the picture, by box centres and gaps; only for "
    "compact things at comparable depth (their boxes' bottoms at about one height), or where one is at least three times "
    'nearer. Say "in the picture". Options: the two objects (and "about the same" when it is). Roles: reference, first, second.',
    candidates, check, hard=0.5, phrasings=PHRASINGS, compares=True,
)

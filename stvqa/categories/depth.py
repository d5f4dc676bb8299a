"""depth: which of two things is closer to the camera, only where the graph states in front of or behind."""

from __future__ import annotations

from ..lexicon import objecthood, predicates
from ..scene_view import SceneView
from .base import Candidate, Category, Check, Verdict, slots_of

DEPTH = frozenset({"in front of", "behind"})


def candidates(view: SceneView, cfg, key: str, limit: int) -> list[Candidate]:
    out = []
    for (s_id, o_id), stated in view.predicates.items():
        depth = {predicates.canonical(p) for p in stated} & DEPTH
        reverse = {predicates.canonical(p) for p in view.predicates.get((o_id, s_id), [])} & DEPTH
        if len(depth) != 1 or (reverse and reverse != {"behind" if depth == {"in front of"} else "in front of"}):
            continue  # no statement, or the graph says both "a in front of b" and "b in front of a"
        s, o = view.by_id[s_id], view.by_id[o_id]
        if s_id not in view.phrase or o_id not in view.phrase or objecthood.canonical(s["name"]) == objecthood.canonical(o["name"]):
            continue
        closer = s if depth == {"in front of"} else o
        pc, pf = view.phrase[closer["id"]], view.phrase[(o if closer is s else s)["id"]]
        out.append(Candidate("depth", slots_of(view, a=s, b=o), pc, [pc, pf], [s, o], 0.8,
                             {"a": s_id, "b": o_id}, frozenset((s_id, o_id)), swappable=True))
    out.sort(key=lambda c: (-sum(view.salience[x["id"]] for x in c.involved), c.args["a"], c.args["b"]))
    return out[:limit]


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


def check(q: Check) -> Verdict:
    a, b = q.args["a"], q.args["b"]
    if set(q.sample["options"]) - {q.text(a), q.text(b)}:
        return False, "depth_option_not_one_of_the_two", q.sample
    front = stated_in_front(q.scene["relationships"], a, b)
    if not front:
        return None, "unverifiable_depth_not_stated", q.sample
    if len(front) > 1:
        return False, "depth_graph_contradicts_itself", q.sample
    return (True, "depth_stated_in_graph", q.sample) if q.chosen == q.text(front.pop()) else (False, "depth_contradicts_graph", q.sample)


PHRASINGS = {
    "depth": (
        "Which is closer to the camera: the {a} or the {b}?",
        "Which of these is nearer to the viewer: the {a} or the {b}?",
        "From the camera's position, which is in front: the {a} or the {b}?",
    ),
}


CATEGORY = Category(
    "depth", "depth", 0.0625, {"first": "a", "second": "b"},
    'depth: which of two objects is closer to the camera; only where the graph states "in front of" or "behind" between them. '
    "Options: the two objects. Roles: first, second (the two compared).",
    candidates, check, hard=0.5, phrasings=PHRASINGS,
)

"""The template generator: deterministic multiple-choice questions for the nine spatial categories.

Every answer is computed from the scene graph and the boxes, never guessed, and every question names
only things a person can point at, each by a phrase that picks out exactly one object (see
`scene_view.py`). For each image, a seeded scheduler assigns categories to question slots up front
(see `schedule`), so generation is order-independent and can run in any number of processes.

What keeps the answer out of the text: answers and distractors of relation and reach questions come from
one canonical predicate vocabulary (`stvqa/lexicon/predicates.yaml`), distractors must be false for the
pair; count options are four consecutive numbers with the answer at an evenly spread rank; distance offers
"about the same" and asks it when it is true; existence draws "yes" and "no" objects from
one vocabulary of common things (`stvqa/lexicon/settings.yaml`); one image never asks about one pair twice.

Rating (1-10) is 10 minus the measured risks that a person would disagree with the answer: small boxes,
boxes covered by others, a thing that needs a referring expression, a deciding quantity close to its
threshold, a thing annotated again under another name. Level (easy/medium/hard) measures difficulty: small
or many objects, closeness to the threshold, and the category's inherent difficulty.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field
from functools import cache, partial
from typing import Any

import yaml

from ...lexicon import objecthood, predicates, settings, sizes
from ...records import LETTERS, LEVELS
from ...resources import resource_path
from ... import geometry as geo
from .config import GenerateConfig
from ...english import be, plural, with_article
from ...focus import subgraph
from ...hashing import permutation, unit, weighted_sample
from ...scene_view import DUPLICATE_IOU, SceneView, contains

SAME = "about the same"
HARD_CATEGORIES = {"reach": 0.3, "depth": 0.5, "distance": 0.5, "count": 0.3}
# Counting is safe only where annotators box every instance; these they rarely do (a street's cars and windows).
RARELY_EXHAUSTIVE = frozenset(
    "window tree car building leaf cloud light sign pole person brick tile rock flower plant bush book paper letter "
    "bottle wave umbrella chair".split()
)
MAX_REFERENCE_SHARE = 0.1  # the reference of a distance question is a compact thing
# Distances in the picture equal distances in the scene only at equal depth; where the ground line of two boxes
# differs by more than this share of the image height, one is nearer the camera (or raised off the ground, a sign
# on a wall) and "about the same" in the picture is not what a person sees.
SAME_DISTANCE_LEVEL = 0.15
MAX_WINNER_OCCLUSION = 0.5  # size compares box areas: apparent size only where the larger box is mostly visible
MIN_COUNT_SHARE = 0.002  # every counted instance covers at least 0.2% of the image: small ones are missed

# Text-only guessers learn how often an option text is the answer. VG's answers are skewed ("on" is most of
# its spatial predicates, 2 most of its counts), so common answers are kept less often (a hash decides);
# the debias stage then draws distractors so that every option text has a similar chance of being right.
ANSWER_KEEP = {"on": 0.25, "in": 0.6, "wearing": 0.35, "2": 0.1, "3": 0.7}
OPTIONS = 3  # answer and distractors of a relation or reach question; two where no two false options exclude each other
# The answer's rank among the four count options (0 = smallest), by the count: options start at 1, so small
# counts cannot take high ranks and larger ones make up for it, which leaves the rank near uniform overall.
COUNT_RANK_WEIGHTS = {2: (1, 1, 0, 0), 3: (1, 1, 1, 0)}
COUNT_RANK_WEIGHTS_LARGER = (0.1, 0.1, 0.3, 0.5)


@cache
def phrasings() -> dict[str, list[str]]:
    return yaml.safe_load(resource_path("prompts", "question_templates.yaml").read_text())


def schedule(image_id: str, cfg: GenerateConfig) -> list[str]:
    """The categories of an image's question slots, from a hash of (seed, image id, slot) alone."""
    shares = cfg.shares()
    names = list(shares)
    slots = []
    for slot in range(cfg.per_image):
        u, acc = unit("schedule", cfg.seed, image_id, slot), 0.0
        chosen = names[-1]
        for name in names:
            acc += shares[name]
            if u < acc:
                chosen = name
                break
        slots.append(chosen)
    return slots


@dataclass
class Candidate:
    template: str
    slots: dict[str, str]  # placeholders of the phrasing
    answer: str
    options: list[str]  # the answer and its distractors (ordered by the hash when the sample is made)
    involved: list[dict[str, Any]]  # objects the question is about: exactly the exported scene
    clarity: float  # 0..1, how far the deciding quantity is from its threshold
    args: dict[str, Any]  # what verification needs (object ids, class name, ...)
    pair: frozenset[str] = field(default_factory=frozenset)  # objects whose pairing one image asks about once
    swappable: bool = False  # the order of {a} and {b} in the question is drawn when the sample is made


def _slots(view: SceneView, **objects: dict) -> dict[str, str]:
    slots = {key: view.phrase[o["id"]] for key, o in objects.items()}
    if "a" in slots:
        slots["be_a"] = be(slots["a"])
    return slots


def distinct_things(view: SceneView, a: dict, b: dict) -> bool:
    """Two objects a question may compare: not one object under two names ("van" and "work truck" boxed alike)."""
    return not objecthood.overlaps(a["name"], b["name"]) and geo.iou(a["bbox"], b["bbox"]) < DUPLICATE_IOU


def _pairs(view: SceneView, by_position: bool = True) -> list[tuple[dict, dict]]:
    things = [o for o in view.named if by_position or view.refers_by[o["id"]] != "position"]
    return [(a, b) for i, a in enumerate(things) for b in things[i + 1 :] if distinct_things(view, a, b)]


def _asked_triples(view: SceneView, kind: str, key: str):
    """(subject, answer, object) to ask about, one per stated triple: the stated predicate, or its converse for the
    swapped pair ("A in front of B" as "B behind A"), which a hash picks, so both texts are answers alike. A pair
    stated only to be next to or near each other (never an answer: never false) is asked by the side its boxes show."""
    vocabulary = set(predicates.answer_vocabulary(kind))
    for r in view.scene["relationships"]:
        s, o = view.by_id[r["subject"]], view.by_id[r["object"]]
        answer = predicates.canonical(r["predicate"])
        if answer is not None and predicates.never_false(answer):
            answer = predicates.side_of(s["bbox"], o["bbox"])
        if answer not in vocabulary:
            continue
        converse = predicates.converse(answer)
        if converse in vocabulary and unit(key, "converse", s["id"], o["id"]) < 0.5:
            s, answer, o = o, converse, s
        yield s, answer, o


def _triple_candidates(view: SceneView, category: str, kind: str, limit: int, key: str,
                       subjects: frozenset[str] | None = None) -> list[Candidate]:
    """Questions about stated triples (`_asked_triples`): the canonical predicate is the answer; distractors are
    predicates of the same kind that are false for the pair (incompatible with everything true of it, refuted by
    the boxes where they can decide), drawn from the same vocabulary as the answers. Not asked about: boxes that
    fill the frame."""
    out, seen = [], set()
    for s, answer, o in _asked_triples(view, kind, key):
        if s["id"] not in view.phrase or o["id"] not in view.phrase or objecthood.canonical(s["name"]) == objecthood.canonical(o["name"]):
            continue
        if subjects is not None and subjects.isdisjoint(objecthood.is_a(s["name"])):
            continue  # not a kind of these (`subjects`: reach asks people and animals only)
        if (s["id"], o["id"], answer) in seen:
            continue
        seen.add((s["id"], o["id"], answer))
        if view.fills_frame(s) or view.fills_frame(o):
            continue
        if predicates.refuted_by_boxes(answer, s["bbox"], o["bbox"], view.width, view.height):
            continue  # the annotation contradicts its own boxes
        true = view.true_of_pair(s, o)
        pool = predicates.distractors(answer, s["bbox"], o["bbox"], view.width, view.height, also_true=true)
        if (opposite := predicates.converse(answer)) in pool and opposite in predicates.GEOMETRIC:
            # "to the left of" or "to the right of": the boxes never refute both, so a third option offered with
            # them could never be the answer; a guesser would strike it out. Just the two.
            pool = [opposite]
        pool = [predicates.phrase(p) for p in pool]
        if not pool or unit(key, "keep", s["id"], o["id"]) >= ANSWER_KEEP.get(answer, 1.0):
            continue
        # Options that exclude one another. Two distractors that could both be true would give the answer away
        # (neither can be a distractor of the other, so the third option is the answer: "above" and "on" offered,
        # "under" it is), so where the pool has no such pair the question has two options, not three.
        chosen = weighted_sample(pool, [1.0] * len(pool), OPTIONS - 1, key, "distractors", s["id"], o["id"], excludes=predicates.compatible)
        together = [[x, y] for i, x in enumerate(pool) for y in pool[i + 1:] if predicates.compatible(x, y)]
        out.append(Candidate(category, _slots(view, a=s, b=o), predicates.phrase(answer), [predicates.phrase(answer), *chosen],
                             [s, o], 0.6 if category == "relation" else 0.7,
                             {"a": s["id"], "b": o["id"], "predicate": answer, "pool": pool, "compatible": together},
                             frozenset((s["id"], o["id"]))))
    out.sort(key=lambda c: (-sum(view.salience[x["id"]] for x in c.involved), c.args["a"], c.args["b"], c.answer))
    return out[:limit]


def relation_candidates(view: SceneView, cfg: GenerateConfig, key: str, limit: int) -> list[Candidate]:
    return _triple_candidates(view, "relation", "spatial", limit, key)


AGENTS = frozenset({"person", "animal"})  # what "What is the X doing with the Y?" can be asked of


def reach_candidates(view: SceneView, cfg: GenerateConfig, key: str, limit: int) -> list[Candidate]:
    """Interactions of people and animals only: VG also says "the pin is holding the note", but "What is the
    push pin doing with the reminder?" is no question a person would ask."""
    return _triple_candidates(view, "reach", "interaction", limit, key, subjects=AGENTS)


def _compare(x: float, y: float, ratio: float, same: float) -> tuple[str, float] | None:
    """'x' / 'y' when one is at least `ratio` times the other, SAME when within `same`, else None (unclear)."""
    big, small = max(x, y), max(min(x, y), 1e-9)
    if big >= ratio * small:
        return ("x" if x > y else "y"), min(1.0, (big / small - ratio) / 3 + 0.3)
    if big <= same * small:
        # At most half clear: people draw the line of "about the same" in different places (all 8 disagreements of
        # the first annotation round were such answers).
        return SAME, min(0.5, (same - big / small) / (same - 1) + 0.3)
    return None


def size_candidates(view: SceneView, cfg: GenerateConfig, key: str, limit: int) -> list[Candidate]:
    """The larger of two things by box area. No "about the same": box areas of partly hidden objects are not
    what a person sees, and people judged the close cases differently from the boxes (see the README).

    A guesser who knows what things usually are answers "the car or the cup?" without looking. So where the
    kinds' typical sizes differ a lot (`sizes.prior_larger`), `args["prior"]` says whether the image "agrees"
    with them or "contradicts" them (a far-off car smaller than a cup near the camera), and the debias stage
    thins the agreeing ones over the whole table until the prior no longer pays. Boxes that fill the frame (the
    photo itself) are never compared."""
    out = []
    for a, b in _pairs(view):
        if view.fills_frame(a) or view.fills_frame(b):
            continue  # the photo itself, or a close-up's backdrop
        found = _compare(geo.area(a["bbox"]), geo.area(b["bbox"]), cfg.thresholds.size_ratio, cfg.thresholds.same_ratio)
        if found is None or found[0] == SAME:
            continue
        verdict, clarity = found
        winner = a if verdict == "x" else b
        if view.occlusion(winner) > MAX_WINNER_OCCLUSION:
            continue  # the larger box is largely covered by another: its visible part may be the smaller
        pa, pb = view.phrase[a["id"]], view.phrase[b["id"]]
        answer = pa if verdict == "x" else pb
        args = {"a": a["id"], "b": b["id"]}
        if prior := sizes.prior_larger(a["name"], b["name"]):
            args["prior"] = "agrees" if prior == winner["name"] else "contradicts"
        out.append(Candidate("size", _slots(view, a=a, b=b), answer, [pa, pb], [a, b], clarity,
                             args, frozenset((a["id"], b["id"])), swappable=True))
    return out[:limit]


def orientation_candidates(view: SceneView, cfg: GenerateConfig, key: str, limit: int) -> list[Candidate]:
    out = []
    for a, b in _pairs(view, by_position=False):  # "the chair on the left" would give a left/right answer away
        if unit(key, "orientation-order", a["id"], b["id"]) < 0.5:
            a, b = b, a
        for axis, order, extent, labels in (("horizontal", geo.horizontal_order, view.width, ("left", "right")),
                                             ("vertical", geo.vertical_order, view.height, ("above", "below"))):
            side = order(a["bbox"], b["bbox"], extent, cfg.thresholds.position_margin)
            if side:
                i = 0 if axis == "horizontal" else 1
                gap = abs(geo.centre(a["bbox"])[i] - geo.centre(b["bbox"])[i]) / extent
                out.append(Candidate(f"orientation_{axis}", _slots(view, a=a, b=b), side, list(labels), [a, b], min(1.0, gap / 0.5),
                                     {"a": a["id"], "b": b["id"], "axis": axis}, frozenset((a["id"], b["id"]))))
                break
    return out[:limit]


def instance_location_candidates(view: SceneView, cfg: GenerateConfig, key: str, limit: int) -> list[Candidate]:
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
        out.append(Candidate("instance_location", _slots(view, a=a), cell, [cell, *distractors], [a], clarity,
                             {"a": a["id"], "pool": others}, frozenset((a["id"],))))
    return out[:limit]


def depth_candidates(view: SceneView, cfg: GenerateConfig, key: str, limit: int) -> list[Candidate]:
    out = []
    for (s_id, o_id), stated in view.predicates.items():
        depth = {predicates.canonical(p) for p in stated} & {"in front of", "behind"}
        reverse = {predicates.canonical(p) for p in view.predicates.get((o_id, s_id), [])} & {"in front of", "behind"}
        if len(depth) != 1 or (reverse and reverse != {"behind" if depth == {"in front of"} else "in front of"}):
            continue  # no statement, or the graph says both "a in front of b" and "b in front of a"
        s, o = view.by_id[s_id], view.by_id[o_id]
        if s_id not in view.phrase or o_id not in view.phrase or objecthood.canonical(s["name"]) == objecthood.canonical(o["name"]):
            continue
        closer, farther = (s, o) if depth == {"in front of"} else (o, s)
        pc, pf = view.phrase[closer["id"]], view.phrase[farther["id"]]
        out.append(Candidate("depth", _slots(view, a=s, b=o), pc, [pc, pf], [s, o], 0.8,
                             {"closer": closer["id"], "farther": farther["id"]}, frozenset((s_id, o_id)), swappable=True))
    out.sort(key=lambda c: (-sum(view.salience[x["id"]] for x in c.involved), c.args["closer"], c.args["farther"]))
    return out[:limit]


def distance_candidates(view: SceneView, cfg: GenerateConfig, key: str, limit: int) -> list[Candidate]:
    out = []
    named = view.named
    apart = {(x["id"], y["id"]): distinct_things(view, x, y) for i, x in enumerate(named) for y in named[i + 1 :]}
    apart.update({(y, x): v for (x, y), v in list(apart.items())})
    for ref in named:
        if view.share(ref) > MAX_REFERENCE_SHARE:
            continue  # "closer to the building" means little when the building fills the picture
        # Objects touching the reference are not "closer" or "farther" in any way a person would agree on.
        measures = {o["id"]: (geo.centre_distance(ref["bbox"], o["bbox"]), geo.gap(ref["bbox"], o["bbox"]))
                    for o in named if o is not ref and apart[(o["id"], ref["id"])]}
        others = [o for o in named if o["id"] in measures and measures[o["id"]][1] > 0]
        for i, a in enumerate(others):
            for b in others[i + 1 :]:
                if not apart[(a["id"], b["id"])] or contains(a["bbox"], b["bbox"]) or contains(b["bbox"], a["bbox"]):
                    continue  # "the building or the sign on it?": one is part of the other's place
                (da, ga), (db, gb) = measures[a["id"]], measures[b["id"]]
                found = _compare(db, da, cfg.thresholds.distance_ratio, cfg.thresholds.same_ratio)  # the nearer one wins: compare reversed
                # People judge nearness by the gaps between objects as well as by their middles: ask only
                # where both measures give the same answer.
                if found is None or found[0] != _gap_verdict(ga, gb, cfg):
                    continue
                verdict, clarity = found
                if verdict == SAME and abs(a["bbox"][3] - b["bbox"][3]) > SAME_DISTANCE_LEVEL * view.height:
                    continue  # annotators judged the white car nearer the clock than a sign as far away in the picture
                pa, pb = view.phrase[a["id"]], view.phrase[b["id"]]
                answer = {"x": pa, "y": pb, SAME: SAME}[verdict]
                out.append(Candidate("distance", _slots(view, ref=ref, a=a, b=b), answer, [answer, *(t for t in (pa, pb, SAME) if t != answer)],
                                     [ref, a, b], clarity, {"ref": ref["id"], "a": a["id"], "b": b["id"]}, frozenset((ref["id"], a["id"], b["id"])),
                                     swappable=True))
        if len(out) >= 8 * limit:
            break
    return _prefer_balance(out, key, limit)


def _gap_verdict(ga: float, gb: float, cfg: GenerateConfig) -> str | None:
    """The gap measure's answer: 'x' when a is clearly nearer, 'y' when b is, SAME when alike, else None."""
    slack = 0.02 * max(ga, gb, 1.0)  # gaps of touching boxes are 0: compare with a little slack
    found = _compare(gb + slack, ga + slack, cfg.thresholds.distance_ratio, cfg.thresholds.same_ratio)
    return found[0] if found else None


def _prefer_balance(candidates: list[Candidate], key: str, limit: int) -> list[Candidate]:
    """Candidates of each answer kind (a named object, or SAME) in turn, so SAME is the answer about as
    often as it is offered divided by the options: its text then says nothing about its truth."""
    same = [c for c in candidates if c.answer == SAME]
    named = [c for c in candidates if c.answer != SAME]
    out = []
    while (same or named) and len(out) < limit:
        take_same = same and (not named or unit(key, "same", len(out)) < 1 / 3)
        out.append((same if take_same else named).pop(0))
    return out


def count_candidates(view: SceneView, cfg: GenerateConfig, key: str, limit: int) -> list[Candidate]:
    """Only classes whose annotation is plausibly exhaustive: no group box or plural name of the class, no
    overlapping class annotated apart (men and persons), every instance large enough not to be missed."""
    low, high = cfg.thresholds.count_range
    out = []
    for name, n in sorted(view.class_counts().items(), key=lambda kv: (-kv[1], kv[0])):
        if not low <= n <= high or name in RARELY_EXHAUSTIVE:  # the name itself, not its kinds (`rarely_exhaustive`): men are counted
            continue
        members = view.instances(name)
        if any(m["id"] not in view.thing_ids for m in members):
            continue  # a group box or a plural name of the class: some instances are not boxed one by one
        if any(objecthood.overlaps(name, o["name"]) and objecthood.canonical(o["name"]) != name for o in view.objects):
            continue  # "how many men?" with a "person" annotated too
        if min(view.share(m) for m in members) < MIN_COUNT_SHARE:
            continue
        if unit(key, "keep", name) >= ANSWER_KEEP.get(str(n), 1.0):
            continue
        weights = COUNT_RANK_WEIGHTS.get(n, COUNT_RANK_WEIGHTS_LARGER)
        rank = weighted_sample(range(4), weights, 1, key, "count-rank", name)[0]
        numbers = [str(v) for v in range(n - rank, n - rank + 4)]
        out.append(Candidate("count", {"plural": plural(name)}, str(n), [str(n), *(v for v in numbers if v != str(n))], members,
                             1.0 if n <= 4 else 0.6, {"name": name}, frozenset(m["id"] for m in members)))
        if len(out) >= limit:
            break
    return out


RELATIONAL_PREDICATES = ("on", "under", "above", "next to", "in")  # the boxes can refute each: a "no" is checkable
RELATIONAL_SHARE = 0.3  # of existence questions, asked about a thing in relation to another when the image allows
CONTAINERS = ("on", "in", "under")  # asked as "no" only of things smaller than the reference, as a person would ask


def rarely_exhaustive(name: str) -> bool:
    """Whether annotators rarely box every thing of this kind (its own name or a kind it is a kind of)."""
    return not RARELY_EXHAUSTIVE.isdisjoint(objecthood.is_a(name))


def relational_facts(view: SceneView, answer: str) -> list[tuple]:
    """Every "Is there a <class> <predicate> <ref>?" the image can answer with `answer`, in a fixed order: "yes"
    where the graph states it (and the boxes do not refute it), "no" where the image has such things but the
    boxes refute that any is in that relation. A "no" needs every such thing boxed and the reference to be the
    only one of its kind: neither may be of a kind annotators rarely box one by one (a street's signs, poles and
    windows), or "the sign" may be another one, unboxed, with a parking meter beside it."""
    facts = []
    classes = [(cls, view.instances(cls)) for cls in sorted(view.class_counts())]
    classes = [(cls, members) for cls, members in classes if all(m["id"] in view.thing_ids for m in members)]
    if answer == "no":
        classes = [(cls, members) for cls, members in classes if not rarely_exhaustive(cls)]
    for ref in view.named:
        if answer == "no" and rarely_exhaustive(ref["name"]):
            continue
        for cls, members in classes:
            if objecthood.overlaps(cls, ref["name"]):
                continue
            said = [_stated(view, m["id"], ref["id"]) for m in members]
            if answer == "yes" and not any(said):
                continue
            smaller = answer == "no" and all(geo.area(m["bbox"]) < geo.area(ref["bbox"]) for m in members)
            # "A work truck above the clock?", "a parking meter in the clock?": no, but no one would ask.
            typically_larger = answer == "no" and sizes.prior_larger(cls, ref["name"]) == cls
            for p in RELATIONAL_PREDICATES:
                refuted = partial(predicates.refuted_by_boxes, p, object_box=ref["bbox"], width=view.width, height=view.height)
                stated = [m for m, ps in zip(members, said) if p in ps]
                if answer == "yes" and stated and not any(refuted(m["bbox"]) for m in stated):
                    facts.append((cls, p, ref, stated))
                elif answer == "no" and not stated and (p not in CONTAINERS or smaller) and not typically_larger \
                        and all(refuted(m["bbox"]) for m in members):
                    facts.append((cls, p, ref, members))  # "a truck on the man" is no, but says so by itself
    return facts


def relational_existence(view: SceneView, facts: dict[str, list[tuple]], key: str, i: int) -> Candidate | None:
    """"Is there a cup on the table?" (`relational_facts`, worked out once per image and answer into `facts`),
    yes or no as a hash draws. Needs the image to answer."""
    answer = "yes" if unit(key, "existence-relation", i) < 0.5 else "no"
    if answer not in facts:
        facts[answer] = relational_facts(view, answer)
    if not (found := facts[answer]):
        return None
    cls, p, ref, members = found[int(unit(key, "existence-relation-pick", i) * len(found))]
    return Candidate("existence_relation", {"a_name": with_article(cls), "predicate": predicates.phrase(p), "b": view.phrase[ref["id"]]},
                     answer, ["yes", "no"], [*members, ref], 0.8,
                     {"name": cls, "present": answer == "yes", "predicate": p, "ref": ref["id"]}, frozenset(m["id"] for m in [*members, ref]))


def _stated(view: SceneView, subject: str, obj: str) -> set[str]:
    """Canonical predicates the graph states for (subject, object), with what they imply."""
    return predicates.with_implied(view.predicates.get((subject, obj), []))


def existence_candidates(view: SceneView, cfg: GenerateConfig, key: str, limit: int) -> list[Candidate]:
    """Yes and no from one vocabulary of common things. "No" only for a thing with no synonym, kind or
    annotators' swap present, from a setting none of the image's things belongs to. Some ask about a thing
    in relation to another (`relational_existence`)."""
    vocabulary = settings.vocabulary()
    present = {objecthood.canonical(n) for n in view.names_present}
    blocked = set().union(*(objecthood.related(n) for n in view.names_present)) if view.names_present else set()
    scene_settings = settings.scene_settings(view.names_present)
    yes = sorted({c for c in present if c in vocabulary and all(o["id"] in view.thing_ids for o in view.instances(c))})
    no = [n for n in vocabulary if n not in blocked and n not in present and scene_settings and not settings.settings_of(n) & scene_settings]
    out, facts = [], {}
    for i in range(limit):
        if unit(key, "existence-kind", i) < RELATIONAL_SHARE and (relational := relational_existence(view, facts, key, i)):
            out.append(relational)
            continue
        want_yes = unit(key, "existence", i) < 0.5
        pool = (yes if want_yes else no) or (no if want_yes else yes)
        if not pool:
            break
        name = pool[int(unit(key, "existence-name", i) * len(pool))]
        if name in present:
            members = view.instances(name)
            out.append(Candidate("existence", {"a_name": with_article(name)}, "yes", ["yes", "no"], members, 1.0,
                                 {"name": name, "present": True}, frozenset(m["id"] for m in members)))
            yes.remove(name)
        else:
            out.append(Candidate("existence", {"a_name": with_article(name)}, "no", ["yes", "no"], [], 1.0, {"name": name, "present": False}))
            no.remove(name)
    return out


GENERATORS = {
    "relation": relation_candidates, "reach": reach_candidates, "size": size_candidates, "orientation": orientation_candidates,
    "instance_location": instance_location_candidates, "depth": depth_candidates, "distance": distance_candidates,
    "count": count_candidates, "existence": existence_candidates,
}


REFERRING_RISK = {"attribute": 0.5, "position": 0.7, "relation": 0.7}  # VG's attributes and relations can be wrong


def risks(candidate: Candidate, view: SceneView) -> dict[str, float]:
    """What could make a careful person disagree with the answer, each in 0..1."""
    involved = candidate.involved
    smallest = min((view.share(o) for o in involved), default=1.0)
    return {
        "small": 1.0 if smallest < 0.005 else 0.5 if smallest < 0.02 else 0.0,
        "occluded": max((view.occlusion(o) for o in involved), default=0.0) ** 2,
        "referred": max((REFERRING_RISK.get(view.refers_by.get(o["id"]), 0.0) for o in involved), default=0.0),
        "unclear": 1.0 - candidate.clarity,
        "name_disputed": 1.0 if any(view.name_disputed(o) for o in involved) else 0.0,
    }


def rating_and_level(candidate: Candidate, view: SceneView, category: str) -> tuple[int, str]:
    r = risks(candidate, view)
    rating = round(10 - 3 * r["small"] - 2 * r["occluded"] - 2 * r["referred"] - 4 * r["unclear"] - 3 * r["name_disputed"])
    difficulty = r["small"] + 0.5 * r["referred"] + r["unclear"] + HARD_CATEGORIES.get(category, 0.0) + 0.1 * max(0, len(candidate.involved) - 2)
    level = LEVELS[0] if difficulty < 0.5 else LEVELS[1] if difficulty < 1.0 else LEVELS[2]
    return int(min(10, max(1, rating))), level


def question_focus(candidate: Candidate, view: SceneView) -> dict[str, Any]:
    """The question-focused subgraph: exactly the objects the question refers to (the table of "the cup on the
    table" too), and the relations among them."""
    ids = {o["id"] for o in candidate.involved} | {view.anchor[o["id"]] for o in candidate.involved if o["id"] in view.anchor}
    return subgraph(view.objects, view.scene["relationships"], ids)


def names_its_own_answer(candidate: Candidate, view: SceneView) -> bool:
    """Whether the question would name one of its objects by its relation to another of them: "Where is the cup
    on the table relative to the table?"."""
    ids = {o["id"] for o in candidate.involved}
    return any(view.anchor.get(i) in ids for i in ids)


def make_sample(candidate: Candidate, view: SceneView, cfg: GenerateConfig, sample_id: str, category: str) -> dict[str, Any]:
    """A QA row: phrasing, shuffled options, letter, level, rating and the question-focused subgraph."""
    templates = phrasings()[candidate.template]
    template_index = int(unit("phrasing", cfg.seed, sample_id) * len(templates))
    slots = dict(candidate.slots)
    if candidate.swappable and unit("order", cfg.seed, sample_id) < 0.5:
        slots["a"], slots["b"] = slots["b"], slots["a"]
        slots["be_a"] = be(slots["a"])
    question = templates[template_index].format(**slots)
    texts = candidate.options[: len(LETTERS)]
    order = permutation(len(texts), "options", cfg.seed, sample_id)
    options = [texts[i] for i in order]
    rating, level = rating_and_level(candidate, view, category)
    texts = {o["id"]: view.phrase[o["id"]] for o in candidate.involved if o["id"] in view.phrase and category not in ("count", "existence")}
    args = dict(candidate.args, texts=texts) if texts else candidate.args
    return {
        "sample_id": sample_id,
        "image_id": view.scene["image_id"],
        "category": category,
        "question": question[0].upper() + question[1:],
        "options": options,
        "answer": LETTERS[options.index(candidate.answer)],
        "answer_text": candidate.answer,
        "level": level,
        "rating": rating,
        "focus": json.dumps(question_focus(candidate, view), separators=(", ", ": ")),
        "args": json.dumps(args, sort_keys=True),
        "template": f"{candidate.template}/{template_index}",
        "generator": "template",
    }


def generate_for_scene(scene: dict[str, Any], cfg: GenerateConfig, shortfalls: Counter) -> list[dict[str, Any]]:
    """Questions for one image, following its slot schedule; categories it cannot serve are counted in
    `shortfalls`. One image asks about one pair of objects once, and never repeats a question."""
    view = SceneView(scene)
    samples = []
    cache_: dict[str, list[Candidate]] = {}
    slots = schedule(scene["image_id"], cfg)
    wanted = Counter(slots)
    asked_pairs: set[frozenset[str]] = set()
    asked_texts: set[str] = set()
    key = f"{cfg.seed}:{scene['image_id']}"
    for slot, category in enumerate(slots):
        if category not in cache_:
            # A few spare candidates per slot: some are taken by pairs other categories already asked about.
            cache_[category] = GENERATORS[category](view, cfg, key, 3 * wanted[category] + 2)
        sample = None
        while cache_[category] and sample is None:
            candidate = cache_[category].pop(0)
            if len(candidate.pair) > 1 and any(len(candidate.pair & p) >= 2 for p in asked_pairs):
                continue
            if names_its_own_answer(candidate, view):
                continue
            made = make_sample(candidate, view, cfg, f"{scene['image_id']}:{slot}", category)
            if made["question"] in asked_texts:
                continue
            sample = made
            asked_pairs.add(candidate.pair)
            asked_texts.add(made["question"])
        if sample is None:
            shortfalls[category] += 1
        else:
            samples.append(sample)
    return samples

"""existence: is there a thing in the image ("Is there a cup?"), or in relation to another ("a cup on the table?")."""

from __future__ import annotations

import re
from functools import partial

from .. import geometry as geo
from ..english import with_article
from ..hashing import unit
from ..lexicon import objecthood, predicates, settings, sizes
from ..lexicon.mentions import named_objects
from ..scene_view import SceneView
from .base import Candidate, Category, Check, Verdict
from .count import instances, rarely_exhaustive

RELATIONAL_PREDICATES = ("on", "under", "above", "next to", "in")  # the boxes can refute each: a "no" is checkable
RELATIONAL_SHARE = 0.3  # of existence questions, asked about a thing in relation to another when the image allows
CONTAINERS = ("on", "in", "under")
CORNER_SHARE, EDGE = 0.05, 0.01  # a box this small in a corner of the frame (two edges within 1%): mostly outside the picture  # asked as "no" only of things smaller than the reference, as a person would ask


def not_askable_present(view: SceneView, name: str) -> str | None:
    """Why "Is there a <name>?" may not be answered "yes", or None: the one rule of the candidates and of the check."""
    members = view.instances(name)
    if any(m["id"] not in view.thing_ids for m in members):
        return "existence_object_not_a_thing"  # "Is there a sky?", or a group box of the class
    if all(view.share(m) < CORNER_SHARE and _borders_touched(view, m["bbox"]) >= 2 for m in members):
        return "existence_yes_barely_in_picture"  # a corner of a bench at the frame's edge: is that a bench?
    return None


def _borders_touched(view: SceneView, box) -> int:
    x1, y1, x2, y2 = box
    edge_x, edge_y = EDGE * view.width, EDGE * view.height
    return (x1 <= edge_x) + (y1 <= edge_y) + (x2 >= view.width - edge_x) + (y2 >= view.height - edge_y)


def not_askable_absent(view: SceneView, name: str) -> str | None:
    """Why "Is there a <name>?" may not be answered "no", or None: the one rule of the candidates and of the check.
    Only a thing of the vocabulary of common things, with no synonym, kind or annotators' swap present, from a
    setting none of the image's things belongs to (an unannotated car in a street is no "no")."""
    if name not in settings.vocabulary() and objecthood.canonical(name) not in settings.vocabulary():
        return "existence_no_outside_vocabulary"
    if name in view.related_to_present:
        return "existence_no_but_related_present"
    if not view.scene_settings or settings.settings_of(name) & view.scene_settings:
        return "existence_no_fits_the_setting"
    return None


def relational_facts(view: SceneView, answer: str) -> list[tuple]:
    """Every "Is there a <class> <predicate> <ref>?" the image can answer with `answer`, in a fixed order: "yes"
    where the graph states it (and the boxes do not refute it), "no" where `not_askable_relational_no` allows it."""
    facts = []
    classes = [(cls, view.instances(cls)) for cls in sorted(view.class_counts())]
    classes = [(cls, members) for cls, members in classes if all(m["id"] in view.thing_ids for m in members)]
    if answer == "no":  # what `not_askable_relational_no` refuses for any predicate, skipped before the pairs
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
            if answer == "no" and _pair_problem(cls, ref) is not None:
                continue
            for p in RELATIONAL_PREDICATES:
                stated = [m for m, ps in zip(members, said) if p in ps]
                if answer == "yes" and stated and not any(_refuted(view, p, m, ref) for m in stated):
                    facts.append((cls, p, ref, stated))
                elif answer == "no" and not stated and _predicate_problem(view, members, ref, p) is None:
                    facts.append((cls, p, ref, members))  # "a truck on the man" is no, but says so by itself
    return facts


def _refuted(view: SceneView, p: str, member: dict, ref: dict) -> bool:
    return predicates.refuted_by_boxes(p, member["bbox"], ref["bbox"], view.width, view.height)


def not_askable_relational_no(view: SceneView, cls: str, members: list[dict], ref: dict, p: str) -> str | None:
    """Why "Is there a <cls> <p> the <ref>?" may not be answered "no", or None: the one rule of the candidates and
    of the check. A "no" needs every such thing boxed and the reference to be the only one of its kind: neither may
    be of a kind annotators rarely box one by one (a street's signs, poles and windows), or "the sign" may be
    another one, unboxed, with a parking meter beside it; and the boxes must refute the relation for every one."""
    return _pair_problem(cls, ref) or _predicate_problem(view, members, ref, p)


def _pair_problem(cls: str, ref: dict) -> str | None:
    if rarely_exhaustive(cls) or rarely_exhaustive(ref["name"]):
        return "existence_no_class_rarely_boxed_one_by_one"
    if sizes.prior_larger(cls, ref["name"]) == cls:
        return "existence_no_typically_larger"  # "a work truck above the clock?"
    return None


def _predicate_problem(view: SceneView, members: list[dict], ref: dict, p: str) -> str | None:
    if p == "in":
        return "existence_no_inside_unseen"  # "a clock in the work truck?": what is inside a thing the picture may not show
    if p in CONTAINERS and not all(geo.area(m["bbox"]) < geo.area(ref["bbox"]) for m in members):
        return "existence_no_container_smaller"  # "a parking meter on the clock?": no, but no one would ask
    if not all(_refuted(view, p, m, ref) for m in members):
        return "existence_relation_not_refuted"
    return None


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


def candidates(view: SceneView, cfg, key: str, limit: int) -> list[Candidate]:
    """Yes and no from one vocabulary of common things. "No" only for a thing with no synonym, kind or
    annotators' swap present, from a setting none of the image's things belongs to. Some ask about a thing
    in relation to another (`relational_existence`)."""
    vocabulary = settings.vocabulary()
    present = {objecthood.canonical(n) for n in view.names_present}
    yes = sorted({c for c in present if c in vocabulary and not_askable_present(view, c) is None})
    no = [n for n in vocabulary if not_askable_absent(view, n) is None]
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


RELATIONAL_PHRASES = {"next to": "next to", "on top of": "on", "on": "on", "in": "in", "inside": "in", "under": "under",
                      "below": "under", "beneath": "under", "above": "above", "over": "above"}


def relational_predicate(question: str) -> str | None:
    """The relation of "Is there a cup on the table?" as the categories name it (on, in, under, above, next to)."""
    lowered = question.lower()
    for phrase in sorted(RELATIONAL_PHRASES, key=len, reverse=True):
        if re.search(rf"\b{phrase}\s+(?:the|a|an)\b", lowered):
            return RELATIONAL_PHRASES[phrase]
    return None


def absent_name(question: str, scene_names: set[str]) -> str | None:
    """The thing an existence question answered "no" asks about: a name of the lexicon the graph does not have."""
    for name in named_objects(question):
        if name not in scene_names and not any(objecthood.overlaps(name, n) for n in scene_names):
            return name
    return None


def asked_name(q: Check) -> str | None:
    """The class asked about: a template's record, the class of the object a writer named, or (a "no") the absent name."""
    if q.args.get("name"):
        return q.args["name"]
    if q.args.get("object"):
        return objecthood.canonical(q.objects[q.args["object"]]["name"])
    return absent_name(q.sample.get("question") or "", {o["name"] for o in q.scene["objects"]})


def check(q: Check) -> Verdict:
    if sorted(q.sample["options"]) != ["no", "yes"]:
        return False, "existence_options_not_yes_no", q.sample
    name = asked_name(q)
    if name is None:
        return None, "unverifiable_existence_object_not_identified", q.sample
    if q.args.get("ref"):
        predicate = q.args.get("predicate") or relational_predicate(q.sample.get("question") or "")
        if predicate is None:
            return None, "unverifiable_existence_relation_not_identified", q.sample
        return _check_relational(q, name, predicate)
    if q.chosen == "yes":
        if not q.view.instances(name):
            return False, "existence_contradicts_graph", q.sample
        if problem := not_askable_present(q.view, name):
            return False, problem, q.sample
        return True, "existence_matches_graph", q.sample
    if any(objecthood.overlaps(name, o["name"]) for o in q.scene["objects"]):
        return False, "existence_no_but_related_present", q.sample  # "no street" beside an annotated road
    if problem := not_askable_absent(q.view, name):
        return False, problem, q.sample
    return True, "existence_matches_graph", q.sample


def _check_relational(q: Check, name: str, predicate: str) -> Verdict:
    """"Is there a cup on the table?": yes needs a stated relation the boxes allow; no needs the boxes to
    refute it for every cup."""
    ref = q.objects[q.args["ref"]]
    canonical = objecthood.canonical(name)
    members = [o for o in q.scene["objects"] if objecthood.canonical(o["name"]) == canonical]
    if not members:
        return False, "existence_object_not_in_graph", q.sample
    said = [m for m in members if predicate in _stated(q.view, m["id"], ref["id"])]
    if q.chosen == "yes":
        if not said:
            return False, "existence_relation_not_stated", q.sample
        if any(_refuted(q.view, predicate, m, ref) for m in said):
            return False, "existence_relation_refuted_by_boxes", q.sample  # the annotation contradicts its own boxes
        return True, "existence_relation_stated", q.sample
    if said:
        return False, "existence_no_but_relation_stated", q.sample
    if problem := not_askable_relational_no(q.view, canonical, members, ref, predicate):
        return False, problem, q.sample
    return True, "existence_no_refuted_by_boxes", q.sample


PHRASINGS = {
    "existence": (
        "Is there {a_name} in the image?",
        "Does the image contain {a_name}?",
        "Can you see {a_name} in this image?",
    ),
    "existence_relation": (
        "Is there {a_name} {predicate} the {b}?",
        "Can you see {a_name} {predicate} the {b}?",
        "Does the image show {a_name} {predicate} the {b}?",
    ),
}


CATEGORY = Category(
    "existence", "exist", 0.0625, {"object": "object", "reference": "ref"},
    'existence: is there a given object in the image (or on, in, under, above or next to another: "Is there a cup on the table?"). '
    'Answer "yes" for an object of the graph; answer "no" only for a common object that is absent and of no kind related to '
    "anything present. Options: yes, no. Roles: object (an object of the kind asked about; none when it is absent), reference "
    "(the other object of a relation, if the question has one).",
    candidates, check, optional_roles=frozenset({"object", "reference"}), phrasings=PHRASINGS,
)

"""relation: how one thing is placed relative to another ("Where is the cup with respect to the table?"), the
answer a spatial predicate the graph states. reach (`reach.py`) asks interactions the same way."""

from __future__ import annotations

import json

from ..lexicon import objecthood, predicates
from ..hashing import unit, weighted_sample
from ..records import LETTERS
from ..scene_view import SceneView
from .base import ANSWER_KEEP, Candidate, Category, Check, Verdict, slots_of

OPTIONS = 3  # answer and distractors; two where no two false options exclude each other
ROLES = {"subject": "a", "reference": "b"}
DEPTH_ANSWERS = frozenset({"in front of", "behind"})
SUPPORT = frozenset({"on", "in", "under", "above"})  # clear even of a surface across the whole picture ("the cup on the counter")


def asked_triples(view: SceneView, kind: str, key: str):
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


def triple_candidates(view: SceneView, category: str, kind: str, limit: int, key: str,
                      subjects: frozenset[str] | None = None) -> list[Candidate]:
    """Questions about stated triples (`asked_triples`): the canonical predicate is the answer; distractors are
    predicates of the same kind that are false for the pair (incompatible with everything true of it, refuted by
    the boxes where they can decide), drawn from the same vocabulary as the answers. Not asked about: boxes that
    fill the frame."""
    out, seen = [], set()
    for s, answer, o in asked_triples(view, kind, key):
        if s["id"] not in view.phrase or o["id"] not in view.phrase or (s["id"], o["id"], answer) in seen:
            continue
        seen.add((s["id"], o["id"], answer))
        if triple_problem(view, s, o, answer, category, subjects):
            continue
        pool = [predicates.phrase(p) for p in distractor_pool(view, s, o, answer)]
        if not pool or unit(key, "keep", s["id"], o["id"]) >= ANSWER_KEEP.get(answer, 1.0):
            continue
        # Options that exclude one another. Two distractors that could both be true would give the answer away
        # (neither can be a distractor of the other, so the third option is the answer: "above" and "on" offered,
        # "under" it is), so where the pool has no such pair the question has two options, not three.
        chosen = weighted_sample(pool, [1.0] * len(pool), OPTIONS - 1, key, "distractors", s["id"], o["id"], excludes=predicates.compatible)
        together = compatible_pairs(pool)
        out.append(Candidate(category, slots_of(view, a=s, b=o), predicates.phrase(answer), [predicates.phrase(answer), *chosen],
                             [s, o], 0.6 if category == "relation" else 0.7,
                             {"a": s["id"], "b": o["id"], "predicate": answer, "pool": pool, "compatible": together},
                             frozenset((s["id"], o["id"]))))
    out.sort(key=lambda c: (-sum(view.salience[x["id"]] for x in c.involved), c.args["a"], c.args["b"], c.answer))
    return out[:limit]


def triple_problem(view: SceneView, s: dict, o: dict, answer: str, category: str, subjects: frozenset[str] | None) -> str | None:
    """Why (s, answer, o) may not be asked, or None: the one rule of the candidates and of the check."""
    if objecthood.canonical(s["name"]) == objecthood.canonical(o["name"]):
        return f"{category}_same_kind"
    if subjects is not None and subjects.isdisjoint(objecthood.is_a(s["name"])):
        return f"{category}_subject_not_a_person_or_animal"  # `subjects`: reach asks people and animals only
    if view.fills_frame(s) or view.fills_frame(o):
        return f"{category}_object_fills_frame"
    if view.spans_picture(o) and answer not in SUPPORT and answer in predicates.answer_vocabulary("spatial"):
        return f"{category}_reference_spans_picture"  # "next to" or "left of" a tablecloth across the picture: of half of it
    if predicates.refuted_by_boxes(answer, s["bbox"], o["bbox"], view.width, view.height):
        return f"{category}_refuted_by_boxes"  # the annotation contradicts its own boxes
    if answer in DEPTH_ANSWERS and not _overlap_horizontally(s["bbox"], o["bbox"]):
        return f"{category}_depth_of_things_side_by_side"  # "the man in front of the meter", a step to its side: beside, to a viewer
    return None


def _overlap_horizontally(a, b) -> bool:
    return min(a[2], b[2]) > max(a[0], b[0])


def distractor_pool(view: SceneView, s: dict, o: dict, answer: str) -> list[str]:
    """The canonical predicates a question about (s, answer, o) may offer besides the answer: false for the pair
    (`predicates.distractors`), and for a side ("left of") only the other side."""
    pool = predicates.distractors(answer, s["bbox"], o["bbox"], view.width, view.height, also_true=view.true_of_pair(s, o))
    if (opposite := predicates.converse(answer)) in pool and opposite in predicates.GEOMETRIC:
        # "to the left of" or "to the right of": the boxes never refute both, so a third option offered with
        # them could never be the answer; a guesser would strike it out. Just the two.
        pool = [opposite]
    return pool


def compatible_pairs(pool: list[str]) -> list[list[str]]:
    """The texts of a pool that could be true together (never offered together: `args["compatible"]`)."""
    return [[x, y] for i, x in enumerate(pool) for y in pool[i + 1:] if predicates.compatible(x, y)]


def candidates(view: SceneView, cfg, key: str, limit: int) -> list[Candidate]:
    return triple_candidates(view, "relation", "spatial", limit, key)


def check(q: Check) -> Verdict:
    return check_triple(q, "relation", "spatial")


def check_triple(q: Check, category: str, kind: str, subjects: frozenset[str] | None = None) -> Verdict:
    """The answer is stated for the pair (through the canonical vocabulary, its converses, and for pairs stated
    side by side the side the boxes show) and not refuted by the boxes; every other option is a predicate of the
    category's kind false for the pair (`predicates.distractors`), and no two options could both be true: options
    that break this are left out (`<category>_options_trimmed`, a correction) while one distractor remains. The
    pair follows the candidates' rules (`triple_problem`)."""
    s, o = q.objects[q.args["a"]], q.objects[q.args["b"]]
    answer = predicates.canonical(q.chosen)
    if answer is None or answer not in predicates.answer_vocabulary(kind):
        return False, f"{category}_answer_not_{kind}", q.sample
    if answer not in q.view.true_of_pair(s, o):
        return False, f"{category}_not_in_graph", q.sample
    if problem := triple_problem(q.view, s, o, answer, category, subjects):
        return False, problem, q.sample
    pool = distractor_pool(q.view, s, o, answer)
    kept, trimmed = [q.chosen], False
    for option in q.sample["options"]:
        if option == q.chosen:
            continue
        canonical = predicates.canonical(option)
        if canonical is None:
            return False, f"{category}_option_not_a_predicate", q.sample
        if canonical not in pool or any(predicates.compatible(canonical, predicates.canonical(k)) for k in kept[1:]):
            trimmed = True  # may be true too, or true together with another distractor (which gives the answer away)
            continue
        kept.append(option)
    if len(kept) < 2:
        return False, f"{category}_no_false_distractor", q.sample
    sample = q.sample
    if "pool" not in (args := json.loads(sample.get("args") or "{}")):  # a writer's question: debias may re-draw its distractors too
        phrases = [predicates.phrase(p) for p in pool]
        sample = dict(sample, args=json.dumps({**args, "pool": phrases, "compatible": compatible_pairs(phrases)}, ensure_ascii=False))
    if not trimmed:
        return True, f"{category}_in_graph", sample
    options = [o for o in sample["options"] if o in kept]  # the writer's order
    return True, f"{category}_options_trimmed", dict(sample, options=options, answer=LETTERS[options.index(q.chosen)])


PHRASINGS = {
    "relation": (
        "Where {be_a} the {a} with respect to the {b}?",
        "What is the spatial relation of the {a} to the {b}?",
        "How {be_a} the {a} positioned relative to the {b}?",
    ),
}


CATEGORY = Category(
    "relation", "rel", 0.5, ROLES,
    'relation: how one object is placed relative to another ("Where is the cup with respect to the table?"). The answer is a '
    "relation the graph states (on, under, in, next to, behind, to the left of, ...); the other options are relations that are "
    "false for the pair. Roles: subject (the object placed), reference (the one it is placed relative to).",
    candidates, check, phrasings=PHRASINGS,
)

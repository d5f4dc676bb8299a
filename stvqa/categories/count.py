"""count: how many things of one class the image holds, where the annotation is plausibly exhaustive."""

from __future__ import annotations

from ..english import plural
from ..hashing import unit, weighted_sample
from ..lexicon import objecthood
from ..records import LETTERS
from .. import geometry as geo
from ..scene_view import SceneView, contains, distinct
from .base import ANSWER_KEEP, Candidate, Category, Check, Verdict

# Counting is safe only where annotators box every instance; these they rarely do (a street's cars and windows).
RARELY_EXHAUSTIVE = frozenset(
    "window tree car building leaf cloud light sign pole person brick tile rock flower plant bush book paper letter "
    "bottle wave umbrella chair".split()
)
MIN_COUNT_SHARE = 0.002  # every counted instance covers at least 0.2% of the image: small ones are missed
# The answer's rank among the four count options (0 = smallest), by the count: options start at 1, so small
# counts cannot take high ranks and larger ones make up for it, which leaves the rank near uniform overall.
COUNT_RANK_WEIGHTS = {2: (1, 1, 0, 0), 3: (1, 1, 1, 0)}
COUNT_RANK_WEIGHTS_LARGER = (0.1, 0.1, 0.3, 0.5)


def rarely_exhaustive(name: str) -> bool:
    """Whether annotators rarely box every thing of this kind (its own name or a kind it is a kind of)."""
    return not RARELY_EXHAUSTIVE.isdisjoint(objecthood.is_a(name))


def candidates(view: SceneView, cfg, key: str, limit: int) -> list[Candidate]:
    """Only classes whose annotation is plausibly exhaustive: no group box or plural name of the class, no
    overlapping class annotated apart (men and persons), every instance large enough not to be missed."""
    out = []
    for name, n in sorted(view.class_counts().items(), key=lambda kv: (-kv[1], kv[0])):
        if not_countable(view, name, n, cfg):
            continue
        members = view.instances(name)
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


def not_countable(view: SceneView, name: str, n: int, cfg) -> str | None:
    """Why the class (a canonical name, `n` things of it) may not be counted, or None: the one rule of the
    candidates and of the check. A count is right only where the annotators boxed every instance one by one."""
    low, high = cfg.thresholds.count_range
    if not low <= n <= high:
        return "count_outside_range"
    if name in RARELY_EXHAUSTIVE:  # the name itself, not its kinds (`rarely_exhaustive`): men are counted
        return "count_class_rarely_boxed_one_by_one"
    members = view.instances(name)
    if any(m["id"] not in view.thing_ids for m in members):
        return "count_class_boxed_as_a_group"  # a group box or a plural name of the class: some are not boxed one by one
    if any(objecthood.overlaps(name, o["name"]) and objecthood.canonical(o["name"]) != name for o in view.objects):
        return "count_overlapping_class_present"  # "how many men?" with a "person" annotated too
    if min(view.share(m) for m in members) < MIN_COUNT_SHARE:
        return "count_instance_too_small"  # small ones are missed
    members = distinct(members)  # one man boxed again as "guy" is one man
    if any(a is not b and contains(a["bbox"], b["bbox"]) for a in members for b in members):
        return "count_instance_inside_another"  # a desk boxed again inside a row of desks, a screen inside a computer
    touching = sum(any(b is not a and geo.iou(a["bbox"], b["bbox"]) > 0 for b in members) for a in members)
    if touching * 2 >= len(members):
        return "count_instances_clustered"  # a bunch of bananas, a stack of plates: annotators box a few and stop
    return None


def instances(scene, name: str) -> int:
    """Objects of the class `name` in the scene, each annotated-twice object once."""
    canonical = objecthood.canonical(name)
    return len(distinct([o for o in scene["objects"] if objecthood.canonical(o["name"]) == canonical]))


def check(q: Check) -> Verdict:
    """The count of the class; a wrong one is corrected as the paper does (the right count becomes the answer,
    replacing the wrong one among the options when it is not offered), keeping the question-focused subgraph."""
    if not all(o.isdigit() for o in q.sample["options"]):
        return False, "count_option_not_a_number", q.sample
    name = objecthood.canonical(q.args.get("name") or q.objects[q.args["counted"]]["name"])  # a template's class, or a reply's object of it
    truth = instances(q.scene, name)
    if truth == 0:
        return False, "count_object_not_in_graph", q.sample  # never "corrected" to 0: the name is simply not annotated
    if problem := not_countable(q.view, name, truth, q.cfg):
        return False, problem, q.sample
    if q.chosen == str(truth):
        return True, "count_matches_graph", q.sample
    if not q.cfg.correct_counts:
        return False, "count_contradicts_graph", q.sample
    options = list(q.sample["options"])
    if str(truth) not in options:
        options[options.index(q.chosen)] = str(truth)
    corrected = dict(q.sample, options=options, answer=LETTERS[options.index(str(truth))], answer_text=str(truth))
    return True, "count_corrected", corrected


PHRASINGS = {
    "count": (
        "How many {plural} are there in the image?",
        "How many {plural} can you see?",
        "Count the {plural} in the image. How many are there?",
    ),
}


CATEGORY = Category(
    "count", "count", 0.0625, {"counted": "counted"},
    "count: how many objects of one kind there are, 2 to 8, counting every box of that name. Options: four consecutive numbers. "
    "Roles: counted (any one object of the kind counted).",
    candidates, check, hard=0.3, phrasings=PHRASINGS,
)

"""The gate: one function decides, for any question and its scene, whoever wrote it, whether it reaches the dataset.

1. It identifies the objects the question is about: from the ids its writer gave for the category's roles (the
   template generator's `args`, an LLM reply's `objects`), else from the question's words where they name each
   object unambiguously (`naming.py`).
2. It checks that the question names every one of those objects, by its name, a synonym or the phrase the
   prompt gave it, and that no other object of the graph answers to those words ("the chair" beside two chairs).
3. It applies the rules of what a question may be about: things, not stuff, regions, parts or text; not a box
   around several things; not the picture itself; one question per pair of objects in an image.
4. It proves the answer with the category's check (`stvqa.categories`), every distractor false, with the
   category's thresholds and its own rules (counts only of classes boxed one by one, ...).

The verdict: True (proved), False (wrong or not allowed: the reason says which), None (the gate cannot tell:
`unverifiable_<why>`, rejected unless the user keeps such rows).
"""

from __future__ import annotations

import json
import re
from typing import Any

from ...categories import BY_NAME
from ...categories.base import Category, Check, distinct_things
from ...lexicon import objecthood
from ...records import option_text
from ...scene_view import SceneView
from .naming import Mention, mentions, naming, one_object

Verdict = tuple[bool | None, str, dict[str, Any], frozenset[str]]  # ..., the objects it compares or relates
CLASS_KEYS = frozenset({"counted", "object", "name"})  # args keys whose object stands for its class, not for itself
_ARTICLE = re.compile(r"^(?:the|a|an)\s+")
_REFERENCE_LEAD = r"\b(?:side of|relative to|compared (?:to|with)|with respect to)\s+(?:the\s+|a\s+|an\s+)?"


def plain(text: str) -> str:
    """An option as a comparison sees it: lower case, without a leading article ("The couch" = "couch")."""
    return _ARTICLE.sub("", text.strip().lower())


def gate(sample: dict[str, Any], scene: dict[str, Any], view: SceneView, cfg: Any) -> Verdict:
    """(verified, reason, the sample after any correction, the objects it compares or relates): see the module's docstring."""
    category = BY_NAME.get(sample.get("category"))
    if category is None:
        return None, "unverifiable_category", sample, frozenset()
    if not option_text(sample):
        return False, "answer_letter_not_an_option", sample, frozenset()
    if len({plain(o) for o in sample["options"]}) < len(sample["options"]):
        return False, "options_not_distinct", sample, frozenset()
    args = _args(sample)
    found = mentions(sample.get("question") or "", view)
    roles, why = identify(category, args, found, view, sample)
    if why is not None:
        return (None if why.startswith("unverifiable_") else False), why, sample, frozenset()
    texts = {}
    for key, oid in roles.items():
        if key in CLASS_KEYS and category.name in ("count", "existence"):
            continue  # a class: counted or asked about as a kind, not as this one object
        mention, problem = naming(oid, found, view)
        if problem:
            return False, problem, sample, frozenset()
        if oid not in view.thing_ids:
            return False, f"{_kind_of(oid, view)}_not_a_thing", sample, frozenset()
        texts[oid] = plain(mention.text)
    named = [view.by_id[oid] for oid in texts]
    for i, x in enumerate(named):
        for y in named[i + 1:]:
            # One kind twice ("the man ... the person"), or, for objects compared by their boxes, one thing boxed twice
            # under two names ("van", "work truck").
            if objecthood.overlaps(x["name"], y["name"]) or (category.compares and not distinct_things(view, x, y)):
                return False, "objects_not_distinct", sample, frozenset()
    checked = {**sample, "options": [plain(o) for o in sample["options"]]}
    question = Check(checked, scene, view.by_id, {**args, **roles, "texts": texts}, plain(option_text(sample)), cfg, view)
    verified, reason, result = category.check(question)
    if result is not checked:  # corrected (a count, trimmed options): the options as written, where they were kept
        written = {plain(o): o for o in sample["options"]}
        sample = dict(result, options=[written.get(o, o) for o in result["options"]])
    return verified, reason, sample, frozenset(texts)


def _kind_of(oid: str, view: SceneView) -> str:
    """What an object is that a question may not be about (`object_not_a_thing` and its kinds)."""
    obj = view.by_id[oid]
    if view.is_group_box(obj):
        return "group_box"
    if view.is_on_sign(obj):
        return "on_sign"  # the words or a picture on a sign
    if view.is_the_picture_itself(obj):
        return "picture_itself"
    kind = objecthood.kind(obj["name"])
    return "object" if kind == "thing" else kind


def _args(sample: dict[str, Any]) -> dict[str, Any]:
    try:
        args = json.loads(sample.get("args") or "null")
    except json.JSONDecodeError:
        return {}
    return args if isinstance(args, dict) else {}


def identify(category: Category, args: dict[str, Any], found: list[Mention], view: SceneView,
             sample: dict[str, Any]) -> tuple[dict[str, str], str | None]:
    """The question's objects, as the category's args keys -> ids, or why they cannot be identified: a template's
    record, else the ids a writer's reply gave (`objects`), else the question's words (`from_text`)."""
    keys = set(category.roles.values())
    reply = args.get("reply")
    if isinstance(reply, dict) and reply.get("objects"):
        return from_reply(category, reply["objects"], view)
    if keys & set(args) or "name" in args:  # a template's own record
        roles = {k: args[k] for k in keys if k in args}
        missing = [k for role, k in category.roles.items() if k not in roles and role not in category.optional_roles
                   and not (k in CLASS_KEYS and "name" in args)]  # a template names the class it counts
        if not missing:
            return roles, None
    return from_text(category, found, view, sample)


def from_reply(category: Category, objects: Any, view: SceneView) -> tuple[dict[str, str], str | None]:
    """The roles a writer's reply gave, `[{"id", "role"}]`, checked: ids of the graph, roles of the category, each
    role once and each object in one role, every role the category needs."""
    if not isinstance(objects, list) or not all(isinstance(o, dict) for o in objects):
        return {}, "llm_objects_malformed"
    roles: dict[str, str] = {}
    for given in objects:
        role, oid = given.get("role"), given.get("id")
        if role not in category.roles:
            return {}, "llm_role_not_of_category"
        if not isinstance(oid, str) or oid not in view.by_id:
            return {}, "llm_unknown_object_id"
        if category.roles[role] in roles:
            return {}, "llm_role_given_twice"
        roles[category.roles[role]] = oid
    if len(set(roles.values())) < len(roles):
        return {}, "llm_object_in_two_roles"
    if any(key not in roles for role, key in category.roles.items() if role not in category.optional_roles):
        return {}, "llm_role_missing"
    return roles, None


def from_text(category: Category, found: list[Mention], view: SceneView, sample: dict[str, Any]) -> tuple[dict[str, str], str | None]:
    """The objects of a question whose writer gave no ids, from the question's words: each mention must name one
    object (its phrase, or a name only one object has), and the category says which is which."""
    question = sample.get("question") or ""
    name = category.name
    if name in ("count", "existence"):
        return _classes_from_text(name, found, view, question)
    single = []
    for m in found:
        oid = one_object(m, view)
        if oid is None:
            return {}, "object_ambiguous_in_question"
        if oid not in single:
            single.append(oid)
    keys = [k for k in category.roles.values()]
    if len(single) != len(keys):
        return {}, "unverifiable_objects_not_identified"
    if name == "distance":
        ref = _after(question, found, ("to", "from"))
        if ref is None:
            return {}, "unverifiable_reference_not_identified"
        a, b = [o for o in single if o != ref]
        return {"ref": ref, "a": a, "b": b}, None
    if name in ("relation", "reach", "orientation") and re.search(_REFERENCE_LEAD + r"$", question[: _char_start(question, found[0])].lower()):
        single = single[::-1]  # "Which side of the plate is the cup on?": the reference comes first
    return dict(zip(keys, single)), None


def _classes_from_text(category: str, found: list[Mention], view: SceneView, question: str) -> tuple[dict[str, str], str | None]:
    """count: the class counted; existence: the class asked about (absent for a "no"), and the reference of
    "Is there a cup on the table?"."""
    if category == "count":
        if not found:
            return {}, "unverifiable_objects_not_identified"
        return {"counted": sorted(found[0].ids)[0]}, None
    roles: dict[str, str] = {}
    if found:
        roles["object"] = sorted(found[0].ids)[0]
    if len(found) >= 2:  # "Is there a cup on the table?": the table is one object
        ref = one_object(found[1], view)
        if ref is None:
            return {}, "object_ambiguous_in_question"
        roles["ref"] = ref
    return roles, None


def _char_start(question: str, mention: Mention) -> int:
    """Where a mention's words start in the question, as characters (mentions count words)."""
    words = list(re.finditer(r"\w+(?:[-']\w+)*", question))
    return words[mention.start].start() if mention.start < len(words) else 0


def _after(question: str, found: list[Mention], leads: tuple[str, ...]) -> str | None:
    """The one object named right after one of `leads` ("closer to the fork"), if exactly one is."""
    hits = []
    for m in found:
        before = question[: _char_start(question, m)].lower().rstrip()
        if re.search(r"\b(?:" + "|".join(leads) + r")(?:\s+(?:the|a|an))?$", before):
            hits.append(m)
    if len(hits) != 1 or len(hits[0].ids) != 1:
        return None
    return next(iter(hits[0].ids))

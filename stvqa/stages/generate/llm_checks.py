"""Checks on every question an LLM writes, before it becomes a row: each failure is a stable reason.

* `llm_answer_out_of_range`: the answer letter points past the options;
* `llm_options_not_distinct`: two options say the same;
* `llm_hallucinated_object`: the question or an option names an object the scene graph does not have
  (plurals, synonyms, kinds and names annotators swap count as present; the absent object of an
  existence question answered "no" is allowed);
* `llm_empty_focus`: no object of the graph is named, so the question-focused subgraph would be empty
  (allowed for an existence "no");
* `llm_duplicate_question`: the image already has this question.

What counts as naming an object: any name in the objecthood lexicon of a thing, stuff, part or clothing,
or in the existence vocabulary, found as whole words (as written or by lemma), longest first. Words that
frame a question ("image", "camera", "picture"), names questions use as verbs ("can", "stand"), regions
("left", "top"), body parts ("hand" of "left-hand") and colours or materials ("glass", "metal") are not
taken for objects.
"""

from __future__ import annotations

import json
from functools import cache, lru_cache
from typing import Any

from ...focus import focus
from ...lexicon import objecthood
from ...lexicon.mentions import named_objects
from ...records import LETTERS

def absent_names(texts: list[str], scene_names: set[str]) -> list[str]:
    """Names used in `texts` that no object of the scene could be."""
    absent = []
    for name in dict.fromkeys(n for t in texts for n in named_objects(t)):
        if name not in scene_names and not any(objecthood.overlaps(name, s) for s in scene_names):
            absent.append(name)
    return absent


def question_focus(question: str, scene: dict[str, Any]) -> dict[str, Any]:
    """`stvqa.focus.focus` with the scene names' synonyms as aliases; failing that, their kinds
    ("the person" for a graph that says "man")."""
    names = {o["name"] for o in scene["objects"]}
    found = focus(question, scene, {n: _synonyms(n) for n in names})
    if not found["objects"]:
        found = focus(question, scene, {n: sorted(objecthood.related(n) - {n}) for n in names})
    return found


@lru_cache(maxsize=1 << 14)
def _synonyms(name: str) -> tuple[str, ...]:
    return tuple(s for s in objecthood.load().group.get(objecthood.canonical(name), ()) if s != name)


def check_question(item: dict[str, Any], scene: dict[str, Any], asked: set[str]) -> tuple[str | None, str, dict[str, Any] | None]:
    """(reason or None, detail, focus) for one schema-valid question of the reply."""
    options = [o.strip() for o in item["options"]]
    index = LETTERS.index(item["answer"])
    if index >= len(options):
        return "llm_answer_out_of_range", f"answer {item['answer']} with {len(options)} options", None
    if len({o.lower() for o in options}) < len(options):
        return "llm_options_not_distinct", f"options {options}", None
    question = item["question"].strip()
    answer_no = item["category"] == "existence" and options[index].lower() == "no"
    absent = absent_names([question, *options], {o["name"] for o in scene["objects"]})
    if len(absent) > (1 if answer_no else 0):
        return "llm_hallucinated_object", f"not in the scene graph: {', '.join(absent)}", None
    found = question_focus(question, scene)
    if not found["objects"] and not answer_no:
        return "llm_empty_focus", "the question names no object of the scene graph", None
    if question.lower() in asked:
        return "llm_duplicate_question", "asked twice for this image", None
    return None, "", found


def focus_json(found: dict[str, Any]) -> str:
    return json.dumps(found, separators=(", ", ": "))

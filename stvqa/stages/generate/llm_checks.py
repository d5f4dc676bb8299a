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
from ...lexicon import objecthood, settings
from ...names import lemma_phrase, words
from ...records import LETTERS
from ...scene_view import REFERRING_ATTRIBUTES

CHECKED_KINDS = frozenset({"thing", "stuff", "part", "clothing"})
FRAME_WORDS = frozenset("image picture photo photograph scene camera viewer view frame foreground background shot".split())
# Object names that questions use as verbs or function words ("Can you see ...", "Which case ...").
QUESTION_WORDS = frozenset("can stand set match case watch".split())
MAX_NAME_WORDS = 4


@cache
def _vocabulary() -> dict[tuple[str, ...], str]:
    """The words of every name a question could use for an object -> the name. (The lexicon's names are
    singular, so a question's words are looked up as written and as lemmas: no name needs lemmatising.)"""
    names = {n for n, k in objecthood.load().kinds.items() if k in CHECKED_KINDS} | set(settings.vocabulary())
    skipped = {(w,) for w in FRAME_WORDS | REFERRING_ATTRIBUTES | QUESTION_WORDS}
    index = {}
    for name in sorted(names):
        key = tuple(words(name))
        if key and len(key) <= MAX_NAME_WORDS and key not in skipped:
            index.setdefault(key, name)
    return index


def named_objects(text: str) -> list[str]:
    """Object names the text uses, longest match first, in order.

    >>> named_objects("Are the traffic lights left of the two men, or of the giraffe's pants?")
    ['traffic light', 'man', 'giraffe', 'pants']
    """
    vocabulary, raw = _vocabulary(), tuple(words(text))
    lemmas = lemma_phrase(text)
    found, i = [], 0
    while i < len(raw):
        for n in range(min(MAX_NAME_WORDS, len(raw) - i), 0, -1):
            name = vocabulary.get(raw[i : i + n]) or vocabulary.get(lemmas[i : i + n])
            if name is not None and not (n == 1 and lemmas[i] in _SKIPPED_LEMMAS):
                found.append(name)
                i += n
                break
        else:
            i += 1
    return found


_SKIPPED_LEMMAS = frozenset(lemma_phrase(" ".join(sorted(FRAME_WORDS | REFERRING_ATTRIBUTES | QUESTION_WORDS))))


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

"""Which object names a text uses: every name of the objecthood lexicon of a thing, stuff, part or clothing, or in the
existence vocabulary, found as whole words (as written or by lemma), longest first. Words that frame a question
("image", "camera", "picture"), names questions use as verbs ("can", "stand"), regions ("left", "top"), body parts
("hand" of "left-hand") and colours or materials ("glass", "metal") are not taken for objects."""

from __future__ import annotations

from functools import cache

from ..names import lemma_phrase, words
from . import objecthood, settings

CHECKED_KINDS = frozenset({"thing", "stuff", "part", "clothing"})
FRAME_WORDS = frozenset("image picture photo photograph scene camera viewer view frame foreground background shot".split())
# Object names that questions use as verbs or function words ("Can you see ...", "Which case ...").
QUESTION_WORDS = frozenset("can stand set match case watch".split())
MAX_NAME_WORDS = 4


@cache
def _vocabulary() -> dict[tuple[str, ...], str]:
    """The words of every name a question could use for an object -> the name. (The lexicon's names are
    singular, so a question's words are looked up as written and as lemmas: no name needs lemmatising.)"""
    from ..scene_view import REFERRING_ATTRIBUTES  # colours and materials

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
            if name is not None and not (n == 1 and lemmas[i] in _skipped_lemmas()):
                found.append(name)
                i += n
                break
        else:
            i += 1
    return found


@cache
def _skipped_lemmas() -> frozenset[str]:
    from ..scene_view import REFERRING_ATTRIBUTES

    return frozenset(lemma_phrase(" ".join(sorted(FRAME_WORDS | REFERRING_ATTRIBUTES | QUESTION_WORDS))))

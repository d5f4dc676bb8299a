"""English for templated questions: articles, plurals, number agreement, and which names are fit to print."""

from __future__ import annotations

import re
from functools import lru_cache

import lemminflect

from .lexicon import objecthood
from .names import lemma

_CLEAN_NAME = re.compile(r"[a-z]+(?:[ -][a-z]+){0,2}")  # up to three plain words: no punctuation, digits or phrases
_TRAILING_PHRASE = re.compile(r" (?:on|in|under|above|next to) the .*$")  # of a referring phrase: "chair on the left"
_VOWEL_SOUND_EXCEPTIONS = {"uniform": "a", "unicorn": "a", "university": "a", "user": "a", "utensil": "a", "ukulele": "a",
                           "one": "a", "hour": "an", "honest": "an", "herb": "an", "european": "a", "urinal": "a"}


@lru_cache(maxsize=1 << 16)
def printable_name(name: str) -> bool:
    """A name a question can use as it stands ("keys on board white.", free-text phrases and "one person" cannot)."""
    return bool(_CLEAN_NAME.fullmatch(name)) and objecthood.source_of(name) in ("file", "head") and not objecthood.counted(name)


def with_article(name: str) -> str:
    """`"orange cloth"` -> `"an orange cloth"`, `"uniform"` -> `"a uniform"`.

    >>> with_article("orange cloth"), with_article("chair"), with_article("umbrella"), with_article("uniform")
    ('an orange cloth', 'a chair', 'an umbrella', 'a uniform')
    """
    first = name.split(" ", 1)[0]
    article = _VOWEL_SOUND_EXCEPTIONS.get(first) or ("an" if first[:1] in "aeiou" else "a")
    return f"{article} {name}"


@lru_cache(maxsize=1 << 14)
def plural(name: str) -> str:
    """`"traffic light"` -> `"traffic lights"`; names that are plural already stay.

    >>> plural("traffic light"), plural("bus"), plural("man"), plural("glasses")
    ('traffic lights', 'buses', 'men', 'glasses')
    """
    *rest, last = name.split(" ")
    if is_plural(name):
        return name
    forms = lemminflect.getInflection(last, tag="NNS")
    return " ".join([*rest, forms[0] if forms else last + "s"])


@lru_cache(maxsize=1 << 14)
def is_plural(name: str) -> bool:
    """Plural in form ("papers", "shelves", "glasses"), so the verb agrees: "Where are the papers?". A referring
    phrase agrees with its head: "the glasses on the left", "the cup on the tables"."""
    last = _TRAILING_PHRASE.sub("", name).split(" ")[-1]
    return lemma(last) != last or last in objecthood.load().plural_only


def be(name: str) -> str:
    """`is` or `are` for a subject named `name`."""
    return "are" if is_plural(name) else "is"

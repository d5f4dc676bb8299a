"""Names and predicates: normalisation, VG alias lists, object ids and offline lemmatisation."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import lemminflect

_WHITESPACE = re.compile(r"\s+")
_NOT_A_LETTER = re.compile(r"[\W\d_]+")  # letters of any script stay; digits, marks and punctuation go
MAX_ID_STEM = 40  # VG has free-text names of thousands of characters; ids stay short
_WORD = re.compile(r"[a-z0-9]+(?:'[a-z]+)?")


@lru_cache(maxsize=1 << 16)  # VG repeats a few thousand names and predicates millions of times
def normalize_text(text: str) -> str:
    """Lower-case, trim and collapse white space: `" Traffic  Light "` -> `"traffic light"`."""
    return _WHITESPACE.sub(" ", text).strip().lower()


def id_stem(name: str) -> str:
    """The part of an object id before the dot: every run of characters other than letters becomes `_`
    (letters of any script are kept), cut to `MAX_ID_STEM` characters.

    >>> id_stem("traffic light"), id_stem("t-shirt"), id_stem("7up"), id_stem("Стул"), id_stem("x" * 500) == "x" * 40
    ('traffic_light', 't_shirt', '_up', 'стул', True)
    """
    return _NOT_A_LETTER.sub("_", name.lower())[:MAX_ID_STEM] or "_"


def words(text: str) -> list[str]:
    """Lower-case word tokens of a sentence (punctuation dropped, possessive kept on the word)."""
    return _WORD.findall(text.lower())


@lru_cache(maxsize=65536)
def lemma(word: str) -> str:
    """The singular noun form of one word, offline (lemminflect ships its data).

    >>> lemma("glasses"), lemma("men"), lemma("buses"), lemma("man's")
    ('glass', 'man', 'bus', 'man')
    """
    if word.endswith("'s"):
        word = word[:-2]
    forms = lemminflect.getLemma(word, upos="NOUN")
    return forms[0] if forms else word


@lru_cache(maxsize=1 << 16)  # object names and questions repeat; lemmatising is the costly part of matching
def lemma_phrase(text: str) -> tuple[str, ...]:
    """Lemmas of every word of a phrase: `"traffic lights"` -> `("traffic", "light")`."""
    return tuple(lemma(w) for w in words(text))


@dataclass
class AliasMap:
    """VG's alias lists: each line is `canonical,alias,alias,...` and maps every alias to the canonical name."""

    objects: dict[str, str] = field(default_factory=dict)
    predicates: dict[str, str] = field(default_factory=dict)

    def object_name(self, name: str) -> str:
        return self.objects.get(name, name)

    def predicate(self, predicate: str) -> str:
        return self.predicates.get(predicate, predicate)

    def object_aliases(self) -> dict[str, list[str]]:
        """canonical name -> its aliases (used to match questions that name an object by an alias)."""
        reverse: dict[str, list[str]] = {}
        for alias, canonical in self.objects.items():
            reverse.setdefault(canonical, []).append(alias)
        return reverse

    @classmethod
    def from_files(cls, object_file: Path | None, predicate_file: Path | None) -> "AliasMap":
        return cls(
            objects=read_alias_file(object_file) if object_file else {},
            predicates=read_alias_file(predicate_file) if predicate_file else {},
        )


def read_alias_file(path: Path) -> dict[str, str]:
    """Parse one VG alias file. An alias never maps to itself, and the first line that names it wins."""
    mapping: dict[str, str] = {}
    with open(path, encoding="utf-8", errors="replace") as f:
        for line in f:
            tokens = [normalize_text(t) for t in line.split(",")]
            tokens = [t for t in tokens if t]
            if len(tokens) < 2:
                continue
            canonical = tokens[0]
            for alias in tokens[1:]:
                if alias != canonical:
                    mapping.setdefault(alias, canonical)
    return mapping

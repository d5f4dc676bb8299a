"""Objecthood: is a scene-graph name a countable object, and which other names denote the same thing.

The reviewed word list is `objecthood.yaml`, shipped beside this module. Lookups are pure and offline:
lemmas come from `stvqa.names.lemma` (lemminflect ships its data), nothing is downloaded.

>>> kind("room"), kind("shelves"), kind("white board"), is_group_name("trees"), canonical("roads")
('region', 'thing', 'thing', True, 'street')
"""

from __future__ import annotations

import re
from functools import lru_cache
from importlib import resources
from typing import NamedTuple

import lemminflect
import yaml

from stvqa.names import lemma, normalize_text, words

KINDS = ("thing", "stuff", "region", "part", "body_part", "clothing", "text", "venue", "abstraction")

# Leading counts and determiners say how many, not what: "two men" is about men, "one person" about a person.
_QUANTIFIERS = frozenset("a an the one two three four five six seven eight nine ten some several many few".split())
# The head of "pillows on seats" or "man riding a horse" is the word before the first of these.
_CUTS = frozenset(
    "on in of at by with for from above under below near behind beside next inside over against along around "
    "across into onto atop between to off without beneath underneath riding wearing holding sitting standing "
    "walking carrying hanging parked lying laying eating using playing looking".split()
)
# VG names that are sentences ("chair is black.", "see four men.") are annotation debris, never an object name.
_SENTENCE_PUNCT = re.compile(r"[.?!,;:]")
_SENTENCE_START = frozenset({"see", "there", "here"})
_SENTENCE_VERBS = frozenset("is are was were has have had shows shown seen noted not".split())


class Lexicon(NamedTuple):
    kinds: dict[str, str]  # name -> kind, synonyms included
    group: dict[str, tuple[str, ...]]  # name -> its synonym group, canonical first
    up: dict[str, frozenset[str]]  # canonical -> direct hypernyms (canonical)
    down: dict[str, frozenset[str]]  # canonical -> direct hyponyms (canonical)
    confusable: dict[str, frozenset[str]]  # canonical -> canonicals annotators use for the same object
    collective: frozenset[str]
    plural_only: frozenset[str]  # plural-looking words that name one thing: glasses, pants, scissors
    singular: dict[str, str]  # singular forms lemminflect gets wrong: "leaves" -> "leaf", "wine glasses"
    raw: dict  # the parsed file, for the consistency tests


@lru_cache(maxsize=1)
def load() -> Lexicon:
    """Parse `objecthood.yaml` once; it sits beside this module in a checkout and in an installed wheel."""
    raw = yaml.safe_load(resources.files(__package__).joinpath("objecthood.yaml").read_text(encoding="utf-8"))
    group: dict[str, tuple[str, ...]] = {}
    for names in raw["synonyms"]:
        members = tuple(normalize_text(n) for n in names)
        group.update((n, members) for n in members)
    canon = lambda n: group.get(n, (n,))[0]  # noqa: E731
    kinds: dict[str, str] = {}
    for k, names in raw["kinds"].items():
        for n in map(normalize_text, names):
            kinds.update((m, k) for m in group.get(n, (n,)))  # a synonym shares its group's kind
    for n in map(normalize_text, raw["groups"]["collective"]):
        for m in group.get(n, (n,)):
            kinds.setdefault(m, "thing")
    up: dict[str, frozenset[str]] = {}
    down: dict[str, frozenset[str]] = {}  # hyponyms, so that "person" relates to "skier"
    for hypo, hypers in raw["is_a"].items():
        for hyper in [hypers] if isinstance(hypers, str) else hypers:
            lo, hi = canon(normalize_text(hypo)), canon(normalize_text(hyper))
            up[lo] = up.get(lo, frozenset()) | {hi}
            down[hi] = down.get(hi, frozenset()) | {lo}
    confusable: dict[str, frozenset[str]] = {}
    for names in raw["confusable"]:
        members = {canon(normalize_text(n)) for n in names}
        for m in members:
            confusable[m] = confusable.get(m, frozenset()) | (members - {m})
    g = raw["groups"]
    return Lexicon(
        kinds, group, up, down, confusable,
        collective=frozenset(map(normalize_text, g["collective"])),
        plural_only=frozenset(map(normalize_text, g["plural_only"])),
        singular={normalize_text(k): normalize_text(v) for k, v in g["singular"].items()},
        raw=raw,
    )


def _singular(word: str) -> str:
    lex = load()
    if word in lex.plural_only:
        return word
    return lex.singular.get(word) or lemma(word)


@lru_cache(maxsize=1 << 16)
def _forms(name: str) -> tuple[str, str, str]:
    """Lookup keys, most specific first: the name, the name without leading counts, its singular phrase."""
    lex = load()
    name = normalize_text(name)
    toks = words(name)
    while len(toks) > 1 and toks[0] in _QUANTIFIERS and name not in lex.kinds:  # but "one way" is listed
        toks = toks[1:]
    stripped = " ".join(toks)
    single = lex.singular.get(stripped) or " ".join(_singular(w) for w in toks)
    return name, stripped, single


def counted(name: str) -> bool:
    """Whether the name starts with a count or article ("one person", "two men", "the table"): a question would
    say "the one person".

    >>> counted("one person"), counted("the table"), counted("person"), counted("one way")
    (True, True, False, False)
    """
    return _forms(name)[1] != " ".join(words(normalize_text(name)))


@lru_cache(maxsize=1 << 16)
def _head(name: str) -> str:
    """The head noun: the last word before the first preposition or participle ("tennis court" -> "court")."""
    toks = words(normalize_text(name))
    cut = next((i for i, w in enumerate(toks) if i > 0 and w in _CUTS), len(toks))
    return toks[cut - 1] if toks else ""


def _is_sentence(name: str) -> bool:
    toks = words(name)
    return bool(_SENTENCE_PUNCT.search(name)) or (
        len(toks) > 1 and (toks[0] in _SENTENCE_START or any(w in _SENTENCE_VERBS for w in toks))
    )


@lru_cache(maxsize=1 << 16)
def _lookup(name: str) -> tuple[str, str]:
    """(kind, source): source is "file", "sentence", "head" or "default" (a name the file does not explain)."""
    kinds = load().kinds
    for form in _forms(name):
        if form in kinds:
            return kinds[form], "file"
    if _is_sentence(normalize_text(name)):
        return "abstraction", "sentence"
    head = _head(name)
    for form in (_head(_forms(name)[-1]), head, _singular(head)):
        if form in kinds:
            return kinds[form], "head"
    return "thing", "default"


def kind(name: str) -> str:
    """One of `KINDS`; a name nobody listed is taken to be a `thing` (see `source_of`)."""
    return _lookup(name)[0]


def source_of(name: str) -> str:
    """Where `kind(name)` came from: "file", "sentence" (debris rule), "head" (head-noun rule) or "default"."""
    return _lookup(name)[1]


def explained(name: str) -> bool:
    """True when the file or a rule classifies `name`; False when only the default `thing` applies."""
    return source_of(name) != "default"


@lru_cache(maxsize=1 << 16)
def is_group_name(name: str) -> bool:
    """Plural ("trees", "men") or collective ("crowd", "clothes"): the name does not denote one object."""
    lex = load()
    forms = _forms(name)
    if any(f in lex.collective for f in forms):
        return True
    if forms[1] in lex.singular:  # the file's own singular decides: "wine glasses" -> "wine glass"
        return lex.singular[forms[1]] != forms[1]
    if forms[0] in lex.plural_only:
        return False
    head = _head(name)
    listed = any(f in lex.kinds for f in forms)  # "tv set" is listed, so its "set" is no collective
    return (head in lex.collective and not listed) or _singular(head) != head


@lru_cache(maxsize=1 << 16)
def is_thing(name: str) -> bool:
    """A countable object a question may name and count: kind `thing` and not a plural or collective name."""
    return kind(name) == "thing" and not is_group_name(name)


@lru_cache(maxsize=1 << 16)
def canonical(name: str) -> str:
    """The synonym group's first name, else the singular phrase: `canonical("roads") == "street"`."""
    group = load().group
    forms = _forms(name)
    return next((group[f][0] for f in forms if f in group), forms[-1])


def _closure(start: str, edges: dict[str, frozenset[str]]) -> set[str]:
    seen: set[str] = set()
    todo = [start]
    while todo:
        new = edges.get(todo.pop(), frozenset()) - seen
        seen |= new
        todo.extend(new)
    return seen


def _plural(name: str) -> str:
    *rest, last = name.split(" ")
    if last in load().plural_only:
        return name
    forms = lemminflect.getInflection(last, tag="NNS")
    return " ".join([*rest, forms[0]]) if forms else name


@lru_cache(maxsize=1 << 14)
def _related_all(name: str) -> frozenset[str]:
    """Canonical names related to `name`. Siblings stay apart (a man is not a woman); the is-a chain
    up and down, and names annotators swap, do not."""
    lex, found = load(), set()
    starts = [canonical(name)]
    if source_of(name) == "head":  # "blue bike" is a kind of "bike": it inherits the head's relations
        starts.append(canonical(_head(_forms(name)[-1])))
    for c in starts:
        found |= {c} | _closure(c, lex.up) | _closure(c, lex.down) | lex.confusable.get(c, frozenset())
    return frozenset(found)


@lru_cache(maxsize=1 << 14)
def related(name: str) -> frozenset[str]:
    """Names that must not be answered "no" or counted apart while `name` is present: synonyms,
    hypernyms and hyponyms (transitively), annotators' swaps, and singular and plural forms.
    Symmetric for names in the file; a name known only by its head ("blue bike") relates to the
    head's names, not the reverse, so use `overlaps` to compare two names."""
    group = load().group
    names = {normalize_text(name), *_forms(name)}
    for c in _related_all(name):
        names.update(group.get(c, (c,)))
    return frozenset(names | {_plural(n) for n in names})


def related_canonicals(name: str) -> frozenset[str]:
    """The canonical names `related` covers (its own canonical included): `overlaps(a, b)` is
    `canonical(b) in related_canonicals(a) or canonical(a) in related_canonicals(b)`."""
    return _related_all(name)


def overlaps(a: str, b: str) -> bool:
    """True when `a` and `b` could name the same object (symmetric)."""
    ca, cb = canonical(a), canonical(b)
    return ca == cb or cb in _related_all(a) or ca in _related_all(b)


@lru_cache(maxsize=1 << 14)
def is_a(name: str) -> tuple[str, ...]:
    """The canonical name and its hypernyms, nearest first (breadth-first along is_a); a name known only by
    its head noun ("blue bike") continues with the head's chain. What a kind-based rule may match against.

    >>> is_a("sedan"), is_a("blue bike")
    (('sedan', 'car', 'vehicle'), ('blue bike', 'bike', 'vehicle'))
    """
    lex = load()
    starts = [canonical(name)]
    if source_of(name) == "head":
        starts.append(canonical(_head(_forms(name)[-1])))
    order: list[str] = []
    for start in starts:
        level = [start]
        while level:
            order += [n for n in level if n not in order]
            level = sorted({h for n in level for h in lex.up.get(n, ())} - set(order))
    return tuple(order)

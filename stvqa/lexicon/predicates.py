"""Canonical predicates: raw VG predicate -> canonical id, kind and option text; which predicates can be true
together; which ones a pair's boxes refute; and the distractors that follow (data: predicates.yaml).

>>> canonical("are sitting on top of a"), canonical("ON"), canonical("parked next to"), canonical("see street")
('sitting on', 'on', 'next to', None)
>>> phrase("left of"), compatible("on", "above"), compatible("under", "above")
('to the left of', True, False)
>>> distractors("on", [300, 200, 360, 260], [100, 250, 700, 500], 800, 600)  # a cup on a table
['behind', 'under']
"""

from __future__ import annotations

import math
import re
from functools import lru_cache
from pathlib import Path

import yaml

DATA_FILE = Path(__file__).with_name("predicates.yaml")
ASKED_KINDS = ("spatial", "interaction")
_LEADING = frozenset({"is", "are", "was", "were", "being"})
_TRAILING = frozenset({"a", "an", "the"})
# Geometry thresholds (fractions of the image's width, height or diagonal; see refuted_by_boxes).
SIDE_MARGIN = 0.10  # centres this far apart along an axis: "clearly" left/right/above/below
CONTACT_GAP = 0.05  # boxes this far apart cannot touch, so on/against are false
NEXT_TO_GAP, NEAR_GAP = 1.0, 2.0  # gap, in diagonals of the larger box, beyond which next to / near are false
NEXT_TO_FLOOR, NEAR_FLOOR = 0.05, 0.15  # ...and in image diagonals, so noisy boxes of tiny things never decide


@lru_cache(maxsize=1)
def _lexicon() -> dict:
    data = yaml.safe_load(DATA_FILE.read_text(encoding="utf-8"))
    words = [*data["predicates"], *data["compatible"], *data["ignore"]] + [w for e in data["predicates"].values()
             for w in e.get("variants", ())] + [w for ws in data["compatible"].values() for w in ws]
    if bad := [w for w in words if not isinstance(w, str)]:  # a bare `on` is YAML 1.1's true
        raise ValueError(f"{DATA_FILE.name}: non-string predicates {bad}; quote them")
    entries, variants = data["predicates"], {}
    for name, entry in entries.items():
        entry.setdefault("phrase", name)
        entry["vague"] = bool(entry.get("vague"))
        entry["ask"] = entry.get("ask", entry["kind"] in ASKED_KINDS) and not entry["vague"]
        for raw in {name, *entry.get("variants", ())}:
            if variants.setdefault(raw, name) != name:
                raise ValueError(f"{DATA_FILE.name}: {raw!r} is a variant of both {variants[raw]!r} and {name!r}")
    pairs = {frozenset((p, q)) for p, qs in data["compatible"].items() for q in qs}
    for p, qs in data["compatible"].items():
        missing = [q for q in qs if p not in data["compatible"].get(q, ())]
        if missing or p not in entries:
            raise ValueError(f"{DATA_FILE.name}: compatible[{p!r}] is not mirrored by {missing} (or {p!r} is unknown)")
    never_false = frozenset(data.get("never_false", ()))
    if bad := [p for p in never_false if p not in entries or not entries[p]["ask"]]:
        raise ValueError(f"{DATA_FILE.name}: never_false names unknown or unasked predicates: {bad}")
    return {"entries": entries, "variants": variants, "pairs": pairs, "ignore": frozenset(data["ignore"]),
            "verbs": frozenset(data["position_verbs"]), "modifiers": frozenset(data["modifiers"]),
            "parts": frozenset(data["part_nouns"]), "never_false": never_false}


def _words(raw: str) -> list[str]:
    words = re.sub(r"[^a-z0-9]+", " ", raw.lower()).split()
    while words and words[0] in _LEADING:
        words = words[1:]
    while words and words[-1] in _TRAILING:
        words = words[:-1]
    return words


def _lookup(words: list[str]) -> str | None:
    lex = _lexicon()
    if found := lex["variants"].get(" ".join(words)):
        return found
    if len(words) > 1 and words[0] in lex["modifiers"]:  # "right next to", "directly above"
        return _lookup(words[1:])
    if len(words) > 1 and words[0] in lex["verbs"]:  # "parked next to": only the spatial part counts
        rest = _lookup(words[1:])
        return rest if rest and lex["entries"][rest]["kind"] == "spatial" else None
    core = words[:1] + words[2:] if words[1:2] == ["the"] else words  # "on (the) edge of" -> "on"
    if len(core) == 3 and core[2] == "of" and core[1] in lex["parts"]:
        head = lex["variants"].get(core[0])
        return head if head and lex["entries"][head]["kind"] == "spatial" else None
    return None


@lru_cache(maxsize=1 << 14)  # VG repeats a few thousand raw forms millions of times
def canonical(raw: str) -> str | None:
    """The canonical predicate of a raw VG predicate, or None when it is unknown or debris."""
    words = _words(raw)
    return _lookup(words) if words else None


def ignorable(raw: str) -> bool:
    """True for raw predicates known to be debris (fragments, attributes typed as predicates)."""
    return " ".join(_words(raw)) in _lexicon()["ignore"]


def _entry(p: str) -> dict | None:
    entries = _lexicon()["entries"]
    return entries.get(p) or entries.get(canonical(p) or "")


def kind(p: str) -> str | None:
    """spatial | interaction | possessive | attribute, for a canonical or raw predicate; None when unknown."""
    entry = _entry(p)
    return entry["kind"] if entry else None


def phrase(p: str) -> str:
    """The option text of a canonical (or raw) predicate."""
    entry = _entry(p)
    if entry is None:
        raise KeyError(f"unknown predicate {p!r}")
    return entry["phrase"]


def implied(p: str) -> tuple[str, ...]:
    """Predicates of another kind that hold whenever `p` does: sitting on -> on."""
    entry = _entry(p)
    return tuple(entry.get("implies", ())) if entry else ()


def converse(p: str) -> str | None:
    """The predicate for the swapped pair (held by -> holding, left of -> right of), when there is one."""
    entry = _entry(p)
    return entry.get("converse") if entry else None


def compatible(p: str, q: str) -> bool:
    """Whether p and q can both be true of the same ordered pair (symmetric; unknown predicates never rule
    anything out)."""
    p, q = canonical(p) or p, canonical(q) or q
    ep, eq = _entry(p), _entry(q)
    if p == q or ep is None or eq is None or ep["vague"] or eq["vague"]:
        return True
    if ep["kind"] != eq["kind"]:  # across kinds only implications carry information
        return all(compatible(i, q) for i in implied(p)) and all(compatible(p, i) for i in implied(q))
    if ep["kind"] not in ASKED_KINDS:
        return True
    return frozenset((p, q)) in _lexicon()["pairs"]


def _gap(a, b) -> float:
    """Distance between two boxes (0 when they touch or overlap)."""
    dx = max(0.0, max(a[0], b[0]) - min(a[2], b[2]))
    dy = max(0.0, max(a[1], b[1]) - min(a[3], b[3]))
    return math.hypot(dx, dy)


def refuted_by_boxes(predicate: str, subject_box, object_box, width: float, height: float) -> bool:
    """True only when the boxes make `predicate` clearly false for (subject, object); boxes are [x1, y1, x2, y2]
    pixels with y growing downward. Conservative: False whenever the boxes cannot decide."""
    s, o = subject_box, object_box
    p = canonical(predicate) or predicate
    scx, scy, ocx, ocy = (s[0] + s[2]) / 2, (s[1] + s[3]) / 2, (o[0] + o[2]) / 2, (o[1] + o[3]) / 2
    image_diag, gap = math.hypot(width, height), _gap(s, o)
    larger_diag = max(math.hypot(s[2] - s[0], s[3] - s[1]), math.hypot(o[2] - o[0], o[3] - o[1]))
    # Directions: the centre clearly on the other side, and the subject not reaching past the object's edge on
    # the claimed side (a long fence centred right of a dog may still extend to its left).
    if p == "left of":
        return scx - ocx >= SIDE_MARGIN * width and s[0] >= o[0]
    if p == "right of":
        return ocx - scx >= SIDE_MARGIN * width and s[2] <= o[2]
    if p == "above":
        return scy - ocy >= SIDE_MARGIN * height and s[1] >= o[1]
    if p == "under":
        return ocy - scy >= SIDE_MARGIN * height and s[3] <= o[3]
    # "on" is not refuted by a centre below the object's top (a shirt on a man, a picture on a wall), only by
    # no contact or by the subject's centre lying below the whole object.
    if p == "on":
        return gap > CONTACT_GAP * image_diag or scy > o[3]
    if p == "against":
        return gap > CONTACT_GAP * image_diag
    if p == "in":  # inside needs overlap; touching edges are not overlap
        return min(s[2], o[2]) <= max(s[0], o[0]) or min(s[3], o[3]) <= max(s[1], o[1])
    if p == "next to":
        return gap > max(NEXT_TO_GAP * larger_diag, NEXT_TO_FLOOR * image_diag)
    if p == "near":
        return gap > max(NEAR_GAP * larger_diag, NEAR_FLOOR * image_diag)
    return False  # behind, in front of, around, along, across...: depth and shape the boxes do not show


GEOMETRIC = frozenset({"left of", "right of", "above", "under", "on", "against", "in", "next to", "near"})
SIDE_BY_SIDE_OVERLAP = 0.5  # of the shorter box's height: things at one level, not one diagonally above the other


def side_of(subject_box, object_box) -> str | None:
    """"left of" or "right of" when the boxes stand side by side (apart horizontally, overlapping vertically by
    SIDE_BY_SIDE_OVERLAP of the shorter one), so that anyone looking at the image sees which side; else None.

    >>> side_of([10, 50, 40, 90], [60, 40, 120, 100]), side_of([10, 0, 40, 30], [60, 40, 120, 100])
    ('left of', None)
    """
    s, o = subject_box, object_box
    shared = min(s[3], o[3]) - max(s[1], o[1])
    if shared < SIDE_BY_SIDE_OVERLAP * min(s[3] - s[1], o[3] - o[1]):
        return None
    return "left of" if s[2] <= o[0] else "right of" if o[2] <= s[0] else None


def with_implied(raw_predicates) -> set[str]:
    """The canonical predicates of `raw_predicates` (raw or canonical; unknown ones dropped) and what they imply.

    >>> sorted(with_implied(["are sitting on", "near"]))
    ['near', 'on', 'sitting on']
    """
    found = {c for p in raw_predicates if (c := canonical(p))}
    return found | {i for c in found for i in implied(c)}


def true_of_pair(forward, backward, subject_box, object_box) -> set[str]:
    """The canonical predicates true of (subject, object): those stated for it (`forward`, raw or canonical) and what
    they imply, the converses of those stated for (object, subject) (`backward`), and, where the two are stated to be
    next to or near each other, the side the boxes show (`side_of`)."""
    true = with_implied([*forward, *(v for p in backward if (c := canonical(p)) and (v := converse(c)))])
    if true & _lexicon()["never_false"] and (side := side_of(subject_box, object_box)):
        true.add(side)
    return true


def never_false(p: str) -> bool:
    """True for asked predicates that are never false for two related things (next to, near): never a
    distractor, so as an answer they would give themselves away.

    >>> never_false("beside"), never_false("on")
    (True, False)
    """
    return (canonical(p) or p) in _lexicon()["never_false"]


def answer_vocabulary(kind: str) -> tuple[str, ...]:
    """The canonical predicates that may be answers and distractors of that kind (one vocabulary for both)."""
    return tuple(sorted(p for p, e in _lexicon()["entries"].items() if e["kind"] == kind and e["ask"]))


def distractors(answer: str, subject_box, object_box, width: float, height: float, pool=None,
                also_true: set[str] | frozenset[str] = frozenset()) -> list[str]:
    """Canonical predicates of the answer's kind that are false for the pair, sorted: incompatible with the
    answer and with every other predicate stated for the pair (`also_true`, raw or canonical, plus what they
    imply), and refuted by the boxes when the boxes can decide them (GEOMETRIC). Empty for unasked answers."""
    a = canonical(answer) or answer
    entry = _entry(a)
    if entry is None or not entry["ask"]:
        return []
    known = {a, *implied(a)}
    for raw in also_true:
        if c := canonical(raw):
            known |= {c, *implied(c)}
    evidence = [k for k in known if _entry(k)["kind"] == entry["kind"] and not _entry(k)["vague"]]
    candidates = answer_vocabulary(entry["kind"]) if pool is None else {canonical(p) or p for p in pool}
    return sorted(
        d for d in candidates
        if d not in known and _entry(d) and _entry(d)["kind"] == entry["kind"] and _entry(d)["ask"]
        and not any(compatible(d, k) for k in evidence)
        and (d not in GEOMETRIC or refuted_by_boxes(d, subject_box, object_box, width, height))
    )

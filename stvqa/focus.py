"""Question-focused subgraphs and salience.

`focus(question, scene)` keeps the objects whose names occur in the question — singular or plural,
multi-word ("traffic light"), or by a VG alias — and the relationships between two kept objects.
Matching is on lemmas from `lemminflect`, which ships its data, so it works offline.

`object_salience` / `triple_salience` rank candidates for question generation with the reference
pipeline's rules: parts, clothing, body parts, text and decorations are low-salience; possessive
and attribute predicates (has, of, wearing, with) are low-salience; pairs of different kinds of
object and larger boxes rank higher.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any

from .names import lemma_phrase

# Low-salience classes (the reference pipeline's "reject parts, clothing, body parts, text, decorations").
BODY_PARTS = frozenset(
    "arm arms ear eye eyes face finger hair hand head leg mouth neck nose paw tail teeth tooth wing beard "
    "foot feet knee elbow shoulder lip lips forehead cheek chin eyebrow skin thumb wrist toe mane horn hoof trunk".split()
)
CLOTHING = frozenset(
    "shirt t-shirt jacket coat pant pants jeans jean short shorts shoe shoes sneaker sneakers boot boots sock socks hat cap "
    "helmet glove gloves scarf tie dress skirt sweater hoodie vest uniform belt glasses sunglasses necklace bracelet watch "
    "sleeve collar backpack purse apron".split()
)
PARTS = frozenset(
    "wheel tire handle leaf leaves branch door window windshield headlight taillight mirror roof wall floor ceiling edge "
    "corner side part top bottom front back spoke pedal seat screen button knob key cord wire string strap lid rim "
    "stem petal frame pole post".split()
)
TEXT_AND_DECORATION = frozenset(
    "letter letters word words writing text number numbers logo sign label sticker design pattern stripe stripes spot "
    "spots line lines print decoration graffiti reflection shadow shade".split()
)
LOW_SALIENCE_OBJECTS = BODY_PARTS | CLOTHING | PARTS | TEXT_AND_DECORATION
LOW_SALIENCE_PREDICATES = frozenset({
    "has", "have", "with", "of", "wearing", "wears", "wear", "part of", "belonging to", "belongs to", "made of",
    "says", "painted on", "printed on", "covered in", "covering",
})
INTERACTION_PREDICATES = frozenset({
    "holding", "holds", "carrying", "carries", "riding", "rides", "using", "uses", "touching", "pushing", "pulling",
    "eating", "drinking", "throwing", "catching", "kicking", "hitting", "swinging", "playing with", "feeding",
    "petting", "hugging", "grabbing", "reaching for", "sitting on", "standing on", "lying on", "laying on",
    "walking on", "leaning on", "sitting in", "driving", "flying", "pulled by", "walking",
})


def is_low_salience_object(name: str) -> bool:
    return name in LOW_SALIENCE_OBJECTS or (lemma_phrase(name)[-1:] or ("",))[0] in LOW_SALIENCE_OBJECTS


def object_salience(obj: dict[str, Any], width: int, height: int) -> float:
    """In [0, 1]: the square root of the box's share of the image, cut to a fifth for low-salience classes."""
    x1, y1, x2, y2 = obj["bbox"]
    share = max(0.0, (x2 - x1) * (y2 - y1)) / max(1.0, width * height)
    score = math.sqrt(min(1.0, share))
    return score * (0.2 if is_low_salience_object(obj["name"]) else 1.0)


def triple_salience(subject: dict[str, Any], predicate: str, obj: dict[str, Any], width: int, height: int) -> float:
    """Mean salience of both ends, lower for possessive/attribute predicates, higher across kinds of object."""
    score = (object_salience(subject, width, height) + object_salience(obj, width, height)) / 2
    if predicate in LOW_SALIENCE_PREDICATES:
        score *= 0.2
    score *= 1.0 if subject["name"] != obj["name"] else 0.6
    return score


def _spans(haystack: tuple[str, ...], needle: tuple[str, ...]) -> list[range]:
    n = len(needle)
    return [range(i, i + n) for i in range(len(haystack) - n + 1) if n and haystack[i : i + n] == needle]


def mentioned_names(question: str, names: Iterable[str], aliases: dict[str, list[str]] | None = None) -> set[str]:
    """The names (of `names`) that the question mentions, by lemma, as whole words, or through an alias.

    Longer names claim their words first, so "traffic lights" mentions "traffic light" but not "light".

    >>> sorted(mentioned_names("Are the traffic lights left of the men?", ["traffic light", "man", "light", "car"]))
    ['man', 'traffic light']
    >>> sorted(mentioned_names("Is the light above the traffic light?", ["traffic light", "light"]))
    ['light', 'traffic light']
    """
    return set(_first_mentions(question, names, aliases))


def mentioned_in_order(question: str, names: Iterable[str], aliases: dict[str, list[str]] | None = None) -> list[str]:
    """The mentioned names in the order the question first mentions them.

    >>> mentioned_in_order("Is the cup left of the table lamp?", ["table lamp", "cup", "lamp"])
    ['cup', 'table lamp']
    """
    first = _first_mentions(question, names, aliases)
    return sorted(first, key=first.get)


def _first_mentions(question: str, names: Iterable[str], aliases: dict[str, list[str]] | None) -> dict[str, int]:
    """name -> word position of its first mention."""
    question_lemmas = lemma_phrase(question)
    present = set(question_lemmas)
    forms = [(lemma_phrase(form), name) for name in set(names) for form in (name, *(aliases or {}).get(name, []))]
    forms = [f for f in forms if f[0] and present.issuperset(f[0])]  # cheap filter before the span search
    forms.sort(key=lambda f: (-len(f[0]), f[1]))
    claimed: set[int] = set()
    found: dict[str, int] = {}
    for form, name in forms:
        for span in _spans(question_lemmas, form):
            if not claimed.intersection(span):
                claimed.update(span)
                found[name] = min(found.get(name, span.start), span.start)
    return found


def focus(question: str, scene: dict[str, Any], aliases: dict[str, list[str]] | None = None) -> dict[str, Any]:
    """The question-focused subgraph: `{"objects": [{id, bbox}], "relationships": [...]}` as the paper's
    `<scene>` block, with every instance of each mentioned name and the relations among them."""
    objects = scene.get("objects") or []
    names = mentioned_names(question, (o["name"] for o in objects), aliases)
    return subgraph(objects, scene.get("relationships") or [], {o["id"] for o in objects if o["name"] in names})


def subgraph(objects: list[dict[str, Any]], relationships: list[dict[str, Any]], ids: set[str]) -> dict[str, Any]:
    """The `<scene>` block of these ids: their objects (in the graph's order, with their boxes) and the relations
    among them."""
    kept = [{"id": o["id"], "bbox": [_plain_number(v) for v in o["bbox"]]} for o in objects if o["id"] in ids]
    among = [{"subject": r["subject"], "predicate": r["predicate"], "object": r["object"]}
             for r in relationships if r["subject"] in ids and r["object"] in ids]
    return {"objects": kept, "relationships": among}


def _plain_number(v: float) -> float | int:
    """Whole-pixel coordinates print as ints, as in the paper's scene graphs (Parquet hands back floats)."""
    return int(v) if float(v).is_integer() else v

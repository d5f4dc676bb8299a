"""Answer spaces and synonym groups of the template generator."""

from __future__ import annotations

from ..focus import INTERACTION_PREDICATES

# Spatial predicates, in groups of synonyms: a distractor never comes from the answer's own group.
SPATIAL_GROUPS: tuple[frozenset[str], ...] = tuple(frozenset(g) for g in (
    {"on", "on top of", "sitting on", "standing on", "lying on", "laying on", "resting on", "parked on", "mounted on"},
    {"above", "over", "hanging above"},
    {"under", "below", "beneath", "underneath"},
    {"near", "next to", "beside", "by", "close to"},
    {"in", "inside", "inside of", "within"},
    {"behind", "in back of"},
    {"in front of"},
    {"left of", "to the left of", "on the left of"},
    {"right of", "to the right of", "on the right of"},
    {"against", "leaning on", "leaning against"},
    {"along", "across"},
    {"around", "surrounding"},
))
SPATIAL_PREDICATES = frozenset().union(*SPATIAL_GROUPS) - INTERACTION_PREDICATES | {"on", "in"}
# What a relation question offers as options: one plain phrase per group.
SPATIAL_ANSWERS = ("on", "above", "under", "next to", "inside", "behind", "in front of", "left of", "right of", "against", "along", "around")
INTERACTION_ANSWERS = ("holding", "carrying", "riding", "using", "touching", "pushing", "pulling", "eating", "throwing",
                       "sitting on", "standing on", "looking at", "walking on", "wearing", "feeding", "playing with")
REACH_PREDICATES = INTERACTION_PREDICATES | {"looking at", "watching", "wearing", "wears"}
DEPTH_FRONT = frozenset({"in front of"})
DEPTH_BEHIND = frozenset({"behind", "in back of"})

# Names that overlap in meaning: counting "men" is ambiguous when a "person" is also annotated, and
# "is there a person?" has no clean "no" when a man is present.
OVERLAPPING_NAMES: tuple[frozenset[str], ...] = tuple(frozenset(g) for g in (
    {"person", "people", "man", "men", "woman", "women", "boy", "girl", "child", "kid", "lady", "guy", "player",
     "skier", "surfer", "skateboarder", "rider", "adult", "human"},
    {"car", "truck", "bus", "vehicle", "van", "taxi", "suv", "jeep"},
    {"bike", "bicycle", "motorcycle", "motorbike", "scooter"},
    {"cup", "mug", "glass"},
    {"table", "desk", "counter"},
    {"chair", "seat", "bench", "stool", "sofa", "couch"},
    {"dog", "puppy", "animal"},
    {"cat", "kitten", "animal"},
    {"tree", "plant", "bush"},
    {"shirt", "t-shirt", "top", "jacket", "coat"},
    {"lamp", "light"},
))


def group_of(predicate: str) -> frozenset[str]:
    for group in SPATIAL_GROUPS:
        if predicate in group:
            return group
    return frozenset({predicate})


def overlapping(name: str) -> frozenset[str]:
    """Names that overlap in meaning with `name` (itself included)."""
    result = {name}
    for group in OVERLAPPING_NAMES:
        if name in group:
            result |= group
    return frozenset(result)


def stated_in_front(relationships: list[dict[str, str]], a: str, b: str) -> set[str]:
    """Which of objects a and b the graph says is in front (both, when its statements disagree)."""
    front = set()
    for r in relationships:
        if {r["subject"], r["object"]} == {a, b}:
            if r["predicate"] in DEPTH_FRONT:
                front.add(r["subject"])
            elif r["predicate"] in DEPTH_BEHIND:
                front.add(r["object"])
    return front

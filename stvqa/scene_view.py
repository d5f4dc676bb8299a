"""What a question may name in one scene: things (not stuff, regions, parts or debris), group boxes set
apart, and a referring expression for each thing that picks out exactly one object.

A scene graph is an annotation, not the image: VG boxes a group of trees as one more "tree", names the
sky and the room as objects, and boxes the same person as "man" and "guy". Questions are asked only
about what a person looking at the image would agree is one identifiable thing.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from functools import cached_property, partial
from collections.abc import Iterator, Mapping, Set
from typing import Any

from .focus import object_salience
from .lexicon import objecthood, predicates, settings
from .geometry import iou
from . import geometry as geo
from .english import printable_name

MAX_THINGS = 16  # pairwise categories look at the most salient things only: bounded work per image
# Attributes that tell instances apart as a person would ("the white chair"); others ("indoors", "on") do not.
REFERRING_ATTRIBUTES = frozenset(
    "white black brown green blue grey red yellow silver orange beige pink tan gold purple wooden metal plastic glass".split()
)
ATTRIBUTE_MAX_SHARE = 0.1  # a colour or material picks out a compact thing; a building front or a street has several
_SAME_ATTRIBUTE = {"gray": "grey", "wood": "wooden", "metallic": "metal"}
DUPLICATE_IOU = 0.5  # two boxes this alike are one object annotated twice ("man" and "guy")
# Relations that name one of several alike things ("the cup on the table"): ones the boxes can rule out for every
# other cup. "behind" or "in front of" cannot be checked that way, so they never name a thing.
REFERRING_RELATIONS = ("on", "in", "under", "above", "next to")
# VG boxes the image itself as "photo" or "picture" ("the sink is in the photo"); a picture on a wall is rarely
# half the frame, so a picture's box over this share of the image is the photograph, not a thing in it.
PICTURE_ITSELF_SHARE = 0.5
# A box over this share of the image, whatever its name, is a close-up's backdrop or the picture itself: larger
# than anything and everything is "in" it, so relation and size questions neither relate nor compare it.
FRAME_SHARE = 0.8
SIGN_KINDS = frozenset({"sign", "poster", "banner", "billboard", "advertisement", "placard"})  # things that carry text and pictures
ON_SIGN_AREA = 0.5  # a box inside a sign and under this share of its area is on the sign, not in the scene
SPAN_EXTENT, SPAN_SHARE = 0.9, 0.25  # `spans_picture`: across this share of the width or height, and this share of the area


class _Kin(Mapping):
    """name -> the objects whose names overlap it (`objecthood.overlaps`), itself included, worked out per name on
    first use (the gate looks at the few names of one question); found through canonical names, so the work grows
    with the objects, not with the pairs of names."""

    def __init__(self, objects: list[dict[str, Any]]) -> None:
        self._by_canon: dict[str, list[dict]] = defaultdict(list)
        self._canon: dict[str, str] = {}
        self._reach: dict[str, frozenset[str]] = {}
        for o in objects:
            name = o["name"]
            if name not in self._canon:
                self._canon[name], self._reach[name] = objecthood.canonical(name), objecthood.related_canonicals(name)
            self._by_canon[self._canon[name]].append(o)
        self._found: dict[str, list[dict[str, Any]]] = {}

    def __getitem__(self, name: str) -> list[dict[str, Any]]:
        if name not in self._found:
            canon = self._canon[name]
            related = (self._reach[name] & self._by_canon.keys()) | {self._canon[n] for n, r in self._reach.items() if canon in r}
            self._found[name] = [o for c in sorted(related) for o in self._by_canon[c]]
        return self._found[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._canon)

    def __len__(self) -> int:
        return len(self._canon)


class _ThingIds(Set):
    """The ids of the objects a question may name (`SceneView.is_thing`), each decided on first use."""

    def __init__(self, view: SceneView) -> None:
        self.view, self._known = view, {}

    def __contains__(self, oid: object) -> bool:
        try:
            return self._known[oid]
        except KeyError:
            obj = self.view.by_id.get(oid)
            found = self._known[oid] = obj is not None and self.view.is_thing(obj)
            return found

    def __iter__(self) -> Iterator[str]:
        return (o["id"] for o in self.view.things)

    def __len__(self) -> int:
        return len(self.view.things)


def _intersection(a, b) -> float:
    ix = (a[2] if a[2] < b[2] else b[2]) - (a[0] if a[0] > b[0] else b[0])
    iy = (a[3] if a[3] < b[3] else b[3]) - (a[1] if a[1] > b[1] else b[1])
    return ix * iy if ix > 0 and iy > 0 else 0.0


def contains(outer, inner, share: float = 0.8) -> bool:
    """At least `share` of the inner box lies inside the outer box. Called for many pairs of every scene: most
    fail on the x axis, tested first."""
    ix = (outer[2] if outer[2] < inner[2] else inner[2]) - (outer[0] if outer[0] > inner[0] else inner[0])
    if ix <= 0:
        return False
    iy = (outer[3] if outer[3] < inner[3] else inner[3]) - (outer[1] if outer[1] > inner[1] else inner[1])
    return iy > 0 and ix * iy >= share * (inner[2] - inner[0]) * (inner[3] - inner[1])


class SceneView:
    """Indexes over one canonical scene graph that every category uses."""

    def __init__(self, scene: dict[str, Any]) -> None:
        self.scene = scene
        self.width, self.height = scene["width"], scene["height"]
        self.objects = scene["objects"]
        self.by_id = {o["id"]: o for o in self.objects}
        # Worked out on first use: the gate looks at the few things a question names, generation at all.
        self.kin = _Kin(self.objects)
        self._overlap_cache: dict[str, tuple[float, bool]] = {}
        self.thing_ids = _ThingIds(self)
        self._expressions: dict[str, tuple[str, str, str | None] | None] = {}
        self.phrase = _Expressions(self, 0)  # id -> how a question names the object
        self.refers_by = _Expressions(self, 1)  # id -> name, attribute, position or relation
        self.anchor = _Expressions(self, 2)  # id -> the table of "the cup on the table"
        self.predicates: dict[tuple[str, str], list[str]] = defaultdict(list)
        for r in scene["relationships"]:
            self.predicates[(r["subject"], r["object"])].append(r["predicate"])
        self.names_present = {o["name"] for o in self.objects}

    @cached_property
    def salience(self) -> dict[str, float]:
        return {o["id"]: object_salience(o, self.width, self.height) for o in self.things}

    @cached_property
    def named(self) -> list[dict[str, Any]]:
        """The things a question may name on their own (a phrase picks each out), most salient first, at most MAX_THINGS."""
        ranked = sorted((o for o in self.things if o["id"] in self.phrase), key=lambda o: (-self.salience[o["id"]], o["id"]))
        return ranked[:MAX_THINGS]

    @cached_property
    def related_to_present(self) -> frozenset[str]:
        """Every name a thing of the image could also be called: its names' canonicals, synonyms, kinds and swaps."""
        return frozenset().union(*(objecthood.related(n) | {objecthood.canonical(n)} for n in self.names_present))

    @cached_property
    def scene_settings(self) -> frozenset[str]:
        """The settings (street, home, ...) the image's things belong to (`stvqa/lexicon/settings.yaml`)."""
        return settings.scene_settings(self.names_present)

    @cached_property
    def things(self) -> list[dict[str, Any]]:
        """The objects a question may name, in the scene's order (`is_thing`)."""
        return [o for o in self.objects if o["id"] in self.thing_ids]

    def is_thing(self, obj: dict[str, Any]) -> bool:
        """A thing a question may name: of a thing's name, not a group box, not on a sign, not the picture itself."""
        return (bool(printable_name(obj["name"])) and objecthood.is_thing(obj["name"]) and not self.is_group_box(obj)
                and not self.is_on_sign(obj) and not self.is_the_picture_itself(obj))

    def is_group_box(self, obj: dict[str, Any]) -> bool:
        """A box around several objects of the same kind ("tree.4" around trees 1-3), or a plural name."""
        if objecthood.is_group_name(obj["name"]):
            return True
        kin = self.kin[obj["name"]]
        if len(kin) < 3:
            return False  # a group box needs two others of its kind
        box = obj["bbox"]
        inside = [o for o in kin if o is not obj and contains(box, o["bbox"]) and iou(box, o["bbox"]) < DUPLICATE_IOU]
        return len(inside) >= 2

    def expression(self, oid: str) -> tuple[str, str, str | None] | None:
        """`referring_expression` of a thing, once; None for what is no thing."""
        try:
            return self._expressions[oid]
        except KeyError:
            found = self._expressions[oid] = self.referring_expression(self.by_id[oid]) if oid in self.thing_ids else None
            return found

    @cached_property
    def _signs(self) -> list[dict[str, Any]]:
        return [o for o in self.objects if not SIGN_KINDS.isdisjoint(objecthood.is_a(o["name"]))]

    def is_on_sign(self, obj: dict[str, Any]) -> bool:
        """Drawn or written on a sign, a poster or a banner: a box mostly inside one and much smaller. VG boxes a
        sign's words and pictures under their own names ("hotel", "pizza", "man" on a poster); none is a thing a
        person would point at in the scene."""
        if not self._signs or not SIGN_KINDS.isdisjoint(objecthood.is_a(obj["name"])):
            return False
        box = obj["bbox"]
        return any(contains(sign["bbox"], box) and geo.area(box) < ON_SIGN_AREA * geo.area(sign["bbox"]) for sign in self._signs)

    def spans_picture(self, obj: dict[str, Any]) -> bool:
        """A box across (nearly) the whole width or height and a large share of the picture: a tablecloth, a counter,
        a rug or a building front. "Left of the counter" or "the counter's cell" mean little for such a thing."""
        x1, y1, x2, y2 = obj["bbox"]
        return max((x2 - x1) / self.width, (y2 - y1) / self.height) >= SPAN_EXTENT and self.share(obj) >= SPAN_SHARE

    def rivals(self, obj: dict[str, Any]) -> list[dict[str, Any]]:
        """Other objects a question naming `obj` could also mean: names that overlap, boxes that differ."""
        return [o for o in self.kin[obj["name"]] if o is not obj and iou(obj["bbox"], o["bbox"]) < DUPLICATE_IOU]

    def referring_expression(self, obj) -> tuple[str, str, str | None] | None:
        """How a question names the object, how the phrase was found (name, attribute, position or relation) and
        the other object the phrase names (relation only), or None when no phrase picks out exactly this object."""
        rivals = self.rivals(obj)
        if not rivals:
            return obj["name"], "name", None
        if any(objecthood.canonical(r["name"]) != objecthood.canonical(obj["name"]) or self.is_group_box(r) for r in rivals):
            return None  # "the person" beside a separate "man", or beside a group box: no phrase is safe
        return self._by_attribute(obj, rivals) or self._by_position(obj, rivals) or self._by_relation(obj, rivals)

    def _by_attribute(self, obj, rivals) -> tuple[str, str, None] | None:
        if self.share(obj) > ATTRIBUTE_MAX_SHARE:
            return None  # "the orange building": a large thing has many colours, and a neighbour may look more orange
        own = _attributes(obj)
        others = set().union(*(_attributes(r) for r in rivals))
        unique = sorted(own - others)
        return (f"{unique[0]} {obj['name']}", "attribute", None) if unique else None

    def _by_position(self, obj, rivals) -> tuple[str, str, None] | None:
        cx = geo.centre(obj["bbox"])[0]
        gaps = [geo.centre(r["bbox"])[0] - cx for r in rivals]
        margin = 0.1 * self.width
        word = "left" if all(g >= margin for g in gaps) else "right" if all(g <= -margin for g in gaps) else None
        if word is None:
            return None
        return (f"{obj['name']} on the {word}" if len(rivals) == 1 else f"{word}most {obj['name']}"), "position", None

    def _by_relation(self, obj, rivals) -> tuple[str, str, str] | None:
        """"the cup on the table": a relation the graph states of this object, to a thing its name alone picks out,
        that the boxes do not contradict for this one and rule out for every rival (no other cup touches the table)."""
        for r in self.scene["relationships"]:
            if r["subject"] != obj["id"] or (relation := predicates.canonical(r["predicate"])) not in REFERRING_RELATIONS:
                continue
            anchor = self.by_id[r["object"]]
            if anchor["id"] not in self.thing_ids or self.rivals(anchor) or objecthood.overlaps(anchor["name"], obj["name"]):
                continue
            refuted = partial(predicates.refuted_by_boxes, relation, object_box=anchor["bbox"], width=self.width, height=self.height)
            if not refuted(obj["bbox"]) and all(refuted(rival["bbox"]) for rival in rivals):
                return f"{obj['name']} {predicates.phrase(relation)} the {anchor['name']}", "relation", anchor["id"]
        return None

    def true_of_pair(self, subject, obj) -> set[str]:
        """The canonical predicates true of (subject, object) by the graph and the boxes (`predicates.true_of_pair`)."""
        return predicates.true_of_pair(self.predicates[(subject["id"], obj["id"])], self.predicates[(obj["id"], subject["id"])],
                                       subject["bbox"], obj["bbox"])

    def share(self, obj) -> float:
        return geo.area(obj["bbox"]) / (self.width * self.height)

    def fills_frame(self, obj) -> bool:
        return self.share(obj) >= FRAME_SHARE

    def is_the_picture_itself(self, obj) -> bool:
        return self.share(obj) >= PICTURE_ITSELF_SHARE and "picture" in objecthood.is_a(obj["name"])

    def occlusion(self, obj) -> float:
        """The largest share of the box covered by one other, non-duplicate, smaller thing: a rough occlusion risk."""
        return self._overlaps(obj)[0]

    def name_disputed(self, obj) -> bool:
        """Whether another annotation boxes the same object under a name that cannot name the same thing (VG's
        "van" and "work truck" around one pickup): annotators disagreed on what it is, and so may a person."""
        return self._overlaps(obj)[1]

    def _overlaps(self, obj) -> tuple[float, bool]:
        """(occlusion, name disputed) of `obj`, from one pass over the other boxes."""
        if obj["id"] in self._overlap_cache:
            return self._overlap_cache[obj["id"]]
        box = obj["bbox"]
        area = geo.area(box) or 1.0
        worst, disputed = 0.0, False
        for o in self.objects:
            inter = _intersection(box, o["bbox"]) if o is not obj else 0.0
            if not inter:
                continue
            if iou(o["bbox"], box) < DUPLICATE_IOU:
                # Only a smaller thing can hide it: a larger box around it (the street under a car, the wall behind a
                # picture) is mostly behind it, and stuff is never in front.
                if geo.area(o["bbox"]) <= area and objecthood.is_thing(o["name"]):
                    worst = max(worst, inter / area)
            elif not disputed and not objecthood.overlaps(o["name"], obj["name"]):
                disputed = True
        self._overlap_cache[obj["id"]] = worst, disputed
        return worst, disputed

    def instances(self, name: str) -> list[dict[str, Any]]:
        """Every annotated object of the class `name` (same canonical name), duplicates merged by the loader."""
        canonical = objecthood.canonical(name)
        return [o for o in self.objects if objecthood.canonical(o["name"]) == canonical]

    def class_counts(self) -> Counter:
        """Things per class, each annotated-twice object once."""
        classes: dict[str, list] = defaultdict(list)
        for o in self.things:
            classes[objecthood.canonical(o["name"])].append(o)
        return Counter({name: len(distinct(members)) for name, members in classes.items()})


class _Expressions(Mapping):
    """One field of the things' referring expressions (phrase, how it was found, anchor), as a read-only mapping."""

    def __init__(self, view: SceneView, field: int) -> None:
        self.view, self.field = view, field

    def __getitem__(self, oid: str) -> str:
        found = self.view.expression(oid) if oid in self.view.by_id else None
        if found is None or found[self.field] is None:  # absent, or no thing: KeyError, as `in` and `.get` expect
            raise KeyError(oid)
        return found[self.field]

    def __iter__(self) -> Iterator[str]:
        return (o["id"] for o in self.view.things if o["id"] in self)

    def __len__(self) -> int:
        return sum(1 for _ in self)


def distinct(objects: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One object per cluster of near-identical boxes: VG boxes one man as "man" and again as "guy"."""
    kept: list[dict[str, Any]] = []
    for o in sorted(objects, key=lambda o: o["id"]):
        if all(iou(o["bbox"], k["bbox"]) < DUPLICATE_IOU for k in kept):
            kept.append(o)
    return kept


def _attributes(obj) -> set[str]:
    return {_SAME_ATTRIBUTE.get(a, a) for a in (a.strip().lower() for a in obj.get("attributes") or [])} & REFERRING_ATTRIBUTES

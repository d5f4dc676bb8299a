"""Canonical predicates: mapping of real VG predicates, compatibility, geometry and distractors."""

from __future__ import annotations

import itertools
import json
from collections import Counter

import pytest
import yaml

from stvqa.lexicon import predicates as P
from stvqa.lexicon.predicates import (
    answer_vocabulary,
    canonical,
    compatible,
    distractors,
    kind,
    phrase,
    refuted_by_boxes,
)

W, H = 800, 600
# Boxes are [x1, y1, x2, y2], y down.
BOTTLE, COUNTER = [400, 100, 440, 230], [0, 220, 800, 330]  # a bottle standing on a granite counter
CUP_L, PLATE_R = [100, 300, 250, 450], [260, 300, 420, 450]  # cup right beside the plate, on its left
CUP_R, PLATE_L = [560, 300, 700, 450], [300, 300, 540, 450]  # cup right beside the plate, on its right
BIKE, WALL = [300, 250, 450, 480], [200, 0, 800, 500]  # a bike leaning against a wall
WHEEL, CAR = [220, 380, 320, 480], [150, 200, 650, 470]  # a wheel on a car: low in the car's box
ALL = tuple(P._lexicon()["entries"])
ASKED = answer_vocabulary("spatial") + answer_vocabulary("interaction")


def _yaml() -> dict:
    return yaml.safe_load(P.DATA_FILE.read_text(encoding="utf-8"))


# ------------------------------------------------------------------ the issue's four bad distractors
@pytest.mark.parametrize(
    ("answer", "bad", "subject", "obj"),
    [
        # the bottle on the counter is also above it
        ("on", "above", BOTTLE, COUNTER),
        # the wheel is low in the car's box, so the boxes refute "above": the table alone must keep it out
        ("on", "above", WHEEL, CAR),
        # the cup next to the plate is also to its left: neither the canonical id nor the option text
        ("next to", "left of", CUP_L, PLATE_R),
        ("next to", "to the left of", CUP_L, PLATE_R),
        # boxes refute "left of" (cup clearly right), but next to / left of are compatible: still never offered
        ("next to", "left of", CUP_R, PLATE_L),
        # a thing to the left of another may well be next to it, and "near" is next to's weaker form
        ("to the left of", "next to", CUP_L, PLATE_R),
        ("left of", "next to", CUP_L, PLATE_R),
        ("near", "next to", CUP_L, PLATE_R),
        # a bike against a wall stands in front of it
        ("against", "in front of", BIKE, WALL),
    ],
)
def test_true_predicates_are_never_distractors(answer, bad, subject, obj) -> None:
    result = distractors(answer, subject, obj, W, H)
    assert canonical(bad) not in result
    assert not set(result) & {canonical(answer)}


def test_issue_cases_are_compatible_in_the_table() -> None:
    # each pair can be true of one (subject, object) pair at once, whatever the boxes
    assert compatible("on", "above")
    assert compatible("next to", "to the left of")
    assert compatible("left of", "next to") and compatible("near", "next to")
    assert compatible("against", "in front of")


def test_distractors_of_on_for_a_bottle_on_a_counter() -> None:
    # under: ruled out by "on" and refuted by the boxes (bottle centre clearly higher); behind: ruled out by
    # "on" and not decidable from boxes. Not next to (boxes touch), not in/against/around (compatible with on).
    assert distractors("on", BOTTLE, COUNTER, W, H) == ["behind", "under"]


# ------------------------------------------------------------------ canonical mapping
@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("ON", "on"),
        ("on top of", "on"),  # VG's alias list says "above"; touching from above is "on"
        ("are on top of", "on"),
        ("on a", "on"),
        ("is on the", "on"),
        ("  On   Top  Of ", "on"),
        ("parked on", "on"),
        ("mounted on", "on"),
        ("on back of", "on"),  # VG150; a logo on the back of a shirt is on it
        ("growing on", "on"),  # posture/motion verb + spatial predicate
        ("sitting on top of", "sitting on"),  # explicit variant wins over the verb rule
        ("are sitting on", "sitting on"),
        ("are sitting upon", "sitting on"),
        ("laying on", "lying on"),
        ("Next To", "next to"),
        ("next to a", "next to"),
        ("standing next to", "next to"),
        ("right next to", "next to"),  # modifier
        ("beside", "next to"),
        ("to the left of", "left of"),
        ("on left side of", "left of"),
        ("parked left of", "left of"),
        ("in front", "in front of"),
        ("infront of", "in front of"),
        ("behind a", "behind"),
        ("in back of", "behind"),
        ("IN", "in"),
        ("inside of", "in"),
        ("in middle of", "in"),  # "<prep> <part> of"
        ("on edge of", "on"),
        ("below", "under"),
        ("WEARING", "wearing"),
        ("wears", "wearing"),
        ("watching", "looking at"),
        ("holds", "holding"),
        ("used by", "used by"),  # a passive: not "using", which would swap subject and object
        ("has a", "has"),
    ],
)
def test_canonical_maps_messy_raw_predicates(raw, expected) -> None:
    assert canonical(raw) == expected


@pytest.mark.parametrize("raw", ["", "a", "see street", "colour grey", "sitting with", "xyzzy", "standing"])
def test_canonical_is_none_for_debris_and_unknowns(raw) -> None:
    # "sitting with": the verb rule only accepts a spatial remainder, and "with" is possessive
    assert canonical(raw) is None


def test_kind_phrase_and_vocabulary() -> None:
    assert (kind("ON"), kind("holding"), kind("has"), kind("printed on"), kind("nonsense")) == (
        "spatial", "interaction", "possessive", "attribute", None)
    assert (phrase("left of"), phrase("right of"), phrase("on"), phrase("sitting on")) == (
        "to the left of", "to the right of", "on", "sitting on")
    # one vocabulary: every asked predicate has an option text of its own, and possessives are never asked
    assert answer_vocabulary("possessive") == () and answer_vocabulary("attribute") == ()
    texts = [phrase(p) for p in ASKED]
    assert len(texts) == len(set(texts))
    # vague predicates and passives are recognised but never asked
    assert {"at", "touching", "held by", "between"}.isdisjoint(ASKED)


def test_data_is_found_beside_the_module_not_in_the_cwd(tmp_path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    P._lexicon.cache_clear()
    P.canonical.cache_clear()
    assert canonical("ON") == "on"


# ------------------------------------------------------------------ the YAML itself
def test_no_raw_variant_is_under_two_canonical_predicates() -> None:
    counts = Counter()
    for name, entry in _yaml()["predicates"].items():
        counts.update({name, *entry.get("variants", ())})
    assert [raw for raw, n in counts.items() if n > 1] == []


def test_every_yaml_word_is_a_string() -> None:
    # PyYAML reads a bare `on` as True; such an entry would silently vanish from the vocabulary
    data = _yaml()
    words = [*data["predicates"], *data["compatible"]] + [w for ws in data["compatible"].values() for w in ws]
    assert all(isinstance(w, str) for w in words)


def test_compatibility_lists_are_mirrored_and_name_known_predicates() -> None:
    table = _yaml()["compatible"]
    asymmetric = [(p, q) for p, qs in table.items() for q in qs if p not in table.get(q, ())]
    assert asymmetric == []
    assert set(table) | {q for qs in table.values() for q in qs} <= set(ALL)


def test_every_asked_predicate_has_a_compatibility_row() -> None:
    # without a row an asked predicate would be incompatible with everything: every other one a distractor
    assert set(ASKED) <= set(_yaml()["compatible"])


def test_compatible_is_symmetric_and_reflexive() -> None:
    for p, q in itertools.product(ALL, repeat=2):
        assert compatible(p, q) == compatible(q, p), (p, q)
    assert all(compatible(p, p) for p in ALL)


def test_compatibility_judgement_calls() -> None:
    assert not compatible("under", "above") and not compatible("behind", "in front of")
    assert not compatible("left of", "right of")
    assert not compatible("on", "next to")  # a cup on a table is not next to it
    assert compatible("holding", "carrying") and compatible("holding", "using") and compatible("carrying", "using")
    assert compatible("riding", "sitting on") and compatible("riding", "standing on")
    assert not compatible("sitting on", "standing on") and not compatible("throwing", "catching")
    # across kinds an interaction counts through what it implies: sitting on -> on
    assert compatible("sitting on", "on") and compatible("sitting on", "above")
    assert not compatible("sitting on", "under")
    assert compatible("holding", "under")  # holding says nothing about position
    assert compatible("at", "left of") and compatible("has", "under")  # vague / possessive rule nothing out
    assert compatible("bogus", "on")  # unknown predicates rule nothing out


# ------------------------------------------------------------------ geometry
@pytest.mark.parametrize(
    ("predicate", "subject", "obj", "expected"),
    [
        # the cup is right of the plate: left of refuted, right of not
        ("left of", CUP_R, PLATE_L, True),
        ("right of", CUP_R, PLATE_L, False),
        ("right of", CUP_L, PLATE_R, True),
        # centres 40 px apart (5% of 800): not clearly right
        ("left of", [340, 300, 400, 400], [300, 300, 360, 400], False),
        # a long fence centred right of the dog still reaches past its left edge: not refuted
        ("left of", [50, 300, 790, 400], [100, 320, 160, 380], False),
        # the bottle is high above the counter's centre: under refuted, above and on not
        ("under", BOTTLE, COUNTER, True),
        ("above", BOTTLE, COUNTER, False),
        ("on", BOTTLE, COUNTER, False),
        ("above", WHEEL, CAR, True),  # wheel centre clearly below the car's, top inside the car box
        # a shirt on a man: centre below the man's top, but "on" (worn) holds; never refuted by that
        ("on", [300, 180, 420, 330], [300, 100, 420, 500], False),
        # far apart: no contact, so neither on nor against; and not in
        ("on", [20, 20, 80, 80], [600, 400, 700, 560], True),
        ("against", [20, 20, 80, 80], [600, 400, 700, 560], True),
        ("against", BIKE, WALL, False),
        ("in", [20, 20, 80, 80], [600, 400, 700, 560], True),
        ("in", [300, 200, 380, 300], [200, 150, 600, 450], False),
        ("in", [100, 100, 200, 200], [200, 100, 300, 200], True),  # touching edges only
        # next to: gap 10 px -> not refuted; gap 520 px >> the larger box's diagonal (~178) -> refuted
        ("next to", CUP_L, PLATE_R, False),
        ("next to", [20, 20, 80, 80], [600, 400, 700, 560], True),
        # near needs twice the diagonal and 15% of the image diagonal (150 px): gap 150 between 60 px boxes
        ("near", [0, 0, 60, 60], [210, 0, 270, 60], False),
        ("near", [0, 0, 60, 60], [400, 0, 460, 60], True),
        # depth and shape: the boxes never decide
        ("behind", CUP_R, PLATE_L, False),
        ("in front of", [20, 20, 80, 80], [600, 400, 700, 560], False),
        ("around", [20, 20, 80, 80], [600, 400, 700, 560], False),
    ],
)
def test_refuted_by_boxes(predicate, subject, obj, expected) -> None:
    assert refuted_by_boxes(predicate, subject, obj, W, H) is expected


def test_geometric_distractors_need_refuting_boxes() -> None:
    # A clearly left of B: "right of" is false by the table and by the boxes -> a distractor
    assert "right of" in distractors("left of", CUP_L, PLATE_R, W, H)
    # A overlapping B with nearly the same centre: boxes cannot refute "right of" -> not offered
    assert "right of" not in distractors("left of", [300, 300, 400, 400], [310, 300, 410, 400], W, H)
    # "in" is a distractor for "next to" only when the boxes do not overlap at all
    assert "in" in distractors("next to", CUP_L, PLATE_R, W, H)
    assert "in" not in distractors("next to", [100, 300, 270, 450], PLATE_R, W, H)
    # "in front of" has no geometry: the table decides (incompatible with "behind")
    assert distractors("behind", [300, 150, 500, 300], [350, 200, 600, 450], W, H) == ["in front of"]


def test_other_stated_predicates_remove_distractors() -> None:
    man, chair = [300, 100, 420, 500], [250, 300, 450, 500]
    # carrying is incompatible with sitting on, but compatible with holding, also stated for the pair
    assert "carrying" in distractors("sitting on", man, chair, W, H)
    assert "carrying" not in distractors("sitting on", man, chair, W, H, also_true={"holding"})
    # a stated predicate (raw form) is never a distractor itself
    assert "standing on" not in distractors("sitting on", man, chair, W, H, also_true={"stands on"})
    # stated predicates count through their implications: "sitting on" -> "on", which is above-compatible
    table = [100, 250, 700, 500]
    assert "above" in distractors("under", [300, 420, 380, 490], table, W, H)
    assert "above" not in distractors("under", [300, 420, 380, 490], table, W, H, also_true={"sitting on"})


def test_distractors_are_false_sorted_and_from_the_one_vocabulary() -> None:
    boxes = [(CUP_L, PLATE_R), (BOTTLE, COUNTER), (BIKE, WALL), ([20, 20, 80, 80], [600, 400, 700, 560])]
    for answer, (s, o) in itertools.product(ASKED, boxes):
        result = distractors(answer, s, o, W, H)
        assert result == sorted(result)
        assert set(result) <= set(answer_vocabulary(kind(answer)))
        assert not any(compatible(answer, d) for d in result), answer
        assert all(refuted_by_boxes(d, s, o, W, H) for d in result if d in P.GEOMETRIC), answer


def test_distractors_pool_and_unasked_answers() -> None:
    # the pool restricts candidates (raw forms allowed); an unasked answer gets none
    assert distractors("holding", [0, 0, 10, 10], [0, 0, 10, 10], W, H, pool=["kicks", "carrying"]) == ["kicking"]
    assert distractors("has", BOTTLE, COUNTER, W, H) == []
    assert distractors("at", BOTTLE, COUNTER, W, H) == []


# ------------------------------------------------------------------ coverage of the real records
def _real_predicates(root) -> Counter:
    found = Counter()
    for path in sorted(root.glob("*/relationships.json")):
        for image in json.loads(path.read_text(encoding="utf-8")):
            found.update(r["predicate"] for r in image["relationships"])
    found.update({line.strip(): 0 for line in (root / "vg150" / "predicates.txt").read_text().splitlines() if line.strip()})
    return found


def test_every_real_predicate_is_canonical_or_known_debris(vg_sample) -> None:
    found = _real_predicates(vg_sample)
    assert len(found) > 150  # all four VG versions plus the 50 VG150 predicates were read
    assert [p for p in found if canonical(p) is None and not P.ignorable(p)] == []
    # debris must really be debris: nothing listed as ignorable also maps to a predicate
    assert [p for p in _yaml()["ignore"] if canonical(p)] == []


def test_true_of_pair_adds_converses_implications_and_the_side_of_things_side_by_side() -> None:
    assert P.true_of_pair(["sitting on"], [], BIKE, WALL) >= {"sitting on", "on"}  # what it implies
    assert "above" in P.true_of_pair([], ["under"], PLATE_L, CUP_R)  # B under A: A above B
    assert P.true_of_pair([], ["in front of"], CUP_L, PLATE_R) == {"behind"}
    assert P.true_of_pair(["next to"], [], CUP_L, PLATE_R) == {"next to", "left of"}
    assert P.true_of_pair([], ["beside"], CUP_R, PLATE_L) == {"next to", "right of"}  # "next to" is its own converse
    assert P.true_of_pair(["next to"], [], BOTTLE, COUNTER) == {"next to"}  # one above the other: no side
    assert P.true_of_pair(["behind"], [], CUP_L, PLATE_R) == {"behind"}  # the side only for things stated side by side

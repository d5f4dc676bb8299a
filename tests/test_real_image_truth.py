"""The hand-written truth about the two real VG images (tests/fixtures/real_images.yaml) and its checker.

Only `test_group_boxes_match_the_annotation` and `test_every_repeated_kind_has_a_count` read the shared
Visual Genome sample; they skip without it. Everything else uses the fixture in the repository.
"""

from __future__ import annotations

import json
from collections import Counter

import pytest

from real_image_truth import FIXTURE, answer_text, contradictions, involved, key, load_truth, name_of

IMAGE_IDS = ("1", "2")
GROUP_KINDS = {"group", "duplicate", "wrong_name", "wrong_region", "part", "text", "partial"}


@pytest.fixture(scope="module")
def truth():
    return load_truth()


def sample(image_id="1", category="existence", answer="yes", options=("yes", "no"), question="", **args):
    """A QA row as the generator writes it: options, letter, answer text and args as a JSON string."""
    options = list(options)
    return {
        "image_id": image_id,
        "category": category,
        "question": question,
        "options": options,
        "answer": "ABCD"[options.index(answer)],
        "answer_text": answer,
        "args": json.dumps(args),
    }


# --- the fixture's structure -------------------------------------------------------------------------------


def test_fixture_has_both_images(truth):
    assert FIXTURE.is_file()
    assert set(truth) == set(IMAGE_IDS)


@pytest.mark.parametrize("image_id", IMAGE_IDS)
def test_fixture_structure(truth, image_id):
    image = truth[image_id]
    assert {"present", "absent", "counts", "group_boxes", "regions_or_stuff"} <= image.keys()
    for section in ("present", "uncertain_presence"):
        for entry in image.get(section, []):
            assert isinstance(entry, dict) and entry["names"], entry
            assert all(isinstance(n, str) and n == n.lower().strip() and n for n in entry["names"]), entry
    assert len(image["absent"]) >= 12
    assert all(isinstance(n, str) and n == n.lower() for n in image["absent"])
    for name, value in image["counts"].items():
        assert name == name.lower()
        assert value in ("many", "uncertain") or (isinstance(value, int) and not isinstance(value, bool) and value >= 0), (name, value)
    for box in image["group_boxes"]:
        assert {"name", "object_id", "x", "y", "w", "h", "kind"} <= box.keys(), box
        assert box["kind"] in GROUP_KINDS, box
        assert all(isinstance(box[k], int) for k in ("object_id", "x", "y", "w", "h")), box
        assert 0 <= box["x"] < 800 and 0 <= box["y"] < 600 and box["w"] > 0 and box["h"] > 0, box
    assert all(isinstance(n, str) and n == n.lower() for n in image["regions_or_stuff"])
    for check in image.get("left_right_checks", []):
        assert check["left"] and check["right"], check
        assert not {key(n) for n in check["left"]} & {key(n) for n in check["right"]}, check


@pytest.mark.parametrize("image_id", IMAGE_IDS)
def test_fixture_is_self_consistent(truth, image_id):
    image = truth[image_id]
    present = {key(n) for e in image["present"] for n in e["names"]}
    unsure = {key(n) for e in image.get("uncertain_presence", []) for n in e["names"]}
    absent = {key(n) for n in image["absent"]}
    assert not present & absent
    assert not unsure & absent
    assert not present & unsure
    # a kind with a positive exact count is visible; no counted kind is absent
    assert not {key(n) for n in image["counts"]} & absent
    counted = {key(n) for n, v in image["counts"].items() if isinstance(v, int) and v > 0}
    assert counted <= present, counted - present
    for check in image.get("left_right_checks", []):
        assert {key(n) for n in check["left"] + check["right"]} & absent == set()


# --- the shared annotation (skips without ../shared/vg_sample) ---------------------------------------------


def _objects(vg_sample):
    records = json.loads((vg_sample / "v1.2" / "objects.json").read_text())
    return {str(r["image_id"]): r["objects"] for r in records}


def test_group_boxes_match_the_annotation(truth, vg_sample):
    objects = _objects(vg_sample)
    for image_id in IMAGE_IDS:
        by_id = {o["object_id"]: o for o in objects[image_id]}
        for box in truth[image_id]["group_boxes"]:
            obj = by_id.get(box["object_id"])
            assert obj is not None, box
            assert box["name"] in obj["names"], (box, obj["names"])
            assert [box[k] for k in "xywh"] == [obj[k] for k in "xywh"], (box, obj)


def test_every_repeated_kind_has_a_count(truth, vg_sample):
    for image_id, objs in _objects(vg_sample).items():
        repeated = {n for n, c in Counter(o["names"][0].strip().lower() for o in objs).items() if c > 1}
        listed = {key(n) for n in truth[image_id]["counts"]}
        assert {key(n) for n in repeated} <= listed, repeated


# --- name handling -------------------------------------------------------------------------------------------


def test_names_from_ids_and_questions():
    assert name_of("parking_meter.1") == "parking meter"
    assert name_of("_walk_.1") == "walk"
    assert name_of("Street Light") == "street light"
    assert key("Parking Meters") == key("parking meter")
    assert involved(sample(category="count", answer="2", options=("1", "2", "3"), question="How many bikes can you see?")) == {"name": "bikes"}
    row = sample(category="orientation", answer="left", options=("left", "right"),
                 question="Seen from the camera, which side of the work truck is the clock on?")
    assert involved(row) == {"b": "work truck", "a": "clock"}
    assert answer_text({"options": ["(A) left", "(B) right"], "answer": "B"}) == "right"


def test_unknown_image_has_no_contradictions(truth):
    assert contradictions(sample(image_id="999", answer="no", name="clock"), truth) == []


# --- one contradicting and one consistent sample per rule -------------------------------------------------


def test_existence_no_for_present_kind(truth):
    assert contradictions(sample("1", answer="no", name="clock"), truth)
    assert contradictions(sample("1", answer="no", name="bicycles"), truth)  # a synonym, plural
    assert contradictions(sample("2", answer="no", name="backpack"), truth)
    assert contradictions(sample("1", answer="yes", name="clock"), truth) == []
    assert contradictions(sample("1", answer="no", name="horse"), truth) == []


def test_existence_yes_for_absent_kind(truth):
    assert contradictions(sample("1", answer="yes", name="dog"), truth)
    assert contradictions(sample("2", answer="yes", name="elephants"), truth)
    assert contradictions(sample("2", answer="yes", name="man"), truth) == []
    # kinds the fixture is unsure of are not judged either way
    assert contradictions(sample("1", answer="yes", name="van"), truth) == []
    assert contradictions(sample("1", answer="no", name="van"), truth) == []


def test_existence_from_letter_and_question_only(truth):
    row = {"image_id": "1", "category": "existence", "question": "Does the image contain a parking meter?",
           "options": ["(A) yes", "(B) no"], "answer": "B"}
    assert contradictions(row, truth)
    assert contradictions(dict(row, answer="A"), truth) == []


COUNT = dict(category="count", options=("1", "2", "3", "4"))


def test_count_differs_from_exact_count(truth):
    assert contradictions(sample("1", answer="1", name="parking meter", **COUNT), truth)
    assert contradictions(sample("1", answer="4", name="man", **COUNT), truth)  # VG has four "man" boxes
    assert contradictions(sample("1", answer="2", name="parking meter", **COUNT), truth) == []
    assert contradictions(sample("1", answer="2", name="men", **COUNT), truth) == []


def test_count_of_uncountable_kind(truth):
    problems = contradictions(sample("2", answer="3", name="tree", **COUNT), truth)
    assert problems and "cannot be counted" in problems[0]
    assert contradictions(sample("1", answer="2", name="bike", **COUNT), truth)
    assert contradictions(sample("2", answer="2", name="window", **COUNT), truth)
    assert contradictions(sample("2", answer="1", name="backpack", **COUNT), truth) == []


def test_count_of_absent_kind(truth):
    assert contradictions(sample("1", answer="2", name="dogs", **COUNT), truth)
    assert contradictions(sample("1", answer="0", name="dogs", options=("0", "1", "2")), truth) == []


def test_region_named_as_a_thing(truth):
    size = sample("1", category="size", answer="sidewalk", options=("sidewalk", "clock"), larger="sidewalk.1", smaller="clock.1")
    assert any("region" in p for p in contradictions(size, truth))
    distance = sample("2", category="distance", answer="man", options=("man", "building"), ref="sky.1", nearer="man.1", farther="building.1")
    assert contradictions(distance, truth)
    assert contradictions(sample("2", answer="yes", name="crosswalk"), truth)
    assert contradictions(sample("1", answer="2", name="street", **COUNT), truth)
    things = sample("1", category="size", answer="work truck", options=("work truck", "clock"), larger="work_truck.1", smaller="clock.1")
    assert contradictions(things, truth) == []
    # regions are fine in categories that only place them
    orientation = sample("2", category="orientation", answer="left", options=("left", "right"), a="crosswalk.1", b="walk_sign.1", axis="horizontal")
    assert contradictions(orientation, truth) == []


def test_left_right(truth):
    wrong = sample("1", category="orientation", answer="right", options=("left", "right"), a="clock.1", b="work_truck.1", axis="horizontal")
    assert contradictions(wrong, truth)
    swapped = sample("1", category="orientation", answer="left", options=("left", "right"), a="work_truck.1", b="clock.1", axis="horizontal")
    assert contradictions(swapped, truth)
    right = sample("1", category="orientation", answer="left", options=("left", "right"), a="clock.1", b="work_truck.1", axis="horizontal")
    assert contradictions(right, truth) == []
    man = sample("2", category="orientation", answer="right", options=("left", "right"), a="walk_sign.1", b="man.1", axis="horizontal")
    assert contradictions(man, truth) == []
    assert contradictions(dict(man, answer="A", answer_text="left"), truth)
    # pairs the fixture does not know are not judged
    other = sample("1", category="orientation", answer="right", options=("left", "right"), a="sign.1", b="clock.1", axis="horizontal")
    assert contradictions(other, truth) == []
    vertical = sample("1", category="orientation", answer="above", options=("above", "below"), a="clock.1", b="work_truck.1", axis="vertical")
    assert contradictions(vertical, truth) == []


def test_left_right_from_question_only(truth):
    row = {"image_id": "1", "category": "orientation", "options": ["left", "right"], "answer": "B", "answer_text": "right",
           "question": "From the camera's viewpoint, is the clock to the left or to the right of the work truck?"}
    assert contradictions(row, truth)
    assert contradictions(dict(row, answer="A", answer_text="left"), truth) == []

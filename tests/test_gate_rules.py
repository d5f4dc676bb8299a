"""The gate's rules for the error kinds found on real photographs, one scene each: the rule rejects the question
with its reason, and the same question on a scene that differs only in what the rule looks at passes. The template
generator's candidates share each rule (the gate passes every template question: tests/test_gate.py), so these
scenes also say what templates never ask."""

from __future__ import annotations

import pytest

from llm_fakes import gate_verdict, reply_row
from stvqa.scene_view import SceneView

W, H = 640, 480


def _obj(oid: str, bbox: list[float], *attributes: str) -> dict:
    return {"id": oid, "name": oid.split(".")[0], "bbox": bbox, "attributes": list(attributes)}


def _scene(*objects: dict, relationships=()) -> dict:
    return {"image_id": "9", "width": W, "height": H, "objects": list(objects), "relationships": list(relationships)}


def _verdict(scene: dict, category: str, question: str, options: list[str], roles: dict[str, str]) -> tuple:
    """The gate's verdict on a writer's question whose answer is its first option, its objects given by id."""
    row = reply_row(question, options, "A", category, [{"id": oid, "role": role} for role, oid in roles.items()], image_id="9")
    return gate_verdict(row, scene)


CAR = _obj("car.1", [440, 300, 560, 400])
SIDE = "From the camera's viewpoint, is the {} to the left or to the right of the car?"


@pytest.mark.parametrize("thing, reason", [
    (_obj("lamp.1", [100, 200, 130, 300]), None),
    (_obj("hotel.1", [100, 20, 300, 60]), "venue_not_a_thing"),  # a business named on its sign: the sign's text
])
def test_a_venue_is_the_text_of_a_sign_not_a_thing(thing, reason) -> None:
    found = _verdict(_scene(thing, CAR), "orientation", SIDE.format(thing["name"]), ["left", "right"], {"subject": thing["id"], "reference": "car.1"})
    assert found == ((True, "orientation_matches_boxes") if reason is None else (False, reason))


@pytest.mark.parametrize("man, reason", [
    (_obj("man.1", [150, 200, 200, 380]), None),
    (_obj("man.1", [150, 70, 200, 140]), "on_sign_not_a_thing"),  # drawn on the poster
])
def test_what_is_drawn_or_written_on_a_sign_is_not_a_thing(man, reason) -> None:
    scene = _scene(_obj("poster.1", [100, 50, 300, 160]), man, CAR)
    found = _verdict(scene, "orientation", SIDE.format("man"), ["left", "right"], {"subject": "man.1", "reference": "car.1"})
    assert found == ((True, "orientation_matches_boxes") if reason is None else (False, reason))


@pytest.mark.parametrize("predicate, options, reason", [
    ("on", ["on", "under"], "relation_in_graph"),  # on, in, under, above: clear of any surface
    ("next to", ["next to", "under"], "relation_reference_spans_picture"),  # next to which part of it?
])
def test_a_surface_across_the_picture_is_a_reference_only_for_support(predicate, options, reason) -> None:
    scene = _scene(_obj("cup.1", [300, 250, 360, 310]), _obj("tablecloth.1", [0, 200, 640, 480]),
                   relationships=[{"subject": "cup.1", "predicate": predicate, "object": "tablecloth.1"}])
    found = _verdict(scene, "relation", "Where is the cup with respect to the tablecloth?", options, {"subject": "cup.1", "reference": "tablecloth.1"})
    assert found == (reason == "relation_in_graph", reason)


def test_left_or_right_of_a_surface_across_the_picture_is_not_asked() -> None:
    question = "From the camera's viewpoint, is the cup to the left or to the right of the {}?"
    for cloth, expected in (([400, 300, 520, 400], (True, "orientation_matches_boxes")),
                            ([100, 40, 640, 480], (False, "orientation_object_spans_picture"))):
        scene = _scene(_obj("cup.1", [20, 100, 80, 160]), _obj("tablecloth.1", cloth))
        assert _verdict(scene, "orientation", question.format("tablecloth"), ["left", "right"],
                        {"subject": "cup.1", "reference": "tablecloth.1"}) == expected


@pytest.mark.parametrize("box, cell, reason", [
    ([280, 380, 360, 450], "bottom", "cell_matches_box"),
    ([20, 380, 620, 450], "bottom", "cell_box_spans_cells"),  # a fence along the bottom: bottom-left too, and bottom-right
    ([60, 100, 440, 300], "center", "cell_box_mostly_elsewhere"),  # centre in the middle cell, 61% of the box outside it
    ([280, 380, 360, 450], "left", "cell_contradicts_box"),
])
def test_a_thing_is_located_only_where_its_box_lies_mostly_in_one_cell(box, cell, reason) -> None:
    others = [c for c in ("top", "center", "bottom", "left") if c != cell][:3]
    found = _verdict(_scene(_obj("fence.1", box)), "instance_location", "In which part of the image is the fence?", [cell, *others], {"subject": "fence.1"})
    assert found == (reason == "cell_matches_box", reason)


@pytest.mark.parametrize("boxes, reason", [
    ([[100, 100, 150, 130], [300, 100, 350, 130], [500, 300, 550, 330]], "count_matches_graph"),
    ([[100, 100, 150, 130], [140, 100, 190, 130], [180, 100, 230, 130]], "count_instances_clustered"),  # a bunch, boxed in part
    ([[100, 100, 300, 300], [150, 150, 200, 200], [500, 300, 550, 330]], "count_instance_inside_another"),  # one boxed again in a row of them
])
def test_counts_only_of_instances_boxed_one_by_one(boxes, reason) -> None:
    scene = _scene(*(_obj(f"apple.{i}", box) for i, box in enumerate(boxes)))
    found = _verdict(scene, "count", "How many apples are there in the image?", ["3", "2", "4", "5"], {"counted": "apple.0"})
    assert found == (reason == "count_matches_graph", reason)


@pytest.mark.parametrize("plate, reason", [
    ([520, 180, 580, 220], "distance_matches_boxes"),  # the three on one ground band
    # 2.7 times as far in the picture, but standing much nearer the camera: in the room it may be the nearer one
    ([380, 360, 420, 400], "distance_depths_not_comparable"),
])
def test_distance_only_between_things_at_comparable_depth(plate, reason) -> None:
    scene = _scene(_obj("cup.1", [300, 160, 340, 200]), _obj("bowl.1", [380, 170, 420, 200]), _obj("plate.1", plate))
    found = _verdict(scene, "distance", "In the picture, which is closer to the cup: the bowl or the plate?", ["bowl", "plate"],
                     {"reference": "cup.1", "first": "bowl.1", "second": "plate.1"})
    assert found == (reason == "distance_matches_boxes", reason)


@pytest.mark.parametrize("bench, reason", [
    ([200, 200, 300, 300], "existence_matches_graph"),
    ([0, 0, 40, 40], "existence_yes_barely_in_picture"),  # a corner of it at the frame's corner: is that a bench?
])
def test_existence_yes_only_of_a_thing_that_is_in_the_picture(bench, reason) -> None:
    found = _verdict(_scene(_obj("bench.1", bench), CAR), "existence", "Is there a bench in the image?", ["yes", "no"], {"object": "bench.1"})
    assert found == (reason == "existence_matches_graph", reason)


def test_a_colour_names_a_compact_thing_never_a_large_one() -> None:
    view = SceneView(_scene(_obj("cup.1", [100, 100, 140, 140], "red"), _obj("cup.2", [400, 100, 440, 140], "blue"),
                            _obj("building.1", [0, 0, 300, 300], "orange"), _obj("building.2", [300, 0, 640, 300], "brick")))
    assert view.expression("cup.1")[:2] == ("red cup", "attribute")
    # "the orange building": a building front has many colours and its neighbour may look more orange
    assert view.expression("building.1") is None or view.expression("building.1")[1] != "attribute"

import pytest

from stvqa.focus import focus, mentioned_names, object_salience, triple_salience

SCENE = {
    "objects": [
        {"id": "man.1", "name": "man", "bbox": [10, 10, 40, 90]},
        {"id": "man.2", "name": "man", "bbox": [60, 10, 90, 90]},
        {"id": "traffic_light.1", "name": "traffic light", "bbox": [100, 0, 110, 30]},
        {"id": "bicycle.1", "name": "bicycle", "bbox": [0, 50, 50, 100]},
        {"id": "shirt.1", "name": "shirt", "bbox": [15, 30, 35, 50]},
    ],
    "relationships": [
        {"subject": "man.1", "predicate": "riding", "object": "bicycle.1"},
        {"subject": "man.1", "predicate": "wearing", "object": "shirt.1"},
        {"subject": "man.2", "predicate": "near", "object": "traffic_light.1"},
    ],
}


@pytest.mark.parametrize(
    ("question", "expected_ids"),
    [
        ("Where is the man with respect to the bicycle?", ["man.1", "man.2", "bicycle.1"]),
        ("How many men are there?", ["man.1", "man.2"]),  # irregular plural
        ("Is a traffic light visible?", ["traffic_light.1"]),  # multi-word name
        ("Are the traffic lights left of the bicycles?", ["traffic_light.1", "bicycle.1"]),
        ("What colour is the bike?", ["bicycle.1"]),  # through an alias
        ("Is there a horse?", []),
    ],
)
def test_focus_objects(question, expected_ids) -> None:
    result = focus(question, SCENE, aliases={"bicycle": ["bike", "bikes"]})
    assert [o["id"] for o in result["objects"]] == [o["id"] for o in SCENE["objects"] if o["id"] in expected_ids]


def test_focus_keeps_only_relationships_between_kept_objects() -> None:
    result = focus("Is the man riding the bicycle?", SCENE)
    assert result == {
        "objects": [{"id": "man.1", "bbox": [10, 10, 40, 90]}, {"id": "man.2", "bbox": [60, 10, 90, 90]},
                    {"id": "bicycle.1", "bbox": [0, 50, 50, 100]}],
        "relationships": [{"subject": "man.1", "predicate": "riding", "object": "bicycle.1"}],
    }


def test_names_match_whole_words_only() -> None:
    assert mentioned_names("Is the manhole cover open?", ["man", "cover"]) == {"cover"}


def test_salience_ranks_parts_and_possessive_predicates_low() -> None:
    man, bike, shirt = SCENE["objects"][0], SCENE["objects"][3], SCENE["objects"][4]
    assert object_salience(shirt, 120, 100) < object_salience(man, 120, 100)
    assert triple_salience(man, "wearing", shirt, 120, 100) < triple_salience(man, "riding", bike, 120, 100)
    # Same kind of object on both ends ranks below different kinds with the same boxes.
    other = dict(bike, name="man")
    assert triple_salience(man, "near", other, 120, 100) < triple_salience(man, "near", bike, 120, 100)

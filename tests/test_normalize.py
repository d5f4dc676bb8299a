from collections import Counter

from stvqa.names import AliasMap
from stvqa.stages.load.normalize import NormalizeConfig, normalize_scene
from stvqa.stages.load.sources.base import RawObject, RawRelationship, RawScene


def scene(objects, relationships=(), width=100, height=80) -> RawScene:
    return RawScene("7", width, height, list(objects), list(relationships), image_path="VG_100K/7.jpg", image_status="ok")


def run(raw, aliases=None, cfg=NormalizeConfig()):
    stats = Counter()
    return normalize_scene(raw, "vg", aliases or AliasMap(), cfg, stats), stats


def test_names_are_cleaned_and_ids_numbered_per_name() -> None:
    result, stats = run(scene([
        RawObject("1", [" Traffic  Light "], (0, 0, 10, 10)),
        RawObject("2", ["traffic light"], (50, 0, 60, 10)),
        RawObject("3", ["T-Shirt"], (20, 20, 30, 40)),
    ]))
    assert [(o["id"], o["name"]) for o in result["objects"]] == [
        ("traffic_light.1", "traffic light"), ("traffic_light.2", "traffic light"), ("t_shirt.1", "t-shirt")]
    assert stats["object_name_normalized"] == 2


def test_ids_keep_letters_of_any_script_and_stay_short() -> None:
    long_name = "keys on board white " * 250  # VG has free-text names of thousands of characters
    result, _ = run(scene([
        RawObject("1", ["椅子"], (0, 0, 10, 10)),
        RawObject("2", ["стол"], (20, 0, 30, 10)),
        RawObject("3", ["стол"], (40, 0, 50, 10)),
        RawObject("4", [long_name], (60, 0, 70, 10)),
    ]))
    ids = [o["id"] for o in result["objects"]]
    assert ids[:3] == ["椅子.1", "стол.1", "стол.2"]
    assert ids[3] == "keys_on_board_white_keys_on_board_white_.1"


def test_boxes_are_clipped_and_degenerate_boxes_dropped() -> None:
    result, stats = run(scene([
        RawObject("1", ["sky"], (-5, -5, 120, 30)),
        RawObject("2", ["line"], (10, 10, 10, 50)),  # zero width
        RawObject("3", ["ghost"], (float("nan"), 0, 5, 5)),
        RawObject("4", ["dog"], (60, 70, 40, 50)),  # inverted corners
    ]))
    assert [o["bbox"] for o in result["objects"]] == [[0, 0, 100, 30], [40, 50, 60, 70]]
    assert (stats["box_clipped"], stats["object_zero_area"], stats["object_invalid_box"]) == (1, 1, 1)


def test_near_duplicates_merge_and_relationships_follow() -> None:
    result, stats = run(scene(
        [
            RawObject("1", ["man"], (10, 10, 40, 70), attributes=["tall"]),
            RawObject("2", ["man"], (11, 10, 41, 70), attributes=["smiling"]),  # the same man, annotated twice
            RawObject("3", ["bench"], (0, 40, 90, 75)),
        ],
        [RawRelationship("2", "sitting on", "3"), RawRelationship("1", "sitting on", "3"), RawRelationship("1", "near", "2")],
    ))
    assert [o["id"] for o in result["objects"]] == ["man.1", "bench.1"]
    assert result["objects"][0]["source_ids"] == ["1", "2"]
    assert result["objects"][0]["attributes"] == ["tall", "smiling"]
    assert result["relationships"] == [{"subject": "man.1", "predicate": "sitting on", "object": "bench.1"}]
    assert (stats["object_merged_duplicate"], stats["relationship_duplicate"], stats["relationship_self"]) == (1, 1, 1)


def test_relationships_with_missing_ends_are_dropped_and_predicates_normalised() -> None:
    aliases = AliasMap(objects={"bikes": "bike"}, predicates={"next to": "near"})
    result, stats = run(scene(
        [RawObject("1", ["bikes"], (0, 0, 10, 10)), RawObject("2", ["car"], (20, 0, 30, 10))],
        [RawRelationship("1", "ON", "2"), RawRelationship("1", "next to", "2"), RawRelationship("1", "on", "99")],
    ), aliases)
    assert [o["name"] for o in result["objects"]] == ["bike", "car"]
    assert result["relationships"] == [
        {"subject": "bike.1", "predicate": "on", "object": "car.1"},
        {"subject": "bike.1", "predicate": "near", "object": "car.1"},
    ]
    assert (stats["object_alias_applied"], stats["predicate_alias_applied"], stats["relationship_missing_object"], stats["predicate_normalized"]) == (1, 1, 1, 1)


def test_unknown_image_size_drops_the_scene_instead_of_guessing() -> None:
    # Boxes stop short of the image's edges, so a size taken from them would be wrong in every prompt.
    result, stats = run(scene([RawObject("1", ["cat"], (5, 5, 50, 60))], width=None, height=None))
    assert result is None
    assert stats["image_size_unknown"] == 1


def test_dedup_can_be_disabled() -> None:
    objects = [RawObject("1", ["man"], (10, 10, 40, 70)), RawObject("2", ["man"], (10, 10, 40, 70))]
    result, _ = run(scene(objects), cfg=NormalizeConfig(dedup_iou=1.0))
    assert len(result["objects"]) == 2

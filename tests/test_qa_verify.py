"""Verification catches a deliberately wrong answer in every checkable category."""

import json
from collections import Counter

import pytest

from stvqa.qa.config import GenerateConfig
from stvqa.qa.templates import generate_for_scene
from stvqa.records import LETTERS
from stvqa.qa.verify import VerifyConfig, verify_sample, verify_samples
from test_qa_templates import MAN, BENCH, obj, scene

SCENES = {
    "relation": scene([MAN, BENCH], [("man.1", "in front of", "bench.1")]),
    "reach": scene([MAN, obj("cup.1", [380, 200, 410, 240])], [("man.1", "holding", "cup.1")]),
    "size": scene([obj("table.1", [100, 300, 500, 500]), obj("cup.1", [600, 100, 650, 160])]),
    "orientation": scene([obj("dog.1", [50, 300, 150, 380]), obj("car.1", [600, 250, 850, 400])]),
    "instance_location": scene([obj("kite.1", [60, 40, 140, 120])]),
    "depth": scene([MAN, obj("tree.1", [320, 0, 420, 350])], [("man.1", "in front of", "tree.1")]),
    "distance": scene([obj("car.1", [100, 400, 300, 500]), obj("dog.1", [320, 420, 380, 480]), obj("kite.1", [800, 20, 850, 60])]),
    "count": scene([*(obj(f"cup.{i}", [100 * i, 100, 100 * i + 40, 150]) for i in range(1, 4))]),
    "existence": scene([obj("dog.1", [0, 0, 300, 300])]),
}


def generated(category: str) -> tuple[dict, dict]:
    sc = SCENES[category]
    [s, *_] = generate_for_scene(sc, GenerateConfig(per_image=1, mix=((category, 1.0),)), ("giraffe",), Counter())
    return s, sc


def with_wrong_answer(sample: dict) -> dict:
    wrong = next(i for i, o in enumerate(sample["options"]) if o != sample["answer_text"])
    return dict(sample, answer=LETTERS[wrong], answer_text=sample["options"][wrong])


@pytest.mark.parametrize("category", list(SCENES))
def test_generated_answers_verify(category) -> None:
    sample, sc = generated(category)
    verified, reason, after = verify_sample(sample, sc)
    assert verified is True, reason
    assert after == sample


@pytest.mark.parametrize(
    ("category", "reason"),
    [
        ("relation", "relation_not_in_graph"),
        ("reach", "relation_not_in_graph"),
        ("size", "size_answer_contradicts_boxes"),
        ("orientation", "orientation_contradicts_boxes"),
        ("instance_location", "cell_contradicts_box"),
        ("depth", "depth_contradicts_graph"),
        ("distance", "distance_contradicts_boxes"),
        ("existence", "existence_contradicts_graph"),
    ],
)
def test_wrong_answers_are_caught(category, reason) -> None:
    sample, sc = generated(category)
    assert verify_sample(with_wrong_answer(sample), sc)[:2] == (False, reason)


def test_wrong_count_is_corrected_and_keeps_the_focus_subgraph() -> None:
    sample, sc = generated("count")
    wrong = with_wrong_answer(sample)
    verified, reason, fixed = verify_sample(wrong, sc)
    assert (verified, reason) == (True, "count_corrected")
    assert fixed["answer_text"] == "3" and fixed["options"][LETTERS.index(fixed["answer"])] == "3"
    assert fixed["focus"] == sample["focus"]  # the subgraph, never the full graph


def test_wrong_count_not_among_options_replaces_the_wrong_option() -> None:
    sample, sc = generated("count")
    sc = dict(sc, objects=sc["objects"] + [obj("cup.4", [900, 0, 950, 50]), obj("cup.5", [0, 500, 50, 550]), obj("cup.6", [60, 500, 110, 550])])
    verified, reason, fixed = verify_sample(sample, sc)  # 6 cups now; options were 2..5
    assert (verified, reason) == (True, "count_corrected")
    assert fixed["answer_text"] == "6" and "6" in fixed["options"] and len(fixed["options"]) == 4


def test_count_correction_can_be_turned_off() -> None:
    sample, sc = generated("count")
    assert verify_sample(with_wrong_answer(sample), sc, VerifyConfig(correct_counts=False))[:2] == (False, "count_contradicts_graph")


def test_depth_without_a_stated_relation_is_unverifiable() -> None:
    sample, sc = generated("depth")
    assert verify_sample(sample, dict(sc, relationships=[]))[:2] == (None, "depth_not_stated")


def test_unclear_geometry_is_rejected() -> None:
    sample, sc = generated("size")
    shrunk = dict(sc, objects=[obj("table.1", [100, 300, 160, 360]), obj("cup.1", [600, 100, 650, 160])])  # 3,600 vs 3,000
    assert verify_sample(sample, shrunk)[:2] == (False, "size_ratio_unclear")


def test_a_graph_that_contradicts_itself_on_depth_is_not_asked_and_not_verified() -> None:
    tree = obj("tree.1", [320, 0, 420, 350])
    contradictory = scene([MAN, tree], [("man.1", "in front of", "tree.1"), ("man.1", "behind", "tree.1")])
    shortfalls = Counter()
    assert generate_for_scene(contradictory, GenerateConfig(per_image=1, mix=(("depth", 1.0),)), (), shortfalls) == []
    assert shortfalls == {"depth": 1}
    sample, _ = generated("depth")
    assert verify_sample(sample, contradictory)[:2] == (False, "depth_graph_contradicts_itself")


def test_samples_follow_the_qa_sample_schema_and_violations_are_rejected() -> None:
    from stvqa.schema import schema_errors

    samples = [generated(category)[0] for category in SCENES]
    assert all(schema_errors("qa_sample", s) == [] for s in samples)
    broken = dict(samples[0], options=["only one"], answer="A", answer_text="only one")
    stats = Counter()
    kept, rejected = verify_samples([broken], SCENES["relation"], VerifyConfig(validate_every=1), stats)
    assert kept == [] and rejected[0]["reject_reason"] == "sample_schema_invalid"


def test_verify_counts_the_outcome_of_each_kept_reason_and_rejects_carry_theirs() -> None:
    good, sc = generated("size")
    bad = with_wrong_answer(good)
    depth, depth_scene = generated("depth")
    stats = Counter()
    _, rejected = verify_samples([good, bad], sc, VerifyConfig(validate_every=0), stats)
    verify_samples([depth], dict(depth_scene, relationships=[]), VerifyConfig(validate_every=0), stats)
    assert stats == {"verified:size_matches_boxes": 1, "unverified:depth_not_stated": 1}
    assert [r["reject_reason"] for r in rejected] == ["size_answer_contradicts_boxes"]

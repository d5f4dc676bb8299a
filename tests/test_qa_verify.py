"""Verification catches a deliberately wrong answer in every checkable category."""

import json
from collections import Counter

import pytest

from stvqa.stages.generate.config import GenerateConfig
from stvqa.stages.generate.templates import generate_for_scene
from stvqa.records import LETTERS
from stvqa.stages.verify.checks import VerifyConfig, verify_sample, verify_samples
from test_qa_templates import MAN, BENCH, obj, scene

SCENES = {
    "relation": scene([obj("cat.1", [350, 380, 420, 450]), obj("table.1", [300, 230, 600, 460])], [("cat.1", "under", "table.1")]),
    "reach": scene([MAN, obj("cup.1", [380, 200, 410, 240])], [("man.1", "holding", "cup.1")]),
    "size": scene([obj("table.1", [100, 300, 500, 500]), obj("cup.1", [600, 100, 650, 160])]),
    "orientation": scene([obj("dog.1", [50, 300, 150, 380]), obj("car.1", [600, 250, 850, 400])]),
    "instance_location": scene([obj("kite.1", [60, 40, 140, 120])]),
    "depth": scene([MAN, obj("tree.1", [320, 0, 420, 350])], [("man.1", "in front of", "tree.1")]),
    "distance": scene([obj("car.1", [100, 400, 300, 500]), obj("dog.1", [320, 420, 380, 480]), obj("kite.1", [800, 20, 850, 60])]),
    "count": scene([*(obj(f"cup.{i}", [100 * i, 100, 100 * i + 40, 150]) for i in range(1, 5))]),
    "existence": scene([obj("dog.1", [0, 0, 300, 300])]),
}


def generated(category: str) -> tuple[dict, dict]:
    sc = SCENES[category]
    [s, *_] = generate_for_scene(sc, GenerateConfig(per_image=1, mix=((category, 1.0),)), Counter())
    return s, sc


def with_wrong_answer(sample: dict) -> dict:
    """The first wrong option that names something ("about the same" is wrong in its own way)."""
    wrong = next(i for i, o in enumerate(sample["options"]) if o not in (sample["answer_text"], "about the same"))
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
        ("reach", "reach_not_in_graph"),
        ("size", "size_contradicts_boxes"),
        ("orientation", "orientation_contradicts_boxes"),
        ("instance_location", "cell_contradicts_box"),
        ("depth", "depth_contradicts_graph"),
        ("distance", "distance_contradicts_boxes"),
        ("existence", "existence_no_but_related_present"),
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
    assert fixed["answer_text"] == "4" and fixed["options"][LETTERS.index(fixed["answer"])] == "4"
    assert fixed["focus"] == sample["focus"]  # the subgraph, never the full graph


def test_wrong_count_not_among_options_replaces_the_wrong_option() -> None:
    sample, sc = generated("count")
    extra = [obj(f"cup.{i}", [60 * i, 500, 60 * i + 50, 550]) for i in range(5, 9)]
    verified, reason, fixed = verify_sample(sample, dict(sc, objects=sc["objects"] + extra))  # 8 cups now; options were at most 7
    assert (verified, reason) == (True, "count_corrected")
    assert fixed["answer_text"] == "8" and "8" in fixed["options"] and len(fixed["options"]) == 4


def test_count_correction_can_be_turned_off() -> None:
    sample, sc = generated("count")
    assert verify_sample(with_wrong_answer(sample), sc, VerifyConfig(correct_counts=False))[:2] == (False, "count_contradicts_graph")


def test_depth_without_a_stated_relation_is_unverifiable() -> None:
    sample, sc = generated("depth")
    assert verify_sample(sample, dict(sc, relationships=[]))[:2] == (None, "unverifiable_depth_not_stated")


def test_unclear_geometry_is_rejected() -> None:
    sample, sc = generated("size")
    shrunk = dict(sc, objects=[obj("table.1", [100, 300, 160, 360]), obj("cup.1", [600, 100, 650, 160])])  # 3,600 vs 3,000
    assert verify_sample(sample, shrunk)[:2] == (False, "size_unclear")


def test_a_graph_that_contradicts_itself_on_depth_is_not_asked_and_not_verified() -> None:
    tree = obj("tree.1", [320, 0, 420, 350])
    contradictory = scene([MAN, tree], [("man.1", "in front of", "tree.1"), ("man.1", "behind", "tree.1")])
    shortfalls = Counter()
    assert generate_for_scene(contradictory, GenerateConfig(per_image=1, mix=(("depth", 1.0),)), shortfalls) == []
    assert shortfalls == {"depth": 1}
    sample, _ = generated("depth")
    assert verify_sample(sample, contradictory)[:2] == (False, "depth_graph_contradicts_itself")


def test_samples_follow_the_qa_sample_schema_and_violations_are_rejected() -> None:
    from stvqa.schema import schema_errors

    samples = [generated(category)[0] for category in SCENES]
    assert all(schema_errors("qa_sample", s) == [] for s in samples)
    broken = dict(samples[0], options=["only one"], answer="A", answer_text="only one")
    stats = Counter()
    kept, rejected = verify_samples([broken], SCENES["relation"], VerifyConfig(validate_questions_every=1), stats)
    assert kept == [] and rejected[0]["reject_reason"] == "sample_schema_invalid"


def test_verify_counts_the_outcome_of_each_kept_reason_and_rejects_carry_theirs() -> None:
    good, sc = generated("size")
    bad = with_wrong_answer(good)
    depth, depth_scene = generated("depth")
    stats = Counter()
    _, rejected = verify_samples([good, bad], sc, VerifyConfig(validate_questions_every=0), stats)
    _, unproved = verify_samples([depth], dict(depth_scene, relationships=[]), VerifyConfig(validate_questions_every=0), stats)
    assert stats == {"verified:size_matches_boxes": 1}
    assert [r["reject_reason"] for r in rejected + unproved] == ["size_contradicts_boxes", "unverifiable_depth_not_stated"]
    # Unverifiable is not verified: only --keep-unverified keeps such a question, with verified = null.
    kept, _ = verify_samples([depth], dict(depth_scene, relationships=[]), VerifyConfig(validate_questions_every=0, keep_unverified=True), stats)
    assert kept[0]["verified"] is None and stats["unverified:unverifiable_depth_not_stated"] == 1


def llm_sample(category: str, question: str, options: list[str], answer: str) -> dict:
    """A question as another generator writes it: no template args."""
    return {"sample_id": "x:0", "image_id": "42", "category": category, "question": question, "options": options,
            "answer": answer, "answer_text": options[LETTERS.index(answer)], "level": "easy", "rating": 5, "focus": "{}",
            "args": None, "template": None, "generator": "some-llm"}


def test_questions_without_template_args_are_checked_from_their_text() -> None:
    relation = llm_sample("relation", "Where is the cat relative to the table?", ["above", "under"], "B")
    assert verify_sample(relation, SCENES["relation"])[:2] == (True, "relation_in_graph")
    assert verify_sample(dict(relation, answer="A", answer_text="above"), SCENES["relation"])[:2] == (False, "relation_not_in_graph")
    size = llm_sample("size", "Which is bigger, the cup or the table?", ["cup", "table"], "B")
    assert verify_sample(size, SCENES["size"])[:2] == (True, "size_matches_boxes")
    count = llm_sample("count", "How many cups are on the table?", ["2", "3", "4", "5"], "C")
    assert verify_sample(count, SCENES["count"])[:2] == (True, "count_matches_graph")


def test_a_count_of_something_the_graph_lacks_is_never_rewritten_to_zero() -> None:
    unknown = llm_sample("count", "How many giraffes are there?", ["1", "2", "3"], "B")
    assert verify_sample(unknown, SCENES["count"])[:2] == (None, "unverifiable_objects_not_identified")
    named = dict(unknown, args=json.dumps({"name": "giraffe"}))
    verified, reason, after = verify_sample(named, SCENES["count"])
    assert (verified, reason) == (False, "count_object_not_in_graph") and after["answer_text"] == "2"


def test_a_distractor_compatible_with_the_answer_is_rejected() -> None:
    cup_on_table = scene([obj("cup.1", [380, 200, 410, 240]), obj("table.1", [300, 230, 600, 400])], [("cup.1", "on", "table.1")])
    sample = llm_sample("relation", "Where is the cup with respect to the table?", ["on", "above", "under"], "A")
    verified, reason, trimmed = verify_sample(sample, cup_on_table)  # a cup on a table is above it: "above" is left out
    assert (verified, reason, trimmed["options"], trimmed["answer"]) == (True, "relation_options_trimmed", ["on", "under"], "A")
    only_true = llm_sample("relation", "Where is the cup with respect to the table?", ["above", "on"], "B")
    assert verify_sample(only_true, cup_on_table)[:2] == (False, "relation_no_false_distractor")


def test_existence_no_beside_a_synonym_or_kind_is_rejected() -> None:
    street = scene([obj("road.1", [0, 300, 900, 600]), obj("skier.1", [100, 100, 150, 250])])
    for name in ("street", "person"):
        sample = dict(llm_sample("existence", f"Is there a {name}?", ["yes", "no"], "B"), args=json.dumps({"name": name}))
        assert verify_sample(sample, street)[:2] == (False, "existence_no_but_related_present"), name


@pytest.mark.parametrize(
    ("category", "question", "options", "answer"),
    [
        ("orientation", "Seen from the camera, which side of the car is the dog on?", ["left", "right"], "A"),
        ("orientation", "Is the dog to the left or to the right of the car?", ["left", "right"], "A"),
        ("relation", "Relative to the table, where is the cat?", ["above", "under"], "B"),
    ],
)
def test_questions_that_name_the_reference_first_are_checked_the_right_way_round(category, question, options, answer) -> None:
    sample = llm_sample(category, question, options, answer)
    assert verify_sample(sample, SCENES[category])[0] is True
    wrong = LETTERS[1 - LETTERS.index(answer)]
    assert verify_sample(dict(sample, answer=wrong, answer_text=options[LETTERS.index(wrong)]), SCENES[category])[0] is False


def test_converse_and_side_answers_verify_from_the_scene_as_annotated() -> None:
    cat_under_table = SCENES["relation"]
    table_above = llm_sample("relation", "Where is the table with respect to the cat?", ["above", "around"], "A")
    assert verify_sample(table_above, cat_under_table)[:2] == (True, "relation_in_graph")  # the converse of "under"
    assert verify_sample(dict(table_above, answer="B", answer_text="around"), cat_under_table)[:2] == (False, "relation_not_in_graph")
    dog_by_bench = scene([obj("dog.1", [100, 300, 200, 400]), obj("bench.1", [220, 280, 500, 420])], [("dog.1", "next to", "bench.1")])
    left = llm_sample("relation", "Where is the dog with respect to the bench?", ["to the left of", "in"], "A")
    assert verify_sample(left, dog_by_bench)[:2] == (True, "relation_in_graph")  # stated next to, and the boxes show the side
    right = llm_sample("relation", "Where is the dog with respect to the bench?", ["to the right of", "in"], "A")
    assert verify_sample(right, dog_by_bench)[:2] == (False, "relation_not_in_graph")
    # "To the right of" is false, but compatible with the "next to" the graph states: the templates never offer it
    # beside a stated "next to", and neither may any other writer.
    assert verify_sample(dict(left, options=["to the left of", "to the right of"]), dog_by_bench)[:2] == (False, "relation_no_false_distractor")

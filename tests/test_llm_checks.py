"""The checks on LLM-written questions: which objects a question names, and what they reject."""

from __future__ import annotations

import json

import pytest

from stvqa.llm.client import Reply
from stvqa.lexicon.mentions import named_objects
from stvqa.stages.generate.llm_checks import absent_names
from stvqa.stages.generate.llm_writer import reply_error, rows_from_reply

SCENE = {"image_id": "7", "width": 100, "height": 100, "relationships": [],
         "objects": [{"id": "man.1", "name": "man", "bbox": [0, 0, 20, 60]}, {"id": "pillow.1", "name": "pillow", "bbox": [50, 50, 70, 60]},
                     {"id": "traffic_light.1", "name": "traffic light", "bbox": [80, 0, 90, 30]}]}
NAMES = {o["name"] for o in SCENE["objects"]}


@pytest.mark.parametrize(("text", "absent"), [
    ("Can you see a pillow in this image?", []),  # "can" is a verb here, "image" frames the question
    ("Which is larger, the guy or the pillows?", []),  # a synonym and a plural
    ("Is the person left of the traffic lights?", []),  # a kind of man, and a multi-word name
    ("Is the giraffe above the man?", ["giraffe"]),
    ("Is the woman on the left-hand side of the glass table?", ["woman", "table"]),  # a sibling of man is not a man
])
def test_absent_names_allow_plurals_synonyms_and_kinds(text, absent) -> None:
    assert absent_names([text], NAMES) == absent


def test_named_objects_take_the_longest_name() -> None:
    assert named_objects("Is the traffic light brighter than the light on the pillow?") == ["traffic light", "light", "pillow"]


def question(**fields):
    return {"question": "Is the man left or right of the pillow?", "options": ["left", "right"], "answer": "A",
            "category": "orientation", "level": "easy", "rating": 8, **fields}


def rows(*items, wanted=(("orientation", "easy"), ("existence", "hard"))):
    text = json.dumps({"questions": list(items)})
    reply = Reply("ok" if reply_error({"questions": list(items)}) is None else "invalid", text, {"questions": list(items)}, replies=[text])
    return rows_from_reply(reply, SCENE, list(wanted), "model-x")


def test_an_existence_no_may_name_an_absent_object_and_has_an_empty_focus() -> None:
    kept, rejected, extra = rows(question(), question(question="Is there a giraffe in the image?", options=["yes", "no"], answer="B",
                                                      category="existence"))
    assert [r["sample_id"] for r in kept] == ["7:0", "7:1"] and rejected == [] and extra == 0
    assert json.loads(kept[1]["focus"]) == {"objects": [], "relationships": []}
    assert json.loads(kept[0]["focus"])["objects"] == [{"id": "man.1", "bbox": [0, 0, 20, 60]}, {"id": "pillow.1", "bbox": [50, 50, 70, 60]}]
    assert (kept[0]["answer_text"], kept[0]["generator"], kept[0]["template"]) == ("left", "model-x", None)
    assert json.loads(kept[0]["args"])["reply"]["question"] == kept[0]["question"]  # the reply as written, for the gate


def test_an_existence_yes_about_an_absent_object_is_a_hallucination() -> None:
    _, rejected, _ = rows(question(), question(question="Is there a giraffe in the image?", options=["yes", "no"], answer="A", category="existence"))
    assert [(r["sample_id"], r["reject_reason"]) for r in rejected] == [("7:1", "llm_hallucinated_object")]


def test_questions_in_the_wrong_order_find_their_slots_and_extra_ones_are_counted() -> None:
    exist = question(question="Is there a pillow in the image?", options=["yes", "no"], category="existence")
    kept, rejected, extra = rows(exist, question(), question(category="depth"))
    assert [(r["sample_id"], r["category"]) for r in kept] == [("7:0", "orientation"), ("7:1", "existence")]
    assert rejected == [] and extra == 1


def test_an_invalid_question_takes_a_slot_as_a_schema_reject() -> None:
    kept, rejected, _ = rows(question(), question(rating=11, category="existence"))
    assert [r["reject_reason"] for r in rejected] == ["llm_schema_invalid"] and "rating" in json.loads(rejected[0]["args"])["error"]
    assert len(kept) == 1


def test_a_question_naming_nothing_of_the_graph_has_an_empty_focus() -> None:
    _, rejected, _ = rows(question(question="Which side is brighter?", options=["left", "right"]), wanted=(("orientation", "easy"),))
    assert [r["reject_reason"] for r in rejected] == ["llm_empty_focus"]

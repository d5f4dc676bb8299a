"""Each category on a hand-built scene with known geometry: the exact question, options and answer."""

import json
from collections import Counter

import pytest

from stvqa.qa.config import GenerateConfig
from stvqa.qa.templates import generate_for_scene, phrasings, schedule
from stvqa.records import LETTERS

W, H = 900, 600


def obj(oid: str, box: list[int]) -> dict:
    return {"id": oid, "name": oid.rsplit(".", 1)[0].replace("_", " "), "bbox": box}


def scene(objects, relationships=()) -> dict:
    return {"image_id": "42", "width": W, "height": H, "objects": objects,
            "relationships": [{"subject": s, "predicate": p, "object": o} for s, p, o in relationships]}


def only(category: str, **kw) -> GenerateConfig:
    return GenerateConfig(per_image=1, mix=((category, 1.0),), **kw)


def generate_one(sc, category, vocabulary=()):
    shortfalls = Counter()
    samples = generate_for_scene(sc, only(category), vocabulary, shortfalls)
    assert len(samples) == 1, shortfalls
    return samples[0]


def assert_sample(s, template, slots, answer, options) -> None:
    kind, index = s["template"].split("/")
    assert kind == template
    assert s["question"] == phrasings()[template][int(index)].format(**slots)
    assert sorted(s["options"]) == sorted(options)
    assert s["options"][LETTERS.index(s["answer"])] == answer == s["answer_text"]


MAN, BENCH = obj("man.1", [300, 100, 380, 420]), obj("bench.1", [200, 300, 600, 450])


def test_relation() -> None:
    s = generate_one(scene([MAN, BENCH], [("man.1", "in front of", "bench.1")]), "relation")
    assert s["category"] == "relation"
    assert s["answer_text"] == "in front of" and len(s["options"]) == 4
    assert_sample(s, "relation", {"a": "man", "b": "bench"}, "in front of", s["options"])
    assert not {"behind", "in front of"} & set(s["options"]) - {"in front of"}  # no distractor from the answer's group
    assert json.loads(s["focus"]) == {"objects": [{"id": "man.1", "bbox": [300, 100, 380, 420]}, {"id": "bench.1", "bbox": [200, 300, 600, 450]}],
                                      "relationships": [{"subject": "man.1", "predicate": "in front of", "object": "bench.1"}]}


def test_reach() -> None:
    cup = obj("cup.1", [380, 200, 410, 240])
    s = generate_one(scene([MAN, cup], [("man.1", "holding", "cup.1")]), "reach")
    assert_sample(s, "reach", {"a": "man", "b": "cup"}, "holding", s["options"])
    assert len(s["options"]) == 4 and len(set(s["options"])) == 4


def test_size() -> None:
    table, cup = obj("table.1", [100, 300, 500, 500]), obj("cup.1", [600, 100, 650, 160])  # areas 80,000 vs 3,000
    s = generate_one(scene([table, cup]), "size")
    first, second = ("table", "cup") if s["question"].index("table") < s["question"].index("cup") else ("cup", "table")
    assert_sample(s, "size", {"a": first, "b": second}, "table", ["table", "cup"])
    assert s["level"] == "medium"  # size is easy, one step harder: the cup covers 0.56% (< 1%) of the image


def test_size_needs_a_clear_ratio() -> None:
    a, b = obj("table.1", [0, 0, 100, 100]), obj("cup.1", [200, 0, 310, 110])  # ratio 1.21
    shortfalls = Counter()
    assert generate_for_scene(scene([a, b]), only("size"), (), shortfalls) == []
    assert shortfalls == {"size": 1}


def test_orientation() -> None:
    dog, car = obj("dog.1", [50, 300, 150, 380]), obj("car.1", [600, 250, 850, 400])
    s = generate_one(scene([dog, car]), "orientation")
    args = json.loads(s["args"])
    a, b = (dog, car) if args["a"] == "dog.1" else (car, dog)
    expected = "left" if a is dog else "right"
    assert_sample(s, "orientation_horizontal", {"a": a["name"], "b": b["name"]}, expected, ["left", "right"])
    assert "camera" in s["question"] or "viewer" in s["question"]  # the reference frame is stated


def test_instance_location() -> None:
    kite = obj("kite.1", [60, 40, 140, 120])  # centre (100, 80): top-left cell
    s = generate_one(scene([kite]), "instance_location")
    assert_sample(s, "instance_location", {"a": "kite"}, "top-left", s["options"])
    assert len(s["options"]) == 4


def test_depth() -> None:
    tree = obj("tree.1", [320, 0, 420, 350])
    s = generate_one(scene([MAN, tree], [("tree.1", "behind", "man.1")]), "depth")
    first, second = ("man", "tree") if s["question"].index("man") < s["question"].index("tree") else ("tree", "man")
    assert_sample(s, "depth", {"a": first, "b": second}, "man", ["man", "tree"])


def test_distance() -> None:
    car, dog, kite = obj("car.1", [100, 400, 300, 500]), obj("dog.1", [320, 420, 380, 480]), obj("kite.1", [800, 20, 850, 60])
    samples = generate_for_scene(scene([car, dog, kite]), GenerateConfig(per_image=3, mix=(("distance", 1.0),)), (), Counter())
    about_car = [s for s in samples if json.loads(s["args"])["ref"] == "car.1"]
    [s] = about_car
    first, second = ("dog", "kite") if s["question"].index("dog") < s["question"].index("kite") else ("kite", "dog")
    assert_sample(s, "distance", {"ref": "car", "a": first, "b": second}, "dog", ["dog", "kite"])


def test_count() -> None:
    cups = [obj(f"cup.{i}", [100 * i, 100, 100 * i + 40, 150]) for i in range(1, 4)]
    s = generate_one(scene([*cups, obj("table.1", [50, 140, 500, 300])]), "count")
    assert_sample(s, "count", {"plural": "cups", "name": "cup"}, "3", ["2", "3", "4", "5"])
    assert [o["id"] for o in json.loads(s["focus"])["objects"]] == ["cup.1", "cup.2", "cup.3"]


def test_count_skips_overlapping_names() -> None:
    people = [obj("man.1", [0, 0, 50, 100]), obj("man.2", [100, 0, 150, 100]), obj("person.1", [200, 0, 250, 100])]
    shortfalls = Counter()
    samples = generate_for_scene(scene(people), only("count"), (), shortfalls)
    assert samples == [] and shortfalls == {"count": 1}


def test_existence_yes_and_no() -> None:
    sc = scene([obj("dog.1", [0, 0, 300, 300]), obj("car.1", [400, 0, 800, 300])])
    vocabulary = ("bus", "dog", "giraffe", "kite", "puppy", "car")
    answers = set()
    for seed in range(12):
        [s] = generate_for_scene(sc, only("existence", seed=seed), vocabulary, Counter())
        name = json.loads(s["args"])["name"]
        expected = "yes" if name in ("dog", "car") else "no"
        assert_sample(s, "existence", {"name": name}, expected, ["yes", "no"])
        assert name not in ("bus", "puppy")  # synonyms/overlaps of present objects never make a "no"
        answers.add(expected)
    assert answers == {"yes", "no"}


def test_schedule_is_seeded_and_follows_the_mix() -> None:
    cfg = GenerateConfig(per_image=1)
    first = [schedule(str(i), cfg)[0] for i in range(2000)]
    assert first == [schedule(str(i), cfg)[0] for i in range(2000)]
    share = Counter(first)["relation"] / len(first)
    assert 0.46 < share < 0.54  # the paper's 50% relation
    assert [schedule(str(i), GenerateConfig(per_image=1, seed=1))[0] for i in range(2000)] != first

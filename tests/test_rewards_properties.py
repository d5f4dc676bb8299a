"""Property tests: any input gives finite rewards in [0, 1]; agreement with a straightforward implementation."""

import json
import math
import random
import sys

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import REPO
from stvqa.rewards import SpatialRewardConfig, score

sys.path.insert(0, str(REPO / "bench"))
import straightforward_reward  # noqa: E402

GT = ('<scene>{"objects": [{"id": "man.1", "bbox": [100, 50, 300, 450]}, {"id": "cup.1", "bbox": [10, 10, 30, 40]}], '
      '"relationships": [{"subject": "man.1", "predicate": "holding", "object": "cup.1"}]}</scene>\n<answer>(A) yes</answer>')


def assert_bounded(result: dict) -> None:
    assert set(result) == {"overall", "format", "count", "accuracy", "spatial"}
    for value in result.values():
        assert isinstance(value, float) and math.isfinite(value) and 0.0 <= value <= 1.0


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True, allow_infinity=True) | st.text(max_size=8),
    lambda children: st.lists(children, max_size=5) | st.dictionaries(st.text(max_size=6), children, max_size=5),
    max_leaves=30,
)
boxes = st.lists(st.one_of(st.floats(allow_nan=True, allow_infinity=True), st.integers(-10**9, 10**9), st.text(max_size=3)), min_size=0, max_size=5)
objects = st.lists(st.fixed_dictionaries({"id": st.sampled_from(["man.1", "cup.1", "cup.2", "x.9", "bad id"]), "bbox": boxes}), max_size=12)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(text=st.text(max_size=400))
def test_arbitrary_text(text) -> None:
    assert_bounded(score(text, GT, 640, 480))


@settings(max_examples=300, deadline=None)
@given(value=json_values, answer=st.text(max_size=20))
def test_arbitrary_json_in_scene(value, answer) -> None:
    text = f"<observe>o</observe><scene>{json.dumps(value)}</scene><think>t</think><answer>{answer}</answer>"
    assert_bounded(score(text, GT, 640, 480))


@settings(max_examples=300, deadline=None)
@given(objs=objects, width=st.one_of(st.integers(-5, 5000), st.floats(allow_nan=True)), height=st.integers(-5, 5000))
def test_arbitrary_objects_and_image_sizes(objs, width, height) -> None:
    text = f'<observe>o</observe><scene>{json.dumps({"objects": objs, "relationships": []})}</scene><think>t</think><answer>(A) yes</answer>'
    assert_bounded(score(text, GT, width, height))


@pytest.mark.parametrize("text", [
    "<scene>" + "[" * 100_000 + "]" * 100_000 + "</scene>",  # deep nesting
    "<observe>\udcff</observe><scene>{}</scene><think>\x00</think><answer>\ud800</answer>",  # lone surrogates, NUL
    b"<observe>\xff\xfe</observe>",  # bytes that are not UTF-8
    "<answer>" * 10_000,
    None,
])
def test_hostile_inputs(text) -> None:
    assert_bounded(score(text, GT, 640, 480))


def random_completion(rng: random.Random, gt_objects) -> str:
    labels = ["man", "cup", "dog", "table"]
    objs = []
    for i in range(rng.randint(0, 8)):
        x, y = rng.uniform(0, 600), rng.uniform(0, 440)
        objs.append({"id": f"{rng.choice(labels)}.{i + 1}", "bbox": [round(x), round(y), round(x + rng.uniform(1, 200)), round(y + rng.uniform(1, 200))]})
    if rng.random() < 0.3 and gt_objects:  # near-perfect grounding
        objs = [{"id": o["id"], "bbox": [v + rng.uniform(-5, 5) for v in o["bbox"]]} for o in gt_objects]
    rels = [{"subject": "man.1", "predicate": "holding", "object": "cup.1"}] * rng.randint(0, 3)
    answer = rng.choice(["(A) yes", "(a) YES", "(B) no", "A", "yes"])
    text = f"<observe>o</observe><scene>{json.dumps({'objects': objs, 'relationships': rels})}</scene><think>t</think><answer>{answer}</answer>"
    return text if rng.random() > 0.1 else text.replace("<think>", "")


def test_strict_mode_matches_the_straightforward_implementation() -> None:
    rng = random.Random(7)
    gt_objects = json.loads(GT.split("<scene>")[1].split("</scene>")[0])["objects"]
    strict = SpatialRewardConfig(strict_answer=True)
    for _ in range(500):
        text = random_completion(rng, gt_objects)
        expected = straightforward_reward.compute_score(text, GT, 640, 480)
        result = score(text, GT, 640, 480, strict)
        for key in expected:
            assert result[key] == pytest.approx(expected[key], abs=1e-6), (key, text)


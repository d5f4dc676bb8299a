import json
import math
import pickle

import numpy as np
import pytest

from stvqa.errors import ConfigError
from stvqa.rewards import (
    SpatialRewardConfig,
    accuracy_reward,
    ciou_pair,
    format_reward,
    get_spatial_thinker_reward,
    parse_ground_truth,
    answer_matches,
    score,
    spatial_thinker_reward,
)

GT_OBJECTS = [{"id": "man.1", "bbox": [100, 50, 300, 450]}, {"id": "bench.1", "bbox": [50, 300, 600, 470]}]
GT_RELS = [{"subject": "man.1", "predicate": "sitting on", "object": "bench.1"}]
GT = f'<scene>{json.dumps({"objects": GT_OBJECTS, "relationships": GT_RELS})}</scene>\n<answer>(B) in front of</answer>'
W, H = 640, 480


def completion(objects=GT_OBJECTS, relationships=GT_RELS, answer="(B) in front of", scene=None) -> str:
    scene = scene if scene is not None else json.dumps({"objects": objects, "relationships": relationships})
    return f"<observe>a man on a bench</observe>\n<scene>{scene}</scene>\n<think>he is in front</think>\n<answer>{answer}</answer>"


class TestCIoU:
    def test_identical_boxes_map_to_one(self) -> None:
        assert (ciou_pair([0.1, 0.2, 0.5, 0.9], [0.1, 0.2, 0.5, 0.9]) + 1) / 2 == pytest.approx(1.0)

    def test_disjoint_boxes(self) -> None:
        # IoU 0; centres 2 apart -> rho^2 = 4; enclosing box 3 x 1 -> c^2 = 10; same aspect -> v = 0
        assert ciou_pair([0, 0, 1, 1], [2, 0, 3, 1]) == pytest.approx(-0.4)

    def test_nested_boxes(self) -> None:
        # IoU = 4 / 16; same centre and aspect -> no penalty
        assert ciou_pair([0, 0, 4, 4], [1, 1, 3, 3]) == pytest.approx(0.25)

    def test_different_aspect_same_centre(self) -> None:
        # IoU = 2 / 4; v = 4/pi^2 (atan(1/2) - atan(1))^2; alpha = v / (1 - 0.5 + v)
        v = 4 / math.pi**2 * (math.atan(0.5) - math.atan(1.0)) ** 2
        assert ciou_pair([0, 0, 2, 2], [0.5, 0, 1.5, 2]) == pytest.approx(0.5 - v / (0.5 + v) * v)

    def test_degenerate_and_inverted_boxes_stay_finite(self) -> None:
        for a, b in [([0, 0, 0, 0], [0, 0, 0, 0]), ([5, 5, 1, 1], [0, 0, 2, 2]), ([0, 0, 1, 0], [0, 0, 1, 1])]:
            value = ciou_pair(a, b)
            assert math.isfinite(value) and -1 <= value <= 1


class TestCombined:
    def test_perfect_completion_scores_one(self) -> None:
        assert score(completion(), GT, W, H) == {"overall": 1.0, "format": 1.0, "count": 1.0, "accuracy": 1.0, "spatial": 1.0}

    def test_count_formula(self) -> None:
        # 3 of 2 objects: 1 - 1/2 = 0.5; 3 of 1 relations: max(0, 1 - 2/1) = 0 -> 0.7 * 0.5 + 0.3 * 0 = 0.35
        objects = [*GT_OBJECTS, {"id": "dog.1", "bbox": [0, 0, 10, 10]}]
        rels = GT_RELS * 3
        assert score(completion(objects, rels), GT, W, H)["count"] == pytest.approx(0.35)

    def test_count_without_ground_truth_relations_uses_objects_only(self) -> None:
        gt = GT.replace(json.dumps(GT_RELS), "[]")
        # one of two objects -> 0.5, relations ignored
        assert score(completion(GT_OBJECTS[:1], GT_RELS * 5), gt, W, H)["count"] == pytest.approx(0.5)

    def test_correct_answer_with_bad_boxes(self) -> None:
        far = [{"id": "man.1", "bbox": [600, 0, 640, 20]}, {"id": "bench.1", "bbox": [0, 0, 20, 20]}]
        result = score(completion(far), GT, W, H)
        assert result["accuracy"] == 1.0 and 0 < result["spatial"] < 0.5
        assert result["overall"] == pytest.approx(0.1 + 0.2 + 0.5 + 0.2 * result["spatial"])

    def test_wrong_answer_with_perfect_boxes_gets_no_spatial_reward(self) -> None:
        result = score(completion(answer="(A) behind"), GT, W, H)
        assert (result["accuracy"], result["spatial"]) == (0.0, 0.0)
        assert result["overall"] == pytest.approx(0.1 + 0.2)

    def test_gating_off_scores_spatial_for_wrong_answers(self) -> None:
        result = score(completion(answer="(A) behind"), GT, W, H, SpatialRewardConfig(gating=False))
        assert result["spatial"] == pytest.approx(1.0)

    def test_hungarian_is_invariant_to_prediction_order(self) -> None:
        shifted = [{"id": "man.1", "bbox": [110, 60, 290, 440]}, {"id": "bench.1", "bbox": [60, 290, 610, 475]}]
        a = score(completion(shifted), GT, W, H)["spatial"]
        b = score(completion(shifted[::-1]), GT, W, H)["spatial"]
        assert a == pytest.approx(b) and 0.9 < a < 1.0

    def test_labels_steer_matching(self) -> None:
        # Boxes swapped between the labels: the man's box is matched to the man, so CIoU is poor.
        swapped = [{"id": "man.1", "bbox": GT_OBJECTS[1]["bbox"]}, {"id": "bench.1", "bbox": GT_OBJECTS[0]["bbox"]}]
        assert score(completion(swapped), GT, W, H)["spatial"] < 0.8

    def test_unmatched_ground_truth_scores_zero(self) -> None:
        assert score(completion(GT_OBJECTS[:1], []), GT, W, H)["spatial"] == pytest.approx(0.5)

    def test_empty_ground_truth_scores_one_only_for_empty_prediction(self) -> None:
        gt = '<scene>{"objects": [], "relationships": []}</scene>\n<answer>(A) yes</answer>'
        assert score(completion([], [], "(A) yes"), gt, W, H)["spatial"] == 1.0
        assert score(completion(GT_OBJECTS, [], "(A) yes"), gt, W, H)["spatial"] == 0.0


@pytest.mark.parametrize(
    "bad",
    [
        completion().replace("<observe>a man on a bench</observe>\n", ""),  # missing tag
        completion() + "<think>again</think>",  # repeated tag
        completion().replace("<observe>a man on a bench</observe>", "").replace("<think>", "<observe>x</observe><think>"),  # wrong order
        completion(scene='{"objects": [}'),  # invalid JSON
        completion(scene="[]"),  # not an object
        completion(objects=[{"id": "man.1", "bbox": [1, 2, 3, 4], "label": "man"}]),  # extra key on an object
        completion(objects=[{"id": "man", "bbox": [1, 2, 3, 4]}]),  # id without .N
        completion(objects=[{"id": "man.1", "bbox": [1, 2, 3, 4]}, {"id": "man.1", "bbox": [1, 2, 3, 4]}]),  # repeated id
        completion(objects=[{"id": "man.1", "bbox": [1, 2, 3]}]),  # three numbers
        completion(objects=[{"id": "man.1", "bbox": [1, 2, 3, "4"]}]),  # a string
        completion(scene='{"objects": [{"id": "man.1", "bbox": [NaN, 0, 1, 1]}], "relationships": []}'),  # NaN
        completion(objects=[{"id": "man.1", "bbox": [True, 0, 1, 1]}]),  # a boolean
        completion(relationships=[{"subject": "man.1", "object": "bench.1"}]),  # relation without predicate
        completion(scene='{"objects": []}'),  # no relationships key
    ],
)
def test_each_format_failure_zeroes_everything(bad) -> None:
    assert score(bad, GT, W, H) == {"overall": 0.0, "format": 0.0, "count": 0.0, "accuracy": 0.0, "spatial": 0.0}


class TestAnswers:
    gt = parse_ground_truth(GT)

    @pytest.mark.parametrize("answer", ["(B) in front of", "(b) In Front Of.", "B", "(B)", "B)", "B.", "in front of", " B. in front of "])
    def test_default_accepts_forms_pointing_to_the_answer(self, answer) -> None:
        assert answer_matches(answer, self.gt, strict=False)

    @pytest.mark.parametrize("answer", ["(A) in front of", "(B) behind", "A", "behind", "(A) or (B)", "(B) in front of (C) behind", ""])
    def test_default_rejects_other_or_several_options(self, answer) -> None:
        assert not answer_matches(answer, self.gt, strict=False)

    def test_default_rejects_text_naming_two_known_options(self) -> None:
        gt = parse_ground_truth("<answer>(A) left</answer>")
        assert not answer_matches("left or right", gt, strict=False, options=["(A) left", "(B) right"])
        assert answer_matches("left", gt, strict=False, options=["(A) left", "(B) right"])

    def test_strict_is_the_papers_exact_match(self) -> None:
        assert answer_matches("(b) IN FRONT OF", self.gt, strict=True)
        assert not answer_matches("B", self.gt, strict=True)


def test_vanilla_configuration_uses_format_and_accuracy_only() -> None:
    vanilla = SpatialRewardConfig.vanilla()
    text = "<think>it is in front</think><answer>(B) in front of</answer>"
    assert score(text, GT, W, H, vanilla) == {"overall": 1.0, "format": 1.0, "count": 0.0, "accuracy": 1.0, "spatial": 0.0}
    assert score("<think>x</think><answer>(A) behind</answer>", GT, W, H, vanilla)["overall"] == 0.5


def test_predicted_objects_are_capped_for_matching() -> None:
    many = [{"id": f"thing.{i}", "bbox": [i % 600, 0, i % 600 + 5, 5]} for i in range(3000)]
    result = score(completion(many, GT_RELS), GT, W, H)
    assert result["format"] == 1.0 and result["count"] == pytest.approx(0.3)  # counts see all 3000 objects
    assert 0.0 <= result["spatial"] <= 1.0


class TestTRL:
    columns = {"scene": [json.dumps({"objects": GT_OBJECTS, "relationships": GT_RELS})] * 2,
               "solution": ["(B) in front of"] * 2, "image_width": [W, W], "image_height": [H, H]}

    def test_conversational_completions_and_component_logging(self) -> None:
        logged = {}
        completions = [[{"role": "assistant", "content": completion()}], [{"role": "assistant", "content": "junk"}]]
        rewards = spatial_thinker_reward(completions=completions, log_metric=lambda k, v: logged.__setitem__(k, v), **self.columns)
        assert rewards == [1.0, 0.0]
        assert logged == {"spatial_thinker/format": 0.5, "spatial_thinker/count": 0.5, "spatial_thinker/accuracy": 0.5, "spatial_thinker/spatial": 0.5}
        assert format_reward(completions=completions, **self.columns) == [1.0, 0.0]
        assert accuracy_reward.__name__ == "accuracy_reward"

    def test_paper_layout_column_works(self) -> None:
        rewards = spatial_thinker_reward(completions=[completion()], answer_option_text=[GT], image_width=[W], image_height=[H])
        assert rewards == [1.0]

    def test_factory_is_picklable(self) -> None:
        reward = get_spatial_thinker_reward(SpatialRewardConfig.vanilla())
        clone = pickle.loads(pickle.dumps(reward))
        assert clone.__name__ == "spatial_thinker_reward"
        assert clone(completions=["<think>x</think><answer>B</answer>"], **{k: v[:1] for k, v in self.columns.items()}) == [1.0]

    def test_missing_ground_truth_columns_is_a_clear_error(self) -> None:
        with pytest.raises(ConfigError, match="columns `scene` and `solution`"):
            spatial_thinker_reward(completions=["x"], image_width=[1], image_height=[1])


@pytest.mark.parametrize("bad_id", ["man.1\nman.2", "man.1 ", "man.", ".1", "man.1.2", 7, None])
def test_malformed_ids_fail_format(bad_id) -> None:
    assert score(completion(objects=[{"id": bad_id, "bbox": [1, 2, 3, 4]}]), GT, W, H)["format"] == 0.0


class TestLabelSimilarity:
    def test_default_folds_plurals_and_aliases(self) -> None:
        from stvqa.rewards import NameSimilarity

        sim = NameSimilarity(aliases={"bike": "bicycle"})
        assert sim.matrix(["men.1", "bike.1", "traffic_light.1"], ["man.2", "bicycle.1", "traffic_lights.1"]).diagonal().tolist() == [1.0, 1.0, 1.0]

    def test_a_custom_similarity_changes_matching(self) -> None:
        import numpy as np

        class Everything:  # every label counts as the same: matching is by boxes alone
            def matrix(self, pred, gt):
                return np.ones((len(pred), len(gt)))

        swapped = [{"id": "man.1", "bbox": GT_OBJECTS[1]["bbox"]}, {"id": "bench.1", "bbox": GT_OBJECTS[0]["bbox"]}]
        assert score(completion(swapped), GT, W, H, similarity=Everything())["spatial"] == pytest.approx(1.0)
        assert score(completion(swapped), GT, W, H)["spatial"] < 0.8

    def test_spacy_without_the_model_is_a_clear_error(self) -> None:
        from stvqa.rewards import SpacySimilarity

        with pytest.raises(ConfigError) as info:
            SpacySimilarity("en_core_web_md_not_installed")
        assert "spaCy model" in info.value.message and "pip install spacy" in info.value.hint

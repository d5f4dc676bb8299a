"""`stvqa eval MODEL --benchmark NAME`: CV-Bench, BLINK's single-image spatial subsets and 3DSRBench (circular),
read from small fixtures in each benchmark's published column layout and run with the tiny model offline."""

import importlib.util
import io
import json

import pytest
import yaml
from typer.testing import CliRunner

from stvqa.cli import app
from stvqa.train.benchmarks import Item, parse_choice, rotations, score

pytestmark = pytest.mark.skipif(any(importlib.util.find_spec(m) is None for m in ("torch", "transformers", "datasets")),
                                reason="the train extra is not installed (pip install -e '.[train]')")
runner = CliRunner()
OPTIONS = ("left", "right", "above")


def _png(width=64, height=48, colour=(200, 30, 30)) -> bytes:
    from PIL import Image

    buf = io.BytesIO()
    Image.new("RGB", (width, height), colour).save(buf, "PNG")
    return buf.getvalue()


# --- answers and scores -----------------------------------------------------------------------------------------------

@pytest.mark.parametrize(("completion", "chosen"), [
    ("<answer> (B) right </answer>", 1), ("<answer>B</answer>", 1), ("<answer>right</answer>", 1), ("(C)", 2),
    ("<answer>(B) left</answer>", None),  # a letter and another option's text
    ("<answer>the cat</answer>", None), ("", None), ("<answer>(E)</answer>", None),  # no such option
])
def test_an_answer_is_a_letter_or_one_options_text_else_unparseable(completion, chosen) -> None:
    assert parse_choice(completion, OPTIONS) == chosen


def test_unparseable_answers_are_never_a_letter_and_circular_needs_every_rotation() -> None:
    item = Item("q1", "depth", "Which is closer?", OPTIONS, 0, b"")
    unparsed = score([(item, None)], circular=False)
    assert (unparsed["accuracy"], unparsed["unparseable_rate"]) == (0.0, 1.0)  # the reference scored it "A": right
    asked = list(rotations(item))
    assert [r.options[r.answer] for r in asked] == ["left"] * 3 and len({r.options for r in asked}) == 3
    always_first = [(r, 0) for r in asked]  # a model that always says (A) is right once in three rotations
    assert score(always_first, circular=True)["accuracy"] == 0.0 and score(always_first, circular=False)["accuracy"] == pytest.approx(1 / 3, abs=1e-4)
    assert score([(r, r.answer) for r in asked], circular=True)["accuracy"] == 1.0
    half = score([(item, 0), (Item("q2", "depth", "?", OPTIONS, 0, b""), 1)], circular=False)
    assert half["by_task"]["depth"] == {"questions": 2, "accuracy": 0.5, "stderr": 0.3536, "unparseable_rate": 0.0}


# --- the published layouts, end to end with the tiny model --------------------------------------------------------------

def _write(folder, rows: list[dict], image_columns: tuple[str, ...]) -> None:
    from datasets import Dataset, Features, Image, Sequence, Value

    columns = {k: [r[k] for r in rows] for k in rows[0]}
    features = Features({k: Image() if k in image_columns else Sequence(Value("string")) if k == "choices" else Value("string")
                         for k in columns})
    folder.mkdir(parents=True, exist_ok=True)
    Dataset.from_dict(columns, features=features).to_parquet(str(folder / "test-00000-of-00001.parquet"))


@pytest.fixture(scope="module")
def fixtures(tmp_path_factory):
    root = tmp_path_factory.mktemp("benchmarks")
    image = {"bytes": _png(), "path": None}
    _write(root / "cvbench", [
        {"idx": str(i), "type": kind, "task": task, "image": image, "question": f"Which side is the red box {i}?",
         "prompt": f"Which side is the red box {i}? Select from the following choices.\n(A) left\n(B) right",
         "choices": ["left", "right"], "answer": "(A)", "source": "COCO"}
        for i, (kind, task) in enumerate([("2D", "Relation"), ("2D", "Count"), ("3D", "Depth"), ("3D", "Distance")])], ("image",))
    for subset in ("Spatial_Relation", "Relative_Depth", "Counting", "Object_Localization"):
        _write(root / "blink" / subset, [
            {"idx": f"{subset}_{i}", "question": "Is the box on the left?", "sub_task": subset.replace("_", " "), "image_1": image,
             "image_2": None, "image_3": None, "image_4": None, "choices": ["yes", "no"], "answer": "(A)", "prompt": ""}
            for i in range(2)], ("image_1", "image_2", "image_3", "image_4"))
    _write(root / "3dsrbench", [
        {"index": str(i), "question": "Which is closer to the camera?", "A": "the box", "B": "the wall", "C": "", "D": "",
         "answer": "A", "category": "height" if i else "location", "image": image} for i in range(2)], ("image",))
    recipe = root / "tiny-recipe.yaml"
    recipe.write_text(yaml.safe_dump({"min_pixels": 784, "max_pixels": 3136, "max_completion_length": 6}))
    from stvqa.train.smoke import smoke_model

    return root, smoke_model(root / "tiny"), recipe


@pytest.mark.parametrize(("name", "questions", "tasks", "prompts"), [
    ("cvbench", 4, {"2D Relation", "2D Count", "3D Depth", "3D Distance"}, 4),
    ("blink", 8, {"Spatial Relation", "Relative Depth", "Counting", "Object Localization"}, 8),
    ("3dsrbench", 2, {"height", "location"}, 4),  # two rotations of two options each
])
def test_eval_runs_every_benchmark_layout_and_reports_per_task(fixtures, tmp_path, name, questions, tasks, prompts) -> None:
    root, model, recipe = fixtures
    out = tmp_path / f"{name}.json"
    result = runner.invoke(app, ["--quiet", "eval", str(model), "--benchmark", name, "--data-dir", str(root / name), "--recipe", str(recipe),
                                 "--batch-size", "4", "--out", str(out)])
    assert result.exit_code == 0, result.output
    report = json.loads(out.read_text())
    assert (report["benchmark"], report["questions"], report["prompts"], set(report["by_task"])) == (name, questions, prompts, tasks)
    assert report["circular"] == (name == "3dsrbench") and report["max_new_tokens"] == 6 and report["tokens_per_second"]
    # Every gold answer is (A); a random model's junk is unparseable and scores 0, never "A".
    assert report["accuracy"] <= 1 - report["unparseable_rate"] and report["unparseable_rate"] > 0.5
    assert all(0 <= t["stderr"] <= 0.5 for t in report["by_task"].values())
    for task in tasks:
        assert task in result.output


def test_eval_needs_a_dataset_or_a_benchmark_and_names_unknown_ones(fixtures, tmp_path) -> None:
    root, model, recipe = fixtures
    none = runner.invoke(app, ["eval", str(model)])
    assert none.exit_code == 1 and "needs a DATASET or a --benchmark" in none.output
    unknown = runner.invoke(app, ["eval", str(model), "--benchmark", "mmvp", "--data-dir", str(root), "--out", str(tmp_path / "r.json")])
    assert unknown.exit_code == 1 and "unknown benchmark 'mmvp'" in unknown.output and "cvbench" in unknown.output
    empty = tmp_path / "empty"
    empty.mkdir()
    missing = runner.invoke(app, ["eval", str(model), "--benchmark", "cvbench", "--data-dir", str(empty), "--out", str(tmp_path / "r.json")])
    assert missing.exit_code == 1 and "no Parquet files of cvbench" in missing.output and "Traceback" not in missing.output

"""The column contract between `stvqa export` and `stvqa train`, and the coordinate convention: the ground-truth
boxes, the prompt's `Image size` and the image the model is shown agree, through any resizing."""

import importlib.util
import json
import re

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from stvqa.cli import app
from stvqa.errors import DataError
from stvqa.rewards import score

pytest.importorskip("datasets", reason="datasets is not installed (pip install -e '.[dev]')")
from stvqa.train.data import load_split, prepare  # noqa: E402

runner = CliRunner()
needs_transformers = pytest.mark.skipif(importlib.util.find_spec("transformers") is None,
                                        reason="the train extra (transformers) is not installed")
SIZE = re.compile(r"Image size: \((\d+) x (\d+)\)")


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    """The bundled sample with images of at most 56 x 56 pixels (64 x 48 here), exported in both layouts."""
    out = tmp_path_factory.mktemp("train-data") / "run"
    result = runner.invoke(app, ["build", "--out", str(out), "--max-pixels", "3136"])
    assert result.exit_code == 0, result.output
    result = runner.invoke(app, ["export", str(out), "--out", str(out.parent / "stvqa7k"), "--layout", "stvqa7k", "--max-pixels", "3136"])
    assert result.exit_code == 0, result.output
    return out


def perfect(row) -> str:
    return f"<observe>.</observe><scene>{row['scene']}</scene><think>.</think><answer>{row['solution']}</answer>"


def test_both_layouts_prepare_to_the_columns_trl_reads(run) -> None:
    from datasets import Image

    trl = prepare(load_split(str(run / "dataset"), "train"), "reasoning.txt", 784, 3136)
    stvqa7k = prepare(load_split(str(run.parent / "stvqa7k"), "train"), "reasoning.txt", 784, 3136)
    for ds in (trl, stvqa7k):
        # One image per row in `image`; no `images`, which TRL would read first, as a list.
        assert isinstance(ds.features["image"], Image) and "images" not in ds.column_names
        assert {"prompt", "image", "image_width", "image_height", "scene", "solution"} <= set(ds.column_names)
    for a, b in zip(trl.select(range(5)), stvqa7k.select(range(5))):
        assert a["prompt"] == b["prompt"] and a["scene"] == b["scene"] and a["image"].tobytes() == b["image"].tobytes()
        assert a["prompt"][0]["role"] == "user"


def test_the_paper_layout_without_stvqa_columns_trains_too(run, tmp_path) -> None:
    """STVQA-7K as released: `images`, `problem`, `answer_option_text`; no scene, solution or size columns."""
    table = pq.read_table(next((run.parent / "stvqa7k" / "data").glob("train-*.parquet")))
    keep = ["images", "problem", "answer_option_text", "category"]
    path = tmp_path / "paper.parquet"
    pq.write_table(table.select(keep).replace_schema_metadata(table.schema.metadata), path)
    ds = prepare(load_split(str(path), "train"), "reasoning.txt", 784, 3136)
    reference = prepare(load_split(str(run / "dataset"), "train"), "reasoning.txt", 784, 3136)
    for a, b in zip(ds.select(range(5)), reference.select(range(5))):
        assert (a["scene"], a["solution"], a["image_width"], a["prompt"]) == (b["scene"], b["solution"], b["image_width"], b["prompt"])


def test_a_row_with_several_images_is_refused_not_cut_to_its_first(run, tmp_path) -> None:
    table = pq.read_table(next((run.parent / "stvqa7k" / "data").glob("train-*.parquet")))
    images = table.column("images").to_pylist()
    doubled = pa.array([[cell, cell] for cell in images], type=pa.list_(table.schema.field("images").type))
    path = tmp_path / "two-images.parquet"  # no Hub metadata: `datasets` reads the column as a list of images
    pq.write_table(table.set_column(table.schema.get_field_index("images"), "images", doubled).replace_schema_metadata(None), path)
    with pytest.raises(DataError, match="has 2 images"):
        prepare(load_split(str(path), "train"), "reasoning.txt", 784, 3136, source=str(path))


def test_ground_truth_prompt_and_image_agree_as_stored(run) -> None:
    ds = prepare(load_split(str(run / "dataset"), "train"), "reasoning.txt", 784, 3136)
    for row in ds:
        width, height = row["image"].size
        assert (row["image_width"], row["image_height"]) == (width, height) == (64, 48)
        assert SIZE.search(row["prompt"][0]["content"]).groups() == (str(width), str(height))
        boxes = [o["bbox"] for o in json.loads(row["scene"])["objects"]]
        assert all(0 <= x1 < x2 <= width and 0 <= y1 < y2 <= height for x1, y1, x2, y2 in boxes)
        assert score(perfect(row), f"<answer>{row['solution']}</answer>", width, height)["format"] == 1.0


@pytest.mark.parametrize(("min_pixels", "max_pixels", "size"), [(784, 1200, (40, 30)), (12288, 50000, (128, 96))])
def test_resizing_rescales_boxes_and_the_prompt(run, min_pixels, max_pixels, size) -> None:
    stored = prepare(load_split(str(run / "dataset"), "train"), "reasoning.txt", 784, 3136, max_samples=8)
    resized = prepare(load_split(str(run / "dataset"), "train"), "reasoning.txt", min_pixels, max_pixels, max_samples=8)
    for before, after in zip(stored, resized):
        assert after["image"].size == (after["image_width"], after["image_height"]) == size
        assert SIZE.search(after["prompt"][0]["content"]).groups() == tuple(map(str, size))
        sx, sy = size[0] / 64, size[1] / 48
        for a, b in zip(json.loads(after["scene"])["objects"], json.loads(before["scene"])["objects"]):
            # Whole pixels within one of the exact scaling, and never thinner than a pixel (a box, not a line).
            exact = [b["bbox"][0] * sx, b["bbox"][1] * sy, b["bbox"][2] * sx, b["bbox"][3] * sy]
            assert all(abs(v - e) <= 1 and isinstance(v, int) for v, e in zip(a["bbox"], exact)), (a, exact)
            assert a["bbox"][0] < a["bbox"][2] and a["bbox"][1] < a["bbox"][3]
        # The ground truth, restated in the resized frame, is still a perfect answer there.
        gt = f"<scene>{after['scene']}</scene>\n<answer>{after['solution']}</answer>"
        assert score(perfect(after), gt, *size)["overall"] == 1.0


def test_a_dataset_without_the_columns_names_them_and_the_command(tmp_path) -> None:
    path = tmp_path / "bare.parquet"
    pq.write_table(pa.table({"question": ["Where is the cup?"], "answer": ["A"]}), path)
    with pytest.raises(DataError) as err:
        prepare(load_split(str(path), "train"), "reasoning.txt", 784, 3136, source=str(path))
    assert "lacks the columns image (or images); question_with_options (or problem); scene and solution (or answer_option_text)" in err.value.message
    assert "stvqa build" in err.value.hint and "stvqa export" in err.value.hint


def test_text_only_exports_and_missing_splits_are_refused(run, tmp_path) -> None:
    text_only = tmp_path / "text-only"
    assert runner.invoke(app, ["export", str(run), "--out", str(text_only), "--no-images"]).exit_code == 0
    with pytest.raises(DataError, match="has no image"):
        prepare(load_split(str(text_only), "train"), "reasoning.txt", 784, 3136)
    with pytest.raises(DataError, match="has no 'test' split") as err:
        load_split(str(run / "dataset"), "test")
    assert "train, val" in err.value.message
    assert len(load_split(str(run / "dataset"), "validation")) == len(load_split(str(run / "dataset"), "val")) > 0
    with pytest.raises(DataError, match="dataset runs/nowhere/dataset does not exist"):
        load_split("runs/nowhere/dataset", "train")


def test_the_schema_prompt_shows_a_scene_the_format_check_accepts() -> None:
    """`prompt_file=reasoning_schema.txt`: the paper's long template, with the scene JSON spelled out and shown."""
    from stvqa.rewards.parsing import parse_scene
    from stvqa.train.data import prompt_template, render_prompt

    prompt = render_prompt(prompt_template("reasoning_schema.txt"), "Where is the cup?", 640, 480)[0]["content"]
    assert SIZE.search(prompt).groups() == ("640", "480") and prompt.endswith("Where is the cup?")
    example = re.findall(r"<scene>(.*?)</scene>", prompt)[-1]  # the example, after the instruction's tags
    ok, objects, relationships = parse_scene(example)
    assert ok and [o[0] for o in objects] == ["cup.1", "table.1"] and relationships == 1
    completion = f"<observe>.</observe><scene>{example}</scene><think>.</think><answer>(A) on</answer>"
    assert score(completion, f"<scene>{example}</scene><answer>(A) on</answer>", 640, 480)["format"] == 1.0

"""The model sees the frame the rewards score: whatever bounds the processor was saved with and whatever the stored
image's size, the processor's output grid equals the size the prompt states, and perfect boxes in that frame earn
the full spatial reward."""

import importlib.util
import json
import re

import pytest
from typer.testing import CliRunner

from stvqa.cli import app
from stvqa.rewards import score
from stvqa.train.frame import apply_bounds, grid_of, model_frame, saved_bounds

pytest.importorskip("datasets", reason="datasets is not installed (pip install -e '.[dev]')")
needs_transformers = pytest.mark.skipif(importlib.util.find_spec("transformers") is None,
                                        reason="the train extra (transformers) is not installed")
SIZE = re.compile(r"Image size: \((\d+) x (\d+)\)")
RECIPE_BOUNDS = (784, 12544)  # the smoke recipe's: 16 vision tokens at most


@pytest.mark.parametrize("grid", [28, 32])
def test_the_frame_is_on_the_grid_within_the_bounds_and_its_own_frame(grid) -> None:
    low, high = 4 * grid * grid, 400 * grid * grid
    for width in range(30, 1700, 37):
        for height in (31, 97, 333, 480, 1200):
            w, h = model_frame(width, height, low, high, grid)
            assert w % grid == 0 and h % grid == 0 and low <= w * h <= high, (width, height, w, h)
            assert model_frame(w, h, low, high, grid) == (w, h)  # so the processor's resize is an identity
            assert abs(w / h - width / height) <= grid / min(w, h) * (width / height) * 2  # the aspect, to the grid


@needs_transformers
def test_the_frame_is_the_processors_own_rule() -> None:
    from transformers.models.qwen2_vl.image_processing_pil_qwen2_vl import smart_resize

    for width, height in [(1600, 1200), (129, 96), (500, 333), (64, 48), (4000, 30), (800, 600)]:
        for low, high in [(784, 12544), (3136, 1003520), (256 * 28 * 28, 1280 * 28 * 28)]:
            assert model_frame(width, height, low, high, 28) == smart_resize(height, width, 28, low, high)[::-1]


@pytest.fixture(scope="module")
def export(tmp_path_factory):
    """The bundled sample exported at up to 60,000 pixels: 283 x 212, on no 28-pixel grid."""
    out = tmp_path_factory.mktemp("frame") / "run"
    result = CliRunner().invoke(app, ["build", "--out", str(out), "--max-pixels", "60000"])
    assert result.exit_code == 0, result.output
    return out / "dataset"


@needs_transformers
@pytest.mark.parametrize("saved", [(3136, 1003520), (56 * 56, 56 * 56)], ids=["saved-larger", "saved-smaller"])
def test_the_processor_sees_exactly_the_size_the_prompt_states(export, saved) -> None:
    from stvqa.train.data import load_split, prepare
    from stvqa.train.tiny import build_processor

    processor = build_processor(min_pixels=saved[0], max_pixels=saved[1])  # bounds unlike the recipe's
    apply_bounds(processor, *RECIPE_BOUNDS)
    assert saved_bounds(processor) == RECIPE_BOUNDS
    rows = prepare(load_split(str(export), "train"), "reasoning.txt", *RECIPE_BOUNDS, max_samples=6, grid=grid_of(processor))
    for row in rows:
        stated = tuple(int(v) for v in SIZE.search(row["prompt"][0]["content"]).groups())
        assert stated == (row["image_width"], row["image_height"]) == row["image"].size
        assert stated != (283, 212) and stated[0] % 28 == 0 and stated[1] % 28 == 0
        thw = processor.image_processor(images=[row["image"]], return_tensors="pt")["image_grid_thw"][0].tolist()
        assert (thw[2] * 14, thw[1] * 14) == stated  # patches of 14 pixels: exactly the stated frame
        # Perfect boxes in the model's frame earn the whole spatial reward.
        gt = f"<scene>{row['scene']}</scene>\n<answer>{row['solution']}</answer>"
        completion = f"<observe>.</observe><scene>{row['scene']}</scene><think>.</think><answer>{row['solution']}</answer>"
        assert json.loads(row["scene"])["objects"]
        assert score(completion, gt, *stated)["spatial"] == 1.0


@needs_transformers
def test_vllm_is_refused_bounds_its_saved_processor_would_change() -> None:
    from stvqa.errors import ConfigError
    from stvqa.train.frame import check_vllm_bounds
    from stvqa.train.tiny import build_processor

    check_vllm_bounds(build_processor(min_pixels=784, max_pixels=1003520), *RECIPE_BOUNDS)  # within: nothing to say
    with pytest.raises(ConfigError, match="max_pixels=12544"):
        check_vllm_bounds(build_processor(min_pixels=784, max_pixels=3136), *RECIPE_BOUNDS)

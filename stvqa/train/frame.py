"""The frame the model sees: one rule for training, `stvqa eval` and vLLM alike.

`model_frame` decides the size an image is shown at. The stored image is resized to exactly that size before the
processor (`data.prepare`), the prompt states it, the ground-truth boxes are scaled to it, and the processor is
given the same bounds (`apply_bounds`), so its own resize is an identity: the rewards score boxes in the frame the
model looked at.

For the Qwen2-VL family (Qwen2-VL, Qwen2.5-VL, Qwen3-VL: processors with a `patch_size` and a `merge_size`) the
size is the processors' `smart_resize` rule with the recipe's bounds: both sides a multiple of the vision
encoder's grid (patch x merge: 28 px for Qwen2.5-VL), the area within [min_pixels, max_pixels], the aspect kept as
closely as the grid allows. A size on that grid and within the bounds is its own image under the rule, which is
what makes the processor's resize an identity. For other processors: the area within the bounds (`fit_size`).
"""

from __future__ import annotations

import dataclasses
import math
from typing import Any

from ..errors import ConfigError, DataError
from ..images import fit_size

MAX_ASPECT = 200  # Qwen's processors refuse images more elongated than this


def grid_of(processor: Any) -> int | None:
    """The side of one vision token in pixels (patch size x merge size), or None for a processor without a grid."""
    image_processor = getattr(processor, "image_processor", processor)
    patch, merge = getattr(image_processor, "patch_size", None), getattr(image_processor, "merge_size", None)
    return patch * merge if isinstance(patch, int) and isinstance(merge, int) else None


def model_frame(width: int, height: int, min_pixels: int, max_pixels: int, grid: int | None) -> tuple[int, int]:
    """(width, height) the model sees an image of this size at (see the module's docstring)."""
    if grid is None:
        return fit_size(width, height, max_pixels=max_pixels, min_pixels=min_pixels)
    if max(width, height) > MAX_ASPECT * min(width, height):
        raise DataError(f"an image of {width}x{height} pixels is more than {MAX_ASPECT} times as long as it is wide",
                        "Leave such images out of the dataset; the vision encoder cannot take them.")
    w, h = round(width / grid) * grid, round(height / grid) * grid
    if w * h > max_pixels:
        beta = math.sqrt(width * height / max_pixels)
        w, h = max(grid, math.floor(width / beta / grid) * grid), max(grid, math.floor(height / beta / grid) * grid)
    elif w * h < min_pixels:
        beta = math.sqrt(min_pixels / (width * height))
        w, h = math.ceil(width * beta / grid) * grid, math.ceil(height * beta / grid) * grid
    return w, h


def apply_bounds(processor: Any, min_pixels: int, max_pixels: int) -> None:
    """The processor resizes within the recipe's bounds, whatever bounds it was saved with: its `size` as a dict or
    as transformers 5's `SizeDict` dataclass (`shortest_edge`/`longest_edge`, in pixels)."""
    image_processor = getattr(processor, "image_processor", None)
    size = getattr(image_processor, "size", None)
    if _bounds(size) is None:
        return
    if isinstance(size, dict):
        image_processor.size = {**size, "shortest_edge": min_pixels, "longest_edge": max_pixels}
    else:
        image_processor.size = dataclasses.replace(size, shortest_edge=min_pixels, longest_edge=max_pixels)


def saved_bounds(processor: Any) -> tuple[int, int] | None:
    """(min_pixels, max_pixels) the processor resizes within, or None where it does not say."""
    return _bounds(getattr(getattr(processor, "image_processor", None), "size", None))


def _bounds(size: Any) -> tuple[int, int] | None:
    if isinstance(size, dict):
        low, high = size.get("shortest_edge"), size.get("longest_edge")
    elif dataclasses.is_dataclass(size):
        low, high = getattr(size, "shortest_edge", None), getattr(size, "longest_edge", None)
    else:
        return None
    return (low, high) if isinstance(low, int) and isinstance(high, int) else None


def check_vllm_bounds(processor: Any, min_pixels: int, max_pixels: int) -> None:
    """vLLM resizes with the processor saved beside the model, not the one training holds: the recipe's frame is an
    identity there too only when its bounds lie within the saved ones."""
    saved = saved_bounds(processor)
    if saved is not None and not (saved[0] <= min_pixels and max_pixels <= saved[1]):
        raise ConfigError(f"with use_vllm the model's saved processor resizes images into [{saved[0]}, {saved[1]}] pixels, "
                          f"outside the recipe's min_pixels={min_pixels} max_pixels={max_pixels}: vLLM would show the model "
                          "another frame than the rewards score",
                          f"Pass min_pixels and max_pixels within [{saved[0]}, {saved[1]}], or save the model's processor with the recipe's bounds.")

"""The requests of the judges: one per try, each with the options in another order, the image as a data URL."""

from __future__ import annotations

import base64
import io
from dataclasses import dataclass
from functools import cache
from typing import Any

from ....hashing import permutation
from ....images import fit_size, resize
from ....records import question_with_options
from ....resources import resource_path
from .kinds import JudgeKind


@cache
def template(kind: JudgeKind) -> str:
    return resource_path("prompts", kind.prompt_file).read_text().strip()


def try_order(sample_id: str, n_options: int, attempt: int, seed: int) -> list[int]:
    """The option order of one try: a seeded permutation rotated by the try number, so that over `n` tries
    each option is shown once in every position and a judge's position bias cancels out.

    >>> orders = [try_order("7:0", 3, t, 0) for t in range(3)]
    >>> all(sorted(order[position] for order in orders) == [0, 1, 2] for position in range(3))
    True
    """
    base = permutation(n_options, "judge", seed, sample_id)
    shift = attempt % n_options
    return base[shift:] + base[:shift]


def messages(kind: JudgeKind, sample: dict[str, Any], order: list[int], image: "JudgeImage | None") -> list[dict[str, Any]]:
    text = template(kind).format(question=question_with_options(sample["question"], [sample["options"][j] for j in order]), width=image.width if image else 0, height=image.height if image else 0)
    if not kind.sees_image or image is None:
        return [{"role": "user", "content": text}]
    return [{"role": "user", "content": [{"type": "image_url", "image_url": {"url": image.url}}, {"type": "text", "text": text}]}]


@dataclass(frozen=True)
class JudgeImage:
    url: str  # data:image/...;base64,...
    width: int
    height: int
    size: int  # bytes of the encoded image (before base64)


def judge_image(data: bytes, max_side: int | None, quality: int = 75) -> JudgeImage:
    """The image as the judge sees it: downscaled so its longer side is at most `max_side` (JPEG at `quality`:
    Visual Genome's own, so re-encoding adds no bytes its photos did not have), or the stored bytes as they are
    when they already fit (or `max_side` is None): then only the header is read."""
    from PIL import Image

    with Image.open(io.BytesIO(data)) as im:
        width, height = im.size
        mime = Image.MIME.get(im.format or "", "image/jpeg")
        size = fit_size(width, height, max_side=max_side)
        if size != (width, height):
            (width, height), data, mime = size, resize(im, size, "JPEG", quality), "image/jpeg"
    return JudgeImage(f"data:{mime};base64,{base64.b64encode(data).decode()}", width, height, len(data))

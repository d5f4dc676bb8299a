"""Images, in one place: reading a scene's image (a reason code when it cannot be), the size an image is fitted to
under a budget (pixels, a longest side), and resizing. Export, the judges and training all use these.

>>> fit_size(4000, 3000, max_pixels=262144 * 16)
(2364, 1773)
>>> fit_size(20, 10, min_pixels=784)
(40, 20)
>>> fit_size(1600, 1200, max_side=640)
(640, 480)
"""

from __future__ import annotations

import io
import math
from pathlib import Path
from typing import Any


class ImageProblem(Exception):
    """An image that cannot be used; `reason` is a stable snake_case code (image_missing, image_unreadable, ...)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def resolve_inside(data_dir: Path, relative: str) -> Path | None:
    """`data_dir / relative`, or None when that path escapes `data_dir` (e.g. `../../etc/passwd`)."""
    root = data_dir.resolve()
    candidate = (root / relative).resolve()
    return candidate if candidate.is_relative_to(root) else None


def read_image(scene: dict[str, Any], data_dir: Path | None) -> bytes:
    """The bytes of a scene's image: embedded in the scene (VG150) or a file inside the data dir."""
    if scene.get("image_bytes"):
        return scene["image_bytes"]
    if scene.get("image_status") == "path_outside_data_dir":
        raise ImageProblem("image_path_outside_data_dir")
    if not scene.get("image_path") or data_dir is None:
        raise ImageProblem("image_missing")
    path = resolve_inside(data_dir, scene["image_path"])
    if path is None:
        raise ImageProblem("image_path_outside_data_dir")
    try:
        return path.read_bytes()
    except FileNotFoundError:
        raise ImageProblem("image_missing") from None
    except OSError:  # there, but not readable (permissions, a folder, an I/O error)
        raise ImageProblem("image_unreadable") from None


def fit_size(width: int, height: int, *, max_pixels: int | None = None, min_pixels: int | None = None,
             max_side: int | None = None) -> tuple[int, int]:
    """The size an image is resized to (aspect kept): its area at most `max_pixels` (rounded down) and at least
    `min_pixels` (rounded up), its longer side at most `max_side` (rounded); unchanged when it fits."""
    area = width * height
    if max_side is not None and max(width, height) > max_side:
        factor = max_side / max(width, height)
        return max(1, round(width * factor)), max(1, round(height * factor))
    if max_pixels is not None and area > max_pixels:
        factor = math.sqrt(max_pixels / area)
        return max(1, math.floor(width * factor)), max(1, math.floor(height * factor))
    if min_pixels is not None and area < min_pixels:
        factor = math.sqrt(min_pixels / area)
        return math.ceil(width * factor), math.ceil(height * factor)
    return width, height


def resize(image: Any, size: tuple[int, int], format: str = "JPEG", quality: int = 90) -> bytes:
    """A PIL image resized (bicubic, as RGB) and encoded."""
    from PIL import Image

    out = io.BytesIO()
    options = {"quality": quality} if format == "JPEG" else {}
    image.convert("RGB").resize(size, Image.Resampling.BICUBIC).save(out, format=format, **options)
    return out.getvalue()


def image_size(data: bytes) -> tuple[int, int]:
    """Width and height from the header (the pixels are not decoded)."""
    from PIL import Image

    with Image.open(io.BytesIO(data)) as im:
        return im.size


def decoded_within(data: bytes, max_pixels: int | None, quality: int) -> tuple[bytes, int, int]:
    """The image decoded (to prove the bytes are one) and, above `max_pixels`, downsized to JPEG; its bytes and size."""
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(io.BytesIO(data)) as im:
            im.load()
            width, height = im.size
            size = fit_size(width, height, max_pixels=max_pixels)
            if size == (width, height):
                return data, width, height
            return resize(im, size, "JPEG", quality), size[0], size[1]
    except (UnidentifiedImageError, OSError, ValueError, Image.DecompressionBombError):
        raise ImageProblem("image_undecodable") from None

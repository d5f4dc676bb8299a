"""What every loader yields: raw scene graphs, before normalisation, with boxes already as x1, y1, x2, y2."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path


@dataclass(slots=True)
class RawObject:
    key: str  # the source's own object id, as a string
    names: list[str]
    box: tuple[float, float, float, float]  # x1, y1, x2, y2 in pixels of the original image
    attributes: list[str] = field(default_factory=list)
    synset: str | None = None
    merged_keys: list[str] = field(default_factory=list)  # ids of objects the source merged into this one


@dataclass(slots=True)
class RawRelationship:
    subject: str  # RawObject.key
    predicate: str
    object: str


@dataclass(slots=True)
class RawScene:
    image_id: str
    width: int | None
    height: int | None
    objects: list[RawObject]
    relationships: list[RawRelationship]
    image_path: str | None = None  # relative to the data dir
    image_status: str = "unchecked"  # ok | missing | embedded | path_outside_data_dir | unchecked
    image_bytes: bytes | None = None
    repairs: Counter = field(default_factory=Counter)  # loader-level repairs and drops for this scene


def xywh_to_xyxy(x: float, y: float, w: float, h: float) -> tuple[float, float, float, float]:
    return (x, y, x + w, y + h)


def image_size_from_file(path: Path) -> tuple[int, int] | None:
    """Width and height from an image file's header (the pixels are not decoded)."""
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(path) as im:
            return im.size
    except (OSError, UnidentifiedImageError, ValueError):
        return None

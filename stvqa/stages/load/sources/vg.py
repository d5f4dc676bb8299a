"""Visual Genome's own JSON files (versions 1.0, 1.2 and 1.4), streamed one image at a time.

`objects.json` drives the stream; `relationships.json` and `attributes.json` are read alongside it.
VG writes all three in the same image order, so aligning them needs only a small look-ahead buffer;
records that never line up are counted, not lost silently.
"""

from __future__ import annotations

import json
import logging
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson

from ....errors import DataError
from ....json_stream import iter_json_array, iter_json_array_text
from .base import RawObject, RawRelationship, RawScene, image_size_from_file, xywh_to_xyxy

log = logging.getLogger(__name__)

DOWNLOAD_HINT = (
    "Download Visual Genome from https://homes.cs.washington.edu/~ranjay/visualgenome/api.html "
    "(objects.json, relationships.json, image_data.json, images) and unzip it into --data-dir; "
    "data/README.md shows the layout. Leave out --data-dir to use the bundled sample."
)
IMAGE_FOLDERS = ("VG_100K", "VG_100K_2", "images")
LOOKAHEAD = 2000  # records read past a missing image before it is declared absent from a side file


def input_files(data_dir: Path) -> list[Path]:
    """The files and image folders whose content defines a VG build (for fingerprints)."""
    names = ["objects.json", "relationships.json", "attributes.json", "image_data.json", *IMAGE_FOLDERS]
    return [data_dir / n for n in names if (data_dir / n).exists()]


def check_layout(data_dir: Path) -> None:
    if not data_dir.is_dir():
        raise DataError(f"data dir {data_dir} does not exist", DOWNLOAD_HINT)
    for required in ("objects.json", "relationships.json"):
        if not (data_dir / required).is_file():
            raise DataError(f"{data_dir / required} is missing", DOWNLOAD_HINT)
    if not (data_dir / "image_data.json").is_file() and not any((data_dir / f).is_dir() for f in IMAGE_FOLDERS):
        # Without either, image sizes are unknown, and prompts and boxes need them.
        raise DataError(f"{data_dir / 'image_data.json'} is missing and there are no images ({', '.join(IMAGE_FOLDERS)}) to read sizes from",
                        "Put VG's image_data.json (or the images) into --data-dir; " + DOWNLOAD_HINT.split("; ")[1])


def record_image_id(record: dict[str, Any]) -> str | None:
    """VG 1.0 uses `id`, later versions `image_id`; real 1.4 files contain a record with neither."""
    value = record.get("image_id", record.get("id")) if isinstance(record, dict) else None
    return None if value is None else str(value)


def _object_key(obj: dict[str, Any]) -> str | None:
    value = obj.get("object_id", obj.get("id"))
    return None if value is None else str(value)


def _object_names(obj: dict[str, Any]) -> list[str]:
    names = obj.get("names", obj.get("object_names"))
    if names is None and "name" in obj:
        names = [obj["name"]]
    if isinstance(names, str):
        names = [names]
    return [n for n in names or [] if isinstance(n, str)]


def _raw_object(obj: dict[str, Any]) -> RawObject | None:
    key = _object_key(obj)
    if key is None:
        return None
    try:
        box = xywh_to_xyxy(float(obj["x"]), float(obj["y"]), float(obj["w"]), float(obj["h"]))
    except (KeyError, TypeError, ValueError):
        box = (float("nan"),) * 4
    synsets = obj.get("synsets") or []
    return RawObject(
        key=key,
        names=_object_names(obj),
        box=box,
        attributes=[a for a in obj.get("attributes") or [] if isinstance(a, str)],
        synset=synsets[0] if isinstance(synsets, list) and synsets and isinstance(synsets[0], str) else None,
        merged_keys=[str(m) for m in obj.get("merged_object_ids") or []],
    )


class _SideStream:
    """Records of a side file (relationships, attributes) looked up by image id, in stream order."""

    def __init__(self, path: Path | None, stats: Counter, label: str) -> None:
        self.records = iter_json_array_text(path) if path else iter(())  # (record, its JSON text)
        self.pending: dict[str, Any] = {}
        self.stats = stats
        self.label = label

    def take(self, image_id: str) -> str | None:
        """The JSON text of the image's record."""
        if image_id in self.pending:
            return self.pending.pop(image_id)
        read_past = 0
        for record, text in self.records:
            rid = record_image_id(record)
            if rid is None:
                self.stats[f"{self.label}_record_without_image_id"] += 1
                continue
            if rid == image_id:
                return text
            self.pending[rid] = text
            read_past += 1
            if read_past >= LOOKAHEAD:
                break
        return None

    def leftover(self) -> int:
        """Records never claimed by an image of objects.json (reads the rest of the file)."""
        rest = sum(1 for _ in self.records)
        return len(self.pending) + rest


class ImageIndex:
    """Finds `<id>.jpg` in VG's image folders, listing each folder once instead of a stat per image."""

    def __init__(self, data_dir: Path) -> None:
        self.data_dir = data_dir
        self.folders: dict[str, set[str]] = {}
        for folder in IMAGE_FOLDERS:
            path = data_dir / folder
            if path.is_dir():
                self.folders[folder] = {entry.name for entry in _scandir(path)}

    def find(self, image_id: str, preferred_folder: str | None = None) -> str | None:
        filename = f"{image_id}.jpg"
        order = ([preferred_folder] if preferred_folder in self.folders else []) + list(self.folders)
        for folder in order:
            if filename in self.folders[folder]:
                return f"{folder}/{filename}"
        return None


def _scandir(path: Path):
    import os

    with os.scandir(path) as it:
        yield from it


def _url_folder(url: Any) -> str | None:
    if isinstance(url, str) and "/" in url:
        parts = url.rstrip("/").split("/")
        return parts[-2] if len(parts) >= 2 else None
    return None


def count_records(data_dir: Path) -> int | None:
    """Images in `image_data.json` (one record per image, as in objects.json), or None without it."""
    path = data_dir / "image_data.json"
    return sum(1 for _ in iter_json_array(path)) if path.is_file() else None


def load_image_data(path: Path | None) -> dict[str, tuple[int | None, int | None, str | None]]:
    """image id -> (width, height, folder from the URL); small enough to hold (about 15 MB for all of VG)."""
    if path is None or not path.exists():
        return {}
    table: dict[str, tuple[int | None, int | None, str | None]] = {}
    for record in iter_json_array(path):
        image_id = record_image_id(record)
        if image_id is not None:
            table[image_id] = (record.get("width"), record.get("height"), _url_folder(record.get("url")))
    return table



def vg_records(data_dir: Path, stats: Counter) -> Iterator[dict[str, Any]]:
    """One record per image of `objects.json`, joined with its relationships and attributes and with its image
    found on disk: plain JSON values, cheap to hand to a worker, which makes the scene of it (`vg_scene`)."""
    check_layout(data_dir)
    image_data = load_image_data(data_dir / "image_data.json")
    if not image_data:
        log.warning("no image_data.json in %s: image sizes come from the image files", data_dir)
    images = ImageIndex(data_dir)
    relationships = _SideStream(data_dir / "relationships.json", stats, "relationships")
    attributes_path = data_dir / "attributes.json"
    attributes = _SideStream(attributes_path if attributes_path.exists() else None, stats, "attributes")

    for record, text in iter_json_array_text(data_dir / "objects.json"):
        image_id = record_image_id(record)
        if image_id is None:
            stats["record_without_image_id"] += 1
            log.warning("skipped an objects.json record without an image id (keys: %s)", sorted(record)[:6] if isinstance(record, dict) else type(record).__name__)
            continue
        yield _located(image_id, record, text, relationships.take(image_id), attributes.take(image_id), image_data, images, data_dir)

    unclaimed = relationships.leftover()
    if unclaimed:
        stats["relationships_record_without_objects"] += unclaimed
    unclaimed = attributes.leftover()
    if unclaimed:
        stats["attributes_record_without_objects"] += unclaimed


def _located(image_id: str, record: dict, text: str, rel_text: str | None, attr_text: str | None, image_data, images: ImageIndex,
             data_dir: Path) -> dict[str, Any]:
    """The image's records (as JSON text: `vg_scene` decodes them again in a worker, which is cheaper than sending
    them decoded), its file and its size (from image_data.json, else from the file's header)."""
    repairs: Counter = Counter()
    width, height, folder = image_data.get(image_id, (None, None, None))
    folder = folder or _url_folder(record.get("image_url"))
    image_path = images.find(image_id, folder)
    if not image_path:
        repairs["image_file_missing"] += 1
    if (not width or not height) and image_path:
        size = image_size_from_file(data_dir / image_path)
        if size:
            width, height = size
            repairs["image_size_from_file"] += 1
    return {"image_id": image_id, "objects": text, "relationships": rel_text, "attributes": attr_text,
            "width": width if isinstance(width, int) else None, "height": height if isinstance(height, int) else None,
            "image_path": image_path, "repairs": dict(repairs)}


def _decoded(text: str | dict | None) -> dict[str, Any]:
    """A record as `_located` passed it on: its JSON text (or, already decoded, the record)."""
    if not text:
        return {}
    if isinstance(text, dict):
        return text
    try:
        value = orjson.loads(text)
    except orjson.JSONDecodeError:  # NaN and Infinity, which Python's decoder (the stream's) accepts and orjson does not
        value = json.loads(text)
    return value if isinstance(value, dict) else {}


def vg_scene(record: dict[str, Any]) -> RawScene:
    """The raw scene of one record of `vg_records`: objects (merged ids followed), attributes, relationships (and
    the objects VG lists only inside them)."""
    repairs: Counter = Counter(record["repairs"])
    objects: dict[str, RawObject] = {}
    for obj in _decoded(record["objects"]).get("objects") or []:
        raw = _raw_object(obj) if isinstance(obj, dict) else None
        if raw is None:
            repairs["object_without_id"] += 1
            continue
        objects.setdefault(raw.key, raw)
    merged_into = {m: o.key for o in objects.values() for m in o.merged_keys}

    for obj in _decoded(record["attributes"]).get("attributes") or []:
        key = _object_key(obj) if isinstance(obj, dict) else None
        target = objects.get(merged_into.get(key, key)) if key else None
        if target is not None:
            target.attributes.extend(a for a in obj.get("attributes") or [] if isinstance(a, str))

    rels: list[RawRelationship] = []
    for rel in _decoded(record["relationships"]).get("relationships") or []:
        ends = []
        for role in ("subject", "object"):
            end = rel.get(role) if isinstance(rel, dict) else None
            key = _object_key(end) if isinstance(end, dict) else None
            if key is not None and key not in objects and key not in merged_into:
                # VG relationships embed their objects; some are absent from objects.json.
                raw = _raw_object(end)
                if raw is not None:
                    objects[key] = raw
                    repairs["object_added_from_relationship"] += 1
            ends.append(merged_into.get(key, key))
        predicate = rel.get("predicate") if isinstance(rel, dict) else None
        rels.append(RawRelationship(ends[0] or "", predicate if isinstance(predicate, str) else "", ends[1] or ""))
    return RawScene(
        image_id=record["image_id"], width=record["width"], height=record["height"], objects=list(objects.values()),
        relationships=rels, image_path=record["image_path"], image_status="ok" if record["image_path"] else "missing", repairs=repairs,
    )

"""GQA scene graphs: `*_sceneGraphs.json`, one object keyed by image id, streamed pair by pair."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from ....errors import DataError
from ....json_stream import iter_json_object
from .base import RawObject, RawRelationship, RawScene, xywh_to_xyxy

DOWNLOAD_HINT = (
    "Download GQA's scene graphs (sceneGraphs.zip) and images from https://cs.stanford.edu/people/dorarad/gqa/download.html "
    "and put train_sceneGraphs.json / val_sceneGraphs.json and images/ in --data-dir (see data/README.md)."
)


def scene_graph_files(data_dir: Path) -> list[Path]:
    return sorted(data_dir.glob("*sceneGraphs.json"))


def input_files(data_dir: Path) -> list[Path]:
    images = data_dir / "images"
    return scene_graph_files(data_dir) + ([images] if images.is_dir() else [])


def check_layout(data_dir: Path) -> None:
    if not data_dir.is_dir():
        raise DataError(f"data dir {data_dir} does not exist", DOWNLOAD_HINT)
    if not scene_graph_files(data_dir):
        raise DataError(f"no *_sceneGraphs.json file in {data_dir}", DOWNLOAD_HINT)



def gqa_records(data_dir: Path, stats: Counter) -> Iterator[tuple[str, dict[str, Any], bool]]:
    """(image id, its scene graph, whether its image is in images/) per image: plain JSON, cheap to hand to a worker."""
    check_layout(data_dir)
    images = data_dir / "images"
    names = {p.name for p in images.iterdir()} if images.is_dir() else set()
    for path in scene_graph_files(data_dir):
        for image_id, graph in iter_json_object(path):
            if not isinstance(graph, dict):
                stats["record_not_an_object"] += 1
                continue
            yield str(image_id), graph, f"{image_id}.jpg" in names


def gqa_scene(record: tuple[str, dict[str, Any], bool]) -> RawScene:
    image_id, graph, found = record
    objects: list[RawObject] = []
    relationships: list[RawRelationship] = []
    raw_objects = graph.get("objects") or {}
    for key, obj in raw_objects.items() if isinstance(raw_objects, dict) else ():
        try:
            box = xywh_to_xyxy(float(obj["x"]), float(obj["y"]), float(obj["w"]), float(obj["h"]))
        except (KeyError, TypeError, ValueError):
            box = (float("nan"),) * 4
        name = obj.get("name")
        objects.append(RawObject(key=str(key), names=[name] if isinstance(name, str) else [], box=box,
                                 attributes=[a for a in obj.get("attributes") or [] if isinstance(a, str)]))
        for rel in obj.get("relations") or []:
            if isinstance(rel, dict):
                relationships.append(RawRelationship(str(key), rel.get("name") or "", str(rel.get("object"))))
    filename = f"{image_id}.jpg"
    return RawScene(
        image_id=image_id,
        width=graph.get("width") if isinstance(graph.get("width"), int) else None,
        height=graph.get("height") if isinstance(graph.get("height"), int) else None,
        objects=objects,
        relationships=relationships,
        image_path=f"images/{filename}" if found else None,
        image_status="ok" if found else "missing",
        repairs=Counter() if found else Counter(image_file_missing=1),
    )

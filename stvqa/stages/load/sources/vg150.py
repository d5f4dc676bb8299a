"""VG150 "prompt" datasets (the reference pipeline's input): Parquet or JSONL rows of
`image_id`, `image`, `objects` (JSON `[{"id": "man.1", "bbox": [x1,y1,x2,y2]}]`) and
`relationships` (JSON `[{"subject", "predicate", "object"}]`). The image is embedded
(`{"bytes": ..., "path": ...}` or raw bytes) or given as a path inside the data dir.
"""

from __future__ import annotations

import io
import json
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from ....errors import DataError
from ....images import resolve_inside
from .base import RawObject, RawRelationship, RawScene, image_size_from_file

DOWNLOAD_HINT = (
    "Save the VG150 prompt dataset (e.g. JosephZ/vg150_train_sgg_prompt) as Parquet or JSONL files in --data-dir: "
    "`datasets.load_dataset(...).to_parquet('DIR/train.parquet')` (see data/README.md)."
)


def input_files(data_dir: Path) -> list[Path]:
    """The dataset's Parquet and JSONL files, at any depth (the Hub's `data/train-*.parquet` included), but
    never hidden ones (temporaries) or what stvqa itself wrote (a run's tables, an export's shards): read as
    input, those would grow every rebuild."""
    from ....pipeline.ownership import is_export
    from ....pipeline.rundir import is_run

    ours: dict[Path, bool] = {}

    def written_by_stvqa(folder: Path) -> bool:
        if folder not in ours:
            ours[folder] = is_run(folder) or is_export(folder) or (folder != data_dir and written_by_stvqa(folder.parent))
        return ours[folder]

    found = [*data_dir.rglob("*.parquet"), *data_dir.rglob("*.jsonl")]
    return sorted(p for p in found if not any(part.startswith(".") for part in p.relative_to(data_dir).parts)
                  and not written_by_stvqa(p.parent))


def count_records(data_dir: Path) -> int:
    """Rows of every input file: Parquet from its metadata, JSONL by its non-empty lines."""
    import pyarrow.parquet as pq

    total = 0
    for path in input_files(data_dir):
        if path.suffix == ".parquet":
            try:
                total += pq.ParquetFile(path).metadata.num_rows
            except Exception:  # a damaged file is reported when it is read
                pass
        else:
            with open(path, "rb") as f:
                total += sum(1 for line in f if line.strip())
    return total


def check_layout(data_dir: Path) -> None:
    if not data_dir.is_dir():
        raise DataError(f"data dir {data_dir} does not exist", DOWNLOAD_HINT)
    if not input_files(data_dir):
        raise DataError(f"no .parquet or .jsonl file in {data_dir}", DOWNLOAD_HINT)


def _rows(path: Path, stats: Counter) -> Iterator[dict[str, Any]]:
    if path.suffix == ".jsonl":
        with open(path, encoding="utf-8") as f:
            for line_number, line in enumerate(f, 1):
                if not line.strip():
                    continue
                try:
                    yield json.loads(line)
                except json.JSONDecodeError as exc:
                    raise DataError(f"{path}: malformed JSON on line {line_number}, column {exc.colno}: {exc.msg}",
                                    "Fix or remove that line; every line must be one JSON object.") from None
        return
    import pyarrow.parquet as pq

    try:
        parquet = pq.ParquetFile(path)
    except Exception as exc:  # pyarrow raises several types for a damaged file
        raise DataError(f"{path}: not a readable Parquet file ({exc})", "Re-export the dataset to Parquet.") from None
    for batch in parquet.iter_batches(batch_size=256):
        yield from batch.to_pylist()


def _json_field(value: Any, stats: Counter, reason: str) -> list:
    if isinstance(value, list):
        return value
    if isinstance(value, str):
        try:
            parsed = json.loads(value)
            if isinstance(parsed, list):
                return parsed
        except json.JSONDecodeError:
            pass
    stats[reason] += 1
    return []



def vg150_records(data_dir: Path, stats: Counter) -> Iterator[tuple[str, dict[str, Any], str]]:
    """(image id, its row, the data dir) per row of every input file: plain values, cheap to hand to a worker."""
    check_layout(data_dir)
    for path in input_files(data_dir):
        for row in _rows(path, stats):
            image_id = row.get("image_id")
            if image_id is None or image_id == "":
                stats["record_without_image_id"] += 1
                continue
            yield str(image_id), row, str(data_dir)


def vg150_scene(record: tuple[str, dict[str, Any], str]) -> RawScene:
    image_id, row, data_dir = record[0], record[1], Path(record[2])
    repairs: Counter = Counter()
    objects = []
    for obj in _json_field(row.get("objects"), repairs, "objects_not_json"):
        if not isinstance(obj, dict) or not isinstance(obj.get("id"), str):
            repairs["object_without_id"] += 1
            continue
        bbox = obj.get("bbox")
        try:
            box = tuple(float(v) for v in bbox)
            assert len(box) == 4
        except (TypeError, ValueError, AssertionError):
            box = (float("nan"),) * 4
        name = obj.get("name") or obj["id"].rsplit(".", 1)[0].replace("_", " ")
        objects.append(RawObject(key=obj["id"], names=[name], box=box))  # type: ignore[arg-type]
    relationships = [
        RawRelationship(str(r.get("subject")), r.get("predicate") or "", str(r.get("object")))
        for r in _json_field(row.get("relationships"), repairs, "relationships_not_json")
        if isinstance(r, dict)
    ]

    image = row.get("image")
    image_bytes, image_path, status = None, None, "missing"
    if isinstance(image, dict):
        image_bytes, image = image.get("bytes"), image.get("path") if not image.get("bytes") else None
    elif isinstance(image, (bytes, bytearray)):
        image_bytes, image = bytes(image), None
    if image_bytes:
        status = "embedded"
    elif isinstance(image, str) and image:
        resolved = resolve_inside(data_dir, image)
        if resolved is None:
            status = "path_outside_data_dir"
            repairs["image_path_outside_data_dir"] += 1
        elif resolved.is_file():
            image_path, status = image, "ok"
    if status == "missing":
        repairs["image_file_missing"] += 1

    width, height = row.get("width"), row.get("height")
    if not (isinstance(width, int) and isinstance(height, int)):
        size = None
        if image_bytes:
            size = image_size_from_file(io.BytesIO(image_bytes))  # type: ignore[arg-type]
        elif image_path:
            size = image_size_from_file(data_dir / image_path)
        width, height = size if size else (None, None)
    return RawScene(image_id, width, height, objects, relationships, image_path, status, image_bytes, repairs)

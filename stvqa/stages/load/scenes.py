"""The load stage: a source's raw scenes -> canonical scene graphs -> `scenes.parquet`.

Scenes stream through in batches, so memory stays flat however many images the source has.
"""

from __future__ import annotations

import hashlib
import logging
import re
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from ...errors import ConfigError
from ...names import AliasMap
from .normalize import normalize_scene
from ...schema import schema_errors
from .sources.base import RawScene

log = logging.getLogger(__name__)

OBJECT_TYPE = pa.struct([
    ("id", pa.string()), ("name", pa.string()), ("bbox", pa.list_(pa.float64())),
    ("attributes", pa.list_(pa.string())), ("source_ids", pa.list_(pa.string())), ("synset", pa.string()),
])
RELATIONSHIP_TYPE = pa.struct([("subject", pa.string()), ("predicate", pa.string()), ("object", pa.string())])
SCENES_SCHEMA = pa.schema([
    ("image_id", pa.string()), ("source", pa.string()), ("width", pa.int32()), ("height", pa.int32()),
    ("image_path", pa.string()), ("image_status", pa.string()), ("image_bytes", pa.binary()),
    ("objects", pa.list_(OBJECT_TYPE)), ("relationships", pa.list_(RELATIONSHIP_TYPE)),
    ("record_index", pa.int64()),
])
RECORD_INDEX = "record_index"  # the record's position in the source files: shards merge back into this order
BATCH_ROWS = 2048
# Repairs that lose something of an image (`--verbose` names the image); the others only tidy it.
LOGGED_DROPS = ("object_without_name", "object_invalid_box", "object_zero_area", "object_duplicate_id", "relationship_missing_object",
                "relationship_without_predicate", "image_size_unknown")
ALIAS_FILES = {"objects": ("object_alias.txt",), "predicates": ("relationship_alias.txt", "predicate_alias.txt")}


@dataclass(frozen=True)
class Shard:
    index: int
    count: int

    @classmethod
    def parse(cls, text: str) -> "Shard":
        match = re.fullmatch(r"\s*(\d+)\s*/\s*(\d+)\s*", text or "")
        if not match or int(match[2]) < 1 or int(match[1]) >= int(match[2]):
            raise ConfigError(f"--shard {text!r} is not of the form i/N with 0 <= i < N", "Example: --shard 0/4 for the first of four shards.")
        return cls(int(match[1]), int(match[2]))

    def contains(self, image_id: str) -> bool:
        # A cryptographic hash, not hash(): the same image lands in the same shard in every process.
        digest = hashlib.blake2b(image_id.encode(), digest_size=8).digest()
        return int.from_bytes(digest, "big") % self.count == self.index


def find_alias_files(data_dir: Path) -> tuple[Path | None, Path | None]:
    found = []
    for names in ALIAS_FILES.values():
        path = next((d / n for d in (data_dir, data_dir / "aliases") for n in names if (d / n).is_file()), None)
        found.append(path)
    return found[0], found[1]


def canonical_scenes(raw_scenes: Iterable[RawScene], source: str, aliases: AliasMap, cfg, stats: Counter,
                     advance: Callable[[int], None] | None = None) -> Iterator[dict[str, Any]]:
    """Normalise, select (shard, limit) and validate scenes (`cfg` is a `LoadConfig`); every drop is counted in
    `stats`, and `advance(1)` is called for every record read. A second record of an image id already read
    is dropped (`record_repeated_image_id`): one image, one scene."""
    shard = Shard.parse(cfg.shard) if cfg.shard else None
    kept = 0
    seen: set[str] = set()
    verbose = log.isEnabledFor(logging.INFO)  # --verbose: what was dropped from each image, image by image
    for index, raw in enumerate(raw_scenes):
        if cfg.limit is not None and kept >= cfg.limit:
            break
        if advance:
            advance(1)
        if shard and not shard.contains(raw.image_id):
            stats["outside_shard"] += 1
            continue
        if raw.image_id in seen:
            stats["record_repeated_image_id"] += 1
            log.info("image %s: a second record of this image id is dropped (the first is kept)", raw.image_id)
            continue
        seen.add(raw.image_id)
        stats["images_read"] += 1
        repairs: Counter = Counter()
        scene = normalize_scene(raw, source, aliases, cfg.normalize, repairs)
        stats.update(repairs)
        if verbose and (dropped := {k: n for k, n in repairs.items() if k in LOGGED_DROPS}):
            log.info("image %s: %s", raw.image_id, ", ".join(f"{n} {k}" for k, n in sorted(dropped.items())))
        if scene is None:
            continue
        if cfg.validate_every and kept % cfg.validate_every == 0:
            errors = schema_errors("scene_graph", scene)
            if errors:
                stats["scene_schema_invalid"] += 1
                log.warning("image %s does not match the scene-graph schema: %s", raw.image_id, "; ".join(errors[:3]))
                continue
        kept += 1
        stats["objects"] += len(scene["objects"])
        stats["relationships"] += len(scene["relationships"])
        stats["images_missing_file"] += scene["image_status"] in ("missing", "path_outside_data_dir")
        scene["image_bytes"] = raw.image_bytes
        scene[RECORD_INDEX] = index
        yield scene
    stats["images_kept"] = kept


def write_scenes(scenes: Iterable[dict[str, Any]], path: Path) -> int:
    """Write scenes to Parquet in row groups of `BATCH_ROWS`; returns the number of rows."""
    rows = 0
    with pq.ParquetWriter(path, SCENES_SCHEMA, compression="zstd") as writer:
        batch: list[dict[str, Any]] = []
        for scene in scenes:
            batch.append(scene)
            if len(batch) >= BATCH_ROWS:
                writer.write_batch(pa.RecordBatch.from_pylist(batch, schema=SCENES_SCHEMA))
                rows += len(batch)
                batch.clear()
        if batch:
            writer.write_batch(pa.RecordBatch.from_pylist(batch, schema=SCENES_SCHEMA))
            rows += len(batch)
    return rows


def iter_scene_file(path: Path, columns: list[str] | None = None, batch_rows: int = 1024) -> Iterator[dict[str, Any]]:
    """Scenes from `scenes.parquet`, one batch in memory at a time."""
    parquet = pq.ParquetFile(path)
    for batch in parquet.iter_batches(batch_size=batch_rows, columns=columns):
        yield from batch.to_pylist()

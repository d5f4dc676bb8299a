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
from functools import partial
from itertools import islice
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from ...errors import ConfigError
from ...names import AliasMap
from ...hashing import unit
from ...pipeline.workers import ordered_map
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


def canonical_batches(records: Iterable[Any], scene_of: Callable[[Any], RawScene], source: str, aliases: AliasMap, cfg, stats: Counter,
                      advance: Callable[[int], None] | None = None, excluded: frozenset[str] = frozenset()) -> Iterator[pa.RecordBatch]:
    """Normalise, select (shard, limit) and validate scenes (`cfg` is a `LoadConfig`), as Arrow batches of
    `SCENES_SCHEMA` in the records' order; every drop is counted in `stats`, and `advance(1)` is called for every
    record read. A second record of an image id already read is dropped (`record_repeated_image_id`): one image,
    one scene. Chunks of records are normalised by `cfg.workers` processes, each returning its scenes as one Arrow
    batch (so the scenes are never rebuilt as Python objects here); with a `--limit`, one record at a time in this
    process, so that reading stops at the limit."""
    shard = Shard.parse(cfg.shard) if cfg.shard else None
    seen: set[str] = set()

    def selected() -> Iterator[tuple[int, str | None, Any]]:
        for index, record in enumerate(records):
            image_id = record_id(record)
            if shard and not shard.contains(image_id):
                yield index, "outside_shard", image_id
            elif image_id in excluded:
                yield index, "image_excluded", image_id  # --exclude-images: a benchmark's image
            elif image_id in seen:
                yield index, "record_repeated_image_id", image_id
            else:
                seen.add(image_id)
                yield index, None, record

    kept = 0
    verbose = log.isEnabledFor(logging.INFO)  # --verbose: what was dropped from each image, image by image
    size, workers = (CHUNK_RECORDS, cfg.workers) if cfg.limit is None else (1, 1)  # (CHUNK_RECORDS read when called: tests make it small)
    chunks = iter(lambda it=selected(): list(islice(it, size)), [])
    normalize = partial(_normalized_chunk, scene_of=scene_of, source=source, aliases=aliases, cfg=cfg.normalize, validate_every=cfg.validate_every)
    for notes, batch in ordered_map(normalize, chunks, workers, Counter(), chunk=1):
        rows = []
        for note in notes:
            if cfg.limit is not None and kept >= cfg.limit:
                break
            if advance:
                advance(1)
            if note.skipped:
                stats[note.skipped] += 1
                if note.skipped == "record_repeated_image_id":
                    log.info("image %s: a second record of this image id is dropped (the first is kept)", note.image_id)
                continue
            stats["images_read"] += 1
            stats.update(note.repairs)
            if verbose and (dropped := {k: n for k, n in note.repairs.items() if k in LOGGED_DROPS}):
                log.info("image %s: %s", note.image_id, ", ".join(f"{n} {k}" for k, n in sorted(dropped.items())))
            if note.row is None:
                continue
            if note.invalid:
                stats["scene_schema_invalid"] += 1
                log.warning("image %s does not match the scene-graph schema: %s", note.image_id, "; ".join(note.invalid[:3]))
                continue
            kept += 1
            stats["objects"] += note.objects
            stats["relationships"] += note.relationships
            stats["images_missing_file"] += note.missing_image
            rows.append(note.row)
        if rows:
            yield batch.take(rows) if len(rows) < batch.num_rows else batch
        if cfg.limit is not None and kept >= cfg.limit:
            break
    stats["images_kept"] = kept


def canonical_scenes(*args: Any, **kwargs: Any) -> Iterator[dict[str, Any]]:
    """`canonical_batches`, scene by scene, as dicts."""
    for batch in canonical_batches(*args, **kwargs):
        yield from batch.to_pylist()


CHUNK_RECORDS = 128  # records a worker normalises at a time


@dataclass(frozen=True, slots=True)
class _Note:
    """What the main process needs to know of one record a worker normalised (the scene itself is in the batch)."""

    image_id: str
    skipped: str | None = None
    repairs: Counter | None = None
    row: int | None = None  # the scene's row in the chunk's batch (None: no scene)
    invalid: list[str] | None = None
    objects: int = 0
    relationships: int = 0
    missing_image: bool = False


def record_id(record: Any) -> str:
    """The image id of a source's record (a dict with `image_id`, or a tuple that starts with it)."""
    return record["image_id"] if isinstance(record, dict) else record[0]


def _normalized_chunk(chunk: list[tuple], stats: Counter, scene_of: Callable[[Any], RawScene], source: str, aliases: AliasMap, cfg,
                      validate_every: int) -> tuple[list[_Note], pa.RecordBatch]:
    """A worker's part: the records' canonical scenes as one batch, and a note for every record. One scene in
    `validate_every`, chosen by a hash of its id, is checked against the schema."""
    notes, scenes = [], []
    for index, skipped, record in chunk:
        if skipped:
            notes.append(_Note(record, skipped))
            continue
        raw = scene_of(record)
        repairs: Counter = Counter()
        scene = normalize_scene(raw, source, aliases, cfg, repairs)
        if scene is None:
            notes.append(_Note(raw.image_id, repairs=repairs))
            continue
        invalid = schema_errors("scene_graph", scene) if validate_every and unit("validate", raw.image_id) * validate_every < 1 else []
        scene["image_bytes"] = raw.image_bytes
        scene[RECORD_INDEX] = index
        notes.append(_Note(raw.image_id, None, repairs, len(scenes), invalid, len(scene["objects"]), len(scene["relationships"]),
                           scene["image_status"] in ("missing", "path_outside_data_dir")))
        scenes.append(scene)
    return notes, pa.RecordBatch.from_pylist(scenes, schema=SCENES_SCHEMA)


def write_scenes(batches: Iterable[pa.RecordBatch], path: Path) -> int:
    """Write scene batches to Parquet in row groups of `BATCH_ROWS` (whatever the batches' sizes); returns the rows."""
    rows = 0
    with pq.ParquetWriter(path, SCENES_SCHEMA, compression="zstd") as writer:
        pending: list[pa.RecordBatch] = []
        held = 0
        for batch in batches:
            pending.append(batch)
            held += batch.num_rows
            while held >= BATCH_ROWS:
                table = pa.Table.from_batches(pending, schema=SCENES_SCHEMA)
                writer.write_table(table.slice(0, BATCH_ROWS), row_group_size=BATCH_ROWS)
                rest = table.slice(BATCH_ROWS)
                pending, held = rest.to_batches(), rest.num_rows
                rows += BATCH_ROWS
        if held:
            writer.write_table(pa.Table.from_batches(pending, schema=SCENES_SCHEMA), row_group_size=BATCH_ROWS)
            rows += held
    return rows


def iter_scene_file(path: Path, columns: list[str] | None = None, batch_rows: int = 1024) -> Iterator[dict[str, Any]]:
    """Scenes from `scenes.parquet`, one batch in memory at a time."""
    parquet = pq.ParquetFile(path)
    for batch in parquet.iter_batches(batch_size=batch_rows, columns=columns):
        yield from batch.to_pylist()


@dataclass(frozen=True)
class ScenePart:
    """Some consecutive scenes of a scenes file, which a worker reads itself (they are not sent to it)."""

    path: str
    group: int  # the Parquet row group
    offset: int  # rows into it
    length: int
    image_ids: tuple[str, ...]

    def read(self, columns: list[str] | None = None) -> list[dict[str, Any]]:
        table = pq.ParquetFile(self.path).read_row_group(self.group, columns=columns)
        return table.slice(self.offset, self.length).to_pylist()


PART_ROWS = BATCH_ROWS  # scenes a worker reads at a time: a row group, decoded once


def scene_parts(path: Path, rows: int | None = None) -> Iterator[ScenePart]:
    """The scenes file in parts of `rows` scenes (`PART_ROWS`), in its order, each knowing its image ids."""
    rows = rows or PART_ROWS
    parquet = pq.ParquetFile(path)
    for group in range(parquet.num_row_groups):
        ids = parquet.read_row_group(group, columns=["image_id"]).column("image_id").to_pylist()
        for offset in range(0, len(ids), rows):
            part = tuple(ids[offset:offset + rows])
            yield ScenePart(str(path), group, offset, len(part), part)

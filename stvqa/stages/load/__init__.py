"""The load stage: a source's scene graphs -> canonical graphs in `scenes.parquet` (streamed, flat memory)."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from ...config import check_range
from ...errors import ConfigError
from ...names import AliasMap
from .normalize import NormalizeConfig
from ...pipeline.runner import Outcome, Stage, StageIO
from ...pipeline.workers import CORES, WORKERS_FIELD, check_workers
from .exclusion import excluded_image_ids
from .scenes import Shard, canonical_batches, find_alias_files, write_scenes
from .sources import SOURCES
from .sources.sample import sample_dir

SCENES_FILE = "scenes.parquet"
# Per-image drops (the rest of the load counters are repairs of objects and relationships).
IMAGE_DROPS = ("record_without_image_id", "record_not_an_object", "record_repeated_image_id", "image_size_unknown", "scene_schema_invalid",
               "outside_shard", "image_excluded")
IMAGE_COUNTS = ("images_read", "images_kept", "objects", "relationships", "images_missing_file")


@dataclass(frozen=True)
class LoadConfig:
    source: str = field(default="vg", metadata={"help": "Scene-graph source: vg (Visual Genome 1.0/1.2/1.4 JSON), vg150 (prompt Parquet/JSONL) or gqa."})
    data_dir: str | None = field(default=None, metadata={"help": "Folder with the source's files. Without it, --source vg uses the bundled sample."})
    normalize: NormalizeConfig = field(default_factory=NormalizeConfig)
    use_aliases: bool = field(default=True, metadata={"flag": "--aliases/--no-aliases", "old_keys": ("aliases",), "help": "Apply VG's object alias list (object_alias.txt) when present."})
    limit: int | None = field(default=None, metadata={"help": "Keep at most N images (after --shard), in file order."})
    shard: str | None = field(default=None, metadata={"help": "Keep shard i of N, e.g. 0/4 (a stable hash of the image id; shards partition the data)."})
    exclude_images: str | None = field(default=None, metadata={
        "help": "Leave out the images listed in this file, one per line: vg:ID (or ID) or coco:ID (through image_data.json), e.g. a benchmark's."})
    validate_every: int = field(default=100, metadata={"help": "Check every k-th scene against schemas/scene_graph.schema.json (1 = all; about 7 ms a scene)."})
    workers: int = field(default=CORES, metadata=WORKERS_FIELD)

    def __post_init__(self) -> None:
        if self.source not in SOURCES:
            raise ConfigError(f"unknown --source {self.source!r}", f"Choose one of: {', '.join(SOURCES)}.")
        if self.limit is not None:
            check_range("--limit", self.limit, 1)
        check_range("--validate-every", self.validate_every, 1)
        check_workers("--workers", self.workers)
        if self.shard is not None:
            Shard.parse(self.shard)
        if self.exclude_images is not None and not Path(self.exclude_images).expanduser().is_file():
            raise ConfigError(f"--exclude-images {self.exclude_images} does not exist", "Pass a text file with one image id per line (vg:ID or coco:ID).")

    @property
    def is_sample(self) -> bool:
        return self.data_dir is None

    def folder(self) -> Path:
        """The data dir, or the bundled sample (drawn on first use) when none was given."""
        if self.data_dir is not None:
            return Path(self.data_dir).expanduser()
        if self.source != "vg":
            raise ConfigError(f"--source {self.source} needs --data-dir", "Only --source vg has a bundled sample; see data/README.md for the others.")
        return sample_dir()


def _alias_files(cfg: LoadConfig) -> tuple[Path | None, Path | None]:
    """VG's object aliases only: its predicate list maps "on top of" to "above" and "beside" to "near", which
    loses what the canonical predicate vocabulary (stvqa/lexicon/predicates.yaml) keeps."""
    return (find_alias_files(cfg.folder())[0], None) if cfg.use_aliases else (None, None)


def input_files(cfg: LoadConfig) -> list[Path]:
    source, folder = SOURCES[cfg.source], cfg.folder()
    source.check_layout(folder)
    extra = (Path(cfg.exclude_images).expanduser(),) if cfg.exclude_images else ()
    return [p for p in (*source.input_files(folder), *_alias_files(cfg), *extra) if p is not None]


def expected_records(cfg: LoadConfig, folder: Path) -> int | None:
    """How many records the load will read, where the source can tell cheaply (the progress total)."""
    count = SOURCES[cfg.source].count_records(folder)
    if count is None or cfg.limit is None:
        return count
    return None if cfg.shard else min(count, cfg.limit)


def load(io: StageIO, cfg: LoadConfig) -> Outcome:
    folder = cfg.folder()
    stats: Counter = Counter()
    object_aliases, predicate_aliases = _alias_files(cfg)
    aliases = AliasMap.from_files(object_aliases, predicate_aliases)
    task = io.task("scene graphs", expected_records(cfg, folder))
    source = SOURCES[cfg.source]
    excluded, exclusion = excluded_image_ids(Path(cfg.exclude_images).expanduser(), folder) if cfg.exclude_images else (frozenset(), None)
    scenes = canonical_batches(source.records(folder, stats), source.scene_of, cfg.source, aliases, cfg, stats, task.advance, excluded)
    rows = write_scenes(scenes, io.output(SCENES_FILE))
    task.close()
    counts = {k: stats.pop(k, 0) for k in IMAGE_COUNTS}
    drops = Counter({k: stats.pop(k) for k in IMAGE_DROPS if stats.get(k)})
    return Outcome(
        n_in=counts["images_read"] + sum(drops[k] for k in ("record_without_image_id", "record_not_an_object", "record_repeated_image_id", "outside_shard", "image_excluded")),
        kept=rows, dropped_counts=drops,
        counters={**{k: v for k, v in counts.items() if k not in ("images_read", "images_kept")}, **stats},
        info={"source": cfg.source, "data_dir": str(folder.resolve()), "sample": cfg.is_sample,
              "alias_files": [str(p) for p in (object_aliases, predicate_aliases) if p],
              **({"excluded_images": {"file": str(Path(cfg.exclude_images).expanduser().resolve()), **exclusion}} if exclusion else {})},
    )


STAGE = Stage("load", load, LoadConfig, writes=(SCENES_FILE,), external_inputs=input_files,
              empty_hint="The scene-graph files in --data-dir hold no records; check that --source matches them (data/README.md shows each layout).",
              help="scene graphs -> canonical graphs (scenes.parquet)")

"""The stages of `stvqa build`, each run through the run directory so unchanged work is skipped."""

from __future__ import annotations

import logging
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from .errors import ConfigError
from .names import AliasMap
from .rundir import RunDir, StageResult, atomic_path, fingerprint
from .scenes import LoadConfig, canonical_scenes, find_alias_files, write_scenes
from .sources import SOURCES
from .sources.sample import sample_dir

log = logging.getLogger(__name__)

SCENES_FILE = "scenes.parquet"


@dataclass(frozen=True)
class SourceSpec:
    name: str
    data_dir: Path
    is_sample: bool = False

    @classmethod
    def resolve(cls, name: str, data_dir: Path | None) -> "SourceSpec":
        if name not in SOURCES:
            raise ConfigError(f"unknown --source {name!r}", f"Choose one of: {', '.join(SOURCES)}.")
        if data_dir is None:
            if name != "vg":
                raise ConfigError(f"--source {name} needs --data-dir", "Only --source vg has a bundled sample; see data/README.md for the others.")
            return cls(name, sample_dir(), is_sample=True)
        return cls(name, data_dir.expanduser())


def load_stage(run: RunDir, spec: SourceSpec, cfg: LoadConfig, force: bool = False) -> StageResult:
    """Load, normalise and write `scenes.parquet`; skipped when inputs and config are unchanged."""
    source = SOURCES[spec.name]
    source.check_layout(spec.data_dir)
    object_aliases, predicate_aliases = find_alias_files(spec.data_dir) if cfg.use_aliases else (None, None)
    inputs = [p for p in (*source.input_files(spec.data_dir), object_aliases, predicate_aliases) if p is not None]
    key_material = {
        "source": spec.name,
        "data_dir": str(spec.data_dir.resolve()),
        "config": cfg.to_dict(),
        "inputs": [fingerprint(p) for p in inputs],
    }

    def compute() -> dict:
        stats: Counter = Counter()
        aliases = AliasMap.from_files(object_aliases, predicate_aliases)
        scenes = canonical_scenes(source.iter_scenes(spec.data_dir, stats), spec.name, aliases, cfg, stats)
        with atomic_path(run.file(SCENES_FILE)) as tmp:
            rows = write_scenes(scenes, tmp)
        counts = {k: stats.pop(k, 0) for k in ("images_read", "images_kept", "objects", "relationships", "images_missing_file")}
        counts["rows"] = rows
        return {"counts": counts, "repairs": dict(sorted(stats.items())), "sample": spec.is_sample,
                "alias_files": [str(p) for p in (object_aliases, predicate_aliases) if p]}

    run.path.mkdir(parents=True, exist_ok=True)
    return run.run_stage("load", key_material, [SCENES_FILE], compute, force=force)

"""Scene-graph sources, looked up by the name given to `--source`."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any
from pathlib import Path

from . import gqa, vg, vg150
from .base import RawScene


@dataclass(frozen=True)
class Source:
    """A scene-graph format: `records` streams the files (in the main process) as plain values that are cheap to
    hand to a worker, `scene_of` turns one record into a `RawScene` (in a worker)."""

    name: str
    records: Callable[[Path, Counter], Iterator[Any]]
    scene_of: Callable[[Any], RawScene]
    input_files: Callable[[Path], list[Path]]
    check_layout: Callable[[Path], None]
    description: str
    count_records: Callable[[Path], int | None] = lambda folder: None  # cheap, for the progress total (None: unknown)

    def iter_scenes(self, folder: Path, stats: Counter) -> Iterator[RawScene]:
        return map(self.scene_of, self.records(folder, stats))


SOURCES: dict[str, Source] = {
    "vg": Source("vg", vg.vg_records, vg.vg_scene, vg.input_files, vg.check_layout, "Visual Genome JSON (v1.0, v1.2, v1.4)", vg.count_records),
    "vg150": Source("vg150", vg150.vg150_records, vg150.vg150_scene, vg150.input_files, vg150.check_layout,
                    "VG150 prompt datasets (Parquet/JSONL)", vg150.count_records),
    "gqa": Source("gqa", gqa.gqa_records, gqa.gqa_scene, gqa.input_files, gqa.check_layout, "GQA *_sceneGraphs.json"),
}

"""Scene-graph sources, looked up by the name given to `--source`."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from . import gqa, vg, vg150
from .base import RawScene


@dataclass(frozen=True)
class Source:
    name: str
    iter_scenes: Callable[[Path, Counter], Iterator[RawScene]]
    input_files: Callable[[Path], list[Path]]
    check_layout: Callable[[Path], None]
    description: str
    count_records: Callable[[Path], int | None] = lambda folder: None  # cheap, for the progress total (None: unknown)


SOURCES: dict[str, Source] = {
    "vg": Source("vg", vg.iter_vg, vg.input_files, vg.check_layout, "Visual Genome JSON (v1.0, v1.2, v1.4)", vg.count_records),
    "vg150": Source("vg150", vg150.iter_vg150, vg150.input_files, vg150.check_layout, "VG150 prompt datasets (Parquet/JSONL)",
                    vg150.count_records),
    "gqa": Source("gqa", gqa.iter_gqa, gqa.input_files, gqa.check_layout, "GQA *_sceneGraphs.json"),
}

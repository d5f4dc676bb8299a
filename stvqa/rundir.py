"""Run directories: one Parquet file per stage plus `manifest.json`, atomic writes, and stage skipping.

A stage is skipped when its key (stage name, config, input fingerprints, stvqa version) matches the key
recorded in the manifest and its outputs still exist; `force=True` re-runs it.
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from . import __version__

MANIFEST = "manifest.json"
_SAMPLE_BYTES = 1 << 20


def canonical_json(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), default=str)


def sha256_text(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def fingerprint(path: Path) -> dict[str, Any]:
    """Size, modification time and a hash of the first and last MiB: cheap even for VG's 800 MB files.
    For a folder (e.g. VG_100K/), its modification time, which changes when files are added or removed."""
    stat = path.stat()
    if path.is_dir():
        return {"path": str(path.resolve()), "mtime_ns": stat.st_mtime_ns}
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        digest.update(f.read(_SAMPLE_BYTES))
        if stat.st_size > 2 * _SAMPLE_BYTES:
            f.seek(-_SAMPLE_BYTES, os.SEEK_END)
            digest.update(f.read())
    return {"path": str(path.resolve()), "size": stat.st_size, "mtime_ns": stat.st_mtime_ns, "sha256_head_tail": digest.hexdigest()}


@contextmanager
def atomic_path(target: Path) -> Iterator[Path]:
    """Yield a temporary path beside `target`; on success it replaces `target` in one rename."""
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        yield tmp
        os.replace(tmp, target)
    finally:
        if tmp.exists():
            tmp.unlink()


def atomic_write_text(target: Path, text: str) -> None:
    with atomic_path(target) as tmp:
        tmp.write_text(text, encoding="utf-8")


@dataclass
class StageResult:
    name: str
    skipped: bool
    record: dict[str, Any] = field(default_factory=dict)


class RunDir:
    def __init__(self, path: Path) -> None:
        self.path = path

    def file(self, name: str) -> Path:
        return self.path / name

    def manifest(self) -> dict[str, Any]:
        path = self.file(MANIFEST)
        if not path.exists():
            return {"stages": {}}
        try:
            return json.loads(path.read_text())
        except json.JSONDecodeError:
            return {"stages": {}}  # a damaged manifest only costs a re-run

    def _save_manifest(self, manifest: dict[str, Any]) -> None:
        manifest["stvqa_version"] = __version__
        manifest["command"] = " ".join(sys.argv)
        atomic_write_text(self.file(MANIFEST), json.dumps(manifest, indent=2, sort_keys=True, default=str) + "\n")

    def stage_key(self, name: str, key_material: dict[str, Any]) -> str:
        return sha256_text(canonical_json({"stage": name, "version": __version__, **key_material}))

    def is_current(self, name: str, key_material: dict[str, Any], outputs: list[str]) -> bool:
        """True when the recorded run of `name` has this key and its outputs still exist (it would be skipped)."""
        previous = self.manifest()["stages"].get(name)
        return bool(previous) and previous.get("key") == self.stage_key(name, key_material) and all(self.file(o).exists() for o in outputs)

    def run_stage(
        self,
        name: str,
        key_material: dict[str, Any],
        outputs: list[str],
        compute: Callable[[], dict[str, Any]],
        force: bool = False,
    ) -> StageResult:
        """Run `compute` (which writes `outputs` and returns counts for the manifest) unless an identical run is recorded."""
        key = self.stage_key(name, key_material)
        if not force and self.is_current(name, key_material, outputs):
            return StageResult(name, True, self.manifest()["stages"][name])
        started = time.perf_counter()
        record = compute()
        record.update(key=key, outputs=outputs, seconds=round(time.perf_counter() - started, 3),
                      finished_at=time.strftime("%Y-%m-%dT%H:%M:%S%z"), **{k: v for k, v in key_material.items() if k != "inputs"})
        record["inputs"] = key_material.get("inputs", [])
        manifest = self.manifest()  # re-read: another stage may have written meanwhile
        manifest["stages"][name] = record
        self._save_manifest(manifest)
        return StageResult(name, False, record)

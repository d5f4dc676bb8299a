"""Run directories: one file per stage plus `manifest.json`; atomic writes, a lock, and cleanup of killed runs.

Every file appears under its final name in one rename, so a killed run never leaves a half-written
file under a real name; the temporaries it leaves (`.NAME.*.tmp`, `.NAME.*.partial/`) are removed
by the next run that takes the lock. Files follow the user's umask, as files made by `cp` would.
"""

from __future__ import annotations

import errno
import hashlib
import itertools
import json
import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from .. import __version__
from ..errors import ConfigError, DataError

MANIFEST = "manifest.json"
REJECTS = "rejects.parquet"
LOCK = ".lock"
TMP_SUFFIX = ".tmp"
PARTIAL_SUFFIX = ".partial"
_SAMPLE_BYTES = 1 << 20
_SHOWN = 5  # files named in a message


def _current_umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def _follow_umask(path: Path, directory: bool = False) -> None:
    """mkstemp/mkdtemp create 0600/0700 entries; give them the modes an ordinary write would."""
    os.chmod(path, (0o777 if directory else 0o666) & ~_current_umask())


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


def temp_file(target: Path) -> Path:
    """A new empty temporary file beside `target` (same file system, so the final rename is atomic)."""
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=TMP_SUFFIX, dir=target.parent)
    os.close(fd)
    _follow_umask(Path(name))
    return Path(name)


def temp_dir(target: Path) -> Path:
    target.parent.mkdir(parents=True, exist_ok=True)
    path = Path(tempfile.mkdtemp(prefix=f".{target.name}.", suffix=PARTIAL_SUFFIX, dir=target.parent))
    _follow_umask(path, directory=True)
    return path


def commit(tmp: Path, target: Path) -> None:
    """Move a finished temporary into place (a folder replaces the folder that was there)."""
    if tmp.is_dir() and target.exists():
        old = target.with_name(f".{target.name}.old{PARTIAL_SUFFIX}")
        shutil.rmtree(old, ignore_errors=True)
        os.replace(target, old)
        os.replace(tmp, target)
        shutil.rmtree(old, ignore_errors=True)
    else:
        os.replace(tmp, target)


def discard(tmp: Path) -> None:
    if tmp.is_dir():
        shutil.rmtree(tmp, ignore_errors=True)
    else:
        tmp.unlink(missing_ok=True)


@contextmanager
def atomic_path(target: Path) -> Iterator[Path]:
    """Yield a temporary path beside `target`; on success it replaces `target` in one rename."""
    tmp = temp_file(target)
    try:
        yield tmp
        commit(tmp, target)
    finally:
        discard(tmp) if tmp.exists() else None


def atomic_write_text(target: Path, text: str) -> None:
    with atomic_path(target) as tmp:
        tmp.write_text(text, encoding="utf-8")


def remove_temporaries(folder: Path, prefix: str = ".") -> int:
    """Delete what killed runs left in `folder` (temporaries whose names start with `prefix`); returns how many."""
    removed = 0
    if not folder.is_dir():
        return 0
    for entry in folder.iterdir():
        if entry.name.startswith(prefix) and entry.name.endswith((TMP_SUFFIX, PARTIAL_SUFFIX)):
            discard(entry)
            removed += 1
    return removed


def _is_temporary(relative: str) -> bool:
    """What a killed stvqa run leaves: `.NAME.*.tmp` files and `.NAME.*.partial/` folders, and the run's lock."""
    name = relative.rsplit("/", 1)[-1]
    return relative == LOCK or (name.startswith(".") and name.endswith((TMP_SUFFIX, PARTIAL_SUFFIX)))


def iter_files(folder: Path) -> Iterator[str]:
    """Every file below `folder` (relative, with `/`), stvqa's own temporaries left out; empty folders count as files."""
    for path in folder.rglob("*"):
        relative = path.relative_to(folder).as_posix()
        parts = relative.split("/")
        if any(_is_temporary("/".join(parts[: i + 1])) for i in range(len(parts))):
            continue
        if path.is_file() or path.is_symlink() or (path.is_dir() and not any(path.iterdir())):
            yield relative


def files_in(folder: Path) -> list[str]:
    return sorted(iter_files(folder))


def named(paths: list[str]) -> str:
    """The first few of `paths`, for a message."""
    return ", ".join(paths[:_SHOWN]) + (", ..." if len(paths) > _SHOWN else "")


def read_manifest(folder: Path) -> dict[str, Any] | None:
    """The run manifest stvqa wrote into `folder`, or None when there is none or it is not stvqa's."""
    try:
        data = json.loads((folder / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if isinstance(data, dict) and "stvqa_version" in data and isinstance(data.get("stages"), dict):
        return data
    return None


def is_run(folder: Path) -> bool:
    return read_manifest(folder) is not None


def check_run_target(folder: Path, flag: str = "--out") -> None:
    """A run may be written into `folder` only when it is missing, empty, or a run stvqa made."""
    if not folder.is_dir() or is_run(folder):
        return
    present = sorted(itertools.islice(iter_files(folder), _SHOWN + 1))
    if not present:
        return
    what = (f"its {MANIFEST} is not one stvqa wrote, or is damaged" if (folder / MANIFEST).exists()
            else f"it holds {named(present)}")
    raise DataError(f"{flag} {folder} is not empty and is not a stvqa run ({what})",
                    "stvqa writes a run only into a new or empty folder, or into a run it made; choose another folder.")


class RunDir:
    """A run directory. Open it with `RunDir.open(path)` to check it can be written."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)

    @classmethod
    def open(cls, path: Path) -> "RunDir":
        path = Path(path).expanduser()
        if path.exists() and not path.is_dir():
            raise ConfigError(f"--out {path} is a file, not a folder", "Choose a folder for the run (it is created when missing).")
        check_run_target(path)
        try:
            path.mkdir(parents=True, exist_ok=True)
            probe = temp_file(path / "write-check")
            probe.unlink()
        except OSError as exc:
            reason = "is read-only" if exc.errno in (errno.EACCES, errno.EPERM, errno.EROFS) else f"cannot be written ({exc.strerror})"
            raise ConfigError(f"--out {path} {reason}", "Choose a folder you can write to, e.g. --out runs/NAME.") from None
        return cls(path)

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

    def save_manifest(self, manifest: dict[str, Any]) -> None:
        manifest["stvqa_version"] = __version__
        atomic_write_text(self.file(MANIFEST), json.dumps(manifest, indent=2, sort_keys=True, default=str) + "\n")

    def record(self, stage: str) -> dict[str, Any] | None:
        return self.manifest()["stages"].get(stage)

    def save_record(self, stage: str, record: dict[str, Any]) -> None:
        manifest = self.manifest()
        manifest["stages"][stage] = record
        self.save_manifest(manifest)

    @property
    def rejects_file(self) -> Path:
        return self.file(REJECTS)

    def producer(self, filename: str) -> tuple[str, dict[str, Any]] | None:
        """The recorded stage that wrote `filename` into this run."""
        for name, record in self.manifest()["stages"].items():
            if filename in record.get("outputs", []):
                return name, record
        return None

    @contextmanager
    def reading(self) -> Iterator[None]:
        """Read the run while no other process writes it (a shared lock), writing nothing into it: a run that
        cannot be written has no lock file to open for writing, and nothing else can write it either."""
        import fcntl

        try:
            handle = open(self.file(LOCK), "r")
        except OSError:
            handle = None
        try:
            if handle is not None:
                try:
                    fcntl.flock(handle, fcntl.LOCK_SH | fcntl.LOCK_NB)
                except BlockingIOError:
                    holder = handle.read().strip() or "another process"
                    raise DataError(f"{self.path} is in use by {holder}", "Wait for that run to finish, then try again.") from None
            yield
        finally:
            if handle is not None:
                handle.close()

    @contextmanager
    def lock(self) -> Iterator[None]:
        """Hold the run for one process; a second one is told which process has it. Killed runs' temporaries go."""
        import fcntl

        try:
            self.path.mkdir(parents=True, exist_ok=True)
            handle = open(self.file(LOCK), "a+")
        except OSError as exc:
            raise DataError(f"{self.path} cannot be written ({exc.strerror.lower() if exc.strerror else exc}), and this command writes into the run",
                            "Copy the run to a folder you can write to (cp -r), or read it with `stvqa export RUN --out DIR`, "
                            "which writes nothing into the run.") from None
        with handle:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                handle.seek(0)
                holder = handle.read().strip() or "another process"
                raise DataError(f"{self.path} is in use by {holder}",
                                "Wait for that run to finish, or pass another --out.") from None
            handle.seek(0)
            handle.truncate()
            handle.write(f"process {os.getpid()}")
            handle.flush()
            remove_temporaries(self.path)
            try:
                yield
            finally:
                handle.seek(0)
                handle.truncate()

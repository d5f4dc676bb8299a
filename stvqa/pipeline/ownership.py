"""What an export may replace: only a folder an earlier export wrote, and only when nothing else is in it.

An export folder is recognised by `stvqa_export.json`, which lists every file that export wrote. A later
export replaces it only when nothing else is there: a file of the user's beside it is named and the export
refused. (Exports written before that file existed are recognised by their card's mark and file names.)
Run directories are recognised by their manifest (`rundir.check_run_target`).
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from ..errors import DataError
from .rundir import files_in, named

EXPORT_MANIFEST = "stvqa_export.json"
# The last line of every card an export writes (kept for exports that predate EXPORT_MANIFEST).
EXPORT_MARK = "<!-- written by stvqa export; `stvqa export --overwrite` may replace this folder -->"
_LEGACY_EXPORT_FILE = re.compile(r"(README\.md|data/(train|val)-\d{5}-of-\d{5}\.parquet)")


def export_files(folder: Path) -> set[str] | None:
    """The files an earlier export wrote into `folder` (its manifest included), or None when no export wrote it."""
    try:
        data = json.loads((folder / EXPORT_MANIFEST).read_text(encoding="utf-8"))
    except FileNotFoundError:
        return _legacy_export_files(folder)
    except (OSError, ValueError):
        return None
    files = data.get("files") if isinstance(data, dict) else None
    if not isinstance(files, list) or not all(isinstance(f, str) for f in files):
        return None
    return {*files, EXPORT_MANIFEST}


def _legacy_export_files(folder: Path) -> set[str] | None:
    card = folder / "README.md"
    try:
        marked = card.is_file() and card.read_text(errors="replace").rstrip().endswith(EXPORT_MARK)
    except OSError:
        return None
    if not marked:
        return None
    present = files_in(folder)
    return set(present) if all(_LEGACY_EXPORT_FILE.fullmatch(p) for p in present) else None


def is_export(folder: Path) -> bool:
    return export_files(folder) is not None


def check_replaceable_export(folder: Path, flag: str = "--out") -> None:
    """Refuse to replace `folder` unless every file in it is one an earlier export wrote."""
    present = files_in(folder)
    if not present:
        return
    ours = export_files(folder)
    if ours is None:
        raise DataError(f"{flag} {folder} is not empty and was not written by `stvqa export`",
                        "stvqa only replaces folders it wrote; choose a new or empty folder.")
    strangers = [p for p in present if p not in ours]
    if strangers:
        raise DataError(f"{flag} {folder} holds files that stvqa did not write: {named(strangers)}",
                        "Move them out of the dataset folder (stvqa replaces only what its export wrote), or choose another folder.")


def write_export_manifest(folder: Path, record: dict[str, Any], also: tuple[str, ...] = ()) -> None:
    """List every file in the (new, still temporary) export folder, and the files the export may add later
    (`also`), so that a later export knows what it may replace."""
    files = sorted({p for p in files_in(folder) if p != EXPORT_MANIFEST} | set(also))
    (folder / EXPORT_MANIFEST).write_text(json.dumps({**record, "files": files}, indent=1, sort_keys=True, default=str) + "\n")

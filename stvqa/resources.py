"""Locate the files that ship beside the code: `schemas/`, `prompts/`, `pipelines/`.

In a built wheel they live in `stvqa/_data/<name>`; in a source checkout (editable install)
they are the top-level folders of the repository.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

_PACKAGE_DIR = Path(__file__).resolve().parent


@cache
def resource_dir(name: str) -> Path:
    for candidate in (_PACKAGE_DIR / "_data" / name, _PACKAGE_DIR.parent / name):
        if candidate.is_dir():
            return candidate
    raise FileNotFoundError(f"stvqa resource folder {name!r} is missing from this installation")


def resource_path(name: str, filename: str) -> Path:
    return resource_dir(name) / filename

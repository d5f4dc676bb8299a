"""`--exclude-images FILE`: images kept out of a build, so that a benchmark's images never reach training data.

VG shares images with COCO, and benchmarks (CV-Bench, BLINK, ...) are partly built on COCO images. The file holds
one id per line: `vg:ID` (or a bare ID) for the source's own image id, `coco:ID` for a COCO id, which VG's
`image_data.json` (in --data-dir) maps to its image. `#` starts a comment.
"""

from __future__ import annotations

from pathlib import Path

from ...errors import DataError
from ...json_stream import iter_json_array
from .sources.vg import record_image_id

PREFIXES = ("vg", "coco")


def read_exclusions(path: Path) -> dict[str, set[str]]:
    """{"vg": ids, "coco": ids} from the file, or a DataError naming the first bad line."""
    if not path.is_file():
        raise DataError(f"--exclude-images {path} does not exist", "Pass a text file with one image id per line (vg:ID or coco:ID).")
    found: dict[str, set[str]] = {prefix: set() for prefix in PREFIXES}
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        text = line.split("#", 1)[0].strip()
        if not text:
            continue
        prefix, _, value = text.rpartition(":")
        prefix = prefix.strip().lower() or "vg"
        value = value.strip()
        if prefix not in found or not value:
            raise DataError(f"--exclude-images {path}, line {number}: {line.strip()!r} is not vg:ID, coco:ID or an image id",
                            "Write one id per line: 2354786, vg:2354786 or coco:139.")
        found[prefix].add(value)
    return found


def excluded_image_ids(path: Path, data_dir: Path) -> tuple[frozenset[str], dict[str, int]]:
    """The source's image ids to leave out, and what the file held (ids by kind, COCO ids found in this data)."""
    wanted = read_exclusions(path)
    ids = set(wanted["vg"])
    coco_found = 0
    if wanted["coco"]:
        image_data = data_dir / "image_data.json"
        if not image_data.is_file():
            raise DataError(f"--exclude-images lists COCO ids, but {image_data} is missing: COCO ids are found through it",
                            "Put VG's image_data.json into --data-dir, or list the images by their VG ids.")
        for record in iter_json_array(image_data):
            coco = record.get("coco_id")
            if coco is not None and str(coco) in wanted["coco"]:
                ids.add(record_image_id(record))
                coco_found += 1
    return frozenset(ids), {"vg_ids": len(wanted["vg"]), "coco_ids": len(wanted["coco"]), "coco_ids_in_data": coco_found}

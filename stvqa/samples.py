"""Samples from anything stvqa writes, in one shape: a run directory, one of its stage files, or an
exported dataset folder. What `stvqa inspect`, `stvqa stats` and `stvqa render` read.

Every row is a dict with the same keys, whatever it came from (`ROW_KEYS`): the question, its options
without their "(A) " prefixes, the answer letter, category, level, rating, the verification, the scene
(the question's focus subgraph, or for scene rows all objects of the image) as JSON, and `row`, its
position in the table. Images are read one at a time, when a sample is shown (`Samples.image`).
"""

from __future__ import annotations

import io
import json
import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import polars as pl

from .config import check_range
from .errors import ConfigError, DataError
from .pipeline.ownership import is_export
from .images import ImageProblem, read_image
from .hashing import permutation
from .records import LEVELS
from .categories import CATEGORIES
from .pipeline.rundir import MANIFEST
from .pipeline.runner import REJECTS_FILE
from . import stages

EXPECTED = ("expected a run directory (with manifest.json), a stage Parquet file, "
            "or an exported dataset folder (with data/*.parquet)")
ROW_KEYS = ("row", "kind", "sample_id", "image_id", "question", "options", "answer", "answer_text", "category", "level",
            "rating", "verified", "verify_reason", "judge", "scene", "template", "generator", "split", "reject_reason",
            "reject_stage", "width", "height")
# Columns never loaded with the rows (images are read one sample at a time; prompts are long).
HEAVY = ("image", "images", "image_bytes", "prompt", "problem", "answer", "answer_option_text", "question_with_options")
VERIFIED = {"true": True, "false": False, "unchecked": None}
_PREFIX = re.compile(r"^\([A-Z]\)\s?")
_SCENE_META = ["image_id", "width", "height", "image_path", "image_status"]


def stage_files() -> dict[str, str]:
    """`--stage` names -> run files: every stage's Parquet outputs, by stage name and by file stem, plus rejects."""
    files: dict[str, str] = {}
    for stage in stages.BUILD:
        for name in (stage.table, *stage.writes):
            if name and name.endswith(".parquet"):
                files.setdefault(stage.name, name)
                files[Path(name).stem] = name
    files["rejects"] = REJECTS_FILE
    return files


def default_tables() -> list[str]:
    """A run's tables, the last stage of BUILD that has a table first: what inspect shows without --stage."""
    return [stage.table for stage in reversed(stages.BUILD) if stage.table]


@dataclass(frozen=True)
class Selection:
    """Which samples to show, in which order. Filters combine; --random shuffles what they keep."""

    index: tuple[int, ...] = field(default=(), metadata={"help": "Only the row at this position of the table (0-based, the #N in titles); repeat for several."})
    image_id: str | None = field(default=None, metadata={"help": "Only the samples of this image."})
    category: str | None = field(default=None, metadata={"help": "Only this question category (relation, count, ...)."})
    level: str | None = field(default=None, metadata={"help": "Only this level (easy, medium, hard)."})
    verified: str | None = field(default=None, metadata={"help": "Only verified (true), failed (false) or unchecked samples; "
                                                                 "in a run, false reads the rejects (verify drops its failures)."})
    random: bool = field(default=False, metadata={"help": "Shuffle the selection (the same order for the same --seed)."})
    seed: int = field(default=0, metadata={"help": "Seed of --random."})
    limit: int | None = field(default=None, metadata={"flag": ("--limit", "-n"), "help": "Show at most N samples."})

    def __post_init__(self) -> None:
        if self.limit is not None:
            check_range("--limit", self.limit, 1)
        for i in self.index:
            check_range("--index", i, 0)
        if self.category is not None and self.category not in CATEGORIES:
            raise ConfigError(f"--category {self.category!r} is not a question category", f"Use one of: {', '.join(CATEGORIES)}.")
        if self.level is not None and self.level not in LEVELS:
            raise ConfigError(f"--level {self.level!r} is not a level", f"Use one of: {', '.join(LEVELS)}.")
        if self.verified is not None and str(self.verified).lower() not in VERIFIED:
            raise ConfigError(f"--verified {self.verified!r} is not one of {', '.join(VERIFIED)}", "Pass --verified false to see failures.")

    def flags(self) -> str:
        """The filters as they were typed, for messages."""
        parts = [f"--index {i}" for i in self.index]
        parts += [f"--{k.replace('_', '-')} {v}" for k in ("image_id", "category", "level", "verified") if (v := getattr(self, k)) is not None]
        return " ".join(parts)


def select(rows: list[dict], index=None, image_id=None, category=None, level=None, verified=None,
           random: bool = False, seed: int = 0, limit: int | None = None) -> list[dict]:
    """The rows that pass every given filter, in table order (or a seeded shuffle of them), at most `limit`.
    `verified` is True, False, None (no filter) or "true"/"false"/"unchecked"."""
    wanted = set([index] if isinstance(index, int) else index or ())
    check = verified is not None  # "unchecked" asks for rows whose `verified` is None
    target = VERIFIED[verified.lower()] if isinstance(verified, str) else verified
    kept = [r for r in rows
            if (not wanted or r["row"] in wanted)
            and (image_id is None or r["image_id"] == str(image_id))
            and (category is None or r["category"] == category)
            and (level is None or r["level"] == level)
            and (not check or r["verified"] is target)]
    if random:
        kept = [kept[i] for i in permutation(len(kept), "inspect", seed)]
    return kept[:limit] if limit is not None else kept


def apply(rows: list[dict], selection: Selection) -> list[dict]:
    return select(rows, index=selection.index, image_id=selection.image_id, category=selection.category, level=selection.level,
                  verified=selection.verified, random=selection.random, seed=selection.seed, limit=selection.limit)


def no_match_hint(rows: list[dict], selection: Selection) -> str:
    """What the table does hold, for each filter that was given."""
    present = []
    for key in ("category", "level", "image_id"):
        if getattr(selection, key) is not None:
            values = sorted({str(r[key]) for r in rows if r[key] is not None})
            label = {"category": "categories", "level": "levels", "image_id": "image ids"}[key]
            present.append(f"{label} here: {', '.join(values[:12]) + (' ...' if len(values) > 12 else '') or 'none'}")
    if selection.verified is not None:
        counts = Counter({True: "true", False: "false", None: "unchecked"}[r["verified"]] for r in rows)
        present.append("verified here: " + (", ".join(f"{k} {n:,}" for k, n in sorted(counts.items())) or "none"))
    return f"nothing matches {selection.flags()}; drop a filter or check the value" + (f" ({'; '.join(present)})" if present else "") + "."


@dataclass
class Samples:
    """The rows of one table (or of an export's files), and how to get their images."""

    path: Path  # what the user named
    kind: str  # "run", "stage" or "export"
    files: list[Path]
    rows: list[dict]
    run: Path | None = None  # the run directory around the table, when there is one (manifest, scenes, rejects)
    _where: list[tuple[Path, int]] = field(default_factory=list, repr=False)  # per row: file and row within it
    _scenes: dict[str, dict] | None = field(default=None, repr=False)

    @property
    def source(self) -> str:
        """The table's file, or the export folder and how many files it has."""
        return str(self.files[0]) if len(self.files) == 1 else f"{self.path} ({len(self.files)} files)"

    @property
    def manifest(self) -> dict[str, Any] | None:
        if self.run is None:
            return None
        try:
            return json.loads((self.run / MANIFEST).read_text())
        except (OSError, json.JSONDecodeError):
            return None

    def data_dir(self) -> Path | None:
        load = ((self.manifest or {}).get("stages") or {}).get("load") or {}
        return Path(load["data_dir"]) if load.get("data_dir") else None

    def image(self, row: dict):
        """(PIL image in the coordinates of the row's boxes, None) or (None, a note saying why there is none)."""
        file, offset = self._where[row["row"]]
        if row["kind"] == "export":
            names = pl.scan_parquet(file).collect_schema().names()
            column = "image" if "image" in names else "images"  # the `trl` or the `stvqa7k` layout
            cell = pl.scan_parquet(file).select(column).slice(offset, 1).collect().item()
            if not cell or not cell.get("bytes"):
                return None, "no image: the dataset was exported without images (--no-images)"
            return _decode(cell["bytes"], row["width"], row["height"])
        scene = self._scene_row(file, offset) if row["kind"] == "scene" else self._scene(row["image_id"])
        if scene is None:
            where = "scenes.parquet" if self.run else "a run directory (this table has no scenes.parquet beside it)"
            return None, f"no image: image {row['image_id']} is not in {where}"
        data_dir = self.data_dir()
        try:
            data = read_image(scene, data_dir)
        except ImageProblem as problem:
            path = scene.get("image_path")
            where = (f"{path} under {data_dir}" if path and data_dir else f"{path} (the run records no data folder)" if path
                     else f"image {row['image_id']} (its scene names no file)")
            return None, f"{problem.reason.replace('_', ' ')}: {where}"
        return _decode(data, scene.get("width"), scene.get("height"))

    def _scene(self, image_id: str) -> dict | None:
        scenes = self.run / "scenes.parquet" if self.run else None
        if scenes is None or not scenes.exists():
            return None
        if self._scenes is None:
            meta = pl.read_parquet(scenes, columns=_SCENE_META)
            self._scenes = {r["image_id"]: r for r in meta.to_dicts()}
        scene = self._scenes.get(image_id)
        if scene is not None and scene.get("image_status") == "embedded":
            frame = pl.scan_parquet(scenes).filter(pl.col("image_id") == image_id).select("image_bytes").collect()
            scene = dict(scene, image_bytes=frame.item(0, 0))
        return scene

    @staticmethod
    def _scene_row(file: Path, offset: int) -> dict:
        columns = [*_SCENE_META, "image_bytes"]
        return pl.scan_parquet(file).select(columns).slice(offset, 1).collect().row(0, named=True)


def _decode(data: bytes, width: int | None, height: int | None):
    """Decoded image, resized to the size its boxes refer to when the file differs (VG has such files)."""
    from PIL import Image, UnidentifiedImageError

    try:
        image = Image.open(io.BytesIO(data))
        image.load()
    except (UnidentifiedImageError, OSError, ValueError, Image.DecompressionBombError):
        return None, "image undecodable: the bytes are not an image"
    image = image.convert("RGB")
    if width and height and image.size != (width, height):
        image = image.resize((int(width), int(height)), Image.LANCZOS)
    return image, None


def judge_summary(row: dict[str, Any]) -> str | None:
    """What the filter's judges said, in one line ("vlm 0.75: behind, behind, behind, on · blind 0.50"), or None."""
    parts = []
    for name, rate, votes in (("vlm", "consistency", "judge_votes"), ("blind", "blind_rate", "blind_votes"), ("policy", "pass_rate", "policy_votes")):
        if row.get(rate) is not None:
            listed = ", ".join(v if v is not None else "?" for v in row.get(votes) or [])
            parts.append(f"{name} {row[rate]:.2f}" + (f": {listed}" if listed else ""))
    return " · ".join(parts) or None


def normalise(row: dict[str, Any], position: int, split: str | None = None) -> dict[str, Any]:
    """A row of any stvqa table in the shape of `ROW_KEYS`."""
    out = dict.fromkeys(ROW_KEYS)
    out.update({k: row.get(k) for k in ROW_KEYS if k in row})
    out.update(row=position, split=split, image_id=None if row.get("image_id") is None else str(row["image_id"]))
    out["judge"] = judge_summary(row)
    if "question_only" in row:  # an exported dataset
        out.update(kind="export", question=row["question_only"], answer=row.get("answer_only"), scene=row.get("scene"),
                   options=[_PREFIX.sub("", o) for o in row.get("options") or []],
                   width=row.get("image_width"), height=row.get("image_height"))
    elif "objects" in row:  # a scene graph
        objects = [{"id": o["id"], "bbox": o["bbox"]} for o in row.get("objects") or []]
        relationships = [{k: r[k] for k in ("subject", "predicate", "object")} for r in row.get("relationships") or []]
        out.update(kind="scene", options=[], scene=json.dumps({"objects": objects, "relationships": relationships}))
    else:  # a question table of a run (generate, verify, debias, rejects)
        out.update(kind="question", scene=row.get("focus"), options=list(row.get("options") or []))
    return out


def _read(files: list[Path], splits: list[str | None]) -> tuple[list[dict], list[tuple[Path, int]]]:
    rows, where = [], []
    for file, split in zip(files, splits):
        try:
            schema = pl.read_parquet_schema(file)
            frame = pl.read_parquet(file, columns=[c for c in schema if c not in HEAVY or (c == "answer" and "question" in schema)])
        except (OSError, pl.exceptions.PolarsError) as exc:
            raise DataError(f"{file} is not a readable Parquet file ({exc.__class__.__name__})", f"Pass a stage file of a run; {EXPECTED}.") from None
        if not ({"question", "question_only", "objects"} & set(schema)):
            raise DataError(f"{file} is not a stvqa table (no question or objects column)", f"{EXPECTED[0].upper()}{EXPECTED[1:]}.")
        for i, row in enumerate(frame.iter_rows(named=True)):
            rows.append(normalise(row, len(rows), split))
            where.append((file, i))
    return rows, where


def _is_run(folder: Path) -> bool:
    return (folder / MANIFEST).is_file()


def open_samples(path: Path, stage: str | None = None, verified: str | None = None) -> Samples:
    """The samples at `path`: a run directory (its last question table, or `stage`; `verified` false reads
    the rejects, where verify puts its failures), a stage Parquet file, or an exported dataset folder."""
    path = Path(path).expanduser()
    if not path.exists():
        raise DataError(f"{path} does not exist: {EXPECTED}", "Run `stvqa build --out PATH` first, or check the path.")
    if path.is_file() and path.suffix == ".parquet":
        _no_stage(stage, "a Parquet file")
        run = path.parent if _is_run(path.parent) else None
        kind = "stage"
        files = [path]
    elif path.is_dir() and _is_run(path):
        run, kind = path, "run"
        files = [_run_table(path, stage, verified)]
    elif path.is_dir() and (sorted((path / "data").glob("*.parquet")) or is_export(path)):
        _no_stage(stage, "an exported dataset")
        run = path.parent if _is_run(path.parent) else None
        kind = "export"
        files = sorted((path / "data").glob("*.parquet"))
    else:
        raise DataError(f"{path} is not a run, a stage file or an exported dataset: {EXPECTED}",
                        "Pass the --out folder of `stvqa build`, one of its .parquet files, or its dataset/ folder.")
    rows, where = _read(files, [f.name.split("-")[0] if kind == "export" else None for f in files])
    return Samples(path, kind, files, rows, run, where)


def _no_stage(stage: str | None, what: str) -> None:
    if stage is not None:
        raise ConfigError(f"--stage picks a file of a run directory, and this is {what}", "Drop --stage, or pass the run directory.")


def _run_table(run: Path, stage: str | None, verified: str | None) -> Path:
    files = stage_files()
    if stage is None and verified is not None and verified.lower() == "false":
        stage = "rejects"
    if stage is None:
        found = next((run / t for t in default_tables() if (run / t).exists()), None)
        if found is None:
            raise DataError(f"{run} has no question table yet ({', '.join(default_tables())})",
                            f"Run `stvqa build --out {run}`, or pass --stage load to see its scenes.")
        return found
    if stage not in files:
        described = ", ".join(f"{s.name} ({s.help})" if s.help else s.name for s in stages.BUILD if s.name in files)
        names = sorted({Path(f).stem for f in files.values()} - {"rejects"})
        raise ConfigError(f"unknown --stage {stage!r}", f"Choose a stage: {described}; a file name ({', '.join(names)}); or rejects.")
    path = run / files[stage]
    if not path.exists():
        raise DataError(f"{path} does not exist", f"Run `stvqa build --out {run}` first.")
    return path

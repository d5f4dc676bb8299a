"""The stages of `stvqa build`, each run through the run directory so unchanged work is skipped."""

from __future__ import annotations

import logging
import os
import shutil
import tempfile
from collections import Counter
from dataclasses import asdict, dataclass
from pathlib import Path

import polars as pl

from . import __version__
from .errors import ConfigError, DataError
from .names import AliasMap
from .qa.export import ExportConfig, dataset_card, export_dataset
from .qa.stages import dataset_vocabulary, generate_qa, verify_qa
from .qa.templates import GenerateConfig
from .qa.verify import VerifyConfig
from .rundir import RunDir, StageResult, atomic_path, fingerprint
from .scenes import LoadConfig, canonical_scenes, find_alias_files, iter_scene_file, object_name_counts, write_scenes
from .sources import SOURCES
from .sources.sample import sample_dir

log = logging.getLogger(__name__)

SCENES_FILE = "scenes.parquet"
QA_SCHEMA = {
    "sample_id": pl.Utf8, "image_id": pl.Utf8, "category": pl.Utf8, "question": pl.Utf8, "options": pl.List(pl.Utf8),
    "answer": pl.Utf8, "answer_text": pl.Utf8, "level": pl.Utf8, "rating": pl.Int32, "focus": pl.Utf8, "args": pl.Utf8,
    "template": pl.Utf8, "generator": pl.Utf8,
}
VERIFIED_SCHEMA = {"verified": pl.Boolean, "verify_reason": pl.Utf8}
REJECT_SCHEMA = {"reject_reason": pl.Utf8, "reject_stage": pl.Utf8}


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


QA_GENERATED_FILE = "qa_generated.parquet"
QA_FILE = "qa.parquet"
REJECTS_FILE = "rejects.parquet"
DATASET_DIR = "dataset"


def _upstream_key(run: RunDir, stage: str) -> str:
    record = run.manifest()["stages"].get(stage)
    if not record:
        raise ConfigError(f"{run.path} has no {stage} stage yet", f"Run `stvqa build --out {run.path}` first.")
    return record["key"]


def generate_stage(run: RunDir, cfg: GenerateConfig, force: bool = False) -> StageResult:
    """Template questions for every scene -> `qa_generated.parquet`."""
    key_material = {"upstream": _upstream_key(run, "load"), "config": asdict(cfg)}

    def compute() -> dict:
        stats: Counter = Counter()
        vocabulary = dataset_vocabulary(object_name_counts(run.file(SCENES_FILE)))
        rows = generate_qa(iter_scene_file(run.file(SCENES_FILE)), cfg, vocabulary, stats)
        write_frame(rows, QA_SCHEMA, run.file(QA_GENERATED_FILE))
        counts = {k: stats.pop(k) for k in ("images", "generated", "images_without_questions")}
        return {"counts": counts, "by_category": dict(sorted(stats.items()))}

    return run.run_stage("generate", key_material, [QA_GENERATED_FILE], compute, force=force)


def verify_stage(run: RunDir, cfg: VerifyConfig, force: bool = False) -> StageResult:
    """Recompute answers from the graph -> `qa.parquet` (kept) and `rejects.parquet` (with reasons)."""
    key_material = {"upstream": _upstream_key(run, "generate"), "config": asdict(cfg)}

    def compute() -> dict:
        stats: Counter = Counter()
        samples = pl.read_parquet(run.file(QA_GENERATED_FILE)).to_dicts()
        by_image: dict[str, list[dict]] = {}
        for s in samples:
            by_image.setdefault(s["image_id"], []).append(s)
        kept, rejected = [], []
        for scene in iter_scene_file(run.file(SCENES_FILE), columns=["image_id", "width", "height", "objects", "relationships"]):
            if scene["image_id"] in by_image:
                k, r = verify_qa(by_image.pop(scene["image_id"]), {scene["image_id"]: scene}, cfg, stats)
                kept += k
                rejected += r
        for orphans in by_image.values():
            k, r = verify_qa(orphans, {}, cfg, stats)
            rejected += r
        write_frame(kept, {**QA_SCHEMA, **VERIFIED_SCHEMA}, run.file(QA_FILE))
        write_frame(rejected, {**QA_SCHEMA, **VERIFIED_SCHEMA, **REJECT_SCHEMA}, run.file(REJECTS_FILE))
        counts = {"checked": len(samples), "kept": stats.pop("kept"), "rejected": stats.pop("rejected")}
        return {"counts": counts, "reasons": dict(sorted(stats.items()))}

    return run.run_stage("verify", key_material, [QA_FILE, REJECTS_FILE], compute, force=force)


def export_stage(run: RunDir, spec: SourceSpec, cfg: ExportConfig, out: Path | None = None, force: bool = False,
                 overwrite: bool = False) -> StageResult:
    """`qa.parquet` -> a Hugging Face dataset folder (data/train-*.parquet, data/val-*.parquet, README.md)."""
    target = out or run.file(DATASET_DIR)
    inside_run = out is None
    key_material = {"upstream": _upstream_key(run, "verify"), "config": asdict(cfg), "out": str(target.resolve())}
    outputs = [DATASET_DIR] if inside_run else [str(target.resolve())]
    # Exports elsewhere are recorded apart, so they never invalidate the run's own dataset/.
    stage = "export" if inside_run else f"export:{target.resolve()}"
    would_skip = not force and run.is_current(stage, key_material, outputs)
    if not inside_run and not would_skip and target.exists() and any(target.iterdir()) and not overwrite:
        raise DataError(f"output dir {target} already exists and is not empty", "Pass --overwrite to replace it, or choose another --out.")

    def compute() -> dict:
        stats: Counter = Counter()
        samples = pl.read_parquet(run.file(QA_FILE)).to_dicts()
        columns = ["image_id", "width", "height", "image_path", "image_status", "image_bytes"]
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.", dir=target.parent))
        try:
            rejects, counts = export_dataset(samples, iter_scene_file(run.file(SCENES_FILE), columns=columns), spec.data_dir, tmp, cfg, stats)
            info = {"source": spec.name, "generator": "template", "seed": cfg.seed, "val_split": cfg.val_split,
                    "max_pixels": cfg.max_pixels, "stvqa_version": __version__, "name": f"stvqa {spec.name} spatial VQA"}
            (tmp / "README.md").write_text(dataset_card(counts, info))
            if target.exists():
                shutil.rmtree(target)
            os.replace(tmp, target)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
        _merge_rejects(run.file(REJECTS_FILE), rejects)
        return {"counts": {k: v for k, v in stats.items() if k.startswith(("rows_", "files_"))},
                "rejects": {k: v for k, v in stats.items() if k.startswith("rejected_")},
                "by_split": {split: dict(sorted(c.items())) for split, c in counts.items()}, "path": str(target)}

    return run.run_stage(stage, key_material, outputs, compute, force=force)


def _merge_rejects(path: Path, rejects: list[dict]) -> None:
    """rejects.parquet keeps every stage's rejects: replace the export stage's share with the new one."""
    schema = {**QA_SCHEMA, **VERIFIED_SCHEMA, **REJECT_SCHEMA}
    previous = pl.read_parquet(path).filter(pl.col("reject_stage") != "export") if path.exists() else pl.DataFrame(schema=schema)
    new = pl.DataFrame([{k: r.get(k) for k in schema} for r in rejects], schema=schema)
    with atomic_path(path) as tmp:
        pl.concat([previous, new], how="vertical_relaxed").write_parquet(tmp)


def write_frame(rows: list[dict], schema: dict, path: Path) -> None:
    frame = pl.DataFrame([{k: r.get(k) for k in schema} for r in rows], schema=schema)
    with atomic_path(path) as tmp:
        frame.write_parquet(tmp)


@dataclass(frozen=True)
class BuildConfig:
    load: LoadConfig
    generate: GenerateConfig
    verify: VerifyConfig
    export: ExportConfig
    generator: str = "template"


GENERATORS = ("template",)


def build(run: RunDir, spec: SourceSpec, cfg: BuildConfig, force: bool = False) -> list[StageResult]:
    """load -> generate -> verify -> export, each skipped when its inputs and config are unchanged."""
    if cfg.generator not in GENERATORS:
        raise ConfigError(f"unknown --generator {cfg.generator!r}", f"Choose one of: {', '.join(GENERATORS)}.")
    results = [load_stage(run, spec, cfg.load, force=force)]
    results.append(generate_stage(run, cfg.generate, force=force))
    results.append(verify_stage(run, cfg.verify, force=force))
    results.append(export_stage(run, spec, cfg.export, force=force))
    return results


def source_of_run(run: RunDir) -> SourceSpec:
    """The source a run was built from (for `stvqa export RUN`)."""
    load = run.manifest()["stages"].get("load")
    if not load:
        raise DataError(f"{run.path} is not a stvqa run directory (no load stage in manifest.json)", "Pass the --out folder of a `stvqa build`.")
    return SourceSpec(load["source"], Path(load["data_dir"]), bool(load.get("sample")))

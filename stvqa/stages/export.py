"""The export stage: verified questions -> a Hugging Face dataset folder (`RUN/dataset` or `--out`)."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import polars as pl

from .. import __version__
from ..errors import DataError
from ..funnel import funnel_markdown
from ..qa.blind import blind_audit, format_blind_report
from ..qa.export import SPLITS, ExportConfig, dataset_card, export_dataset, is_stvqa_export
from ..records import JUDGE_COLUMNS, REJECT_COLUMNS, VERIFIED_COLUMNS, qa_frame
from ..rundir import remove_temporaries
from ..runner import Outcome, Stage, StageIO
from ..scenes import iter_scene_file
from .load import SCENES_FILE
from .filter import QA_FILTERED_FILE

DATASET_DIR = "dataset"


def target_of(run_path: Path, cfg: ExportConfig) -> Path:
    return Path(cfg.out).expanduser().resolve() if cfg.out else (run_path / DATASET_DIR).resolve()


def check_target(target: Path, run_path: Path, data_dir: Path, cfg: ExportConfig) -> None:
    """Refuse any --out whose replacement could destroy something that is not an earlier export."""
    run_path, data_dir = run_path.resolve(), data_dir.resolve()
    for precious, what in ((run_path, "the run directory"), (data_dir, "the data dir")):
        if target == precious or precious.is_relative_to(target):
            raise DataError(f"--out {target} is or contains {what} ({precious})", "Choose a new folder for the dataset, e.g. --out datasets/NAME.")
    if target.exists() and not target.is_dir():
        raise DataError(f"--out {target} is a file", "Choose a folder for the dataset (it is created when missing).")
    if cfg.out and target.is_dir() and any(target.iterdir()):
        if not is_stvqa_export(target):
            raise DataError(f"--out {target} is not empty and was not written by `stvqa export`",
                            "stvqa only replaces folders it wrote; choose a new or empty folder.")
        if not cfg.overwrite:
            raise DataError(f"--out {target} already holds a dataset", "Pass --overwrite to replace it, or choose another --out.")


def export(io: StageIO, cfg: ExportConfig) -> Outcome:
    load = io.run.record("load") or {}
    data_dir = Path(load.get("data_dir", io.run.path))
    target = target_of(io.run.path, cfg)
    check_target(target, io.run.path, data_dir, cfg)
    remove_temporaries(target.parent, prefix=f".{target.name}.")  # what a killed export left beside its target
    samples = pl.read_parquet(io.path(QA_FILTERED_FILE)).to_dicts()
    stats: Counter = Counter()
    tmp = io.output(str(target), directory=True)
    columns = ["image_id", "width", "height", "image_path", "image_status", "image_bytes"]
    rejects, counts = export_dataset(samples, iter_scene_file(io.path(SCENES_FILE), columns=columns), data_dir, tmp, cfg, stats)
    info = {"source": load.get("source"), "seed": cfg.seed, "val_split": cfg.val_split, "max_pixels": cfg.max_pixels, "layout": cfg.layout,
            "stvqa_version": __version__, "name": f"stvqa {load.get('source', '')} spatial VQA".replace("  ", " ")}
    exported = [r for r in samples if r["sample_id"] not in {x["sample_id"] for x in rejects}]
    audit = blind_audit(exported) if exported else None
    funnel = (io.run.record("filter") or {}).get("funnel")
    (tmp / "README.md").write_text(dataset_card(counts, info, format_blind_report(audit) if audit else None,
                                                funnel_markdown(funnel) if funnel else None))
    by_category: Counter = Counter()
    for split in SPLITS:
        by_category.update({k.split(":", 1)[1]: v for k, v in counts[split].items() if k.startswith("category:")})
    return Outcome(
        n_in=len(samples), kept=sum(stats[f"rows_{split}"] for split in SPLITS), kept_by_category=by_category,
        dropped=qa_frame(rejects, VERIFIED_COLUMNS, JUDGE_COLUMNS, REJECT_COLUMNS), counters=dict(stats),
        info={"path": str(target), "by_split": {split: dict(sorted(counts[split].items())) for split in SPLITS}, "blind_audit": audit},
    )


def outputs(cfg: ExportConfig) -> tuple[str, ...]:
    return (str(Path(cfg.out).expanduser().resolve()),) if cfg.out else (DATASET_DIR,)


def record_name(cfg: ExportConfig) -> str:
    """Exports elsewhere are recorded apart, so they never invalidate the run's own dataset/."""
    return "export" if not cfg.out else f"export {Path(cfg.out).expanduser().resolve()}"


STAGE = Stage("export", export, ExportConfig, reads=(SCENES_FILE, QA_FILTERED_FILE), outputs_of=outputs, record_name=record_name,
              help="verified questions -> Hugging Face Parquet (dataset/)")

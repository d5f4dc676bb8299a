"""The export stage: verified questions -> a Hugging Face dataset folder (`RUN/dataset` or `--out`)."""

from __future__ import annotations

import json
import logging
from collections import Counter
from pathlib import Path

import polars as pl

from ... import __version__
from ...errors import DataError
from ..filter.funnel import funnel_markdown
from ...blind import blind_audit, format_blind_report
from ...pipeline.ownership import EXPORT_MANIFEST, check_replaceable_export, files_in, write_export_manifest
from .parquet import SPLITS, ExportConfig, dataset_card, export_dataset, prepared_images
from ...records import JUDGE_COLUMNS, REJECT_COLUMNS, VERIFIED_COLUMNS, added_columns, qa_frame
from ...pipeline.rundir import RunDir, atomic_write_text, remove_temporaries
from ...pipeline.runner import Outcome, Stage, StageIO
from ..verify.report import gate_markdown
from ..load import SCENES_FILE

log = logging.getLogger(__name__)
DATASET_DIR = "dataset"
TINIEST_USEFUL_PIXELS = 28 * 28  # one patch of Qwen2.5-VL's vision encoder
SIDE_REJECTS_FILE = "stvqa_rejects.parquet"  # an export to another folder keeps its rejects there, not in the run


def target_of(run_path: Path, cfg: ExportConfig) -> Path:
    return Path(cfg.out).expanduser().resolve() if cfg.out else (run_path / DATASET_DIR).resolve()


def check_target(target: Path, run_path: Path, data_dir: Path, cfg: ExportConfig) -> None:
    """Refuse any --out whose replacement could destroy something that is not an earlier export."""
    run_path, data_dir = run_path.resolve(), data_dir.resolve()
    for precious, what in ((run_path, "the run directory"), (data_dir, "the data dir")):
        if target == precious or precious.is_relative_to(target):
            raise DataError(f"--out {target} is or contains {what} ({precious})", "Choose a new folder for the dataset, e.g. --out datasets/NAME.")
    if target.is_relative_to(data_dir):
        raise DataError(f"--out {target} is inside the data dir ({data_dir})",
                        "A later build would read the export as input; choose a folder outside the data dir, e.g. --out datasets/NAME.")
    if target.exists() and not target.is_dir():
        raise DataError(f"--out {target} is a file", "Choose a folder for the dataset (it is created when missing).")
    if target.is_dir():
        check_replaceable_export(target, "--out" if cfg.out else "the run's dataset folder")
        if cfg.out and not cfg.overwrite and files_in(target):
            raise DataError(f"--out {target} already holds a dataset", "Pass --overwrite to replace it, or choose another --out.")


class ExportLedger:
    """An export to another folder never changes the run it reads: its record and its rejects live in the
    export folder (`stvqa_export.json`, `stvqa_rejects.parquet`)."""

    def __init__(self, target: Path) -> None:
        self.target = target
        self.rejects_file = target / SIDE_REJECTS_FILE

    def _manifest(self) -> dict:
        try:
            data = json.loads((self.target / EXPORT_MANIFEST).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return {}
        return data if isinstance(data, dict) else {}

    def record(self, name: str) -> dict | None:
        return self._manifest().get("record")

    def save_record(self, name: str, record: dict) -> None:
        atomic_write_text(self.target / EXPORT_MANIFEST, json.dumps({**self._manifest(), "record": record}, indent=1, sort_keys=True, default=str) + "\n")


def ledger(run: RunDir, cfg: ExportConfig) -> RunDir | ExportLedger:
    return ExportLedger(target_of(run.path, cfg)) if cfg.out else run


def export(io: StageIO, cfg: ExportConfig) -> Outcome:
    load = io.run.record("load") or {}
    data_dir = Path(load.get("data_dir", io.run.path))
    target = target_of(io.run.path, cfg)
    check_target(target, io.run.path, data_dir, cfg)
    warn_about(cfg)
    remove_temporaries(target.parent, prefix=f".{target.name}.")  # what a killed export left beside its target
    questions = pl.read_parquet(io.questions())
    samples = questions.to_dicts()
    repeated = [sid for sid, n in Counter(s["sample_id"] for s in samples).items() if n > 1]
    if repeated:  # two rows under one id would be one training example twice, and break every join on the id
        raise DataError(f"{len(repeated):,} sample ids occur more than once in {io.stage.questions} (e.g. {repeated[0]})",
                        "Rebuild the run with --force; if it persists, report it with the command that built the run.")
    stats: Counter = Counter()
    tmp = io.output(str(target), directory=True)
    wanted = {s["image_id"] for s in samples}
    task = io.task("images", len(wanted))
    try:
        images = prepared_images(io.path(SCENES_FILE), wanted, data_dir, cfg)
        rejects, counts = export_dataset(samples, images, tmp, cfg, stats, task.advance, added_columns(questions.schema))
    finally:
        task.close()
    info = {"source": load.get("source"), "seed": cfg.seed, "val_split": cfg.val_split, "max_pixels": cfg.max_pixels, "layout": cfg.layout,
            "stvqa_version": __version__, "name": f"stvqa {load.get('source', '')} spatial VQA".replace("  ", " "),
            "image_excluded": ((load.get("stats") or {}).get("dropped") or {}).get("image_excluded"), "command": load.get("command")}
    rejected = {x["sample_id"] for x in rejects}
    exported = [r for r in samples if r["sample_id"] not in rejected]
    audit = blind_audit(exported) if exported else None
    funnel = (io.run.record("filter") or {}).get("funnel")
    gate = (io.run.record("verify") or {}).get("gate")
    (tmp / "README.md").write_text(dataset_card(counts, info, format_blind_report(audit) if audit else None,
                                                funnel_markdown(funnel) if funnel else None, gate_markdown(gate) if gate else None))
    write_export_manifest(tmp, {"stvqa_version": __version__, "run": str(io.run.path.resolve())}, also=(SIDE_REJECTS_FILE,) if cfg.out else ())
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


def warn_about(cfg: ExportConfig) -> None:
    """Settings that are valid but almost certainly not what was meant."""
    if cfg.val_split == 1.0:
        log.warning("--val-split 1 puts every image into the val split: the train split will be empty")
    if cfg.max_pixels is not None and cfg.max_pixels < TINIEST_USEFUL_PIXELS:
        side = round(cfg.max_pixels ** 0.5)
        log.warning("--max-pixels %s leaves images of about %s×%s pixels: less than one 28×28 patch of Qwen2.5-VL", cfg.max_pixels, side, side)


STAGE = Stage("export", export, ExportConfig, reads=(SCENES_FILE,), takes_questions=True, outputs_of=outputs, ledger=ledger,
              help="verified questions -> Hugging Face Parquet (dataset/)")


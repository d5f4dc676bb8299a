"""The verify stage: every answer recomputed from the graph and boxes -> `qa.parquet` (verified true or null)."""

from __future__ import annotations

from collections import Counter
from functools import partial

import polars as pl

from .checks import VerifyConfig, verify_samples
from .report import gate_report
from ...records import REJECT_COLUMNS, VERIFIED_COLUMNS, qa_frame
from ...pipeline.runner import Outcome, Stage, StageIO
from ...pipeline.workers import ordered_map
from ..load.scenes import ScenePart, scene_parts
from ..load import SCENES_FILE

QA_FILE = "qa.parquet"
SCENE_COLUMNS = ["image_id", "width", "height", "objects", "relationships"]


def verify(io: StageIO, cfg: VerifyConfig) -> Outcome:
    samples = pl.read_parquet(io.questions()).to_dicts()
    by_image: dict[str, list[dict]] = {}
    for s in samples:
        by_image.setdefault(s["image_id"], []).append(s)
    task = io.task("questions", len(samples))
    kept, rejected, outcomes = [], [], Counter()
    work = ((part, {i: by_image.pop(i) for i in part.image_ids if i in by_image}) for part in scene_parts(io.path(SCENES_FILE)))
    for k, r, n in ordered_map(partial(_part, cfg=cfg), work, cfg.workers, outcomes, chunk=1):
        kept += k
        rejected += r
        task.advance(n)
    for orphans in by_image.values():
        rejected += verify_samples(orphans, None, cfg, outcomes)[1]
    task.close()
    return Outcome(n_in=len(samples), kept=qa_frame(kept, VERIFIED_COLUMNS), dropped=qa_frame(rejected, VERIFIED_COLUMNS, REJECT_COLUMNS),
                   counters=dict(outcomes), info={"gate": gate_report(kept, rejected)})


def _part(work: tuple[ScenePart, dict[str, list[dict]]], outcomes: Counter, cfg: VerifyConfig) -> tuple[list[dict], list[dict], int]:
    """Verify the questions of some scenes; the worker reads the scenes itself (they cost more to send than to read)."""
    part, samples = work
    kept, rejected = [], []
    for scene in part.read(SCENE_COLUMNS) if samples else []:
        if scene["image_id"] in samples:
            k, r = verify_samples(samples[scene["image_id"]], scene, cfg, outcomes)
            kept += k
            rejected += r
    return kept, rejected, sum(len(s) for s in samples.values())


STAGE = Stage("verify", verify, VerifyConfig, reads=(SCENES_FILE,), takes_questions=True, table=QA_FILE,
              help="answers recomputed from the graph (qa.parquet)")

"""The verify stage: every answer recomputed from the graph and boxes -> `qa.parquet` (verified true or null)."""

from __future__ import annotations

from collections import Counter

import polars as pl

from .checks import VerifyConfig, verify_samples
from ...records import REJECT_COLUMNS, VERIFIED_COLUMNS, qa_frame
from ...pipeline.runner import Outcome, Stage, StageIO
from ..load.scenes import iter_scene_file
from ..load import SCENES_FILE

QA_FILE = "qa.parquet"


def verify(io: StageIO, cfg: VerifyConfig) -> Outcome:
    samples = pl.read_parquet(io.questions()).to_dicts()
    by_image: dict[str, list[dict]] = {}
    for s in samples:
        by_image.setdefault(s["image_id"], []).append(s)
    task = io.task("questions", len(samples))
    kept, rejected, outcomes = [], [], Counter()
    columns = ["image_id", "width", "height", "objects", "relationships"]
    for scene in iter_scene_file(io.path(SCENES_FILE), columns=columns):
        image_samples = by_image.pop(scene["image_id"], None)
        if image_samples:
            k, r = verify_samples(image_samples, scene, cfg, outcomes)
            kept += k
            rejected += r
            task.advance(len(image_samples))
    for orphans in by_image.values():
        rejected += verify_samples(orphans, None, cfg, outcomes)[1]
    task.close()
    return Outcome(n_in=len(samples), kept=qa_frame(kept, VERIFIED_COLUMNS), dropped=qa_frame(rejected, VERIFIED_COLUMNS, REJECT_COLUMNS),
                   counters=dict(outcomes))


STAGE = Stage("verify", verify, VerifyConfig, reads=(SCENES_FILE,), takes_questions=True, table=QA_FILE,
              help="answers recomputed from the graph (qa.parquet)")

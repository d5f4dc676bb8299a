"""The debias stage: distractors re-drawn over the whole table so no option text gives its answer away
(`qa_debiased.parquet`). It follows verify, and a merge of shards runs it on the merged table."""

from __future__ import annotations

from dataclasses import dataclass, field

import polars as pl

from .redraw import debias_options
from ...config import check_range
from ...records import REJECT_COLUMNS, VERIFIED_COLUMNS, qa_frame
from ...pipeline.runner import Outcome, Stage, StageIO

QA_DEBIASED_FILE = "qa_debiased.parquet"


@dataclass(frozen=True)
class DebiasConfig:
    seed: int = field(default=0, metadata={"help": "Seed of the distractor draws and option order."})
    redraw_distractors: bool = field(default=True, metadata={"help": "Re-draw distractors against text-only priors; off keeps the generator's."})
    max_blind_excess: float = field(default=0.1, metadata={
        "help": "Thin questions whose answer text, when offered, is right more often than chance + this (1 keeps all)."})

    def __post_init__(self) -> None:
        check_range("--max-blind-excess", self.max_blind_excess, 0.0, 1.0)


def debias(io: StageIO, cfg: DebiasConfig) -> Outcome:
    samples = pl.read_parquet(io.questions()).to_dicts()
    kept, dropped = debias_options(samples, cfg.seed, cfg.max_blind_excess) if cfg.redraw_distractors else (samples, [])
    before = {s["sample_id"]: s["options"] for s in samples}
    changed = sum(before[s["sample_id"]] != s["options"] for s in kept)
    return Outcome(n_in=len(samples), kept=qa_frame(kept, VERIFIED_COLUMNS), dropped=qa_frame(dropped, VERIFIED_COLUMNS, REJECT_COLUMNS),
                   counters={"options_redrawn": changed})


STAGE = Stage("debias", debias, DebiasConfig, takes_questions=True, table=QA_DEBIASED_FILE,
              help="distractors re-drawn against text-only priors (qa_debiased.parquet)")

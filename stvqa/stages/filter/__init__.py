"""The filter stage: curation between debias and export (`qa_filtered.parquet`).

Steps, each recorded in the funnel: dedup -> rating -> level -> judges (vlm consistency, blind, policy
pass rate; each judges only what the steps before it kept) -> balance to a target mix -> answer letters
balanced. Without a judge it is offline and deterministic. Rows a judge could not judge are kept apart as
unjudged (in rejects.parquet with the reason) and judged again by the next run, never counted as wrong.
"""

from __future__ import annotations

import json
from pathlib import Path

import polars as pl

from ...blind import blind_audit
from ...pipeline.runner import Outcome, Stage, StageIO, Steps
from ...records import JUDGE_COLUMNS, REJECT_COLUMNS, VERIFIED_COLUMNS, qa_frame
from ...resources import resource_path
from ..load import SCENES_FILE
from . import curate
from .config import FilterConfig, check
from .judges.kinds import KINDS
from .judging import Judging, judge_for_target

QA_FILTERED_FILE = "qa_filtered.parquet"
REPORT_FILE = "filter_report.json"


def filter_stage(io: StageIO, cfg: FilterConfig) -> Outcome:
    rows = pl.read_parquet(io.questions()).to_dicts()
    steps = Steps(rows)
    step = steps.step
    report: dict = {"judges": {}}
    if cfg.dedup:
        rows = step("dedup", *curate.dedup(rows))
    if cfg.min_rating is not None or cfg.levels:
        kept, dropped, _ = curate.select(rows, min_rating=cfg.min_rating, levels=cfg.levels or None, seed=cfg.seed)
        rows = step("rating and level", kept, dropped)
    judging = Judging(io, cfg) if cfg.judges and rows else None
    if judging is not None:
        if cfg.target is not None:
            rows = step("judged for --target", *judge_for_target(judging, rows, cfg))
        else:
            judging.judge(rows)
        questions = {}
        for judge in judging.judges:
            questions[judge] = len(rows)
            rows = step(f"{judge} judge", judging.kept[judge], judging.dropped[judge])
        report["judges"] = judging.summaries(questions)
        if "blind" in judging.judges:
            rates = [r for r in judging.rates["blind"] if r is not None]
            report["blind_solvable_share"] = round(sum(r == 1 for r in rates) / len(rates), 4) if rates else None
    if cfg.target is not None:
        kept, dropped, report["shortfalls"] = curate.select(rows, target=cfg.target, mix=cfg.mix, seed=cfg.seed)
        rows = step("balance", kept, dropped)
    if cfg.balance_letters:
        rows = curate.balance_letters(rows, cfg.seed)
    report.update(steps=steps.steps, unjudged=dict(judging.unjudged) if judging else {}, letters=curate.letter_distribution(rows),
                  blind_audit=blind_audit(rows)["overall"] if rows else None)
    (io.output(REPORT_FILE)).write_text(json.dumps(report, indent=1))
    columns = (VERIFIED_COLUMNS, JUDGE_COLUMNS)
    retry = judging is not None and judging.retry
    return Outcome(n_in=steps.n_in, kept=qa_frame(rows, *columns), dropped=qa_frame(steps.dropped, *columns, REJECT_COLUMNS), steps=steps.steps,
                   info={"funnel": report},
                   incomplete="some questions could not be judged; run again to judge them (answered tries come from the cache)" if retry else "")


def judge_inputs(cfg: FilterConfig) -> list[Path]:
    """The judges' prompts decide their answers: they join the stage key."""
    return [resource_path("prompts", KINDS[j].prompt_file) for j in cfg.judges]


STAGE = Stage("filter", filter_stage, FilterConfig, reads=(SCENES_FILE,), takes_questions=True, table=QA_FILTERED_FILE, writes=(REPORT_FILE,),
              external_inputs=judge_inputs, check=check, help="curation: dedup, rating, judges, balance (qa_filtered.parquet)")

"""The judges of one filter run, and judging only what a `--target` needs."""

from __future__ import annotations

import math
from collections import Counter
from pathlib import Path

from ...llm.usage import Usage
from ...pipeline.runner import StageIO
from ..load import SCENES_FILE
from ..load.scenes import iter_scene_file
from . import curate
from .config import FilterConfig
from .funnel import histogram
from .judges.kinds import KINDS, endpoint_of
from .judges.run import RETRIED, JudgeRun, judge_rows

JUDGE_CACHE_FILE = "judge_cache.sqlite"


def _work(scenes_path: Path, rows: list[dict]):
    """(scene, its rows) in the scenes file's order: images are read once, as they stream by."""
    by_image: dict[str, list[dict]] = {}
    for row in rows:
        by_image.setdefault(row["image_id"], []).append(row)
    columns = ["image_id", "width", "height", "image_path", "image_status", "image_bytes"]
    for scene in iter_scene_file(scenes_path, columns=columns):
        if scene["image_id"] in by_image:
            yield scene, by_image.pop(scene["image_id"])
    for image_id, orphans in by_image.items():  # no scene: judged without an image (a seeing judge reports it missing)
        yield {"image_id": image_id}, orphans


class Judging:
    """The judges of one filter run, in order (vlm, blind, policy): each judges what the one before kept.
    Batches may come in waves; what each judge kept and dropped, its verdicts and its usage add up."""

    def __init__(self, io: StageIO, cfg: FilterConfig) -> None:
        self.io, self.cfg = io, cfg
        load = io.run.record("load") or {}
        data_dir = Path(load["data_dir"]) if load.get("data_dir") else None
        self.judges = [name for name in KINDS if name in cfg.judges]  # in the order of their declarations
        self.runs, self.usage = {}, {}
        for judge in self.judges:
            llm = endpoint_of(cfg, KINDS[judge])
            cache = Path(llm.cache).expanduser() if llm.cache else io.run.file(JUDGE_CACHE_FILE)
            self.runs[judge] = JudgeRun(KINDS[judge], llm, cfg.k, cfg.seed, cfg.judge_max_side, data_dir, cache)
            self.usage[judge] = Usage(llm.price_in, llm.price_out, llm.max_cost)
        self.kept: dict[str, list[dict]] = {j: [] for j in self.judges}
        self.dropped: dict[str, list[dict]] = {j: [] for j in self.judges}
        self.rates: dict[str, list[float | None]] = {j: [] for j in self.judges}
        self.unjudged: Counter = Counter()
        self.retry = False

    @property
    def stopped(self) -> bool:
        """A judge's --max-cost is spent: nothing more can be judged in this run."""
        return any(u.stopped for u in self.usage.values())

    def judge(self, rows: list[dict]) -> list[dict]:
        """The rows every judge keeps, each with the judges' votes and rates."""
        for judge in self.judges:
            if not rows:
                break
            kind, run = KINDS[judge], self.runs[judge]
            task = self.io.task(f"{judge} judge", total=len(rows))
            try:
                verdicts = judge_rows(run, _work(self.io.path(SCENES_FILE), rows), self.usage[judge], task)
            finally:
                task.close()
            kept = []
            for row in rows:
                verdict = verdicts[row["sample_id"]]
                row = dict(row, **{kind.votes_column: verdict.votes, kind.rate_column: verdict.rate})
                self.rates[judge].append(verdict.rate)
                if verdict.unjudged:
                    self.unjudged[verdict.unjudged] += 1
                    self.retry |= verdict.unjudged in RETRIED
                    self.dropped[judge].append(dict(row, reject_reason=verdict.unjudged))
                elif kind.keeps(self.cfg, verdict.rate):
                    kept.append(row)
                else:
                    self.dropped[judge].append(dict(row, reject_reason=kind.drop_reason))
            self.kept[judge] += kept
            rows = kept
        return rows

    def summaries(self, questions: dict[str, int]) -> dict[str, dict]:
        out = {}
        for judge in self.judges:
            run, usage = self.runs[judge], self.usage[judge]
            counters = {k.removeprefix("llm_"): v for k, v in usage.counters().items()}
            out[judge] = {"model": run.llm.model, "base_url": run.llm.base_url, "k": self.cfg.k, **counters,
                          "histogram": histogram(self.rates[judge])}
            if run.kind.sees_image and run.images:
                out[judge]["image_bytes_per_question"] = round(run.image_bytes / max(1, questions[judge]))
        return out


def judge_for_target(judging: Judging, rows: list[dict], cfg: FilterConfig) -> tuple[list[dict], list[dict]]:
    """(rows sent to the judges, rows never sent): the paper balances 56K questions to 10K and then judges
    those. Here each category's best-rated questions are judged in waves until its quota of the target is
    filled with questions the judges keep, so the judges see only what the target needs (a wave asks for
    the rows still missing, divided by the share kept so far)."""
    quotas = curate.category_quotas(cfg.target, cfg.mix)
    queue = curate.best_first(rows, cfg.seed)
    sent_rows: list[dict] = []
    sent, passed = Counter(), Counter()
    while not judging.stopped:
        batch = []
        for category, quota in quotas.items():
            missing = quota - passed[category]
            waiting = queue.get(category, [])
            if missing <= 0 or not waiting:
                continue
            share = passed[category] / sent[category] if sent[category] else 1.0
            n = math.ceil(missing / max(share, 0.1) * 1.1)  # a tenth more: fewer waves
            batch += waiting[:n]
            queue[category], sent[category] = waiting[n:], sent[category] + len(waiting[:n])
        if not batch:
            break
        sent_rows += batch
        passed.update(r["category"] for r in judging.judge(batch))
    never = [dict(r, reject_reason="over_target" if c in quotas else "category_not_in_mix") for c, left in queue.items() for r in left]
    return sent_rows, never

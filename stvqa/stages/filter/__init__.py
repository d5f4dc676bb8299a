"""The filter stage: curation between debias and export (`qa_filtered.parquet`).

Steps, each recorded in the funnel: dedup -> rating -> level -> judges (vlm consistency, blind, policy
pass rate; each judges only what the steps before it kept) -> balance to a target mix -> answer letters
balanced. Without a judge it is offline and deterministic. Rows a judge could not judge are kept apart as
unjudged (in rejects.parquet with the reason) and judged again by the next run, never counted as wrong.
"""

from __future__ import annotations

import json
import math
from collections import Counter
from dataclasses import dataclass, field, replace
from pathlib import Path

import polars as pl

from ...config import check_range
from ...errors import ConfigError
from .funnel import Funnel, histogram
from .judges.prompt import KINDS
from .judges.run import RETRIED, JudgeRun, judge_rows
from ...llm.config import JudgeLLMConfig, LLMConfig
from ...llm.usage import Usage
from . import curate
from ...blind import blind_audit
from ..generate.config import mix_pairs, parse_range
from ...records import JUDGE_COLUMNS, LEVELS, PAPER_MIX, REJECT_COLUMNS, VERIFIED_COLUMNS, qa_frame
from ...resources import resource_path
from ...pipeline.runner import Outcome, Stage, StageIO
from ..load.scenes import iter_scene_file
from ..load import SCENES_FILE

QA_FILTERED_FILE = "qa_filtered.parquet"
REPORT_FILE = "filter_report.json"
JUDGE_CACHE_FILE = "judge_cache.sqlite"
RULES = ("threshold", "any")


@dataclass(frozen=True)
class FilterConfig:
    judges: tuple[str, ...] = field(default=(), metadata={"flag": "--judge", "old_keys": ("judge",),
        "help": "Judges to run (repeat the flag): vlm (a vision model answers with the image), blind (a model answers without it), "
                "policy (the model to be trained). None: offline rules only."})
    llm: JudgeLLMConfig | None = field(default=None, metadata={"help": "The judges' endpoint (--base-url, --model, limits, prices); none without a judge."})
    blind_model: str | None = field(default=None, metadata={"help": "Model of the blind judge on the same endpoint (default: --model)."})
    policy_base_url: str | None = field(default=None, metadata={"help": "Endpoint serving the policy model, e.g. a local vLLM (default: --base-url)."})
    policy_model: str | None = field(default=None, metadata={"help": "The policy model, e.g. Qwen/Qwen2.5-VL-7B-Instruct (default: --model)."})
    policy_max_tokens: int = field(default=1024, metadata={"help": "Most tokens of a policy reply (it reasons before it answers)."})
    k: int = field(default=4, metadata={"help": "Tries per question and judge, each with the options in another order."})
    seed: int = field(default=0, metadata={"help": "Seed of the judges' option orders, the balance draw and the letter balance."})
    judge_max_side: int | None = field(default=640, metadata={
        "help": "Downscale images so their longer side is at most this many pixels before sending (0: send the stored image)."})
    min_consistency: float = field(default=0.75, metadata={"help": "Keep a question when at least this share of the vlm judge's tries agree with it."})
    rule: str = field(default="threshold", metadata={"help": "threshold (--min-consistency) or any (keep when any try agrees: the paper's rule)."})
    max_blind: float | None = field(default=None, metadata={
        "help": "Drop questions the blind judge answers right more often than this share of tries (e.g. 0.99 drops those it always solves)."})
    pass_rate: tuple[float, float] = field(default=(0.125, 0.875), metadata={"cli_type": str,
        "help": "Keep questions whose policy pass rate is in this range, e.g. 0.125..0.875 (GRPO learns nothing from 0 or 1)."})
    min_rating: int | None = field(default=None, metadata={"help": "Drop questions rated below this (1-10)."})
    levels: tuple[str, ...] = field(default=(), metadata={"flag": "--level", "old_keys": ("level",), "help": "Keep only these levels (repeat: --level easy --level medium); default all."})
    target: int | None = field(default=None, metadata={"help": "Keep at most this many questions, per category by --mix, the best-rated first (shortfalls reported)."})
    mix: tuple[tuple[str, float], ...] = field(default=tuple(PAPER_MIX.items()), metadata={"cli_type": str,
        "help": "Category shares of --target (default: the paper's 50% relation, the rest evenly)."})
    dedup: bool = field(default=True, metadata={"help": "Drop duplicate and near-duplicate questions of an image, and repeats across generators."})
    balance_letters: bool = field(default=True, metadata={"help": "Re-order options so answer letters are evenly spread."})

    def __post_init__(self) -> None:
        object.__setattr__(self, "mix", mix_pairs(self.mix))
        if isinstance(self.llm, dict):
            object.__setattr__(self, "llm", JudgeLLMConfig(**self.llm))
        if not self.judges:
            object.__setattr__(self, "llm", None)  # offline curation has no endpoint
        for name in ("judges", "levels"):
            object.__setattr__(self, name, tuple(getattr(self, name)))
        object.__setattr__(self, "pass_rate", parse_range(self.pass_rate, "--pass-rate"))
        if self.judge_max_side == 0:
            object.__setattr__(self, "judge_max_side", None)


def check(cfg: FilterConfig) -> None:
    unknown = [j for j in cfg.judges if j not in KINDS]
    if unknown:
        raise ConfigError(f"unknown --judge {unknown[0]!r}", "Choose from: " + "; ".join(f"{k.name} ({k.help})" for k in KINDS.values()) + ".")
    if len(set(cfg.judges)) != len(cfg.judges):
        raise ConfigError("a --judge is given twice", "Name each judge once, e.g. --judge vlm --judge blind.")
    if cfg.judges and (cfg.llm is None or not (cfg.llm.model or (cfg.judges == ("policy",) and cfg.policy_model))):
        raise ConfigError("--judge needs a model", "Name it: `stvqa filter --model NAME` or `stvqa build --judge-model NAME` "
                                                   "(and the base URL for a local server), e.g. gpt-4o-mini.")
    if cfg.rule not in RULES:
        raise ConfigError(f"unknown --rule {cfg.rule!r}", "Choose threshold (with --min-consistency) or any (the paper's rule).")
    bad_levels = [lv for lv in cfg.levels if lv not in LEVELS]
    if bad_levels:
        raise ConfigError(f"unknown --level {bad_levels[0]!r}", f"Choose from: {', '.join(LEVELS)}.")
    check_range("--k", cfg.k, 1, 64)
    check_range("--min-consistency", cfg.min_consistency, 0.0, 1.0)
    if cfg.max_blind is not None:
        check_range("--max-blind", cfg.max_blind, 0.0, 1.0)
    low, high = cfg.pass_rate if len(cfg.pass_rate) == 2 else (None, None)
    if low is None or not 0 <= low <= high <= 1:
        raise ConfigError(f"--pass-rate {cfg.pass_rate} is not a range within 0..1", "Pass e.g. --pass-rate 0.125..0.875.")
    if cfg.min_rating is not None:
        check_range("--min-rating", cfg.min_rating, 1, 10)
    if cfg.target is not None:
        check_range("--target", cfg.target, 1)
    if cfg.judge_max_side is not None:
        check_range("--judge-max-side", cfg.judge_max_side, 28)


def endpoint_of(cfg: FilterConfig, judge: str) -> LLMConfig:
    llm = cfg.llm or LLMConfig()
    if judge == "blind" and cfg.blind_model:
        return replace(llm, model=cfg.blind_model)
    if judge == "policy":
        return replace(llm, base_url=cfg.policy_base_url or llm.base_url, model=cfg.policy_model or llm.model, max_tokens=cfg.policy_max_tokens)
    return llm


def keeps(cfg: FilterConfig, judge: str, rate: float) -> bool:
    if judge == "vlm":
        return rate > 0 if cfg.rule == "any" else rate >= cfg.min_consistency
    if judge == "blind":
        return cfg.max_blind is None or rate <= cfg.max_blind
    low, high = cfg.pass_rate
    return low <= rate <= high


DROP_REASON = {"vlm": "judge_disagrees", "blind": "blind_solvable", "policy": "pass_rate_outside"}


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
        self.judges = [j for j in ("vlm", "blind", "policy") if j in cfg.judges]
        self.runs, self.usage = {}, {}
        for judge in self.judges:
            llm = endpoint_of(cfg, judge)
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
                elif keeps(self.cfg, judge, verdict.rate):
                    kept.append(row)
                else:
                    self.dropped[judge].append(dict(row, reject_reason=DROP_REASON[judge]))
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


def filter_stage(io: StageIO, cfg: FilterConfig) -> Outcome:
    rows = pl.read_parquet(io.questions()).to_dicts()
    funnel = Funnel(rows)
    rejected: list[dict] = []
    report: dict = {"judges": {}}

    def step(name: str, kept: list[dict], dropped: list[dict]) -> list[dict]:
        funnel.step(name, kept, dropped)
        rejected.extend(dropped)
        return kept

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
    report.update(steps=funnel.steps, unjudged=dict(judging.unjudged) if judging else {}, letters=curate.letter_distribution(rows),
                  blind_audit=blind_audit(rows)["overall"] if rows else None)
    (io.output(REPORT_FILE)).write_text(json.dumps(report, indent=1))
    columns = (VERIFIED_COLUMNS, JUDGE_COLUMNS)
    retry = judging is not None and judging.retry
    return Outcome(n_in=funnel.steps[0]["rows"], kept=qa_frame(rows, *columns), dropped=qa_frame(rejected, *columns, REJECT_COLUMNS),
                   info={"funnel": report},
                   incomplete="some questions could not be judged; run again to judge them (answered tries come from the cache)" if retry else "")


def judge_inputs(cfg: FilterConfig) -> list[Path]:
    """The judges' prompts decide their answers: they join the stage key."""
    return [resource_path("prompts", KINDS[j].prompt_file) for j in cfg.judges]


STAGE = Stage("filter", filter_stage, FilterConfig, reads=(SCENES_FILE,), takes_questions=True, table=QA_FILTERED_FILE, writes=(REPORT_FILE,),
              external_inputs=judge_inputs, check=check, help="curation: dedup, rating, judges, balance (qa_filtered.parquet)")

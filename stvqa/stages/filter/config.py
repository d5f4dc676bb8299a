"""The filter stage's config: which judges, their thresholds and endpoint, the offline rules, the target mix."""

from __future__ import annotations

from dataclasses import dataclass, field

from ...config import check_range
from ...errors import ConfigError
from ...llm.config import JudgeLLMConfig
from ...records import LEVELS
from ...categories import PAPER_MIX
from ..generate.config import mix_pairs, parse_range
from .judges.kinds import KINDS

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
    if cfg.llm is not None and cfg.llm.batch and cfg.llm.batch_wait:
        raise ConfigError("the judges cannot --batch-wait: their tries go out in batches and the next stvqa filter collects them",
                          "Drop --batch-wait; run the same stvqa filter again when the batches are done (it exits 75 while they run).")
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

"""The judges, one declaration each: its prompt, the endpoint it asks, the column its votes and rate go to, the
rule that keeps a question and the reason a dropped one gets. The filter runs them in this order, each judging
what the one before kept. Adding a judge is one more `JudgeKind` here (and its prompt file)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from ....llm.config import JudgeLLMConfig, LLMConfig

if TYPE_CHECKING:
    from ..config import FilterConfig


@dataclass(frozen=True)
class JudgeKind:
    name: str
    sees_image: bool
    prompt_file: str  # in prompts/: {question} (and {width}, {height} for the training prompt)
    votes_column: str  # each try's answer, as option text
    rate_column: str  # the score: the share of the tries that named an option which named the question's answer
    keeps: Callable[["FilterConfig", float], bool]
    drop_reason: str
    help: str
    endpoint: Callable[["FilterConfig", LLMConfig], LLMConfig] = lambda cfg, llm: llm  # the endpoint it asks, from the judges'


def _vlm_keeps(cfg: "FilterConfig", rate: float) -> bool:
    return rate > 0 if cfg.rule == "any" else rate >= cfg.min_consistency


def _blind_endpoint(cfg: "FilterConfig", llm: LLMConfig) -> LLMConfig:
    return replace(llm, model=cfg.blind_model) if cfg.blind_model else llm


def _policy_endpoint(cfg: "FilterConfig", llm: LLMConfig) -> LLMConfig:
    return replace(llm, base_url=cfg.policy_base_url or llm.base_url, model=cfg.policy_model or llm.model, max_tokens=cfg.policy_max_tokens)


KINDS: dict[str, JudgeKind] = {k.name: k for k in (
    JudgeKind("vlm", True, "judge.txt", "judge_votes", "consistency", _vlm_keeps, "judge_disagrees",
              "a vision model answers with the image (the paper's consistency check)"),
    JudgeKind("blind", False, "judge_blind.txt", "blind_votes", "blind_rate", lambda cfg, rate: cfg.max_blind is None or rate <= cfg.max_blind,
              "blind_solvable", "a model answers from the text alone: what it solves leaks", _blind_endpoint),
    JudgeKind("policy", True, "reasoning.txt", "policy_votes", "pass_rate", lambda cfg, rate: cfg.pass_rate[0] <= rate <= cfg.pass_rate[1],
              "pass_rate_outside", "the model to be trained, in the training prompt: keep what it sometimes solves", _policy_endpoint),
)}


def endpoint_of(cfg: "FilterConfig", kind: JudgeKind) -> LLMConfig:
    return kind.endpoint(cfg, cfg.llm or JudgeLLMConfig())

"""Token usage, cost and the budget: what every request (sent or replayed from the cache) adds up to.

Sent requests count the usage the endpoint reports; `estimate_tokens` stands in where none is reported
and for plans (`--dry-run`) and rate limits, before anything is sent.
"""

from __future__ import annotations

from collections import Counter
import re
from functools import lru_cache
from dataclasses import dataclass, field

_PIECES = re.compile(r"[A-Za-z]{1,5}|\d{1,3}|[^\sA-Za-z\d]")


def estimate_tokens(text: str) -> int:
    """About as many tokens as a BPE tokenizer (cl100k-like) gives: a word per 5 letters, a number per
    3 digits, one per punctuation mark. Close enough for plans and limits, not for billing.

    >>> estimate_tokens("man.1 [10,20,300,480] white")
    13
    """
    return len(_PIECES.findall(text))


@lru_cache(maxsize=64)
def _estimate_cached(text: str) -> int:  # system prompts repeat in every request
    return estimate_tokens(text)


IMAGE_TOKENS = 765  # one image of up to 768 px a side: OpenAI's high-detail count (85 + 4 tiles x 170); Qwen2.5-VL needs fewer


def estimate_message_tokens(messages: list[dict]) -> int:
    """Prompt tokens of a chat: the contents and a few per message for the chat template (an image part
    counts as `IMAGE_TOKENS`, not as the length of its base64 text).

    >>> text = [{"role": "user", "content": "Is the cup left of the plate?"}]
    >>> with_image = [{"role": "user", "content": [{"type": "image_url", "image_url": {"url": "data:image/jpeg;base64," + "A" * 90000}},
    ...                                            {"type": "text", "text": "Is the cup left of the plate?"}]}]
    >>> estimate_message_tokens(with_image) - estimate_message_tokens(text) == IMAGE_TOKENS
    True
    """
    return sum(4 + _content_tokens(m.get("content"), m.get("role") == "system") for m in messages) + 3


def _content_tokens(content, system: bool) -> int:
    if isinstance(content, list):  # parts: {"type": "text", "text": ...} or {"type": "image_url", ...}
        return sum(estimate_tokens(str(p.get("text") or "")) if p.get("type") == "text" else IMAGE_TOKENS for p in content if isinstance(p, dict))
    return (_estimate_cached if system else estimate_tokens)(str(content or ""))


@dataclass
class Usage:
    """Counters of one run. Money is spent only by requests sent now; `dataset_*` adds what cached replies
    cost when they were first asked, i.e. what the data set cost in all."""

    price_in: float = 0.0  # USD per million prompt tokens
    price_out: float = 0.0
    max_cost: float | None = None
    requests: int = 0  # sent to the endpoint (each counted once, however many retries it took)
    cache_hits: int = 0
    retries: int = 0
    failures: int = 0  # requests that exhausted their retries
    bad_requests: int = 0  # refused by the endpoint as malformed (400/422): not retried
    reasks: int = 0
    not_sent: int = 0  # held back by --max-cost
    input_tokens: int = 0
    output_tokens: int = 0
    cached_input_tokens: int = 0
    batch: Counter = field(default_factory=Counter)  # --batch: requests sent, answered, failed, expired, cost_usd (batch price)
    cached_output_tokens: int = 0
    stopped: bool = False  # the budget is spent: nothing more is sent
    reserved: float = 0.0  # estimated cost of requests in flight
    _output_seen: list[int] = field(default_factory=lambda: [0, 0])  # [tokens, replies], for estimates

    def cost_of(self, input_tokens: float, output_tokens: float) -> float:
        return (input_tokens * self.price_in + output_tokens * self.price_out) / 1e6

    @property
    def cost(self) -> float:
        return self.cost_of(self.input_tokens, self.output_tokens)

    def expected_output(self, max_tokens: int) -> int:
        tokens, replies = self._output_seen
        return round(tokens / replies) if replies else min(max_tokens, 512)

    def reserve(self, estimate: float) -> bool:
        """Claim the estimated cost of a request about to be sent; False (and stop) when it would pass the budget."""
        if self.stopped or (self.max_cost is not None and self.cost + self.reserved + estimate > self.max_cost):
            self.stopped = True
            self.not_sent += 1
            return False
        self.reserved += estimate
        return True

    def settle(self, estimate: float, input_tokens: int = 0, output_tokens: int = 0, retries: int = 0, failed: bool = False) -> None:
        self.reserved -= estimate
        self.requests += 1
        self.retries += retries
        self.failures += failed
        self.input_tokens += input_tokens
        self.output_tokens += output_tokens
        if output_tokens:
            self._output_seen[0] += output_tokens
            self._output_seen[1] += 1

    def hit(self, input_tokens: int, output_tokens: int) -> None:
        self.cache_hits += 1
        self.cached_input_tokens += input_tokens
        self.cached_output_tokens += output_tokens

    def status(self, seconds: float, *more: str) -> str:
        """One line for a progress display, after `seconds` of sending (`more`: other counts, before the cost)."""
        return ", ".join([f"{self.requests:,} sent ({self.requests / max(seconds, 1e-9):,.1f}/s)", f"{self.cache_hits:,} cached",
                          f"{self.retries:,} retries", f"{self.failures:,} failed", *more, f"${self.cost:,.4f}"])

    def counters(self) -> dict[str, int | float]:
        """For the manifest's stats (prefixed `llm_`)."""
        return {
            "llm_requests": self.requests, "llm_cache_hits": self.cache_hits, "llm_retries": self.retries,
            "llm_failures": self.failures, "llm_bad_requests": self.bad_requests, "llm_reasks": self.reasks,
            "llm_not_sent": self.not_sent, "llm_input_tokens": self.input_tokens, "llm_output_tokens": self.output_tokens,
            "llm_cost_usd": round(self.cost, 6),
            "llm_dataset_input_tokens": self.input_tokens + self.cached_input_tokens,
            "llm_dataset_output_tokens": self.output_tokens + self.cached_output_tokens,
            "llm_dataset_cost_usd": round(self.cost_of(self.input_tokens + self.cached_input_tokens,
                                                       self.output_tokens + self.cached_output_tokens), 6),
            **{f"llm_batch_{k}": round(v, 6) if isinstance(v, float) else v for k, v in sorted(self.batch.items())},
        }

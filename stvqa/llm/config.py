"""Settings of an LLM endpoint and of how hard to drive it.

Fields marked `RUN_CONTROL` change how requests are sent, not what comes back (concurrency, limits, retries,
prices, the budget, where the cache lives): they are recorded in the manifest but left out of the stage key
(`stvqa.config.key_dict`), so changing them never throws away finished work. The API key is not a setting:
only the name of the environment variable that holds it is, and the key is read when the client starts.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from typing import Any

from ..config import check_range
from ..errors import ConfigError

RUN_CONTROL = {"key": False}  # merged into a field's metadata: not part of the stage key


@dataclass(frozen=True)
class LLMConfig:
    base_url: str = field(default="https://api.openai.com/v1", metadata={
        "help": "OpenAI-compatible endpoint, e.g. http://localhost:8000/v1 (vLLM, SGLang), http://localhost:11434/v1 (Ollama)."})
    model: str = field(default="", metadata={"help": "Model name as the endpoint knows it, e.g. gpt-4.1-mini or Qwen/Qwen2.5-72B-Instruct."})
    temperature: float = field(default=0.7, metadata={"help": "Sampling temperature of the LLM."})
    max_tokens: int = field(default=2048, metadata={"help": "Most tokens the LLM may write per reply."})
    api_key_env: str = field(default="OPENAI_API_KEY", metadata={
        **RUN_CONTROL, "help": "Environment variable that holds the API key (a local server needs none). The key itself is never stored."})
    concurrency: int = field(default=16, metadata={**RUN_CONTROL, "help": "LLM requests in flight at once."})
    rpm: int | None = field(default=None, metadata={**RUN_CONTROL, "help": "Most LLM requests per minute (default: no limit)."})
    tpm: int | None = field(default=None, metadata={**RUN_CONTROL, "help": "Most LLM tokens (prompt + reply, estimated) per minute (default: no limit)."})
    timeout: float = field(default=120.0, metadata={**RUN_CONTROL, "help": "Seconds to wait for one LLM reply before retrying."})
    max_retries: int = field(default=5, metadata={
        **RUN_CONTROL, "help": "Retries of an LLM request on 408/409/429/5xx, timeouts and dropped connections (backoff with jitter, honouring Retry-After)."})
    price_in: float = field(default=0.0, metadata={**RUN_CONTROL, "help": "Price in USD per million prompt tokens (for the cost in the manifest)."})
    price_out: float = field(default=0.0, metadata={**RUN_CONTROL, "help": "Price in USD per million reply tokens."})
    max_cost: float | None = field(default=None, metadata={
        **RUN_CONTROL, "help": "Stop sending LLM requests before the cost would pass this many USD; what was answered is kept (needs the prices)."})
    cache: str | None = field(default=None, metadata={
        **RUN_CONTROL, "help": "SQLite file of LLM replies (default: RUN/llm_cache.sqlite); share one between runs to reuse replies."})
    batch: bool = field(default=False, metadata={
        **RUN_CONTROL, "help": "Send the requests through the provider's Batch API (half the price, within 24 h); a later run (or --batch-wait) collects the replies."})
    batch_wait: bool = field(default=False, metadata={**RUN_CONTROL, "help": "With --batch: wait for the batches in this run (polling), then go on."})
    batch_reask: str = field(default="batch", metadata={
        **RUN_CONTROL, "help": "With --batch, where re-asks of replies that failed validation go: batch (the next batch) or direct (the ordinary endpoint)."})
    batch_price_factor: float = field(default=0.5, metadata={**RUN_CONTROL, "help": "Batch price as a share of the ordinary price (for --dry-run and the cost)."})
    batch_poll_seconds: float = field(default=30.0, metadata={**RUN_CONTROL, "help": "With --batch-wait: seconds between polls of the batches."})

    def __post_init__(self) -> None:
        object.__setattr__(self, "base_url", self.base_url.rstrip("/"))
        if self.cache is not None:
            object.__setattr__(self, "cache", str(self.cache))
        if not self.base_url.startswith(("http://", "https://")):
            raise ConfigError(f"--base-url {self.base_url!r} is not an http(s) URL", "Pass e.g. --base-url http://localhost:8000/v1")
        check_range("--concurrency", self.concurrency, 1, 4096)
        check_range("--temperature", self.temperature, 0.0, 2.0)
        check_range("--max-tokens", self.max_tokens, 1)
        check_range("--timeout", self.timeout, 0.01)
        check_range("--max-retries", self.max_retries, 0, 100)
        check_range("--price-in", self.price_in, 0.0)
        check_range("--price-out", self.price_out, 0.0)
        if self.batch_reask not in ("batch", "direct"):
            raise ConfigError(f"--batch-reask {self.batch_reask!r} is not batch or direct", "Pass --batch-reask batch or --batch-reask direct.")
        check_range("--batch-price-factor", self.batch_price_factor, 0.0, 1.0)
        check_range("--batch-poll-seconds", self.batch_poll_seconds, 0.0)
        for flag, value in (("--rpm", self.rpm), ("--tpm", self.tpm)):
            if value is not None:
                check_range(flag, value, 1)
        if self.max_cost is not None:
            check_range("--max-cost", self.max_cost, 0.0)
            if not (self.price_in or self.price_out):
                raise ConfigError("--max-cost needs the prices to count the cost",
                                  "Pass --price-in and --price-out (USD per million tokens), e.g. --price-in 0.4 --price-out 1.6")


def params_of(cfg: LLMConfig) -> dict[str, Any]:
    """The sampling parameters sent with every request (and part of its cache key)."""
    return {"temperature": cfg.temperature, "max_tokens": cfg.max_tokens}


@dataclass(frozen=True)
class JudgeLLMConfig(LLMConfig):
    """A judge's endpoint: as any other, but it samples at 1.0 (so its tries differ) and needs one letter."""

    temperature: float = field(default=1.0, metadata={"help": "Sampling temperature of the judges (above 0, so the k tries differ)."})
    max_tokens: int = field(default=64, metadata={"help": "Most tokens of a vlm or blind judge's reply (a letter needs one)."})
    cache: str | None = field(default=None, metadata={**RUN_CONTROL, "help": "SQLite file of judge replies (default: RUN/judge_cache.sqlite)."})


RUN_CONTROL_FIELDS = frozenset(f.name for f in fields(LLMConfig) if f.metadata.get("key", True) is False)

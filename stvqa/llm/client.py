"""Async chat requests to an OpenAI-compatible endpoint, for thousands of requests at a time.

The `openai` SDK sends each request and retries it: exponential backoff with jitter on 408, 409, 429, 5xx,
timeouts and dropped connections, honouring `Retry-After` / `retry-after-ms` (up to two minutes), `max_retries`
times. This module adds what a bulk job needs around it:

* a cap on requests in flight (`concurrency`) and requests- and tokens-per-minute limits (`aiolimiter`);
* the response cache (`cache.py`): a request already answered is never sent again;
* structured output with fallbacks: a JSON-schema `response_format`, else JSON mode, else plain text, the
  JSON then read out of code fences or prose (`extract.py`); a reply that does not parse or validate is
  asked again once, quoting the error;
* accounting (`usage.py`): requests, cache hits, retries, failures, tokens and cost, and a budget;
* outcomes instead of exceptions: a request that exhausts its retries comes back `failed` (not cached, so
  the next run sends it again); one the endpoint refuses as malformed comes back `bad_request`; only a
  refused key, permission or model (401, 403, 404) stops everything (`EndpointError`);
* the API key never leaves the SDK's request headers: errors are scrubbed of it before anyone sees them.
"""

from __future__ import annotations

import asyncio
import logging
import os
import time
from collections.abc import Callable, Sequence
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import openai
from aiolimiter import AsyncLimiter

from ..errors import StvqaError
from .batch import BatchQueue
from .cache import ResponseCache, request_key
from .config import LLMConfig, params_of
from .extract import extract_json
from .usage import Usage, estimate_message_tokens

MODES = ("json_schema", "json_object", "text")  # structured output, from the strictest the endpoint may support
NO_KEY = "not-needed"  # sent when the key's variable is unset: local servers accept anything
REASK = ("Your reply could not be used: {error}. Reply again with only the JSON object described above, "
         "nothing before or after it.")
_MAX_ERROR = 500  # characters of an endpoint's error message kept in rejects and the manifest
# Requests in a row that found no server (each after its retries): the endpoint is down or the URL is wrong.
UNREACHABLE_AFTER = 20
_LOCAL_HOSTS = {"localhost", "127.0.0.1", "::1", "0.0.0.0"}
log = logging.getLogger(__name__)


class EndpointError(StvqaError):
    """The endpoint refuses every request (key, permission, model or URL): nothing can be done by retrying."""


@dataclass
class Reply:
    """One exchange's outcome. `status`: `ok` (text, and `data` when JSON was asked for and it validated),
    `invalid` (JSON asked for, still unusable after the re-ask: `error` says why, `data` holds what parsed),
    `failed` (retries exhausted), `bad_request` (refused by the endpoint), `not_sent` (budget spent) or `queued`
    (`--batch`: it goes out in a batch; the next run finds its reply in the cache)."""

    status: str
    text: str | None = None
    data: Any = None
    error: str | None = None
    replies: list[str] = field(default_factory=list)  # every reply text, the re-asked one last
    cached: bool = False


class LLMClient:
    """Use inside one event loop; `await client.aclose()` when done."""

    def __init__(self, cfg: LLMConfig, cache: ResponseCache | None = None, usage: Usage | None = None) -> None:
        self.cfg, self.cache = cfg, cache
        self.queue: BatchQueue | None = None  # set for --batch: cache misses are queued for a batch, not sent
        self.usage = usage or Usage(cfg.price_in, cfg.price_out, cfg.max_cost)
        self._key = os.environ.get(cfg.api_key_env) or NO_KEY
        if self._key == NO_KEY and urlsplit(cfg.base_url).hostname not in _LOCAL_HOSTS:
            log.warning("$%s is not set: %s is not a local server and will likely refuse requests without a key", cfg.api_key_env, cfg.base_url)
        self._unreachable = 0  # requests in a row that could not connect
        self._answered = False  # whether any request has reached the server
        http = openai.DefaultAsyncHttpxClient(event_hooks={"request": [_count_retry]})
        self._sdk = openai.AsyncOpenAI(api_key=self._key, base_url=cfg.base_url, timeout=cfg.timeout, max_retries=cfg.max_retries, http_client=http)
        self._slots = asyncio.Semaphore(cfg.concurrency)
        # Requests evenly spaced (no burst at the start of a minute); tokens from a bucket of one minute's worth.
        self._rpm = AsyncLimiter(1, 60 / cfg.rpm) if cfg.rpm else None
        self._tpm = AsyncLimiter(cfg.tpm, 60) if cfg.tpm else None
        self._mode = 0  # index into MODES: lowered for good once an endpoint refuses a mode and accepts the next
        self.params = params_of(cfg)

    @property
    def sdk(self) -> openai.AsyncOpenAI:
        """The SDK client (its `files` and `batches` endpoints, for `batch.py`)."""
        return self._sdk

    async def aclose(self) -> None:
        await self._sdk.close()

    def key_of(self, messages: list[dict[str, Any]], extra: dict[str, Any] | None = None) -> str:
        return request_key(self.cfg.base_url, self.cfg.model, messages, {**self.params, **(extra or {})})

    def redact(self, text: str) -> str:
        """Error text without the API key, whatever the endpoint echoed back."""
        text = str(text)
        if self._key != NO_KEY and len(self._key) >= 4:
            text = text.replace(self._key, "***")
        return text[:_MAX_ERROR]

    async def complete_json(self, messages: list[dict[str, Any]], schema: dict[str, Any] | None = None,
                            check: Callable[[Any], str | None] | None = None) -> Reply:
        """A JSON reply: parsed, checked by `check` (an error message or None), asked again once on failure."""
        first = await self.chat(messages, schema=schema, json=True)
        if first.status != "ok":
            return first
        data, error = _parse(first.text or "", check)
        if error is None:
            return Reply("ok", first.text, data, replies=[first.text or ""], cached=first.cached)
        self.usage.reasks += 1
        again = [*messages, {"role": "assistant", "content": first.text or ""}, {"role": "user", "content": REASK.format(error=error)}]
        second = await self.chat(again, schema=schema, json=True, direct=self.cfg.batch_reask == "direct")
        if second.status != "ok":
            return Reply(second.status, first.text, data, second.error or error, [first.text or ""], first.cached)
        data2, error2 = _parse(second.text or "", check)
        replies = [first.text or "", second.text or ""]
        if error2 is None:
            return Reply("ok", second.text, data2, replies=replies, cached=second.cached)
        return Reply("invalid", second.text, data2 if data2 is not None else data, error2, replies, second.cached)

    async def chat(self, messages: list[dict[str, Any]], schema: dict[str, Any] | None = None, json: bool = False,
                   extra: dict[str, Any] | None = None, direct: bool = False) -> Reply:
        """One request: from the cache when it was answered before, else sent (within the limits) and cached, or
        with a batch queue (and not `direct`) queued for a batch. `extra`: more body fields (e.g. a per-try `seed`),
        part of the cache key."""
        key = self.key_of(messages, extra)
        if self.cache is not None and (hit := self.cache.get(key)) is not None:
            self.usage.hit(hit.input_tokens, hit.output_tokens)
            return Reply("ok", hit.reply, replies=[hit.reply], cached=True)
        if self.queue is not None and not direct:
            if key not in self.queue.pending:  # a key in a batch still running waits for it
                mode = MODES[self._modes(schema, json)[0]]  # a batch line cannot fall back: the mode that works now
                self.queue.add(key, {"model": self.cfg.model, "messages": messages, **self.params, **(extra or {}), **_format(mode, schema)})
            return Reply("queued", error="waiting for its batch (--batch)")
        # Estimates only where a budget or a token limit needs them (they cost as much CPU as the request itself).
        estimated = self.cfg.max_cost is not None or self._tpm is not None
        estimated_in = estimate_message_tokens(messages) if estimated else 0
        estimated_out = self.usage.expected_output(self.cfg.max_tokens) if estimated else 0
        estimate = self.usage.cost_of(estimated_in, estimated_out)
        if not self.usage.reserve(estimate):
            return Reply("not_sent", error="not sent: --max-cost reached")
        async with self._slots:
            if self._rpm:
                await self._rpm.acquire()
            if self._tpm:
                await self._tpm.acquire(min(estimated_in + estimated_out, self.cfg.tpm))
            return await self._send(key, messages, schema if json else None, json, estimate, extra or {})

    async def _send(self, key: str, messages: list[dict[str, Any]], schema: dict[str, Any] | None, json: bool, estimate: float,
                    extra: dict[str, Any]) -> Reply:
        started = time.monotonic()
        modes = self._modes(schema, json)
        retries = [0]  # counted by `_count_retry`, which sees every attempt the SDK sends for this task
        _RETRIES.set(retries)
        for index in modes:
            body = {"model": self.cfg.model, "messages": messages, **self.params, **extra, **_format(MODES[index], schema)}
            try:
                # The SDK's generic POST: its retries, backoff, Retry-After and timeouts, without the per-request
                # type transform of `chat.completions.create` (a third of the SDK's CPU time per request).
                completion = await self._sdk.post("/chat/completions", cast_to=object, body=body)
            except (openai.AuthenticationError, openai.PermissionDeniedError, openai.NotFoundError) as exc:
                self.usage.settle(estimate, retries=retries[0], failed=True)
                raise EndpointError(f"{self.cfg.base_url} refused the request ({exc.status_code}): {self.redact(_message(exc))}",
                                    _hint(exc.status_code, self.cfg)) from None
            except (openai.BadRequestError, openai.UnprocessableEntityError) as exc:
                if index < len(MODES) - 1:
                    continue  # perhaps this output mode is not supported: try the next
                self.usage.settle(estimate, retries=retries[0])
                self.usage.bad_requests += 1
                return Reply("bad_request", error=f"{exc.status_code}: {self.redact(_message(exc))}")
            except (openai.APIStatusError, openai.APIConnectionError, openai.APIResponseValidationError) as exc:
                self.usage.settle(estimate, retries=retries[0], failed=True)
                error = f"{type(exc).__name__}: {self.redact(_message(exc))} (after {retries[0]} retries)"
                if isinstance(exc, openai.APIConnectionError):
                    self._no_connection(error)
                else:
                    self._unreachable = 0
                return Reply("failed", error=error)
            self._unreachable, self._answered = 0, True
            if not isinstance(completion, dict) or not isinstance(completion.get("choices"), list):
                self.usage.settle(estimate, retries=retries[0], failed=True)
                return Reply("failed", error=f"the endpoint's reply is not a chat completion: {self.redact(str(completion))[:200]}")
            if json and index > self._mode and schema is not None:
                self._mode = index  # the endpoint refused the stricter mode and accepted this one
            choice = completion["choices"][0] if completion["choices"] else {}
            text = (choice.get("message") or {}).get("content") or ""
            usage = completion.get("usage") or {}
            tokens_in = usage.get("prompt_tokens") or estimate_message_tokens(messages)
            tokens_out = usage.get("completion_tokens") or 0
            self.usage.settle(estimate, tokens_in, tokens_out, retries=retries[0])
            if self.cache is not None:
                self.cache.put(key, base_url=self.cfg.base_url, model=self.cfg.model, reply=text, input_tokens=tokens_in,
                               output_tokens=tokens_out, finish_reason=choice.get("finish_reason"), mode=MODES[index],
                               retries=retries[0], seconds=round(time.monotonic() - started, 3))
            return Reply("ok", text, replies=[text])
        raise AssertionError("unreachable")


    def _modes(self, schema: dict[str, Any] | None, json: bool) -> Sequence[int]:
        """Indexes into MODES to try, strictest first: from the one the endpoint last accepted (JSON mode at
        least without a schema), or plain text when no JSON is asked for."""
        if not json:
            return (len(MODES) - 1,)
        return range(self._mode if schema is not None else max(self._mode, 1), len(MODES))

    def _no_connection(self, error: str) -> None:
        """Stop everything once the endpoint looks unreachable: `UNREACHABLE_AFTER` requests in a row, or, before
        any request reached it, as many as are sent at once (the first wave), failed to connect after their retries."""
        self._unreachable += 1
        limit = UNREACHABLE_AFTER if self._answered else min(UNREACHABLE_AFTER, self.cfg.concurrency)
        if self._unreachable >= limit:
            raise EndpointError(f"{self.cfg.base_url} cannot be reached: {self._unreachable} requests in a row found no server ({error})",
                                "Check that the server is running and that the base URL is right; replies already received are cached, "
                                "so the next run resumes without sending them again.")


_RETRIES: ContextVar[list[int] | None] = ContextVar("stvqa_llm_retries", default=None)


async def _count_retry(request) -> None:
    """An HTTP request hook: the SDK marks each retry with `x-stainless-retry-count`; count it for the
    request being sent in this task (event hooks run in the task that sends)."""
    if request.headers.get("x-stainless-retry-count", "0") != "0" and (box := _RETRIES.get()) is not None:
        box[0] += 1


def _format(mode: str, schema: dict[str, Any] | None) -> dict[str, Any]:
    if mode == "json_schema":
        return {"response_format": {"type": "json_schema", "json_schema": {"name": "reply", "schema": schema, "strict": True}}}
    if mode == "json_object":
        return {"response_format": {"type": "json_object"}}
    return {}


def _parse(text: str, check: Callable[[Any], str | None] | None) -> tuple[Any, str | None]:
    try:
        data = extract_json(text)
    except ValueError as exc:
        return None, str(exc)
    return data, check(data) if check else None


def _message(exc: Exception) -> str:
    return getattr(exc, "message", None) or str(exc) or type(exc).__name__


def _hint(status: int, cfg: LLMConfig) -> str:
    if status in (401, 403):
        return f"Put the endpoint's API key into ${cfg.api_key_env} (or name another variable with --api-key-env)."
    return f"Check --base-url ({cfg.base_url}) and --model ({cfg.model}): the endpoint does not know them."

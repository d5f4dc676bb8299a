"""Provider Batch APIs (`--batch`): the requests a run would send go out as Batch API files, at half the price, and
their replies come back into the same response cache, so everything after (checks, re-asks, rows, resume) is the
path that exists.

A run with `--batch` first collects the batches it recorded earlier that have finished (their replies into the
cache), then does its work with the client queueing every cache miss (`BatchQueue`) instead of sending it: those
slots end as `*_batch_pending` rows of an incomplete stage. The queue is then uploaded (`files.create`,
`batches.create`, split to the provider's limits on requests and bytes per batch) and each batch recorded in the
run directory (`BatchLedger`) at once. The next run (or `--batch-wait` in this one) finds the replies in the cache.

Nothing is lost or sent twice if the process is killed: a file is recorded before its batch is created, and a
recorded file without a batch id is matched to the provider's batches by its input file (adopted) before a batch
is created for it; keys in a recorded, unfinished batch are never queued again; replies are cached line by line
(idempotent), and a batch is marked collected only after all its lines are in. Expired or failed requests are not
cached, so the next run queues them again.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..errors import DataError
from ..pipeline.rundir import atomic_write_text
from .cache import ResponseCache

if TYPE_CHECKING:
    from .client import LLMClient

ENDPOINT = "/v1/chat/completions"
MAX_REQUESTS, MAX_BYTES = 50_000, 190 * 2**20  # per batch file: OpenAI's limits are 50,000 requests and 200 MB
FINISHED = ("completed", "failed", "expired", "cancelled")


@dataclass
class BatchQueue:
    """Requests to send as batches: (cache key, request body), each key once; `pending`: keys already in a batch."""

    pending: frozenset[str] = frozenset()
    requests: dict[str, dict[str, Any]] = field(default_factory=dict)

    def add(self, key: str, body: dict[str, Any]) -> None:
        self.requests.setdefault(key, body)


class BatchLedger:
    """The batches a run sent, in `RUN/<name>.json`: file id, batch id, the cache keys it holds, and whether its
    results are in the cache. Rewritten atomically after every change."""

    def __init__(self, path: Path) -> None:
        self.path = path
        try:
            self.entries: list[dict[str, Any]] = json.loads(path.read_text()) if path.is_file() else []
        except (json.JSONDecodeError, UnicodeDecodeError):
            raise DataError(f"{path} is not the JSON list of batches stvqa wrote",
                            "Restore it; or delete it, and the requests it held are sent again in new batches.") from None

    def save(self) -> None:
        atomic_write_text(self.path, json.dumps(self.entries, indent=1) + "\n")

    def pending_keys(self) -> frozenset[str]:
        return frozenset(k for e in self.entries if e["state"] != "collected" for k in e["keys"])

    def open_entries(self) -> list[dict[str, Any]]:
        return [e for e in self.entries if e["state"] != "collected"]


def chunks(requests: dict[str, dict[str, Any]], max_requests: int = MAX_REQUESTS, max_bytes: int = MAX_BYTES) -> list[list[tuple[str, bytes]]]:
    """The queue as batch files: JSONL lines (`custom_id` = the cache key), within the limits of one batch."""
    out: list[list[tuple[str, bytes]]] = [[]]
    size = 0
    for key, body in requests.items():
        line = (json.dumps({"custom_id": key, "method": "POST", "url": ENDPOINT, "body": body}, ensure_ascii=False) + "\n").encode()
        if out[-1] and (len(out[-1]) >= max_requests or size + len(line) > max_bytes):
            out.append([])
            size = 0
        out[-1].append((key, line))
        size += len(line)
    return [c for c in out if c]


async def submit(sdk: Any, queue: BatchQueue, ledger: BatchLedger, max_requests: int = MAX_REQUESTS, max_bytes: int = MAX_BYTES) -> list[str]:
    """Upload the queue and create its batches, recording each file before its batch and each batch at once."""
    ids = []
    for chunk in chunks(queue.requests, max_requests, max_bytes):
        uploaded = await sdk.files.create(file=("stvqa-batch.jsonl", b"".join(line for _, line in chunk)), purpose="batch")
        entry = {"file_id": uploaded.id, "batch_id": None, "state": "uploaded", "keys": [k for k, _ in chunk],
                 "requests": len(chunk), "created_at": time.strftime("%Y-%m-%dT%H:%M:%S%z")}
        ledger.entries.append(entry)
        ledger.save()
        ids.append(await _create_batch(sdk, entry, ledger))
    return ids


async def _create_batch(sdk: Any, entry: dict[str, Any], ledger: BatchLedger) -> str:
    batch = await sdk.batches.create(input_file_id=entry["file_id"], endpoint=ENDPOINT, completion_window="24h")
    entry.update(batch_id=batch.id, state="submitted")
    ledger.save()
    return batch.id


async def _adopt(sdk: Any, entry: dict[str, Any], ledger: BatchLedger) -> None:
    """A file recorded without its batch (killed between the two): the provider's batch of that file, else a new one."""
    async for batch in sdk.batches.list(limit=100):
        if batch.input_file_id == entry["file_id"]:
            entry.update(batch_id=batch.id, state="submitted")
            ledger.save()
            return
    await _create_batch(sdk, entry, ledger)


@dataclass
class Collected:
    answered: int = 0
    input_tokens: int = 0  # of the answered requests, as the provider reported them
    output_tokens: int = 0
    failed: int = 0
    expired: int = 0
    waiting: int = 0  # requests in batches not finished yet


async def collect(sdk: Any, ledger: BatchLedger, cache: ResponseCache, base_url: str, model: str) -> Collected:
    """Finished batches' replies into the cache; what is still running is counted in `waiting`."""
    done = Collected()
    for entry in ledger.open_entries():
        if entry["batch_id"] is None:
            await _adopt(sdk, entry, ledger)
        batch = await sdk.batches.retrieve(entry["batch_id"])
        if batch.status not in FINISHED:
            done.waiting += entry["requests"]
            continue
        answered = 0
        if batch.output_file_id:
            text = (await sdk.files.content(batch.output_file_id)).text
            for line in filter(None, text.splitlines()):
                tokens = _cache_line(json.loads(line), cache, base_url, model)
                if tokens is not None:
                    answered += 1
                    done.input_tokens += tokens[0]
                    done.output_tokens += tokens[1]
        done.answered += answered
        lost = entry["requests"] - answered
        if batch.status == "expired":
            done.expired += lost
        else:
            done.failed += lost
        entry.update(state="collected", status=batch.status, answered=answered)
        ledger.save()
    return done


async def collect_for(client: "LLMClient", ledger: BatchLedger, cache: ResponseCache) -> None:
    """`collect` for a client: what came back counted in its usage (`Usage.batch`, the cost at the batch price), and
    the client set to queue what is still missing, keys of unfinished batches excepted."""
    got = await collect(client.sdk, ledger, cache, client.cfg.base_url, client.cfg.model)
    client.usage.batch.update(answered=got.answered, failed=got.failed, expired=got.expired)
    client.usage.batch["cost_usd"] += client.usage.cost_of(got.input_tokens, got.output_tokens) * client.cfg.batch_price_factor
    client.queue = BatchQueue(pending=ledger.pending_keys())


async def send_queue(client: "LLMClient", ledger: BatchLedger) -> list[str]:
    """`submit` the client's queue; the requests sent counted in its usage."""
    ids = await submit(client.sdk, client.queue, ledger)
    client.usage.batch["requests_sent"] += len(client.queue.requests)
    return ids


def _cache_line(record: dict[str, Any], cache: ResponseCache, base_url: str, model: str) -> tuple[int, int] | None:
    """One output line's reply into the cache; its (input, output) tokens, or None for a line without a reply."""
    response = record.get("response") or {}
    body = response.get("body") or {}
    choices = body.get("choices") if isinstance(body, dict) else None
    if response.get("status_code") != 200 or not choices:
        return None
    usage = body.get("usage") or {}
    tokens = usage.get("prompt_tokens") or 0, usage.get("completion_tokens") or 0
    cache.put(record["custom_id"], base_url=base_url, model=model, reply=(choices[0].get("message") or {}).get("content") or "",
              input_tokens=tokens[0], output_tokens=tokens[1], finish_reason=choices[0].get("finish_reason"), mode="batch")
    return tokens


async def wait(sdk: Any, ledger: BatchLedger, poll_seconds: float, status: Callable[[str], None]) -> None:
    """Until every recorded batch has finished, saying how many requests are done and failed and how long it took."""
    started = time.monotonic()
    while True:
        counts = {"done": 0, "failed": 0, "total": 0}
        running = 0
        for entry in ledger.open_entries():
            if entry["batch_id"] is None:
                await _adopt(sdk, entry, ledger)
            batch = await sdk.batches.retrieve(entry["batch_id"])
            progress = getattr(batch, "request_counts", None)
            counts["total"] += entry["requests"]
            counts["done"] += getattr(progress, "completed", 0) or 0
            counts["failed"] += getattr(progress, "failed", 0) or 0
            running += batch.status not in FINISHED
        status(f"batches: {counts['done']:,}/{counts['total']:,} requests done, {counts['failed']:,} failed, "
               f"{time.monotonic() - started:,.0f} s waited")
        if not running:
            return
        await asyncio.sleep(poll_seconds)

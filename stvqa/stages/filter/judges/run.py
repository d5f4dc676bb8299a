"""Send the judges' tries through `stvqa.llm` and collect each question's votes.

Image by image in the scenes file's order (each image decoded and encoded once for all its tries), with
`concurrency` requests in flight. Every try is its own cached request (its option order and `seed` differ),
so a killed run resumes without sending any answered try again. A question whose tries could not all be
sent is *unjudged* (kept apart with the reason, sent again by the next run), never a disagreement.
"""

from __future__ import annotations

import asyncio
import itertools
import time
from collections.abc import Iterable, Iterator
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ....errors import ConfigError
from ....llm.batch import BatchLedger, collect_for, send_queue
from ....llm.cache import ResponseCache
from ....llm.config import LLMConfig
from ....llm.loop import event_loop, in_order
from ....llm.usage import Usage
from ....progress import Task
from ....images import ImageProblem, read_image
from .parse import parse_choice
from .kinds import JudgeKind
from .prompt import JudgeImage, judge_image, messages, try_order

if TYPE_CHECKING:
    from ....llm.client import LLMClient, Reply

UNSENT = {"failed": "judge_request_failed", "bad_request": "judge_bad_request", "not_sent": "judge_max_cost_reached",
          "queued": "judge_batch_pending"}
BATCH_FILE = "judge_batches.json"  # the batches a --batch filter sent, beside the judge cache (`stvqa.llm.batch.BatchLedger`)
RETRIED = set(UNSENT.values())  # unjudged for a reason the next run may not have


@dataclass(frozen=True)
class Verdict:
    votes: list[str | None] | None = None  # each try's answer as option text (None: the reply named no option)
    rate: float | None = None  # share of the tries that named an option which named the question's answer
    unjudged: str | None = None  # why there is no rate (a reason code)
    detail: str | None = None


@dataclass
class JudgeRun:
    """Where a judge sends its tries and how many: `llm` (the endpoint), `k` tries per question, `seed`
    (option orders), `max_side` (image pixels) and where the images live."""

    kind: JudgeKind
    llm: LLMConfig
    k: int
    seed: int
    max_side: int | None
    data_dir: Path | None
    cache_file: Path
    image_bytes: int = 0  # encoded image bytes sent per question (summed), for the report
    images: int = 0


def verdict_of(replies: list["Reply"], row: dict[str, Any], orders: list[list[int]]) -> Verdict:
    for reply in replies:
        if reply.status in UNSENT:
            return Verdict(unjudged=UNSENT[reply.status], detail=reply.error)
    votes = []
    for reply, order in zip(replies, orders):
        shown = [row["options"][j] for j in order]
        index = parse_choice(reply.text, shown)
        votes.append(shown[index] if index is not None else None)
    named = [v for v in votes if v is not None]
    if not named:
        return Verdict(votes, unjudged="judge_named_no_option", detail=(replies[0].text or "")[:200])
    return Verdict(votes, sum(v == row["answer_text"] for v in named) / len(named))


async def _prepared_image(run: JudgeRun, scene: dict[str, Any]) -> JudgeImage | str:
    """The image as the judge sees it, or why it cannot be sent (an unjudged reason)."""
    try:
        return await asyncio.to_thread(judge_image, read_image(scene, run.data_dir), run.max_side)
    except ImageProblem as problem:
        return f"judge_{problem.reason}"
    except OSError:
        return "judge_image_undecodable"


async def _judge_image(client: "LLMClient", run: JudgeRun, scene: dict[str, Any], rows: list[dict[str, Any]],
                       admission: asyncio.Semaphore) -> list[tuple[str, Verdict]]:
    """The verdicts of one image's questions."""
    async with admission:
        image: JudgeImage | None = None
        if run.kind.sees_image:
            prepared = await _prepared_image(run, scene)
            if isinstance(prepared, str):
                return [(row["sample_id"], Verdict(unjudged=prepared)) for row in rows]
            image = prepared
            run.image_bytes += image.size * len(rows)
            run.images += 1
        orders = {row["sample_id"]: [try_order(row["sample_id"], len(row["options"]), t, run.seed) for t in range(run.k)] for row in rows}
        tries = [(row, t, order) for row in rows for t, order in enumerate(orders[row["sample_id"]])]
        replies = await asyncio.gather(*(client.chat(messages(run.kind, row, order, image), extra={"seed": t}) for row, t, order in tries))
        out, at = [], 0
        for row in rows:
            out.append((row["sample_id"], verdict_of(replies[at:at + run.k], row, orders[row["sample_id"]])))
            at += run.k
        return out


async def _probe(client: "LLMClient", run: JudgeRun, scene: dict[str, Any], rows: list[dict[str, Any]]) -> None:
    """Send the first try of the first image alone, and stop everything if the endpoint refuses it: a text-only
    model asked about an image would refuse every request. The reply is cached, so the image's own judging
    does not send that try again."""
    image = await _prepared_image(run, scene)
    if isinstance(image, str):
        return  # nothing to probe with; the image's rows are unjudged with the reason
    row = rows[0]
    order = try_order(row["sample_id"], len(row["options"]), 0, run.seed)
    reply = await client.chat(messages(run.kind, row, order, image), extra={"seed": 0})
    if reply.status == "bad_request":
        raise refuses_images(run, reply.error)


def judge_rows(run: JudgeRun, work: Iterable[tuple[dict[str, Any], list[dict[str, Any]]]], usage: Usage,
               task: Task | None = None) -> dict[str, Verdict]:
    """Votes for every row of `work` ((scene, its rows) pairs, in the scenes file's order), by sample id."""
    task = task or Task()
    cache = ResponseCache(run.cache_file)
    loop = event_loop()
    verdicts: dict[str, Verdict] = {}
    started = time.monotonic()

    async def start() -> tuple["LLMClient", asyncio.Semaphore]:
        from ....llm.client import LLMClient  # imports openai: only when a judge runs

        # Enough images in flight to keep `concurrency` requests busy (each image sends k tries per question).
        return LLMClient(run.llm, cache, usage), asyncio.Semaphore(max(2, 2 * run.llm.concurrency // run.k))

    client, admission = loop.run(start())
    ledger = BatchLedger(run.cache_file.parent / BATCH_FILE) if run.llm.batch else None
    try:
        if ledger is not None:  # --batch: finished batches into the cache, then queue every try still missing
            loop.run(collect_for(client, ledger, cache))
        items: Iterator = iter(work)
        first = next(items, None)
        if first is not None and run.kind.sees_image and ledger is None:  # an endpoint that refuses images is told after one request
            loop.run(_probe(client, run, *first))
        items = itertools.chain([first] if first is not None else [], items)
        window = max(64, 4 * run.llm.concurrency)  # images ahead of the one being collected
        with closing(in_order(loop, (_judge_image(client, run, scene, rows, admission) for scene, rows in items), window)) as results:
            for found in results:
                verdicts.update(found)
                task.advance(len(found))
                task.status(f"{run.kind.name}: {usage.status(time.monotonic() - started)}")
        if client.queue is not None and client.queue.requests:
            loop.run(send_queue(client, ledger))
    finally:
        try:
            loop.run(client.aclose())
        finally:
            loop.close()
            cache.close()
    return verdicts


def refuses_images(run: JudgeRun, error: str | None) -> ConfigError:
    return ConfigError(f"the judge endpoint refused a question with its image ({error}); {run.llm.model or 'the model'} may not accept images",
                       "--judge vlm and --judge policy need a vision model (e.g. gpt-4o-mini, Qwen/Qwen2.5-VL-7B-Instruct); "
                       "--judge blind needs none.")

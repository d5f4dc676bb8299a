"""The LLM generator (`--generator llm`): an LLM writes each image's questions from its scene graph.

One request per image asks for all of its slots (category and level from the scheduler, see
`llm_prompt.py`); requests run concurrently on a background event loop, and images come back in file order,
so a build gives the same rows whatever the concurrency. Every reply goes through the response cache, so a
second run sends nothing already answered and a killed run resumes where it stopped.

Each slot ends as one row: a question, or a reject with its reason and, in `args`, the raw reply
(`{"raw_reply": ..., "first_reply": ... (when it was asked again), "error": ...}`):
`llm_request_failed` (retries exhausted: the stage is marked incomplete and the next build sends it again),
`llm_max_cost_reached` (not sent: likewise), `llm_bad_request`, `llm_invalid_json`, `llm_schema_invalid`,
`llm_wrong_category`, `llm_shortfall` (the reply had fewer questions than slots) and the question checks of
`llm_checks.py`. A kept row's `args` is `{"reply": <the question as the model wrote it>}`: the gate (verify) reads the
objects it names by id from there, or finds them in the question's words when it names none.
"""

from __future__ import annotations

import asyncio
import copy
import json
import sys
import time
from contextlib import closing
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterator

import jsonschema

from ...categories import REGISTRY
from ...llm.cache import ResponseCache, request_key
from ...llm.config import LLMConfig, params_of
from ...llm.loop import event_loop, in_order
from ...llm.usage import Usage, estimate_message_tokens
from ...records import LETTERS
from ...resources import resource_path
from ..load.scenes import iter_scene_file
from ...llm.batch import BatchLedger, collect_for, send_queue, wait
from ...schema import load as load_schema, objects_in, schema_errors
from .config import GenerateConfig
from .context import GenerateContext
from .llm_checks import check_question, focus_json
from .llm_prompt import PROMPT_FILE, messages, slots
from ...scene_view import SceneView

if TYPE_CHECKING:
    from ...llm.client import LLMClient, Reply

Rows = list[dict[str, Any]]
CACHE_FILE = "llm_cache.sqlite"
SCHEMA = "qa_generation"
OUTPUT_TOKENS_PER_QUESTION = 60  # for plans: a question, its options and the fields, as JSON
SCENE_COLUMNS = ["image_id", "width", "height", "objects", "relationships"]  # what prompts and checks read (no image bytes)
STATUS_REASONS = {"failed": "llm_request_failed", "bad_request": "llm_bad_request", "not_sent": "llm_max_cost_reached",
                  "queued": "llm_batch_pending"}
BATCH_FILE = "llm_batches.json"  # the batches a --batch build sent (`stvqa.llm.batch.BatchLedger`)


def _schema() -> dict[str, Any]:
    return load_schema(SCHEMA)


@cache
def _question_validator() -> jsonschema.protocols.Validator:
    schema = _schema()
    return jsonschema.Draft202012Validator({"$defs": schema["$defs"], "$ref": "#/$defs/question"})


@cache
def response_schema() -> dict[str, Any]:
    """The reply's shape for a JSON-schema `response_format` (strict: every key of every object required, no others)."""
    question = copy.deepcopy(_schema()["$defs"]["question"])
    for node in objects_in(question):  # OpenAI's strict structured outputs: every key required, no others
        if node.get("type") == "object" and "properties" in node:
            node["required"], node["additionalProperties"] = list(node["properties"]), False
    return {"type": "object", "properties": {"questions": {"type": "array", "items": question}},
            "required": ["questions"], "additionalProperties": False}


def questions_of(data: Any) -> list[Any] | None:
    """The reply's questions: `{"questions": [...]}` or one question object; None for any other shape."""
    if isinstance(data, dict) and isinstance(data.get("questions"), list):
        return data["questions"]
    if isinstance(data, dict) and "question" in data:
        return [data]
    return None


def question_errors(item: Any) -> list[str]:
    return [f"{'/'.join(map(str, e.absolute_path)) or 'question'}: {e.message}" for e in _question_validator().iter_errors(item)]


def reply_error(data: Any) -> str | None:
    """Why a parsed reply breaks `schemas/qa_generation.schema.json`, in words the model can act on. (The
    schema is one question or `{"questions": [questions]}`: its two shapes are told apart here, and the
    questions checked with the schema's own question definition, which says more than "not any of".)"""
    items = questions_of(data)
    if items is None:
        return None if not schema_errors(SCHEMA, data) else 'the reply must be a JSON object {"questions": [...]}'
    problems = [f"questions/{i}/{p}" for i, item in enumerate(items) for p in question_errors(item)]
    return "; ".join(problems[:5]) or None


def cache_path(llm: LLMConfig, run_dir: Path) -> Path:
    return Path(llm.cache).expanduser() if llm.cache else run_dir / CACHE_FILE


def _raw(reply: "Reply", detail: str) -> str:
    raw: dict[str, Any] = {"raw_reply": reply.text, "error": detail}
    if len(reply.replies) > 1:
        raw["first_reply"] = reply.replies[0]
    return json.dumps(raw, ensure_ascii=False)


class _SlotRejects:
    """The rejected slots of one image's reply: each keeps the raw reply and, where there is one, the question."""

    def __init__(self, reply: "Reply", image_id: str, wanted: list[tuple[str, str]], model: str) -> None:
        self.reply, self.image_id, self.wanted, self.model = reply, image_id, wanted, model
        self.rows: Rows = []

    def add(self, slot: int, reason: str, detail: str, item: Any = None) -> None:
        fields = {}
        if isinstance(item, dict):
            options = item.get("options") if isinstance(item.get("options"), list) else None
            fields = {"question": str(item.get("question", "")) or None, "options": [str(o) for o in options] if options else None,
                      "answer": item.get("answer") if isinstance(item.get("answer"), str) else None}
        self.rows.append({"sample_id": f"{self.image_id}:{slot}", "image_id": self.image_id, "category": self.wanted[slot][0],
                          "generator": self.model, **fields, "args": _raw(self.reply, detail), "reject_reason": reason})

    def every_slot(self, reason: str, detail: str) -> Rows:
        for slot in range(len(self.wanted)):
            self.add(slot, reason, detail)
        return self.rows

    def in_slot_order(self) -> Rows:
        return sorted(self.rows, key=lambda r: int(r["sample_id"].rsplit(":", 1)[1]))


def assign_slots(items: list[Any], wanted: list[tuple[str, str]], valid: list[bool]) -> tuple[dict[int, Any], list[Any], list[int]]:
    """(slot -> question, the questions left over, the slots left free): a valid question of an assigned category
    takes a slot of it, its own place first."""
    free = list(range(len(wanted)))
    assigned: dict[int, Any] = {}
    leftover = []
    for i, item in enumerate(items):
        category = item.get("category") if valid[i] else None
        slot = i if i in free and wanted[i][0] == category else next((s for s in free if wanted[s][0] == category), None)
        if slot is None:
            leftover.append(item)
        else:
            free.remove(slot)
            assigned[slot] = item
    return assigned, leftover, free


def rows_from_reply(reply: "Reply", scene: dict[str, Any], wanted: list[tuple[str, str]], model: str) -> tuple[Rows, Rows, int]:
    """(questions, rejected slots, extra questions) for one image: every slot ends as exactly one row."""
    image_id = scene["image_id"]
    rejects = _SlotRejects(reply, image_id, wanted, model)
    if reply.status in STATUS_REASONS:
        return [], rejects.every_slot(STATUS_REASONS[reply.status], reply.error or reply.status), 0
    items = questions_of(reply.data)
    if items is None:
        return [], rejects.every_slot("llm_invalid_json" if reply.data is None else "llm_schema_invalid", reply.error or "no questions in the reply"), 0

    valid = [True] * len(items) if reply.status == "ok" else [not question_errors(item) for item in items]  # "ok": all checked
    assigned, leftover, free = assign_slots(items, wanted, valid)
    for slot, item in zip(list(free), leftover):  # invalid questions and questions of other categories take the free slots, as rejects
        free.remove(slot)
        errors = question_errors(item)
        if errors:
            rejects.add(slot, "llm_schema_invalid", "; ".join(errors[:3]), item)
        else:
            rejects.add(slot, "llm_wrong_category", f"category {item['category']}, assigned {', '.join(sorted({c for c, _ in wanted}))}", item)
    extra = max(0, len(leftover) - len(wanted) + len(assigned))
    for slot in free:
        rejects.add(slot, "llm_shortfall", f"the reply has {len(items)} questions for {len(wanted)} slots")

    kept: Rows = []
    asked: set[str] = set()
    for slot in sorted(assigned):
        item = assigned[slot]
        reason, detail, found = check_question(item, scene, asked)
        if reason is not None:
            rejects.add(slot, reason, detail, item)
            continue
        options = [o.strip() for o in item["options"]]
        question = item["question"].strip()
        asked.add(question.lower())
        kept.append({
            "sample_id": f"{image_id}:{slot}", "image_id": image_id, "category": wanted[slot][0], "question": question,
            "options": options, "answer": item["answer"], "answer_text": options[LETTERS.index(item["answer"])],
            "level": item["level"], "rating": item["rating"], "focus": focus_json(found),
            "args": json.dumps({"reply": item}, ensure_ascii=False), "template": None,
            "generator": model,
        })
    return kept, rejects.in_slot_order(), extra


async def image_rows(client: "LLMClient", scene: dict[str, Any], cfg: GenerateConfig, admission: asyncio.Semaphore) -> tuple[Rows, Rows, int]:
    # Prompts are built only by admitted images, just before a request slot frees: building all of a large
    # window's prompts first would keep the event loop from sending anything meanwhile.
    async with admission:
        wanted = slots(scene["image_id"], cfg)
        reply = await client.complete_json(messages(scene, wanted, SceneView(scene)), response_schema(), check=reply_error)
        return rows_from_reply(reply, scene, wanted, cfg.llm.model)


def llm_questions(scenes_path: Path, cfg: GenerateConfig, ctx: GenerateContext) -> Iterator[tuple[Rows, Rows]]:
    """Image by image, in file order, while up to `concurrency` requests are in flight."""
    llm = cfg.llm
    usage = Usage(llm.price_in, llm.price_out, llm.max_cost)
    cache_ = ResponseCache(cache_path(llm, ctx.run_dir))
    window = max(256, 16 * llm.concurrency)  # images ahead of the one being handed over: bounded memory, no stalls
    started, rejects, extra = time.monotonic(), 0, 0
    loop = event_loop()

    async def start() -> tuple["LLMClient", asyncio.Semaphore]:
        from ...llm.client import LLMClient  # imports openai: only when a build uses the LLM

        return LLMClient(llm, cache_, usage), asyncio.Semaphore(2 * llm.concurrency)

    client, admission = loop.run(start())
    ledger = BatchLedger(ctx.run_dir / BATCH_FILE) if llm.batch else None
    # (The runner has the cyclic GC collect less often while a stage runs: each image allocates thousands of
    # small containers.) Small batches: converting a batch to Python holds the GIL, and the event loop waits meanwhile.
    all_rows = lambda: (image_rows(client, scene, cfg, admission) for scene in iter_scene_file(scenes_path, SCENE_COLUMNS, batch_rows=32))  # noqa: E731
    try:
        if ledger is not None:
            loop.run(_through_batches(client, ledger, cache_, llm, all_rows, ctx))
        with closing(in_order(loop, all_rows(), window)) as results:
            for kept, rejected, more in results:
                rejects, extra = rejects + len(rejected), extra + more
                ctx.task.status(usage.status(time.monotonic() - started, f"{rejects:,} rejects"))
                yield kept, rejected
        if client.queue is not None and client.queue.requests:
            ids = loop.run(send_queue(client, ledger))
            ctx.incomplete = (f"{len(client.queue.requests):,} requests sent as {len(ids)} batch(es) ({', '.join(ids)}); run the same "
                              "build again when they are done (a day at most) to collect them, or pass --batch-wait")
        elif client.queue is not None and client.queue.pending:
            ctx.incomplete = "batches sent earlier are still running; run the same build again later to collect them"
    finally:
        try:
            loop.run(client.aclose())
        finally:
            loop.close()
            cache_.close()
    ctx.counters.update(usage.counters())
    ctx.counters["llm_extra_questions"] = extra
    unsent = [f"{usage.failures:,} requests failed after {llm.max_retries} retries"] if usage.failures else []
    unsent += [f"--max-cost ${llm.max_cost:g} reached: {usage.not_sent:,} requests not sent"] if usage.not_sent else []
    if unsent:
        ctx.incomplete = "; ".join(unsent + ([ctx.incomplete] if ctx.incomplete else [])) + ". Run the build again to send them (answered requests come from the cache)."


async def _through_batches(client: "LLMClient", ledger: BatchLedger, cache_: ResponseCache, llm, all_rows, ctx: GenerateContext) -> None:
    """--batch: collect the finished batches into the cache, then queue what is still missing. With --batch-wait,
    send the queue, wait, collect, and again (re-asks need their first replies) until nothing is missing or a round
    brings nothing new; the pass that makes the rows then reads everything from the cache."""

    await collect_for(client, ledger, cache_)
    while llm.batch_wait:
        usage, client.usage = client.usage, Usage(llm.price_in, llm.price_out)  # a pass that only queues: not the run's usage
        for coro in all_rows():  # nothing is sent here, the rows are dropped
            await coro
        client.usage = usage
        if not client.queue.requests and not client.queue.pending:
            return
        before = len(cache_)
        if client.queue.requests:
            await send_queue(client, ledger)
        await wait(client.sdk, ledger, llm.batch_poll_seconds, ctx.task.status)
        await collect_for(client, ledger, cache_)
        if len(cache_) == before:
            return  # nothing came back (all expired or failed): the rows say so, the next run tries again


@dataclass(frozen=True)
class Plan:
    """What a build would send (`--dry-run`): requests not in the cache yet, and estimated tokens and cost."""

    images: int
    requests: int
    cached: int
    input_tokens: int
    output_tokens: int
    cost: float
    priced: bool


def plan(scenes_path: Path, cfg: GenerateConfig, run_dir: Path) -> Plan:
    llm = cfg.llm
    path = cache_path(llm, run_dir)
    cache_ = ResponseCache(path) if path.exists() else None
    images = requests = tokens_in = tokens_out = 0
    try:
        for scene in iter_scene_file(scenes_path, SCENE_COLUMNS):
            images += 1
            wanted = slots(scene["image_id"], cfg)
            chat = messages(scene, wanted)
            if cache_ is not None and cache_.get(request_key(llm.base_url, llm.model, chat, params_of(llm))) is not None:
                continue
            requests += 1
            tokens_in += estimate_message_tokens(chat)
            tokens_out += OUTPUT_TOKENS_PER_QUESTION * len(wanted)
    finally:
        if cache_ is not None:
            cache_.close()
    cost = Usage(llm.price_in, llm.price_out).cost_of(tokens_in, tokens_out)
    return Plan(images, requests, images - requests, tokens_in, tokens_out, cost, bool(llm.price_in or llm.price_out))


def llm_inputs(cfg: GenerateConfig) -> list[Path]:
    """Files whose content decides the LLM's questions (they join the stage key): the prompt, the reply schema and
    the category modules, whose lines the prompt includes."""
    if cfg.generator != "llm":
        return []
    categories = [Path(sys.modules[c.check.__module__].__file__) for c in REGISTRY]
    return [resource_path("prompts", PROMPT_FILE), resource_path("schemas", f"{SCHEMA}.schema.json"), *categories]

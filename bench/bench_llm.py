"""Benchmark: LLM question generation against a loopback chat-completions server that answers every request
after 200 ms, three clients in the same run, sending the same requests (one per image, all its slots):

* sequential: one request at a time with the `openai` SDK's sync client (the reference pipeline's way);
* bare SDK: `AsyncOpenAI` with 64 requests in flight (a semaphore and `asyncio.gather`), replies `json.loads`-ed;
* stvqa: the generate stage of `stvqa build --generator llm --concurrency 64` (prompts, cache, checks, rows in order).

Then stvqa once more against a server that answers 5% of requests 429 (with Retry-After) or 500 the first
time: the rows must equal the clean run's (no sample lost). Input tokens per kept sample are counted from
the usage the server reports. The server runs in a process of its own; it answers each image with the
questions the template generator writes for it, so the checks and verify keep a realistic share.

    python bench/bench_llm.py                      # 2,000 requests per client (the sequential one takes ~7 min)
    python bench/bench_llm.py --requests 300 --sequential 50   # quick
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import hashlib
import json
import multiprocessing as mp
import shutil
import sys
import threading
import time
from collections import Counter
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import openai  # noqa: E402
import polars as pl  # noqa: E402

from stvqa.llm.config import LLMConfig  # noqa: E402
from stvqa.llm.fake_server import ChatServer, FakeReply  # noqa: E402
from stvqa.stages.generate.config import GenerateConfig  # noqa: E402
from stvqa.hashing import unit  # noqa: E402
from stvqa.stages.generate.llm_prompt import messages, slots  # noqa: E402
from stvqa.stages.generate.templates import generate_for_scene  # noqa: E402
from stvqa.pipeline.rundir import RunDir  # noqa: E402
from stvqa.stages.load.scenes import iter_scene_file  # noqa: E402
from stvqa.stages import BuildConfig, build  # noqa: E402
from stvqa.stages.load import LoadConfig  # noqa: E402

LATENCY = 0.2
MODEL = "bench-model"


def digest(text: str) -> str:
    return hashlib.sha1(text.encode()).hexdigest()


def replies_for(scenes: list[dict], cfg: GenerateConfig) -> dict[str, str]:
    """user message -> the reply: the template generator's questions for that image, in the LLM's format."""
    out = {}
    for scene in scenes:
        user = messages(scene, slots(scene["image_id"], cfg))[1]["content"]
        rows = generate_for_scene(scene, cfg, Counter())
        questions = [{"question": r["question"], "options": r["options"], "answer": r["answer"], "category": r["category"],
                      "level": r["level"], "rating": r["rating"]} for r in rows]
        out[digest(user)] = json.dumps({"questions": questions})
    return out


def scripted_data(work: Path, images: int) -> tuple[Path, list[dict], dict[str, str]]:
    """Synthetic VG of `images` images, its scenes as stvqa loads them, and the replies a server gives for them."""
    import synthetic_vg
    from stvqa.pipeline.runner import run_stages
    from stvqa.stages import load

    data_dir = synthetic_vg.cached(work, "vg-synthetic-llm", images)
    scenes_run = work / "llm-scenes"
    shutil.rmtree(scenes_run, ignore_errors=True)
    run_stages(RunDir.open(scenes_run), [(load.STAGE, LoadConfig(source="vg", data_dir=str(data_dir), limit=images))])
    scenes = list(iter_scene_file(scenes_run / "scenes.parquet"))
    return data_dir, scenes, replies_for(scenes, GenerateConfig(generator="llm", llm=LLMConfig(model=MODEL)))


def serve(replies: dict[str, str], fault_rate: float, ports) -> None:
    failed: set[str] = set()

    def handler(request, n):
        key = digest(request["messages"][-1]["content"])
        if fault_rate and key not in failed and unit("fault", key) < fault_rate:
            failed.add(key)  # each unlucky request fails once, its retry succeeds
            if unit("kind", key) < 0.5:
                return FakeReply(status=429, headers={"Retry-After": "1"}, body={"error": {"message": "rate limited", "type": "rate_limit"}})
            return FakeReply(status=500)
        return FakeReply(content=replies.get(key, '{"questions": []}'))

    server = ChatServer(handler, latency=LATENCY).start()
    ports.put(server.port)
    threading.Event().wait()  # until the bench kills this process


def start_server(replies: dict[str, str], fault_rate: float = 0.0) -> tuple[mp.Process, str]:
    ports = mp.get_context("fork").Queue()
    process = mp.get_context("fork").Process(target=serve, args=(replies, fault_rate, ports), daemon=True)
    process.start()
    return process, f"http://127.0.0.1:{ports.get(timeout=30)}/v1"


def sequential(url: str, prompts: list[list[dict]]) -> dict:
    client = openai.OpenAI(base_url=url, api_key="bench")
    started = time.perf_counter()
    parsed = 0
    for chat in prompts:
        reply = client.chat.completions.create(model=MODEL, messages=chat, temperature=0.7, max_tokens=2048)
        parsed += len(json.loads(reply.choices[0].message.content)["questions"]) >= 0
    seconds = time.perf_counter() - started
    return {"requests": len(prompts), "seconds": round(seconds, 2), "requests_per_s": round(len(prompts) / seconds, 2)}


def bare_sdk(url: str, prompts: list[list[dict]], concurrency: int) -> dict:
    async def main() -> int:
        client = openai.AsyncOpenAI(base_url=url, api_key="bench")
        slots_ = asyncio.Semaphore(concurrency)

        async def one(chat) -> int:
            async with slots_:
                reply = await client.chat.completions.create(model=MODEL, messages=chat, temperature=0.7, max_tokens=2048)
            return len(json.loads(reply.choices[0].message.content)["questions"])

        try:
            return sum(await asyncio.gather(*(one(c) for c in prompts)))
        finally:
            await client.close()

    started = time.perf_counter()
    questions = asyncio.run(main())
    seconds = time.perf_counter() - started
    return {"requests": len(prompts), "questions": questions, "seconds": round(seconds, 2), "requests_per_s": round(len(prompts) / seconds, 1)}


def stvqa_run(url: str, data_dir: Path, run_path: Path, limit: int, concurrency: int) -> dict:
    shutil.rmtree(run_path, ignore_errors=True)
    llm = LLMConfig(base_url=url, model=MODEL, concurrency=concurrency, price_in=0.4, price_out=1.6)
    generate = GenerateConfig(generator="llm", llm=llm)
    cfg = BuildConfig(load=LoadConfig(source="vg", data_dir=str(data_dir), limit=limit))
    cfg = BuildConfig(load=cfg.load, generate=generate, verify=type(cfg.verify)(thresholds=generate.thresholds), export=type(cfg.export)(embed_images=False))
    results = {r.name: r.record for r in build(RunDir.open(run_path), cfg)}
    gen = results["generate"]
    counters = gen["stats"]["counters"]
    kept_verify = results["verify"]["stats"]["kept"]
    return {
        "requests": counters["llm_requests"], "seconds_generate_stage": gen["seconds"],
        "requests_per_s": round(counters["llm_requests"] / gen["seconds"], 1),
        "retries": counters["llm_retries"], "failures": counters["llm_failures"],
        "questions_generated": gen["stats"]["kept"], "rejected_by_checks": sum(gen["stats"]["dropped"].values()),
        "kept_after_verify": kept_verify, "kept_after_export": results["export"]["stats"]["kept"],
        "input_tokens": counters["llm_input_tokens"], "output_tokens": counters["llm_output_tokens"],
        "input_tokens_per_request": round(counters["llm_input_tokens"] / max(counters["llm_requests"], 1)),
        "input_tokens_per_kept_sample": round(counters["llm_input_tokens"] / max(kept_verify, 1)),
        "cost_usd_at_0.4_1.6": counters["llm_cost_usd"],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--requests", type=int, default=2000, help="images, one request each")
    parser.add_argument("--sequential", type=int, default=None, help="requests for the sequential loop (default: all)")
    parser.add_argument("--concurrency", type=int, default=64)
    parser.add_argument("--rounds", type=int, default=2, help="rounds of the two concurrent clients (the best is reported)")
    parser.add_argument("--work", type=Path, default=HERE / "out")
    args = parser.parse_args()

    data_dir, scenes, replies = scripted_data(args.work, args.requests)
    cfg = GenerateConfig(generator="llm", llm=LLMConfig(model=MODEL))
    prompts = [messages(s, slots(s["image_id"], cfg)) for s in scenes]  # the very prompts stvqa's generator sends

    # The inputs held for the other clients (2,000 scenes, prompts and replies) would make every collection of
    # Python's cyclic GC walk them, taxing whichever client runs; a real build holds none of them.
    gc.collect()
    gc.freeze()
    server, url = start_server(replies)
    report: dict = {"requests": len(prompts), "latency_s": LATENCY, "concurrency": args.concurrency}
    try:
        bare, ours = [], []
        for r in range(args.rounds):
            bare.append(bare_sdk(url, prompts, args.concurrency))
            ours.append(stvqa_run(url, data_dir, args.work / f"llm-run-{r}", args.requests, args.concurrency))
            print(f"round {r}: bare {bare[-1]['requests_per_s']}/s, stvqa {ours[-1]['requests_per_s']}/s", flush=True)
        report["bare_sdk"] = max(bare, key=lambda x: x["requests_per_s"])
        report["stvqa"] = max(ours, key=lambda x: x["requests_per_s"])
        report["bare_sdk_rounds_per_s"] = [b["requests_per_s"] for b in bare]
        report["stvqa_rounds_per_s"] = [o["requests_per_s"] for o in ours]
        report["sequential"] = sequential(url, prompts[: args.sequential or len(prompts)])
    finally:
        server.kill()
    faulty, url = start_server(replies, fault_rate=0.05)
    try:
        report["stvqa_with_5pct_429_500"] = stvqa_run(url, data_dir, args.work / "llm-run-faults", args.requests, args.concurrency)
    finally:
        faulty.kill()
    clean = pl.read_parquet(args.work / "llm-run-0" / "qa_generated.parquet")
    with_faults = pl.read_parquet(args.work / "llm-run-faults" / "qa_generated.parquet")
    report["lost_samples_with_faults"] = clean.height - with_faults.height
    report["rows_identical_with_faults"] = clean.equals(with_faults)
    report["stvqa_over_sequential"] = round(report["stvqa"]["requests_per_s"] / report["sequential"]["requests_per_s"], 1)
    report["stvqa_over_bare_sdk"] = round(report["stvqa"]["requests_per_s"] / report["bare_sdk"]["requests_per_s"], 3)
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()

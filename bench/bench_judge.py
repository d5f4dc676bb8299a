"""Benchmark: the vlm judge of `stvqa filter` against a loopback chat-completions server that answers every
request after 200 ms, two clients in the same run, sending the same requests (one per try: k tries per
question, each with the options in another order, its `seed` and the image as a data URL):

* bare SDK: `AsyncOpenAI` with 64 requests in flight (a semaphore and `asyncio.gather`), the messages
  prepared beforehand (images already read, downscaled and base64-encoded);
* stvqa: the filter stage, `--judge vlm --concurrency 64 --k 4`, through the library (`run_stages`), a fresh
  judge cache each time (reading the images, downscaling them to `--judge-max-side`, the requests, the
  cache, the votes, the funnel and the tables, timed by the stage's own clock).

The server runs in a process of its own and answers each try with the letter the question's answer has in
that try's order; it keeps a digest of every request body (canonical JSON), so the bench checks that both
clients sent the very same requests. Then the image payload: what a judged question costs in image bytes at
the default `--judge-max-side 640` against the stored image as it is, on the two real Visual Genome photos
(../shared/vg_sample), the bundled sample and the bench's own images.

Inputs: synthetic Visual Genome (`synthetic_vg.py`) with a JPEG per image, cut from the two real VG photos
(random crop and mirror, scaled to the scene's size, saved at VG's own JPEG quality, 75), built by stvqa
(load -> generate -> verify -> debias); the first `--requests / k` questions left after dedup are judged.

    python bench/bench_judge.py                             # 2,000 requests per client, 3 rounds; ~1.5 min
    python bench/bench_judge.py --requests 400 --rounds 1   # quick, ~30 s
    python bench/bench_judge.py --profile                   # then cProfile one more stvqa run: where its time goes
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import cProfile
import gc
import hashlib
import io
import json
import math
import multiprocessing as mp
import pstats
import random
import re
import shutil
import sys
import threading
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import openai  # noqa: E402
import polars as pl  # noqa: E402

from stvqa.stages.filter.judges.prompt import KINDS, judge_image, messages, try_order  # noqa: E402
from stvqa.llm.config import LLMConfig  # noqa: E402
from stvqa.llm.fake_server import ChatServer, FakeReply  # noqa: E402
from stvqa.stages.filter import curate  # noqa: E402
from stvqa.images import read_image  # noqa: E402
from stvqa.records import LETTERS  # noqa: E402
from stvqa.pipeline.rundir import RunDir  # noqa: E402
from stvqa.pipeline.runner import run_stages  # noqa: E402
from stvqa.stages.load.scenes import iter_scene_file  # noqa: E402
from stvqa.stages import stage  # noqa: E402
from stvqa.stages.filter import FilterConfig  # noqa: E402
from stvqa.stages.load import LoadConfig  # noqa: E402

LATENCY = 0.2
MODEL = "bench-judge"
VG_SAMPLE = HERE.parent.parent / "shared" / "vg_sample"  # the project sits next to ../shared
PHOTOS = [VG_SAMPLE / "images" / "1.jpg", VG_SAMPLE / "images" / "2.jpg"]
VLM = KINDS["vlm"]
_OPTION = re.compile(r"^\(([A-D])\) (.*)$", re.M)


# Inputs ---------------------------------------------------------------------------------------------------


def write_images(data_dir: Path, seed: int = 0) -> None:
    """A JPEG for every synthetic scene, at the size its image_data.json gives: a random crop (70-100% of a
    side) of one of the two real VG photos, mirrored half of the time, scaled to the scene's size and saved
    with VG's own quantisation (quality 75, 4:2:0), so that sizes and decoding costs are a real photo's."""
    from PIL import Image, ImageOps

    folder = data_dir / "VG_100K"
    if (folder / "_COMPLETE").exists():
        return
    folder.mkdir(exist_ok=True)
    photos = [Image.open(p).convert("RGB") for p in PHOTOS]
    rng = random.Random(seed)
    for record in json.loads((data_dir / "image_data.json").read_text()):
        photo = photos[rng.randrange(len(photos))]
        share = rng.uniform(0.7, 1.0)
        w, h = round(photo.width * share), round(photo.height * share)
        x, y = rng.randint(0, photo.width - w), rng.randint(0, photo.height - h)
        im = photo.crop((x, y, x + w, y + h))
        if rng.random() < 0.5:
            im = ImageOps.mirror(im)
        im.resize((record["width"], record["height"]), Image.Resampling.BICUBIC).save(folder / f"{record['image_id']}.jpg", quality=75)
    (folder / "_COMPLETE").write_text("ok")


def build_base(work: Path, questions: int) -> tuple[Path, Path]:
    """(a run holding scenes.parquet and exactly `questions` deduplicated questions in qa_debiased.parquet,
    the data dir): synthetic VG with images, built by stvqa up to debias."""
    import synthetic_vg

    images = max(50, questions)  # about 1.4 questions per image survive debias and dedup: enough
    data_dir = synthetic_vg.cached(work, "vg-synthetic-judge", images)
    write_images(data_dir)
    base = work / f"judge-base-{questions}"
    load_cfg = LoadConfig(source="vg", data_dir=str(data_dir))
    stages = [(stage(s), load_cfg if s == "load" else stage(s).config()) for s in ("load", "generate", "verify", "debias")]
    run_stages(RunDir.open(base), stages)
    if not (base / "qa_debiased.full.parquet").exists():
        shutil.copy(base / "qa_debiased.parquet", base / "qa_debiased.full.parquet")
    rows, _ = curate.dedup(pl.read_parquet(base / "qa_debiased.full.parquet").to_dicts())
    # The judge takes the images in the scenes file's order: keep the first `questions` in that order.
    order = {s["image_id"]: i for i, s in enumerate(iter_scene_file(base / "scenes.parquet", columns=["image_id"]))}
    rows.sort(key=lambda r: order.get(r["image_id"], len(order)))  # stable: an image's rows keep their order
    if len(rows) < questions:
        raise SystemExit(f"only {len(rows)} questions after dedup; raise the images in build_base")
    keep = {r["sample_id"] for r in rows[:questions]}
    full = pl.read_parquet(base / "qa_debiased.full.parquet")
    full.filter(pl.col("sample_id").is_in(keep)).write_parquet(base / "qa_debiased.parquet")
    return base, data_dir


def judged_requests(base: Path, data_dir: Path, k: int, seed: int, max_side: int | None) -> tuple[list[tuple[list[dict], int]], dict, float]:
    """The requests the vlm judge sends for the base run, in its order: (messages, seed) per try; the truth
    the server answers from ((question, options) -> answer text); the CPU seconds spent preparing the images
    (read, decode, downscale, encode, base64), which stvqa's run spends too and the bare SDK's does not."""
    rows = pl.read_parquet(base / "qa_debiased.parquet").to_dicts()
    by_image: dict[str, list[dict]] = {}
    for row in rows:
        by_image.setdefault(row["image_id"], []).append(row)
    columns = ["image_id", "width", "height", "image_path", "image_status", "image_bytes"]
    out, truth = [], {}
    cpu = 0.0
    for scene in iter_scene_file(base / "scenes.parquet", columns=columns):
        if scene["image_id"] not in by_image:
            continue
        started = time.thread_time()
        image = judge_image(read_image(scene, data_dir), max_side)
        cpu += time.thread_time() - started
        for row in by_image.pop(scene["image_id"]):
            truth[(row["question"], frozenset(row["options"]))] = row["answer_text"]
            for t in range(k):
                out.append((messages(VLM, row, try_order(row["sample_id"], len(row["options"]), t, seed), image), t))
    assert not by_image, "every question's image is in the scenes file"
    return out, truth, cpu


def sent_as_stored_cost(base: Path, data_dir: Path, max_side: int | None) -> dict:
    """For the judged images that are sent as stored (they fit `max_side`): CPU seconds `judge_image` spends
    on them (it decodes every pixel, `im.load()`) against reading only the header for the size, plus the base64."""
    from PIL import Image

    images = set(pl.read_parquet(base / "qa_debiased.parquet")["image_id"])
    columns = ["image_id", "width", "height", "image_path", "image_status", "image_bytes"]
    full = header = 0.0
    n = 0
    for scene in iter_scene_file(base / "scenes.parquet", columns=columns):
        if scene["image_id"] not in images or (max_side is not None and max(scene["width"], scene["height"]) > max_side):
            continue
        data = read_image(scene, data_dir)
        started = time.thread_time()
        judge_image(data, max_side)
        full += time.thread_time() - started
        started = time.thread_time()
        with Image.open(io.BytesIO(data)) as im:
            _ = im.size
        f"data:image/jpeg;base64,{base64.b64encode(data).decode()}"
        header += time.thread_time() - started
        n += 1
    return {"images": n, "judge_image_ms_per_image": round(1000 * full / max(n, 1), 3), "header_only_ms_per_image": round(1000 * header / max(n, 1), 3)}


def key_and_cache_costs(requests: list[tuple[list[dict], int]], work: Path) -> dict:
    """What stvqa's client adds per request around the SDK, timed alone: the cache key (canonical JSON of
    the messages with their data URL, SHA-256) and a cache miss and write in a fresh SQLite file."""
    from stvqa.llm.cache import ResponseCache, request_key
    from stvqa.llm.config import params_of
    from stvqa.pipeline.rundir import canonical_json

    params = params_of(LLMConfig())
    sample = requests[:200]

    def per_request(fn) -> float:
        best = math.inf
        for _ in range(5):
            started = time.perf_counter()
            for chat, seed in sample:
                fn(chat, seed)
            best = min(best, (time.perf_counter() - started) / len(sample))
        return round(1000 * best, 4)

    path = work / "judge-cache-timing.sqlite"
    for leftover in work.glob("judge-cache-timing.sqlite*"):
        leftover.unlink()
    cache = ResponseCache(path)
    keys = [request_key("http://127.0.0.1/v1", MODEL, chat, {**params, "seed": seed}) for chat, seed in requests]
    started = time.perf_counter()
    for key in keys:
        cache.put(key, base_url="http://127.0.0.1/v1", model=MODEL, reply="B", input_tokens=900, output_tokens=1)
    put = (time.perf_counter() - started) / len(keys)
    cache.close()
    return {"data_url_chars": len(sample[0][0][0]["content"][0]["image_url"]["url"]),
            "request_key_ms": per_request(lambda chat, seed: request_key("http://127.0.0.1/v1", MODEL, chat, {**params, "seed": seed})),
            "of_which_canonical_json_ms": per_request(lambda chat, seed: canonical_json({"messages": chat, "seed": seed})),
            "cache_put_ms": round(1000 * put, 4)}


# The server -----------------------------------------------------------------------------------------------


class CountingServer(ChatServer):
    """The fake server, counting request body bytes and keeping a digest of each body (canonical JSON)
    instead of the bodies themselves."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.body_bytes = 0
        self.digests: list[str] = []

    async def _answer(self, method, path, headers, body, writer):
        self.body_bytes += len(body)
        return await super()._answer(method, path, headers, body, writer)


def serve(truth: dict, ports, control) -> None:
    server: CountingServer

    def handler(request: dict, n: int) -> FakeReply:
        server.digests.append(hashlib.sha1(json.dumps(request, sort_keys=True, separators=(",", ":")).encode()).hexdigest())
        server.bodies.clear()  # the digest is enough; 2,000 image bodies would pile up
        server.authorizations.clear()
        text = next(p["text"] for p in request["messages"][0]["content"] if p["type"] == "text")
        shown = _OPTION.findall(text)
        question = text.split("\n(A) ")[0].split("\n")[-1]
        answer = truth.get((question, frozenset(o for _, o in shown)))
        letter = next((letter for letter, option in shown if option == answer), "A")
        return FakeReply(content=letter)  # as the prompt asks: the letter alone

    server = CountingServer(handler, latency=LATENCY).start()
    ports.put(server.port)
    last_cpu = time.process_time()
    while True:  # "take": what was received since the last take, and the server's CPU seconds
        control.recv()
        digests, server.digests = server.digests, []
        body_bytes, server.body_bytes = server.body_bytes, 0
        times, server.times = server.times, []  # arrivals (time.monotonic: the same clock in every process)
        cpu = time.process_time()
        control.send({"requests": len(digests), "digest": hashlib.sha1("\n".join(sorted(digests)).encode()).hexdigest(),
                      "body_bytes": body_bytes, "max_in_flight": server.max_in_flight, "cpu_s": round(cpu - last_cpu, 3),
                      "times": times})
        last_cpu = cpu
        server.max_in_flight = 0


def timeline(seen: dict, started: float, ended: float, concurrency: int) -> dict:
    """From the arrival times of the requests at the server: how long before the first request left the
    client, how long until `concurrency` requests had been sent (the pipe filled), and the steady rate of
    arrivals after that (fixed costs at the start and the end left out)."""
    times = sorted(seen.pop("times"))
    full = times[min(concurrency, len(times)) - 1]
    filling = times[: min(concurrency, len(times))]
    pauses = [[round(b - times[0], 3), round(b - a, 3)] for a, b in zip(filling, filling[1:]) if b - a > 0.05]
    return {"to_first_request_s": round(times[0] - started, 3), "first_to_full_s": round(full - times[0], 3),
            "pauses_while_filling_s": pauses,  # [when the next request came, after how long a pause]
            "last_request_to_end_s": round(ended - times[-1], 3),
            "steady_requests_per_s": round((len(times) - concurrency) / (times[-1] - full), 1) if times[-1] > full else None}


class Server:
    def __init__(self, truth: dict) -> None:
        ctx = mp.get_context("fork")
        ports = ctx.Queue()
        self.control, theirs = ctx.Pipe()
        self.process = ctx.Process(target=serve, args=(truth, ports, theirs), daemon=True)
        self.process.start()
        self.url = f"http://127.0.0.1:{ports.get(timeout=30)}/v1"

    def take(self) -> dict:
        self.control.send("take")
        return self.control.recv()

    def kill(self) -> None:
        self.process.kill()
        self.process.join()


# The clients ----------------------------------------------------------------------------------------------


def bare_sdk(url: str, requests: list[tuple[list[dict], int]], concurrency: int, temperature: float, max_tokens: int) -> dict:
    async def main() -> int:
        client = openai.AsyncOpenAI(base_url=url, api_key="bench")
        slots = asyncio.Semaphore(concurrency)

        async def one(chat: list[dict], seed: int) -> int:
            async with slots:
                reply = await client.chat.completions.create(model=MODEL, messages=chat, temperature=temperature,
                                                             max_tokens=max_tokens, seed=seed)
            return (reply.choices[0].message.content or "").strip()[:1] in LETTERS

        try:
            return sum(await asyncio.gather(*(one(c, s) for c, s in requests)))
        finally:
            await client.close()

    started, cpu = time.perf_counter(), time.process_time()
    votes = asyncio.run(main())
    seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
    return {"requests": len(requests), "votes": votes, "seconds": round(seconds, 2), "requests_per_s": round(len(requests) / seconds, 1),
            "cpu_ms_per_request": round(1000 * cpu / len(requests), 3)}


def stvqa_run(url: str, base: Path, run_path: Path, concurrency: int, k: int, max_side: int | None,
              profile: cProfile.Profile | None = None, **filter_options) -> dict:
    """The filter stage with the vlm judge on a copy of the base run (so a fresh RUN/judge_cache.sqlite)."""
    shutil.rmtree(run_path, ignore_errors=True)
    shutil.copytree(base, run_path, ignore=shutil.ignore_patterns("qa_debiased.full.parquet", "*.sqlite*"))
    llm = LLMConfig(base_url=url, model=MODEL, concurrency=concurrency)
    cfg = FilterConfig(judges=("vlm",), llm=llm, k=k, judge_max_side=max_side, **filter_options)
    cpu = time.process_time()  # all threads: the images are prepared on worker threads
    if profile is not None:
        profile.enable()
    try:
        [result] = run_stages(RunDir.open(run_path), [(stage("filter"), cfg)], force=True)
    finally:
        if profile is not None:
            profile.disable()
    cpu = time.process_time() - cpu
    record = result.record
    vlm = json.loads((run_path / "filter_report.json").read_text())["judges"]["vlm"]
    return {
        "requests": vlm["requests"], "seconds_filter_stage": record["seconds"],
        "requests_per_s": round(vlm["requests"] / record["seconds"], 1),
        "cache_hits": vlm["cache_hits"], "retries": vlm["retries"], "failures": vlm["failures"],
        "questions_in": record["stats"]["in"], "questions_kept": record["stats"]["kept"],
        "image_bytes_per_question": vlm.get("image_bytes_per_question"),
        "cpu_ms_per_request": round(1000 * cpu / max(vlm["requests"], 1), 3),  # the whole stage, run_stages included
    }


# The image payload ----------------------------------------------------------------------------------------


def payload(paths: list[Path], k: int, sides: tuple[int | None, ...] = (640, None)) -> dict:
    """Per setting: the image's sides, its encoded bytes (what filter_report.json counts per question) and
    the base64 characters of the k data URLs a question sends, averaged over `paths`."""
    out = {}
    for side in sides:
        images = [judge_image(p.read_bytes(), side) for p in paths]
        out[str(side)] = {
            "sides": sorted({f"{i.width}x{i.height}" for i in images}),
            "image_bytes_per_question": round(sum(i.size for i in images) / len(images)),
            "data_url_chars_per_question": round(k * sum(len(i.url) for i in images) / len(images)),
        }
    stored = [p.stat().st_size for p in paths]
    out["stored_bytes"] = round(sum(stored) / len(stored))
    return out


def report_payload(work: Path, name: str, load_cfg: LoadConfig, url: str, k: int) -> dict:
    """A small build (template questions) filtered with the vlm judge at 640 and as stored: the
    report's `image_bytes_per_question` for each."""
    base = work / f"judge-payload-{name}"
    stages = [(stage(s), load_cfg if s == "load" else stage(s).config()) for s in ("load", "generate", "verify", "debias")]
    run_stages(RunDir.open(base), stages)
    out = {}
    for side in (640, None):
        # The server knows only the bench's questions (it names option A here): keep whatever it says.
        got = stvqa_run(url, base, work / f"judge-payload-{name}-{side}", 8, k, side, min_consistency=0.0)
        out[str(side)] = {"questions": got["questions_in"], "requests": got["requests"], "image_bytes_per_question": got["image_bytes_per_question"]}
    return out


def real_vg_dir(work: Path) -> Path:
    """The two real VG images with their real v1.2 records, in a layout the vg loader reads."""
    target = work / "vg-real-2"
    (target / "images").mkdir(parents=True, exist_ok=True)
    for f in (VG_SAMPLE / "v1.2").glob("*.json"):
        shutil.copy(f, target / f.name)
    for p in PHOTOS:
        shutil.copy(p, target / "images" / p.name)
    return target


def profile_summary(profile: cProfile.Profile, work: Path) -> str:
    """The whole profile to work/judge-profile.{txt,pstats}; returned: the top of it by own time and stvqa's
    functions (and the JSON encoder, SQLite and hashing they call) by cumulative time, seconds and share."""
    profile.dump_stats(work / "judge-profile.pstats")
    out = io.StringIO()
    stats = pstats.Stats(profile, stream=out)
    stats.sort_stats("tottime").print_stats(25)
    (work / "judge-profile.txt").write_text(out.getvalue())
    total = stats.total_tt
    lines = [out.getvalue().split("\n\n\n")[0], f"stvqa by cumulative time (of {total:.2f} s):"]
    rows = sorted(((ct, nc, f"{path.split('/work/main/')[-1]}:{line}({name})") for (path, line, name), (_, nc, _, ct, _) in stats.stats.items()
                   if "stvqa/" in path or name in ("iterencode", "<built-in method _hashlib.openssl_sha256>", "<method 'execute' of 'sqlite3.Connection' objects>")),
                  reverse=True)
    lines += [f"{ct:8.3f} s {100 * ct / total:5.1f}% {nc:7d}  {name}" for ct, nc, name in rows[:25]]
    return "\n".join(lines)


def ratio(a: float | None, b: float | None) -> float | None:
    return round(a / b, 3) if a and b else None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--requests", type=int, default=2000, help="requests per client (questions = requests / k)")
    parser.add_argument("--concurrency", type=int, default=64)
    parser.add_argument("--k", type=int, default=4, help="tries per question")
    parser.add_argument("--judge-max-side", type=int, default=640, help="0: send the stored images")
    parser.add_argument("--rounds", type=int, default=3, help="rounds of the two clients, alternating which goes first")
    parser.add_argument("--profile", action="store_true", help="then one more stvqa run under cProfile: where its time goes")
    parser.add_argument("--work", type=Path, default=HERE / "out")
    args = parser.parse_args()
    max_side = args.judge_max_side or None
    work = args.work

    questions = args.requests // args.k
    base, data_dir = build_base(work, questions)
    requests, truth, image_cpu = judged_requests(base, data_dir, args.k, 0, max_side)
    _, _, image_cpu_as_stored = judged_requests(base, data_dir, args.k, 0, None)
    as_stored_cost = {str(side): sent_as_stored_cost(base, data_dir, side) for side in (max_side, None)}
    defaults = LLMConfig()
    images = pl.read_parquet(base / "qa_debiased.parquet")["image_id"].n_unique()
    report: dict = {"requests": len(requests), "questions": questions, "images": images, "k": args.k, "latency_s": LATENCY,
                    "concurrency": args.concurrency, "judge_max_side": max_side,
                    "image_preparation_cpu_ms_per_request": {str(max_side): round(1000 * image_cpu / len(requests), 3),
                                                             "None": round(1000 * image_cpu_as_stored / len(requests), 3)},
                    "images_sent_as_stored": as_stored_cost, "per_request_costs": key_and_cache_costs(requests, work)}
    # The bench's own inputs (2,000 prepared requests and the truth) would make every collection of Python's
    # cyclic GC walk them, taxing whichever client runs; a real filter run holds none of them.
    gc.collect()
    gc.freeze()
    server = Server(truth)
    try:
        # Warm-up, not timed: the SDK builds its response types and stvqa imports its client on first use.
        bare_sdk(server.url, requests[: args.concurrency], args.concurrency, defaults.temperature, defaults.max_tokens)
        import stvqa.llm.client  # noqa: F401
        server.take()
        bare, ours = [], []
        for r in range(args.rounds):
            for who in (("bare", "stvqa") if r % 2 == 0 else ("stvqa", "bare")):
                started = time.monotonic()
                if who == "bare":
                    got = bare_sdk(server.url, requests, args.concurrency, defaults.temperature, defaults.max_tokens)
                    bare.append(got)
                else:
                    got = stvqa_run(server.url, base, work / "judge-run", args.concurrency, args.k, max_side)
                    ours.append(got)
                ended = time.monotonic()
                seen = server.take()
                got["timeline"] = timeline(seen, started, ended, args.concurrency)
                got["server"] = seen
                print(f"round {r} {who}: {got['requests_per_s']}/s ({seen['requests']} requests, at most {seen['max_in_flight']} in flight)", flush=True)
        same = {(o["server"]["requests"], o["server"]["digest"]) for o in bare + ours}
        report["same_requests_for_both_clients"] = len(same) == 1
        report["bare_sdk"] = max(bare, key=lambda x: x["requests_per_s"])
        report["stvqa"] = max(ours, key=lambda x: x["requests_per_s"])
        report["bare_sdk_rounds_per_s"] = [b["requests_per_s"] for b in bare]
        report["stvqa_rounds_per_s"] = [o["requests_per_s"] for o in ours]
        report["stvqa_over_bare_sdk"] = ratio(report["stvqa"]["requests_per_s"], report["bare_sdk"]["requests_per_s"])
        report["stvqa_over_bare_sdk_by_round"] = [ratio(o["requests_per_s"], b["requests_per_s"]) for o, b in zip(ours, bare)]
        report["steady_stvqa_over_bare_sdk_by_round"] = [ratio(o["timeline"]["steady_requests_per_s"], b["timeline"]["steady_requests_per_s"])
                                                         for o, b in zip(ours, bare)]
        print(json.dumps({k: report[k] for k in ("stvqa_over_bare_sdk", "stvqa_over_bare_sdk_by_round", "steady_stvqa_over_bare_sdk_by_round",
                                                 "same_requests_for_both_clients")}), flush=True)

        # The payload: the bench's images as the judge run sent them, at this setting and as stored.
        as_stored = stvqa_run(server.url, base, work / "judge-run-as-stored", args.concurrency, args.k, None)
        as_stored["server"] = server.take()
        as_stored["server"].pop("times")
        setting = report["stvqa"]
        report["payload_bench_images"] = {
            str(max_side): {"image_bytes_per_question": setting["image_bytes_per_question"],
                            "request_bytes_per_question": round(setting["server"]["body_bytes"] / questions)},
            "None": {"image_bytes_per_question": as_stored["image_bytes_per_question"],
                     "request_bytes_per_question": round(as_stored["server"]["body_bytes"] / questions),
                     "requests_per_s": as_stored["requests_per_s"]},
        }
        report["payload_real_vg_photos"] = payload(PHOTOS, args.k)
        report["payload_real_vg_photos"]["filter_report"] = report_payload(work, "real-vg", LoadConfig(source="vg", data_dir=str(real_vg_dir(work))), server.url, args.k)
        sample_images = sorted((LoadConfig().folder() / "VG_100K").glob("*.jpg"))
        report["payload_bundled_sample"] = payload(sample_images, args.k)
        report["payload_bundled_sample"]["filter_report"] = report_payload(work, "sample", LoadConfig(source="vg"), server.url, args.k)
        real, sample, ours_ = report["payload_real_vg_photos"], report["payload_bundled_sample"], report["payload_bench_images"]
        report["payload_ratio_640_over_stored"] = {
            "real_vg_photos": ratio(real["640"]["image_bytes_per_question"], real["None"]["image_bytes_per_question"]),
            "bundled_sample": ratio(sample["640"]["image_bytes_per_question"], sample["None"]["image_bytes_per_question"]),
            "bench_images": ratio(ours_[str(max_side)]["image_bytes_per_question"], ours_["None"]["image_bytes_per_question"]),
            "bench_images_request_bytes": ratio(ours_[str(max_side)]["request_bytes_per_question"], ours_["None"]["request_bytes_per_question"]),
        }
        server.take()

        if args.profile:
            profile = cProfile.Profile()
            got = stvqa_run(server.url, base, work / "judge-run-profiled", args.concurrency, args.k, max_side, profile)
            print(f"profiled stvqa run: {got['requests_per_s']}/s (slowed by the profiler); the event loop's thread only: "
                  f"images are prepared on worker threads ({report['image_preparation_cpu_ms_per_request'][str(max_side)]} ms CPU a request)")
            print(profile_summary(profile, work))
    finally:
        server.kill()
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()

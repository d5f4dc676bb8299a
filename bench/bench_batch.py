"""Benchmark: `--batch` against direct requests, for the same 2,000 generations (one request per image), from the
same run: HTTP requests and bytes the client sent, tokens, and the cost at list and at batch prices. The loopback
server (stvqa.llm.fake_server, in this process) answers each image with the template generator's questions for it
and speaks the Files and Batches endpoints; it answers a batch as soon as it is created (a provider takes up to a
day). The two datasets must be identical.

    python bench/bench_batch.py                     # 2,000 images, about a minute
    python bench/bench_batch.py --images 300        # quick
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

PRICE_IN, PRICE_OUT = 0.40, 1.60  # USD per million tokens: gpt-4.1-mini's list prices, for the figures only


def run(url: str, data_dir: Path, out: Path, images: int, *batch: str) -> dict:
    from typer.testing import CliRunner

    from stvqa.cli import app

    shutil.rmtree(out, ignore_errors=True)
    result = CliRunner().invoke(app, ["--quiet", "build", "--out", str(out), "--data-dir", str(data_dir), "--limit", str(images),
                                      "--generator", "llm", "--base-url", url, "--model", "bench-model", "--no-images",
                                      "--price-in", str(PRICE_IN), "--price-out", str(PRICE_OUT), *batch])
    if result.exit_code:
        raise SystemExit(f"build failed: {result.output[-2000:]}")
    return json.loads((out / "manifest.json").read_text())["stages"]["generate"]["stats"]["counters"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--images", type=int, default=2000)
    parser.add_argument("--work", type=Path, default=HERE / "out")
    args = parser.parse_args()

    import polars as pl

    from bench_llm import digest, scripted_data
    from stvqa.llm.fake_server import ChatServer, FakeReply

    data_dir, _, replies = scripted_data(args.work, args.images)

    def handler(request, n):
        return FakeReply(content=replies.get(digest(request["messages"][-1]["content"]), '{"questions": []}'))

    report: dict = {"images": args.images, "prices_usd_per_million": [PRICE_IN, PRICE_OUT], "batch_price_factor": 0.5}
    for name, flags in (("direct", ()), ("batch", ("--batch", "--batch-wait", "--batch-poll-seconds", "0"))):
        with ChatServer(handler) as server:
            counters = run(server.url, data_dir, args.work / f"batch-run-{name}", args.images, *flags)
            tokens_in, tokens_out = counters["llm_dataset_input_tokens"], counters["llm_dataset_output_tokens"]  # sent and collected
            report[name] = {"http_requests": server.http_requests, "bytes_sent_by_client": server.bytes_received,
                            "generations": server.requests, "input_tokens": tokens_in, "output_tokens": tokens_out,
                            "batches": len(server.batches.batches),
                            "cost_usd_at_list_price": round((tokens_in * PRICE_IN + tokens_out * PRICE_OUT) / 1e6, 4),
                            "cost_usd_as_billed": round(counters.get("llm_batch_cost_usd", counters["llm_cost_usd"]), 4)}
    same = [pl.read_parquet(args.work / f"batch-run-{n}" / "qa_generated.parquet").drop("generator") for n in ("direct", "batch")]
    report["datasets_identical"] = same[0].equals(same[1])
    report["http_requests_ratio_direct_over_batch"] = round(report["direct"]["http_requests"] / report["batch"]["http_requests"], 1)
    report["cost_ratio_batch_over_direct"] = round(report["batch"]["cost_usd_as_billed"] / report["direct"]["cost_usd_as_billed"], 3)
    print(json.dumps(report, indent=1))


if __name__ == "__main__":
    main()

"""`stvqa build --generator llm` end to end, against a chat-completions server on 127.0.0.1 that each test controls."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import polars as pl
import pytest
from typer.testing import CliRunner

from llm_fakes import prompt_of, questions, valid
from stvqa.cli import app
from stvqa.llm.cache import ResponseCache
from stvqa.llm.fake_server import ChatServer, FakeReply
from stvqa.stages.load.sources.sample import N_IMAGES

IMAGES = N_IMAGES  # the bundled sample: one request per image


def build(server: ChatServer, out: Path, *args: str):
    return CliRunner().invoke(app, ["build", "--out", str(out), "--generator", "llm", "--base-url", server.url, "--model", "fake",
                                    "--no-images", "--max-retries", "1", *args])


def generated(out: Path) -> pl.DataFrame:
    return pl.read_parquet(out / "qa_generated.parquet")


def rejects(out: Path, stage: str = "generate", file: str = "rejects.parquet") -> pl.DataFrame:
    return pl.read_parquet(out / file).filter(pl.col("reject_stage") == stage)


def generate_record(out: Path) -> dict:
    return json.loads((out / "manifest.json").read_text())["stages"]["generate"]


def test_build_writes_the_models_questions_and_a_rerun_sends_nothing(tmp_path) -> None:
    with ChatServer(valid) as server:
        first = build(server, tmp_path / "run", "--per-image", "2")
        assert first.exit_code == 0, first.output
        sent = server.requests
        again = build(server, tmp_path / "run", "--per-image", "2", "--force", "--concurrency", "2", "--price-in", "3")  # run control only
        assert again.exit_code == 0, again.output
        assert server.requests == sent == IMAGES  # the second run: every reply from the cache
    rows = generated(tmp_path / "run")
    assert rows.height > 0 and set(rows["generator"]) == {"fake"}
    assert rows["template"].is_null().all()
    assert [json.loads(a)["reply"]["question"].strip() for a in rows["args"]] == rows["question"].to_list()  # the reply, kept
    assert all(json.loads(f)["objects"] for f in rows["focus"])  # every question names objects of the graph
    counters = generate_record(tmp_path / "run")["stats"]["counters"]
    assert (counters["llm_requests"], counters["llm_cache_hits"], counters["llm_dataset_input_tokens"]) == (0, IMAGES, server.prompt_tokens)
    assert f"0 requests sent, {IMAGES} from the cache" in again.output
    assert (tmp_path / "run" / "dataset").is_dir()


def test_every_bad_question_is_rejected_with_its_reason_and_the_raw_reply(tmp_path) -> None:
    def handler(request, n):
        good = questions(request)  # four count questions (--mix count=1), made right, then broken one way each
        bad = [dict(good[0], question=good[0]["question"].replace("How many", "How many giraffes and")),  # not in the graph
               dict(good[1], options=["2", "3"], answer="D"),  # the letter points past the options
               dict(good[2], options=["2", "2", "3", "4"]),  # options repeat
               dict(good[3], category="depth")]  # a category no slot asked for
        return FakeReply(content="Here are the questions:\n```json\n" + json.dumps({"questions": bad}) + "\n```")

    with ChatServer(handler) as server:
        result = build(server, tmp_path / "run", "--limit", "3", "--per-image", "5", "--mix", "count=1")
    assert result.exit_code == 1 and "no rows left" in result.output  # nothing survives: the build says why
    dropped = rejects(tmp_path / "run", file="rejects_failed.parquet").filter(pl.col("image_id") == "1").sort("sample_id")
    assert dropped["reject_reason"].to_list() == ["llm_hallucinated_object", "llm_answer_out_of_range", "llm_options_not_distinct",
                                                  "llm_wrong_category", "llm_shortfall"]
    raw = json.loads(dropped["args"][0])
    assert "giraffe" in raw["error"] and "giraffes" in raw["raw_reply"]
    assert dropped["question"][0].startswith("How many giraffes")


def test_invalid_json_is_asked_again_then_rejected_keeping_both_replies(tmp_path) -> None:
    with ChatServer(lambda request, n: FakeReply(content='{"questions": [{"question": "Is the')) as server:
        result = build(server, tmp_path / "run", "--limit", "2")
    assert result.exit_code == 1
    dropped = rejects(tmp_path / "run", file="rejects_failed.parquet")
    assert set(dropped["reject_reason"]) == {"llm_invalid_json"} and dropped.height == 2 * 3
    raw = json.loads(dropped["args"][0])
    assert raw["first_reply"] == raw["raw_reply"] == '{"questions": [{"question": "Is the' and "not valid JSON" in raw["error"]
    reasks = [b for b in server.bodies if b["messages"][-1]["role"] == "user" and "not valid JSON" in b["messages"][-1]["content"]]
    assert server.requests == 4 and len(reasks) == 2


def test_failed_requests_are_recorded_and_sent_again_by_the_next_run(tmp_path) -> None:
    broken = set()

    def handler(request, n):
        if not broken or prompt_of(request) in broken:
            broken.add(prompt_of(request))  # the first image's request fails, as do its retries
            return FakeReply(status=500)
        return valid(request)

    with ChatServer(handler) as server:
        first = build(server, tmp_path / "run", "--concurrency", "1")
        assert first.exit_code == 0, first.output
        record = generate_record(tmp_path / "run")
        assert record["stats"]["counters"]["llm_failures"] == 1 and "1 requests failed" in record["incomplete"]
        assert set(rejects(tmp_path / "run").filter(pl.col("image_id") == "1")["reject_reason"]) == {"llm_request_failed"}
        assert "incomplete" in first.output
        sent = server.requests
        broken.clear()
        broken.add("healed")
        second = build(server, tmp_path / "run", "--concurrency", "1")  # no --force: the incomplete stage re-runs by itself
        assert second.exit_code == 0, second.output
        assert server.requests == sent + 1  # only the failed request
        assert "incomplete" not in generate_record(tmp_path / "run")
        uninterrupted = build(server, tmp_path / "fresh")
    assert generated(tmp_path / "run").equals(generated(tmp_path / "fresh"))
    assert pl.read_parquet(tmp_path / "run" / "qa.parquet").equals(pl.read_parquet(tmp_path / "fresh" / "qa.parquet"))


def test_max_cost_stops_cleanly_and_a_larger_budget_continues(tmp_path) -> None:
    prices = ["--price-in", "1000", "--price-out", "1000", "--concurrency", "1"]  # about $1.7 a request
    with ChatServer(valid) as server:
        stopped = build(server, tmp_path / "run", *prices, "--max-cost", "10")
        assert stopped.exit_code == 0, stopped.output
        counters = generate_record(tmp_path / "run")["stats"]["counters"]
        sent = server.requests
        assert 0 < sent < IMAGES and counters["llm_requests"] == sent and counters["llm_cost_usd"] <= 10
        assert counters["llm_not_sent"] == IMAGES - sent and "--max-cost $10 reached" in generate_record(tmp_path / "run")["incomplete"]
        assert set(rejects(tmp_path / "run")["reject_reason"]) == {"llm_max_cost_reached"}
        assert generated(tmp_path / "run").height > 0  # what was answered is kept
        more = build(server, tmp_path / "run", *prices, "--max-cost", "1000")
        assert more.exit_code == 0, more.output
        assert server.requests == IMAGES
        build(server, tmp_path / "fresh")
    assert generated(tmp_path / "run").equals(generated(tmp_path / "fresh"))


def test_dry_run_sends_nothing_and_estimates(tmp_path) -> None:
    with ChatServer(valid) as server:
        result = build(server, tmp_path / "run", "--dry-run", "--price-in", "1", "--price-out", "4")
    assert result.exit_code == 0, result.output
    assert server.requests == 0 and not (tmp_path / "run" / "qa_generated.parquet").exists()
    assert f"Dry run, nothing sent: {IMAGES} requests" in result.output
    # About 1,300 input and 180 output tokens an image, at $1 and $4 per million: about $0.002 an image.
    cost = float(re.search(r"cost about \$([0-9]+\.[0-9]+)", result.output).group(1))
    assert 0.001 * IMAGES < cost < 0.004 * IMAGES


def test_dry_run_needs_the_llm_generator(tmp_path) -> None:
    result = CliRunner().invoke(app, ["build", "--out", str(tmp_path / "run"), "--dry-run"])
    assert result.exit_code == 1 and "--dry-run plans LLM requests" in result.output


def test_concurrency_is_the_most_requests_in_flight(tmp_path) -> None:
    with ChatServer(valid, latency=0.05) as server:
        result = build(server, tmp_path / "run", "--concurrency", "4")
    assert result.exit_code == 0, result.output
    assert server.max_in_flight == 4


def test_the_api_key_is_never_written_or_printed(tmp_path, monkeypatch) -> None:
    secret = "sk-test-DO-NOT-LEAK-7c1f93a2"
    monkeypatch.setenv("STVQA_TEST_KEY", secret)
    with ChatServer(valid) as server:
        result = build(server, tmp_path / "run", "--api-key-env", "STVQA_TEST_KEY", "--images")
    assert result.exit_code == 0, result.output
    assert set(server.authorizations) == {f"Bearer {secret}"}  # the key was used
    files = [p for p in (tmp_path / "run").rglob("*") if p.is_file()]
    assert any(p.name == "llm_cache.sqlite" for p in files) and any(p.suffix == ".parquet" for p in files)
    assert not [p for p in files if secret.encode() in p.read_bytes()]
    assert secret not in result.output
    with ChatServer(lambda request, n: FakeReply(status=401, body={"error": {"message": f"invalid key {secret}"}})) as refusing:
        refused = build(refusing, tmp_path / "run2", "--api-key-env", "STVQA_TEST_KEY")
    assert refused.exit_code == 1 and "refused the request (401)" in refused.output and secret not in refused.output
    assert "STVQA_TEST_KEY" in refused.output


def test_a_killed_build_resumes_to_exactly_the_uninterrupted_result(tmp_path) -> None:
    with ChatServer(valid, latency=0.05) as server:
        args = ["--generator", "llm", "--base-url", server.url, "--model", "fake", "--no-images", "--concurrency", "2"]
        killed = subprocess.Popen([sys.executable, "-m", "stvqa", "--quiet", "build", "--out", str(tmp_path / "run"), *args],
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 60
        while server.requests < 10 and time.monotonic() < deadline and killed.poll() is None:
            time.sleep(0.01)
        os.kill(killed.pid, signal.SIGKILL)
        killed.wait()
        assert killed.returncode == -signal.SIGKILL and not (tmp_path / "run" / "qa_generated.parquet").exists()
        answered = len(ResponseCache(tmp_path / "run" / "llm_cache.sqlite"))
        sent = server.requests
        assert sent - 2 <= answered <= sent < IMAGES  # at most the two requests in flight are lost
        resumed = CliRunner().invoke(app, ["build", "--out", str(tmp_path / "run"), *args])
        assert resumed.exit_code == 0, resumed.output
        assert server.requests - sent == IMAGES - answered  # nothing answered is sent again
        CliRunner().invoke(app, ["build", "--out", str(tmp_path / "fresh"), *args])
    for table in ("qa_generated.parquet", "qa.parquet", "qa_debiased.parquet"):
        assert pl.read_parquet(tmp_path / "run" / table).equals(pl.read_parquet(tmp_path / "fresh" / table)), table
    resumed_rejects = pl.read_parquet(tmp_path / "run" / "rejects.parquet").drop("reject_stage")
    assert resumed_rejects.sort("sample_id").equals(pl.read_parquet(tmp_path / "fresh" / "rejects.parquet").drop("reject_stage").sort("sample_id"))


def test_generator_llm_needs_a_model(tmp_path) -> None:
    result = CliRunner().invoke(app, ["build", "--out", str(tmp_path / "run"), "--generator", "llm"])
    assert result.exit_code == 1 and "--generator llm needs --model" in result.output


@pytest.mark.parametrize("config", ["llm_vllm_local.yaml", "llm_openai.yaml"])
def test_shipped_llm_pipelines_load(config) -> None:
    from conftest import REPO

    result = CliRunner().invoke(app, ["build", "--config", str(REPO / "pipelines" / config), "--help"])
    assert result.exit_code == 0, result.output


def test_run_control_settings_rerun_nothing_and_sampling_settings_do(tmp_path) -> None:
    with ChatServer(valid) as server:
        assert build(server, tmp_path / "run", "--limit", "4").exit_code == 0
        same = build(server, tmp_path / "run", "--limit", "4", "--concurrency", "3", "--rpm", "6000", "--timeout", "30",
                     "--max-retries", "2", "--price-in", "2", "--price-out", "8", "--max-cost", "100")
        assert same.exit_code == 0 and "generate: inputs and config unchanged" in same.output and server.requests == 4
        warmer = build(server, tmp_path / "run", "--limit", "4", "--temperature", "0.2")
        assert warmer.exit_code == 0 and "generate: done" in warmer.output and server.requests == 8  # a new cache key
    assert generate_record(tmp_path / "run")["config"]["llm"]["temperature"] == 0.2


def test_progress_shows_requests_retries_rejects_and_cost(tmp_path) -> None:
    import io

    from stvqa.llm.config import LLMConfig
    from stvqa.progress import PlainProgress
    from stvqa.stages.generate.config import GenerateConfig
    from stvqa.pipeline.rundir import RunDir
    from stvqa.pipeline.runner import run_stages
    from stvqa.stages import generate, load
    from stvqa.stages.load import LoadConfig

    stream = io.StringIO()
    with ChatServer(valid) as server:
        cfg = GenerateConfig(generator="llm", per_image=2, llm=LLMConfig(base_url=server.url, model="fake", price_in=1, price_out=1))
        run_stages(RunDir.open(tmp_path / "run"), [(load.STAGE, LoadConfig(limit=3)), (generate.STAGE, cfg)], PlainProgress(stream, interval=0))
    line = [x for x in stream.getvalue().splitlines() if x.startswith("[generate: images] running: 3/3")][0]
    assert "3 sent (" in line and "0 cached, 0 retries, 0 failed, 0 rejects, $0.00" in line


def test_llm_shards_merge_whatever_their_concurrency_but_not_while_incomplete(tmp_path) -> None:
    with ChatServer(valid) as server:
        assert build(server, tmp_path / "s0", "--shard", "0/2", "--concurrency", "2").exit_code == 0
        assert build(server, tmp_path / "s1", "--shard", "1/2", "--concurrency", "5", "--price-in", "1").exit_code == 0
        merged = CliRunner().invoke(app, ["merge", str(tmp_path / "s0"), str(tmp_path / "s1"), "--out", str(tmp_path / "m")])
        assert merged.exit_code == 0, merged.output
        assert generated(tmp_path / "m").height == generated(tmp_path / "s0").height + generated(tmp_path / "s1").height
    with ChatServer(lambda request, n: FakeReply(status=500) if n == 1 else valid(request)) as flaky:
        assert build(flaky, tmp_path / "f0", "--shard", "0/2", "--concurrency", "1", "--max-retries", "0").exit_code == 0
        assert build(flaky, tmp_path / "f1", "--shard", "1/2").exit_code == 0
    refused = CliRunner().invoke(app, ["merge", str(tmp_path / "f0"), str(tmp_path / "f1"), "--out", str(tmp_path / "fm")])
    assert refused.exit_code == 1 and "generate is incomplete (1 requests failed" in refused.output

"""`--batch`: the writer's requests go out through a provider's Files and Batches endpoints (a real HTTP server on
127.0.0.1 that speaks them), their replies come back into the response cache, and the dataset is the one a direct
run gives. Batches that partly fail or expire are sent again by the next run; a kill at any point loses nothing
and sends nothing twice."""

import json

import polars as pl
import pytest
from typer.testing import CliRunner

from llm_fakes import questions
from stvqa.cli import app
from stvqa.llm.batch import chunks
from stvqa.llm.fake_server import ChatServer, FakeReply

runner = CliRunner()
WAITING = 75


def writer(request, n):
    return FakeReply(content=json.dumps({"questions": questions(request)}))


def build(server: ChatServer, out, *extra: str):
    return runner.invoke(app, ["build", "--out", str(out), "--generator", "llm", "--base-url", server.url, "--model", "m", "--no-images",
                               "--per-image", "4", "--mix", "orientation=1", "--max-retries", "1", *extra])


def dataset(out) -> pl.DataFrame:
    frame = pl.read_parquet(sorted((out / "dataset" / "data").glob("*.parquet")))
    return frame.sort("sample_id")


@pytest.fixture(scope="module")
def direct(tmp_path_factory):
    out = tmp_path_factory.mktemp("direct") / "run"
    with ChatServer(writer) as server:
        assert build(server, out).exit_code == 0
    return dataset(out)


def test_a_batch_run_gives_the_dataset_a_direct_run_gives(direct, tmp_path) -> None:
    out = tmp_path / "run"
    with ChatServer(writer) as server:
        first = build(server, out, "--batch")
        assert first.exit_code == WAITING and "went out in provider batches" in first.output, first.output
        ledger = json.loads((out / "llm_batches.json").read_text())
        assert [e["state"] for e in ledger] == ["submitted"] and ledger[0]["batch_id"] == "batch_1"
        assert build(server, out, "--batch").exit_code == 0
        assert set(server.batches.answered.values()) == {1} and server.batches.created == 1  # every request once, in one batch
    assert dataset(out).equals(direct)
    generate = json.loads((out / "manifest.json").read_text())["stages"]["generate"]["stats"]["counters"]
    assert generate["llm_batch_answered"] == len(ledger[0]["keys"])


def test_batch_wait_finishes_in_one_process(direct, tmp_path) -> None:
    out = tmp_path / "run"
    with ChatServer(writer) as server:
        result = build(server, out, "--batch", "--batch-wait", "--batch-poll-seconds", "0")
        assert result.exit_code == 0, result.output
    assert dataset(out).equals(direct)


def test_failed_and_expired_requests_are_sent_again_by_the_next_run(direct, tmp_path) -> None:
    out = tmp_path / "run"
    with ChatServer(writer) as server:
        server.batches.fails = lambda custom_id: custom_id < "4"  # about a quarter of the hex keys
        assert build(server, out, "--batch").exit_code == WAITING
        second = build(server, out, "--batch")  # collects what came back, queues the failed ones again
        assert second.exit_code == 0 and server.batches.created == 2, second.output
        record = json.loads((out / "manifest.json").read_text())["stages"]["generate"]
        assert record.get("incomplete") and record["stats"]["counters"]["llm_batch_failed"] > 0
        server.batches.fails = lambda custom_id: False
        server.batches.expire_after = 2  # the next batch expires after two requests
        build(server, out, "--batch")
        server.batches.expire_after = None
        build(server, out, "--batch")
        assert build(server, out, "--batch").exit_code == 0
        assert set(server.batches.answered.values()) == {1}  # nothing answered twice
    assert dataset(out).equals(direct)


def test_a_kill_after_creating_a_batch_before_recording_it_adopts_that_batch(direct, tmp_path) -> None:
    out = tmp_path / "run"
    with ChatServer(writer) as server:
        server.batches.status = "in_progress"
        assert build(server, out, "--batch").exit_code == WAITING
        ledger_file = out / "llm_batches.json"
        ledger = json.loads(ledger_file.read_text())
        ledger[0].update(batch_id=None, state="uploaded")  # as if killed between batches.create and saving its id
        ledger_file.write_text(json.dumps(ledger))
        assert build(server, out, "--batch").exit_code == WAITING  # still running: nothing queued again
        assert server.batches.created == 1 and json.loads(ledger_file.read_text())[0]["batch_id"] == "batch_1"
        server.batches.finish()
        assert build(server, out, "--batch").exit_code == 0
        assert server.batches.created == 1 and set(server.batches.answered.values()) == {1}
    assert dataset(out).equals(direct)


def test_a_kill_after_uploading_before_recording_the_file_sends_the_requests_once(direct, tmp_path) -> None:
    out = tmp_path / "run"
    with ChatServer(writer) as server:
        server.batches.status = "in_progress"
        assert build(server, out, "--batch").exit_code == WAITING
        (out / "llm_batches.json").write_text("[]")  # killed after files.create: the file is on the server, unrecorded
        server.batches.batches.clear()  # ... and no batch was created from it
        server.batches.status = "completed"
        assert build(server, out, "--batch").exit_code == WAITING
        assert build(server, out, "--batch").exit_code == 0
        assert set(server.batches.answered.values()) == {1}
    assert dataset(out).equals(direct)


def test_requests_are_split_to_the_limits_of_one_batch() -> None:
    requests = {f"{i:04d}": {"model": "m", "messages": [{"role": "user", "content": "x" * 100}]} for i in range(10)}
    by_count = chunks(requests, max_requests=4)
    assert [len(c) for c in by_count] == [4, 4, 2] and [k for c in by_count for k, _ in c] == list(requests)
    by_bytes = chunks(requests, max_bytes=400)
    assert all(sum(len(line) for _, line in c) <= 400 for c in by_bytes) and sum(map(len, by_bytes)) == 10
    line = json.loads(by_count[0][0][1])
    assert line == {"custom_id": "0000", "method": "POST", "url": "/v1/chat/completions", "body": requests["0000"]}


def test_dry_run_says_how_many_batches_and_their_cost_at_the_batch_price(tmp_path) -> None:
    import re

    costs = {}
    with ChatServer(writer) as server:
        for flags in ((), ("--batch",), ("--batch", "--batch-price-factor", "0.25")):
            result = build(server, tmp_path / "run", "--dry-run", "--price-in", "1", "--price-out", "4", *flags)
            assert result.exit_code == 0, result.output
            costs[flags] = float(re.search(r"cost about \$([0-9]+\.[0-9]+)", result.output).group(1))
        assert server.requests == 0 and not server.batches.files  # nothing sent, nothing uploaded
    assert "in 1 batch(es) at 0.25 of the price (--batch)" in result.output
    assert costs[("--batch",)] == pytest.approx(costs[()] / 2, rel=0.01) and costs[("--batch", "--batch-price-factor", "0.25")] == pytest.approx(costs[()] / 4, rel=0.01)


@pytest.mark.parametrize("reask, runs", [("batch", 3), ("direct", 2)])
def test_re_asks_go_into_the_next_batch_or_to_the_endpoint(tmp_path, reask, runs) -> None:
    def first_reply_broken(request, n):  # the first answer of every image does not parse; the re-ask's does
        return FakeReply(content="not JSON") if len(request["messages"]) == 2 else writer(request, n)

    out = tmp_path / "run"
    with ChatServer(first_reply_broken) as server:
        codes = [build(server, out, "--batch", "--batch-reask", reask).exit_code for _ in range(runs)]
        batch_lines = sum(server.batches.answered.values())
        direct_requests = server.requests - batch_lines
    assert codes == [WAITING] * (runs - 1) + [0]
    images = len(json.loads((out / "llm_batches.json").read_text())[0]["keys"])
    assert (batch_lines, direct_requests) == ((2 * images, 0) if reask == "batch" else (images, images))
    assert dataset(out).height > 0


def test_judges_refuse_batch_wait_instead_of_ignoring_it(tmp_path) -> None:
    assert runner.invoke(app, ["build", "--out", str(tmp_path / "run"), "--no-images"]).exit_code == 0
    result = runner.invoke(app, ["filter", str(tmp_path / "run"), "--judge", "vlm", "--model", "m", "--batch", "--batch-wait"])
    assert result.exit_code == 1 and "the judges cannot --batch-wait" in result.output


def test_a_damaged_batch_record_is_one_message(tmp_path) -> None:
    out = tmp_path / "run"
    with ChatServer(writer) as server:
        assert build(server, out, "--batch").exit_code == WAITING
        (out / "llm_batches.json").write_text("[{not json")
        result = build(server, out, "--batch")
    assert result.exit_code == 1 and "is not the JSON list of batches" in result.output and "Traceback" not in result.output

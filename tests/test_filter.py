"""`stvqa filter` end to end: offline curation on the bundled sample, and the judges against a chat-completions
server on 127.0.0.1 whose answers each test decides."""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import polars as pl
import pytest
from typer.testing import CliRunner

from stvqa.cli import app
from stvqa.stages.filter.judges.parse import parse_choice
from stvqa.llm.fake_server import ChatServer, FakeReply


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> Path:
    """The bundled sample built once (template questions, with images); tests filter a copy."""
    run = tmp_path_factory.mktemp("filter") / "run"
    result = CliRunner().invoke(app, ["--quiet", "build", "--out", str(run)])
    assert result.exit_code == 0, result.output
    return run


@pytest.fixture
def run(built, tmp_path) -> Path:
    """A copy of the build whose questions a judge here can tell apart by their text and options alone (it
    does not know the image): questions asked alike on two images with different answers are left out."""
    copy = tmp_path / "run"
    shutil.copytree(built, copy)
    table = questions(copy).with_columns(pl.col("options").list.sort().alias("_key"))
    told_apart = table.filter(pl.col("answer_text").n_unique().over("question", "_key") == 1).drop("_key")
    told_apart.write_parquet(copy / "qa_debiased.parquet")
    return copy


def questions(run: Path) -> pl.DataFrame:
    return pl.read_parquet(run / "qa_debiased.parquet")


def shown(request: dict) -> tuple[tuple[str, frozenset], list[tuple[str, str]], bool]:
    """(the question's key, [(letter, option text)] in the order this try shows them, whether an image was sent)."""
    content = request["messages"][0]["content"]
    text = content if isinstance(content, str) else next(p["text"] for p in content if p["type"] == "text")
    options = re.findall(r"^\(([A-D])\) (.*)$", text, re.M)
    question = text.split("\n(A) ")[0].split("\n")[-1]
    return (question, frozenset(t for _, t in options)), options, not isinstance(content, str)


def keys(rows: pl.DataFrame) -> set[tuple[str, frozenset]]:
    """A question is known by its text and its options (texts repeat across images)."""
    return {(q, frozenset(o)) for q, o in rows.select("question", "options").iter_rows()}


def answering(truth: dict, wrong_for: set = frozenset()):
    """A judge that names the question's answer (or, for questions in `wrong_for`, another option)."""
    def handler(request: dict, n: int) -> FakeReply:
        key, options, _ = shown(request)
        right = [letter for letter, text in options if (text == truth[key]) != (key in wrong_for)]
        return FakeReply(content=f"({right[0]}) {dict(options)[right[0]]}")
    return handler


def truth_of(run: Path) -> dict[tuple[str, frozenset], str]:
    rows = [(q, frozenset(o), a) for q, o, a in questions(run).select("question", "options", "answer_text").iter_rows()]
    truth = {(q, o): a for q, o, a in rows}
    assert len(truth) == len(set(rows))  # see the `run` fixture
    return truth


def filtered(run: Path) -> pl.DataFrame:
    return pl.read_parquet(run / "qa_filtered.parquet")


def filter_rejects(run: Path) -> pl.DataFrame:
    return pl.read_parquet(run / "rejects.parquet").filter(pl.col("reject_stage") == "filter")


def filter_(run: Path, server: ChatServer | None, *args: str):
    endpoint = ["--base-url", server.url, "--model", "judge"] if server else []
    return CliRunner().invoke(app, ["filter", str(run), *endpoint, "--max-retries", "0", *args])


def funnel(run: Path) -> dict:
    return json.loads((run / "filter_report.json").read_text())


def exported(run: Path) -> pl.DataFrame:
    from datasets import load_dataset

    data = load_dataset("parquet", data_dir=str(run / "dataset"))
    return pl.concat([data[split].remove_columns(["image"]).to_polars() for split in data])


# Offline rules


def test_offline_filter_funnel_adds_up_and_reaches_the_card(run) -> None:
    result = filter_(run, None, "--target", "30", "--min-rating", "2")
    assert result.exit_code == 0, result.output
    report = funnel(run)
    steps = report["steps"]
    assert [s["step"] for s in steps] == ["in", "dedup", "rating and level", "balance"]
    for before, after in zip(steps, steps[1:]):
        assert after["in"] == before["kept"] and after["kept"] == before["kept"] - sum(after["dropped"].values())
        assert after["kept"] == sum(after["by_category"]["kept"].values())
        assert sum(after["dropped"].values()) == sum(after["by_category"].get("dropped", {}).values())  # drops counted by category too
    assert steps[-1]["kept"] == 30 - sum(report["shortfalls"].values())
    data = exported(run)
    assert data.height == steps[-1]["kept"] and data["consistency"].is_null().all()
    assert "## Curation funnel" in (run / "dataset" / "README.md").read_text()
    assert "filter funnel" in result.output
    rejects = pl.read_parquet(run / "rejects.parquet").filter(pl.col("reject_stage") == "filter")
    assert rejects.height == steps[0]["kept"] - steps[-1]["kept"]  # nothing lost: every drop is kept with its reason


def test_letters_are_balanced_and_answers_still_point_at_their_text(run) -> None:
    assert filter_(run, None).exit_code == 0
    rows = pl.read_parquet(run / "qa_filtered.parquet")
    for options, letter, text in rows.select("options", "answer", "answer_text").iter_rows():
        assert options["ABCD".index(letter)] == text
    for n in (2, 3, 4):
        letters = rows.filter(pl.col("options").list.len() == n)["answer"].value_counts()["count"].to_list()
        assert not letters or max(letters) - min(letters) <= 1 and len(letters) == n or sum(letters) < n


def test_a_run_without_questions_says_which_command_makes_them(tmp_path) -> None:
    loaded = tmp_path / "run"
    assert CliRunner().invoke(app, ["build", "--out", str(loaded), "--generator", "llm", "--model", "m", "--dry-run"]).exit_code == 0
    result = filter_(loaded, None)
    assert result.exit_code == 1 and "stvqa build --out" in result.output and "Traceback" not in result.output


def test_bad_flags_are_named(run) -> None:
    for args, message in ((["--judge", "oracle", "--model", "m"], "unknown --judge 'oracle'"), (["--judge", "vlm"], "--judge needs a model"),
                          (["--rule", "most"], "unknown --rule"), (["--pass-rate", "0.9"], "--pass-rate"),
                          (["--level", "expert"], "unknown --level"), (["--min-consistency", "2"], "--min-consistency")):
        result = filter_(run, None, *args)
        assert result.exit_code == 1 and message in result.output, (args, result.output)


# Judges


def test_vlm_judge_maps_each_tries_order_back_and_applies_the_threshold(run) -> None:
    truth = truth_of(run)
    doubted = set(sorted(truth)[:5])
    with ChatServer(answering(truth, doubted)) as server:
        result = filter_(run, server, "--judge", "vlm", "--k", "4")
        assert result.exit_code == 0, result.output
        assert server.requests == 4 * funnel(run)["steps"][1]["kept"]  # every question dedup kept, four times
        assert all(image for image in (shown(b)[2] for b in server.bodies))
    kept = filtered(run)
    assert set(kept["consistency"]) == {1.0} and not keys(kept) & doubted
    for votes, answer in kept.select("judge_votes", "answer_text").iter_rows():
        assert votes == [answer] * 4
    rejects = filter_rejects(run)
    assert keys(rejects) == doubted and set(rejects["reject_reason"]) == {"judge_disagrees"}
    assert set(rejects["consistency"]) == {0.0}
    data = exported(run)
    assert set(data["consistency"]) == {1.0} and data["judge_votes"].list.len().min() == 4
    shown_row = CliRunner().invoke(app, ["inspect", str(run / "dataset"), "-n", "1"])
    assert shown_row.exit_code == 0 and "vlm 1.00: " in shown_row.output


def test_option_orders_rotate_so_a_judge_that_always_says_a_agrees_by_chance_only(run) -> None:
    with ChatServer(lambda request, n: FakeReply(content="A")) as server:
        result = filter_(run, server, "--judge", "vlm", "--k", "4", "--rule", "any")
        assert result.exit_code == 0, result.output
    two = filtered(run).filter(pl.col("options").list.len() == 2)
    assert two.height and set(two["consistency"]) == {0.5}  # each option shown first twice in four tries


def test_the_any_rule_keeps_what_one_try_got_right(run) -> None:
    truth = truth_of(run)

    def once(request: dict, n: int) -> FakeReply:  # right on the try whose seed is 0 only
        key, options, _ = shown(request)
        right = request["seed"] == 0
        letter = next(letter for letter, text in options if (text == truth[key]) == right)
        return FakeReply(content=letter)

    with ChatServer(once) as server:
        strict = filter_(run, server, "--judge", "vlm")
        assert strict.exit_code == 1 and "judge_disagrees" in strict.output  # nothing reaches 0.75
        assert filter_(run, server, "--judge", "vlm", "--rule", "any").exit_code == 0
    assert set(filtered(run)["consistency"]) == {0.25}


def test_errors_are_unjudged_apart_and_judged_by_the_next_run_without_resending(run) -> None:
    truth = truth_of(run)
    flaky = set(sorted(truth)[-4:])
    healthy = [False]

    def handler(request: dict, n: int) -> FakeReply:
        if shown(request)[0] in flaky and not healthy[0]:
            return FakeReply(status=500)
        return answering(truth)(request, n)

    with ChatServer(handler, port=0) as server:
        first = filter_(run, server, "--judge", "vlm")
        assert first.exit_code == 0 and "incomplete" in first.output
        report = funnel(run)
        assert report["unjudged"] == {"judge_request_failed": len(flaky)}
        rejects = filter_rejects(run)
        assert keys(rejects) == flaky and set(rejects["reject_reason"]) == {"judge_request_failed"}
        assert not keys(filtered(run)) & flaky
        sent = server.requests
        healthy[0] = True
        second = filter_(run, server, "--judge", "vlm")
        assert second.exit_code == 0, second.output
        failed_tries = sum(1 for b in server.bodies[:sent] if shown(b)[0] in flaky)
        assert server.requests - sent == failed_tries  # only what failed is sent again
    assert funnel(run)["unjudged"] == {} and flaky <= keys(filtered(run))


def test_blind_judge_sees_no_image_and_max_blind_drops_what_it_always_solves(run) -> None:
    truth = truth_of(run)
    leaky = set(sorted(truth)[::3])

    def guesser(request: dict, n: int) -> FakeReply:
        key, options, _ = shown(request)
        if key in leaky:
            return answering(truth)(request, n)
        return FakeReply(content=next(letter for letter, text in options if text != truth[key]))

    with ChatServer(guesser) as server:
        result = filter_(run, server, "--judge", "blind", "--max-blind", "0.99")
        assert result.exit_code == 0, result.output
        assert not any(shown(b)[2] for b in server.bodies)
    kept = filtered(run)
    assert not keys(kept) & leaky and set(kept["blind_rate"]) == {0.0}
    judged = pl.concat([kept.select("question", "options"), filter_rejects(run).select("question", "options")])
    solvable = sum((q, frozenset(o)) in leaky for q, o in judged.iter_rows())
    assert funnel(run)["blind_solvable_share"] == round(solvable / judged.height, 4)


def test_policy_judge_keeps_questions_it_sometimes_solves(run) -> None:
    truth = truth_of(run)
    always, never = set(sorted(truth)[:6]), set(sorted(truth)[6:12])

    def policy(request: dict, n: int) -> FakeReply:
        key, options, _ = shown(request)
        right = key in always or (key not in never and request["seed"] % 2 == 0)
        letter = next(letter for letter, text in options if (text == truth[key]) == right)
        return FakeReply(content=f"<observe>x</observe><think>y</think><answer>({letter}) {dict(options)[letter]}</answer>")

    with ChatServer(lambda r, n: FakeReply(status=500)) as unused, ChatServer(policy) as server:
        result = filter_(run, unused, "--judge", "policy", "--policy-base-url", server.url, "--policy-model", "policy")
        assert result.exit_code == 0, result.output
        assert unused.requests == 0 and server.bodies[0]["max_tokens"] == 1024
        assert "<answer>" in json.dumps(server.bodies[0]["messages"])  # the training prompt
    kept = filtered(run)
    assert set(kept["pass_rate"]) == {0.5} and not keys(kept) & (always | never)


def test_an_endpoint_that_refuses_images_is_named_after_one_request(run) -> None:
    refuse = FakeReply(status=400, body={"error": {"message": "this model does not support image input"}})
    with ChatServer(lambda request, n: refuse) as server:
        result = filter_(run, server, "--judge", "vlm")
        assert result.exit_code == 1 and "may not accept images" in result.output and "--judge blind" in result.output
        assert server.requests == 1


def test_a_killed_judging_run_resumes_without_sending_any_try_twice(run, tmp_path) -> None:
    truth = truth_of(run)
    fresh = tmp_path / "fresh"
    shutil.copytree(run, fresh)  # the same questions, judged later in one uninterrupted run
    with ChatServer(answering(truth), latency=0.05) as server:
        args = ["filter", str(run), "--judge", "vlm", "--base-url", server.url, "--model", "judge", "--concurrency", "2"]
        killed = subprocess.Popen([sys.executable, "-m", "stvqa", "--quiet", *args], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 60
        while server.requests < 20 and time.monotonic() < deadline and killed.poll() is None:
            time.sleep(0.01)
        os.kill(killed.pid, signal.SIGKILL)
        killed.wait()
        assert killed.returncode == -signal.SIGKILL and funnel(run)["judges"] == {}  # the build's filter, not a judged one
        resumed = CliRunner().invoke(app, args)
        assert resumed.exit_code == 0, resumed.output
        bodies = [hashlib.sha256(json.dumps(b, sort_keys=True).encode()).hexdigest() for b in server.bodies]
        in_flight = 2  # tries in flight when the process died may be sent again, nothing answered is
        assert len(bodies) - len(set(bodies)) <= in_flight and len(set(bodies)) == 4 * funnel(run)["steps"][1]["kept"]
        assert CliRunner().invoke(app, [args[0], str(fresh), *args[2:]]).exit_code == 0
    assert filtered(run).equals(filtered(fresh))


def test_the_api_key_reaches_the_server_and_nothing_else(run, monkeypatch) -> None:
    monkeypatch.setenv("STVQA_JUDGE_KEY", "sk-judge-secret-1234")
    with ChatServer(answering(truth_of(run))) as server:
        result = filter_(run, server, "--judge", "vlm", "--api-key-env", "STVQA_JUDGE_KEY")
        assert result.exit_code == 0 and server.authorizations[0] == "Bearer sk-judge-secret-1234"
    assert "sk-judge-secret" not in result.output
    for path in run.rglob("*"):
        if path.is_file():
            assert b"sk-judge-secret" not in path.read_bytes(), path


def test_build_runs_the_judge_from_its_flags(tmp_path) -> None:
    with ChatServer(lambda request, n: FakeReply(content="A")) as server:
        result = CliRunner().invoke(app, ["build", "--out", str(tmp_path / "run"), "--judge", "vlm", "--judge-base-url", server.url,
                                          "--judge-model", "judge", "--rule", "any", "--k", "2"])
        assert result.exit_code == 0, result.output
        assert server.requests == 2 * funnel(tmp_path / "run")["steps"][-2]["kept"]  # two tries of every question dedup kept
    assert funnel(tmp_path / "run")["judges"]["vlm"]["k"] == 2


def test_images_are_sent_downscaled_to_the_judge_max_side(run) -> None:
    import base64
    import io

    from PIL import Image

    with ChatServer(lambda request, n: FakeReply(content="A")) as server:
        assert filter_(run, server, "--judge", "vlm", "--k", "1", "--rule", "any", "--judge-max-side", "200").exit_code == 0
    url = next(p for p in server.bodies[0]["messages"][0]["content"] if p["type"] == "image_url")["image_url"]["url"]
    with Image.open(io.BytesIO(base64.b64decode(url.split(",", 1)[1]))) as image:
        assert max(image.size) == 200
    assert funnel(run)["judges"]["vlm"]["image_bytes_per_question"] > 0


@pytest.mark.parametrize(("reply", "options", "expected"), [
    ("B", ["left", "right"], 1), ("(A) left", ["left", "right"], 0), ("a.", ["left", "right"], 0), ("Answer: B", ["left", "right"], 1),
    ("**B**", ["left", "right"], 1), ("right", ["left", "right"], 1), ("The cup is to the left of the plate.", ["to the left of", "to the right of"], 0),
    ("<think>maybe A</think><answer> (B) behind </answer>", ["in front of", "behind"], 1), ("C", ["left", "right"], None),
    ("(A) right", ["left", "right"], None), ("left or right", ["left", "right"], None), ("", ["left", "right"], None),
    ("I cannot tell.", ["left", "right"], None), ("The answer is (C) 5.", ["3", "4", "5", "6"], 2),
])
def test_replies_are_read_back_to_the_option_they_name(reply, options, expected) -> None:
    assert parse_choice(reply, options) == expected


def test_with_a_target_the_judge_sees_only_what_the_target_needs(run) -> None:
    truth = truth_of(run)
    doubted = set(sorted(k for k in truth if k[1] and len(k[1]) == 3)[::2])  # every other three-option question

    with ChatServer(answering(truth, doubted)) as server:
        result = filter_(run, server, "--judge", "vlm", "--k", "2", "--target", "20")
        assert result.exit_code == 0, result.output
    report = funnel(run)
    steps = {s["step"]: s for s in report["steps"]}
    sent = steps["judged for --target"]["kept"]
    assert server.requests == 2 * sent < 2 * steps["dedup"]["kept"]  # not every question was judged
    assert set(steps["judged for --target"]["dropped"]) <= {"over_target"}
    kept = filtered(run)
    counts = dict(kept.group_by("category").len().iter_rows())
    assert counts["relation"] == 10 - report["shortfalls"].get("relation", 0)  # half of 20: the paper's mix
    assert kept.height == 20 - sum(report["shortfalls"].values()) and not keys(kept) & doubted


def test_a_judge_kind_is_one_declaration(run, monkeypatch) -> None:
    """A new kind of judge, declared once (its prompt, columns, keep rule and drop reason), runs as `--judge NAME`;
    its columns reach the dataset and its drops the rejects, with nothing else changed."""
    from stvqa.stages.filter.judges import kinds

    strict = kinds.JudgeKind("unanimous", True, "judge.txt", "unanimous_votes", "unanimous_rate",
                             lambda cfg, rate: rate == 1.0, "judge_not_unanimous", "a vision model, kept only when every try agrees")
    monkeypatch.setitem(kinds.KINDS, strict.name, strict)
    truth = truth_of(run)
    wrong = set(list(truth)[:3])
    with ChatServer(answering(truth, wrong_for=wrong)) as server:
        result = filter_(run, server, "--judge", "unanimous", "--k", "2")
    assert result.exit_code == 0, result.output
    rejects = pl.read_parquet(run / "rejects.parquet").filter(pl.col("reject_stage") == "filter")
    assert set(rejects["reject_reason"]) == {"judge_not_unanimous"} and rejects.height >= len(wrong)
    data = exported(run)
    assert set(data["unanimous_rate"]) == {1.0} and data["unanimous_votes"].list.len().eq(2).all()


def test_judges_send_their_tries_in_batches_and_the_next_filter_collects_them(run, tmp_path) -> None:
    """`stvqa filter --batch`: every try goes out in a provider batch (the loopback server's Batches endpoints);
    the filter waits (exit 75), the next one collects and gives what a direct filter gives."""
    truth = truth_of(run)
    direct = tmp_path / "direct"
    shutil.copytree(run, direct)
    with ChatServer(answering(truth)) as server:
        assert filter_(direct, server, "--judge", "vlm", "--k", "2").exit_code == 0
    with ChatServer(answering(truth)) as server:
        waiting = filter_(run, server, "--judge", "vlm", "--k", "2", "--batch")
        assert waiting.exit_code == 75 and "provider batches" in waiting.output, waiting.output
        assert server.requests == sum(server.batches.answered.values()) > 0  # every try a batch line, none sent directly
        assert server.batches.created == 1 and (run / "judge_batches.json").is_file()
        done = filter_(run, server, "--judge", "vlm", "--k", "2", "--batch")
        assert done.exit_code == 0, done.output
        assert set(server.batches.answered.values()) == {1} and server.batches.created == 1
    assert filtered(run).drop("judge_votes").equals(filtered(direct).drop("judge_votes"))
    assert filtered(run)["judge_votes"].to_list() == filtered(direct)["judge_votes"].to_list()
    assert funnel(run)["judges"]["vlm"]["batch_answered"] == sum(server.batches.answered.values())

"""The LLM client against a real chat-completions server on 127.0.0.1 whose replies each test decides."""

from __future__ import annotations

import asyncio
import json

import pytest

from stvqa.llm.cache import ResponseCache
from stvqa.llm.client import LLMClient
from stvqa.llm.config import LLMConfig
from stvqa.llm.extract import extract_json
from stvqa.llm.fake_server import ChatServer, FakeReply

ASK = [{"role": "user", "content": "Reply with a JSON object."}]
OK = FakeReply(content='{"a": 1}')


def run(server: ChatServer, coro_of, cache: ResponseCache | None = None, **settings):
    """Run `coro_of(client)` against `server`; returns (result, client)."""
    cfg = LLMConfig(base_url=server.url, model="fake", **{"max_retries": 2, "timeout": 5.0, **settings})

    async def main():
        client = LLMClient(cfg, cache)
        try:
            return await coro_of(client), client
        finally:
            await client.aclose()

    return asyncio.run(main())


@pytest.mark.parametrize(("text", "expected"), [
    ('{"a": 1}', {"a": 1}),  # the whole reply
    ('Here you go:\n```json\n{"a": 1}\n```\nAnything else?', {"a": 1}),  # a fenced block inside prose
    ('```\n{"a": 1}\n```', {"a": 1}),  # a fence without a language
    ('The object is {"a": {"b": [1, 2]}} as asked.', {"a": {"b": [1, 2]}}),  # prose around the JSON
    ('<think>maybe {"a": 0}</think>{"a": 1}', {"a": 1}),  # a reasoning model's draft is not the answer
])
def test_json_is_extracted_from_fences_and_prose(text, expected) -> None:
    assert extract_json(text) == expected


@pytest.mark.parametrize(("text", "message"), [("", "empty"), ("no json here", "no JSON"), ('{"a": 1,,}', "not valid JSON")])
def test_unreadable_replies_say_why(text, message) -> None:
    with pytest.raises(ValueError, match=message):
        extract_json(text)


def test_invalid_json_is_asked_again_quoting_the_error() -> None:
    replies = {1: FakeReply(content='{"a": 1,'), 2: OK}
    with ChatServer(lambda request, n: replies[n]) as server:
        reply, client = run(server, lambda c: c.complete_json(ASK))
    assert (reply.status, reply.data, reply.replies) == ("ok", {"a": 1}, ['{"a": 1,', '{"a": 1}'])
    reask = server.bodies[1]["messages"]
    assert reask[-2] == {"role": "assistant", "content": '{"a": 1,'}
    assert "not valid JSON" in reask[-1]["content"] and client.usage.reasks == 1


def test_a_reply_invalid_twice_comes_back_invalid_with_the_reason() -> None:
    with ChatServer(lambda request, n: FakeReply(content='{"b": 2}')) as server:
        reply, _ = run(server, lambda c: c.complete_json(ASK, check=lambda d: None if "a" in d else "the key a is missing"))
    assert (reply.status, reply.error, reply.data, server.requests) == ("invalid", "the key a is missing", {"b": 2}, 2)


def test_429_waits_as_long_as_retry_after_says() -> None:
    replies = {1: FakeReply(status=429, headers={"Retry-After": "1"}), 2: OK}
    with ChatServer(lambda request, n: replies[n]) as server:
        reply, client = run(server, lambda c: c.chat(ASK))
    assert reply.status == "ok" and client.usage.retries == 1 and client.usage.requests == 1
    assert server.times[1] - server.times[0] >= 1.0  # the SDK's own first backoff is at most 0.5 s


def test_500_and_a_dropped_connection_are_retried() -> None:
    replies = {1: FakeReply(status=500), 2: FakeReply(drop=True), 3: OK}
    with ChatServer(lambda request, n: replies[n]) as server:
        reply, client = run(server, lambda c: c.chat(ASK))
    assert (reply.status, reply.text, client.usage.retries, client.usage.failures, server.requests) == ("ok", '{"a": 1}', 2, 0, 3)


def test_a_slow_reply_times_out_and_is_retried() -> None:
    replies = {1: FakeReply(content='{"late": 1}', delay=2.0), 2: OK}
    with ChatServer(lambda request, n: replies[n]) as server:
        reply, client = run(server, lambda c: c.chat(ASK), timeout=0.3)
    assert (reply.text, client.usage.retries) == ('{"a": 1}', 1)


def test_exhausted_retries_fail_without_caching_and_are_sent_again(tmp_path) -> None:
    cache = ResponseCache(tmp_path / "cache.sqlite")
    healthy = []
    with ChatServer(lambda request, n: OK if healthy else FakeReply(status=503)) as server:
        reply, client = run(server, lambda c: c.chat(ASK), cache, max_retries=1)
        assert reply.status == "failed" and "after 1 retries" in reply.error
        assert (client.usage.failures, client.usage.retries, len(cache), server.requests) == (1, 1, 0, 2)
        healthy.append(True)
        reply, _ = run(server, lambda c: c.chat(ASK), cache)
    assert reply.status == "ok" and server.requests == 3 and len(cache) == 1


def test_answered_requests_come_from_the_cache(tmp_path) -> None:
    cache = ResponseCache(tmp_path / "cache.sqlite")
    with ChatServer(lambda request, n: OK) as server:
        first, _ = run(server, lambda c: c.chat(ASK), cache)
        second, client = run(server, lambda c: c.chat(ASK), cache)
        other, _ = run(server, lambda c: c.chat(ASK), cache, temperature=0.0)  # sampling parameters are part of the key
    assert (first.cached, second.cached, second.text, other.cached) == (False, True, '{"a": 1}', False)
    assert server.requests == 2 and client.usage.cache_hits == 1 and client.usage.requests == 0


def test_concurrency_caps_requests_in_flight() -> None:
    with ChatServer(lambda request, n: OK, latency=0.1) as server:
        asks = [[{"role": "user", "content": f"JSON {i}"}] for i in range(12)]
        run(server, lambda c: asyncio.gather(*(c.chat(a) for a in asks)), concurrency=3)
    assert server.requests == 12 and server.max_in_flight == 3


def test_rpm_spaces_requests_evenly() -> None:
    with ChatServer(lambda request, n: OK) as server:
        asks = [[{"role": "user", "content": f"JSON {i}"}] for i in range(6)]
        run(server, lambda c: asyncio.gather(*(c.chat(a) for a in asks)), rpm=600, concurrency=6)  # one per 0.1 s
    assert server.times[-1] - server.times[0] >= 0.45


def test_tpm_holds_back_what_would_pass_the_limit() -> None:
    big = [{"role": "user", "content": "word " * 300}]  # about 300 tokens; with max_tokens 10 a request claims about 320

    async def two(client):
        await client.chat(big)
        with pytest.raises(asyncio.TimeoutError):
            await asyncio.wait_for(client.chat([{"role": "user", "content": "word " * 301}]), 1.0)

    with ChatServer(lambda request, n: OK) as server:
        run(server, two, tpm=500, max_tokens=10)
    assert server.requests == 1  # the second needs the bucket to drain for about 17 s


def test_structured_output_falls_back_to_json_mode_then_text() -> None:
    def handler(request, n):
        if "response_format" in request:
            return FakeReply(status=400, body={"error": {"message": "response_format is not supported", "type": "invalid_request_error"}})
        return FakeReply(content='Sure! ```json\n{"a": 1}\n```')

    with ChatServer(handler) as server:
        async def twice(client):
            return [await client.complete_json(ASK, schema={"type": "object"}), await client.complete_json(ASK + ASK, schema={"type": "object"})]
        replies, _ = run(server, twice)
    modes = [(b.get("response_format") or {}).get("type", "text") for b in server.bodies]
    assert [r.data for r in replies] == [{"a": 1}, {"a": 1}]
    assert modes == ["json_schema", "json_object", "text", "text"]  # the second request starts where the first ended


def test_endpoint_refusals_stop_with_a_hint_and_no_key(monkeypatch) -> None:
    from stvqa.llm.client import EndpointError

    monkeypatch.setenv("OPENAI_API_KEY", "sk-test-SECRET-0123456789")

    def echo(request, n):  # a careless server that quotes the header it got
        return FakeReply(status=401, body={"error": {"message": f"bad key {server.authorizations[-1]}", "type": "auth"}})

    with ChatServer(echo) as server:
        with pytest.raises(EndpointError) as error:
            run(server, lambda c: c.chat(ASK))
    assert server.authorizations == ["Bearer sk-test-SECRET-0123456789"]
    assert "SECRET" not in str(error.value) and "***" in str(error.value) and "OPENAI_API_KEY" in error.value.hint


def test_cache_survives_reopening_and_stores_no_request_headers(tmp_path) -> None:
    path = tmp_path / "c.sqlite"
    cache = ResponseCache(path)
    cache.put("k", base_url="http://x/v1", model="m", reply="r", input_tokens=3, output_tokens=4)
    cache.close()
    again = ResponseCache(path)
    assert again.get("k").reply == "r" and len(again) == 1
    columns = [row[1] for row in again.db.execute("PRAGMA table_info(responses)")]
    assert not {"headers", "api_key", "authorization"} & set(columns)
    assert [r[0] for r in again.db.execute("SELECT name FROM _migrations")] == ["m001_responses"]


def test_reply_schema_enums_match_the_records() -> None:
    from stvqa.categories import CATEGORIES
    from stvqa.records import LETTERS, LEVELS
    from stvqa.schema import load

    question = load("qa_generation")["$defs"]["question"]["properties"]
    assert (tuple(question["category"]["enum"]), tuple(question["level"]["enum"]), "".join(question["answer"]["enum"])) == (CATEGORIES, LEVELS, LETTERS)

"""A chat-completions server on 127.0.0.1 whose every reply the caller decides: for tests and benchmarks.

It speaks enough HTTP/1.1 (keep-alive, Content-Length) for the `openai` SDK and counts what it sees:
requests, requests in flight (and the most at once), request bodies and the Authorization headers.

    with ChatServer(lambda request, n: FakeReply(content='{"questions": []}'), latency=0.2) as server:
        ...  # point a client at server.url
"""

from __future__ import annotations

import asyncio
import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from .usage import estimate_message_tokens, estimate_tokens


@dataclass
class FakeReply:
    content: str | None = None  # the assistant's message of a 200 reply
    status: int = 200
    body: Any = None  # the whole body instead (a dict is sent as JSON); default for errors: {"error": {...}}
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0  # seconds before answering (on top of the server's latency)
    drop: bool = False  # close the connection without answering
    usage: tuple[int, int] | None = None  # (prompt, completion) tokens; default: estimated from the texts


Handler = Callable[[dict[str, Any], int], FakeReply]  # (request body, 1-based request number) -> reply


class ChatServer:
    def __init__(self, handler: Handler, latency: float = 0.0, host: str = "127.0.0.1", port: int = 0) -> None:
        self.handler, self.latency, self.host, self.port = handler, latency, host, port
        self.requests = 0  # chat completions answered, directly or as lines of a batch
        self.http_requests = 0
        self.bytes_received = 0
        self.in_flight = 0
        self.max_in_flight = 0
        self.bodies: list[dict[str, Any]] = []
        self.authorizations: list[str] = []
        self.prompt_tokens = 0
        self.completion_tokens = 0
        self.times: list[float] = []  # when each request arrived (time.monotonic)
        self.batches = BatchAPI(self)  # the Files and Batches endpoints, answering each line with `handler`
        self._ready = threading.Event()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}/v1"

    def start(self) -> "ChatServer":
        self._thread = threading.Thread(target=self._serve, name="fake-chat-server", daemon=True)
        self._thread.start()
        self._ready.wait(10)
        return self

    def stop(self) -> None:
        if self._loop is not None and self._loop.is_running():
            asyncio.run_coroutine_threadsafe(self._shutdown(), self._loop).result(10)
            self._loop.call_soon_threadsafe(self._loop.stop)
        if self._thread is not None:
            self._thread.join(10)

    async def _shutdown(self) -> None:
        self._server.close()
        tasks = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    def __enter__(self) -> "ChatServer":
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _serve(self) -> None:
        loop = self._loop = asyncio.new_event_loop()
        server = self._server = loop.run_until_complete(asyncio.start_server(self._connection, self.host, self.port, backlog=1024))
        self.port = server.sockets[0].getsockname()[1]
        self._ready.set()
        try:
            loop.run_forever()
        finally:
            server.close()
            loop.close()

    async def _connection(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                try:
                    head = await reader.readuntil(b"\r\n\r\n")
                except (asyncio.IncompleteReadError, ConnectionError):
                    return
                lines = head.decode("latin-1").split("\r\n")
                method, path, _ = lines[0].split(" ", 2)
                headers = {k.strip().lower(): v.strip() for k, _, v in (line.partition(":") for line in lines[1:] if line)}
                body = await reader.readexactly(int(headers.get("content-length", "0")))
                self.http_requests += 1  # every route: chat, files and batches
                self.bytes_received += len(head) + len(body)
                if not await self._answer(method, path, headers, body, writer):
                    return
        except (ConnectionError, asyncio.IncompleteReadError):
            return
        finally:
            writer.close()

    async def _answer(self, method: str, path: str, headers: dict[str, str], body: bytes, writer: asyncio.StreamWriter) -> bool:
        if "/files" in path or "/batches" in path:
            status, payload = self.batches.route(method, path, headers, body)
            self._write(writer, status, payload, {})
            await writer.drain()
            return True
        if method != "POST" or not path.rstrip("/").endswith("/chat/completions"):
            self._write(writer, 404, {"error": {"message": f"no route {method} {path}", "type": "not_found"}}, {})
            return True
        request = json.loads(body or b"{}")
        self.requests += 1
        number = self.requests
        self.times.append(time.monotonic())
        self.bodies.append(request)
        self.authorizations.append(headers.get("authorization", ""))
        self.in_flight += 1
        self.max_in_flight = max(self.max_in_flight, self.in_flight)
        try:
            reply = self.handler(request, number)
            await asyncio.sleep(self.latency + reply.delay)
            if reply.drop:
                writer.transport.abort()
                return False
            if reply.status == 200 and reply.body is None:
                prompt, completion = reply.usage or (estimate_message_tokens(request.get("messages", [])), estimate_tokens(reply.content or ""))
                self.prompt_tokens += prompt
                self.completion_tokens += completion
                payload: Any = {
                    "id": f"chatcmpl-{number}", "object": "chat.completion", "created": int(time.time()), "model": request.get("model", ""),
                    "choices": [{"index": 0, "message": {"role": "assistant", "content": reply.content}, "finish_reason": "stop"}],
                    "usage": {"prompt_tokens": prompt, "completion_tokens": completion, "total_tokens": prompt + completion},
                }
            else:
                payload = reply.body if reply.body is not None else {"error": {"message": f"fake error {reply.status}", "type": "server_error"}}
            self._write(writer, reply.status, payload, reply.headers)
            await writer.drain()
            return True
        finally:
            self.in_flight -= 1

    @staticmethod
    def _write(writer: asyncio.StreamWriter, status: int, payload: Any, headers: dict[str, str]) -> None:
        data = payload.encode() if isinstance(payload, str) else json.dumps(payload).encode()
        extra = "".join(f"{k}: {v}\r\n" for k, v in headers.items())
        writer.write(f"HTTP/1.1 {status} X\r\nContent-Type: application/json\r\nContent-Length: {len(data)}\r\n{extra}\r\n".encode() + data)


class BatchAPI:
    """The Files and Batches endpoints of the OpenAI API, enough for `stvqa.llm.batch`: upload, create, retrieve,
    list, and the output and error files. Each line is answered by the server's handler when the batch finishes.

    What a test controls: `status` of new batches ("completed", or "in_progress" until it sets `finish()`),
    `expire` (batches end "expired", answering only the lines before `expire_after`), and `fails(custom_id)`, the
    lines that end in the error file. `answered` counts the lines answered, by custom id (nothing twice)."""

    def __init__(self, server: ChatServer) -> None:
        self.server = server
        self.files: dict[str, bytes] = {}
        self.batches: dict[str, dict[str, Any]] = {}
        self.status = "completed"
        self.expire_after: int | None = None
        self.fails: Callable[[str], bool] = lambda custom_id: False
        self.answered: dict[str, int] = {}
        self.created = 0

    def finish(self) -> None:
        for batch in self.batches.values():
            if batch["status"] == "in_progress":
                self._run(batch, "completed")

    def route(self, method: str, path: str, headers: dict[str, str], body: bytes) -> tuple[int, Any]:
        parts = [p for p in path.split("?")[0].split("/") if p][1:]  # without "v1"
        if method == "POST" and parts == ["files"]:
            file_id = f"file-{len(self.files) + 1}"
            self.files[file_id] = _multipart_file(headers.get("content-type", ""), body)
            return 200, {"id": file_id, "object": "file", "bytes": len(self.files[file_id]), "created_at": int(time.time()),
                         "filename": "batch.jsonl", "purpose": "batch", "status": "processed"}
        if method == "GET" and len(parts) == 3 and parts[0] == "files" and parts[2] == "content":
            return (200, self.files[parts[1]].decode()) if parts[1] in self.files else (404, {"error": {"message": "no such file"}})
        if method == "POST" and parts == ["batches"]:
            request = json.loads(body)
            if request.get("input_file_id") not in self.files:
                return 400, {"error": {"message": "no such input file", "type": "invalid_request_error"}}
            self.created += 1
            batch = {"id": f"batch_{self.created}", "object": "batch", "endpoint": request["endpoint"], "input_file_id": request["input_file_id"],
                     "completion_window": request["completion_window"], "status": "in_progress", "created_at": int(time.time()),
                     "output_file_id": None, "error_file_id": None, "request_counts": {"total": 0, "completed": 0, "failed": 0}}
            self.batches[batch["id"]] = batch
            if self.status != "in_progress":
                self._run(batch, "expired" if self.expire_after is not None else self.status)
            return 200, batch
        if method == "GET" and parts == ["batches"]:
            return 200, {"object": "list", "data": list(self.batches.values())[::-1], "has_more": False}
        if method == "GET" and len(parts) == 2 and parts[0] == "batches":
            return (200, self.batches[parts[1]]) if parts[1] in self.batches else (404, {"error": {"message": "no such batch"}})
        return 404, {"error": {"message": f"no route {method} {path}"}}

    def _run(self, batch: dict[str, Any], status: str) -> None:
        lines = [json.loads(line) for line in self.files[batch["input_file_id"]].decode().splitlines() if line.strip()]
        if status == "expired":
            lines = lines[: self.expire_after]
        out, errors = [], []
        for line in lines:
            custom_id = line["custom_id"]
            if self.fails(custom_id):
                errors.append({"id": f"req-{custom_id[:8]}", "custom_id": custom_id, "response": None,
                               "error": {"code": "server_error", "message": "fake failure"}})
                continue
            self.answered[custom_id] = self.answered.get(custom_id, 0) + 1
            self.server.requests += 1
            self.server.bodies.append(line["body"])
            reply = self.server.handler(line["body"], self.server.requests)
            prompt, completion = estimate_message_tokens(line["body"].get("messages", [])), estimate_tokens(reply.content or "")
            out.append({"id": f"req-{custom_id[:8]}", "custom_id": custom_id, "error": None, "response": {"status_code": 200, "body": {
                "id": f"chatcmpl-b{self.server.requests}", "object": "chat.completion", "model": line["body"].get("model", ""),
                "choices": [{"index": 0, "message": {"role": "assistant", "content": reply.content}, "finish_reason": "stop"}],
                "usage": {"prompt_tokens": prompt, "completion_tokens": completion, "total_tokens": prompt + completion}}}})
        for kind, records in (("output_file_id", out), ("error_file_id", errors)):
            if records:
                file_id = f"file-{len(self.files) + 1}"
                self.files[file_id] = "".join(json.dumps(r) + "\n" for r in records).encode()
                batch[kind] = file_id
        batch.update(status=status, request_counts={"total": len(lines), "completed": len(out), "failed": len(errors)})


def _multipart_file(content_type: str, body: bytes) -> bytes:
    """The uploaded file's bytes from a multipart/form-data body (the part with a filename)."""
    boundary = content_type.split("boundary=", 1)[1].strip('"').encode()
    for part in body.split(b"--" + boundary):
        head, _, data = part.partition(b"\r\n\r\n")
        if b"filename=" in head:
            return data.rsplit(b"\r\n", 1)[0]
    raise ValueError("no file in the upload")

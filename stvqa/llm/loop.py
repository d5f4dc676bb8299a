"""Run coroutines from synchronous code (a stage), many at once, taking their results in the order it wants.

`event_loop()` gives a private event loop on the calling thread (`LocalLoop`: it runs while the caller
waits for a result, so nothing else competes for the GIL), or, where that thread already runs a loop
(Jupyter), a loop on a thread of its own (`BackgroundLoop`). Both: `submit(coro)`, `result(handle)`,
`run(coro)`, `close()` (which cancels what is still running).
"""

from __future__ import annotations

import asyncio
import threading
from collections import deque
from collections.abc import Coroutine, Iterable, Iterator
from concurrent.futures import Future
from typing import Any, TypeVar

T = TypeVar("T")


async def _cancel_all() -> None:
    tasks = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)


class LocalLoop:
    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()

    def submit(self, coro: Coroutine[Any, Any, T]) -> "asyncio.Task[T]":
        return self.loop.create_task(coro)

    def result(self, task: "asyncio.Task[T]") -> T:
        return self.loop.run_until_complete(task) if not task.done() else task.result()

    def run(self, coro: Coroutine[Any, Any, T]) -> T:
        return self.loop.run_until_complete(coro)

    def close(self) -> None:
        try:
            self.loop.run_until_complete(_cancel_all())
            self.loop.run_until_complete(self.loop.shutdown_asyncgens())
        finally:
            self.loop.close()


class BackgroundLoop:
    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self.loop.run_forever, name="stvqa-llm", daemon=True)
        self._thread.start()

    def submit(self, coro: Coroutine[Any, Any, T]) -> Future[T]:
        return asyncio.run_coroutine_threadsafe(coro, self.loop)

    def result(self, future: Future[T]) -> T:
        return future.result()

    def run(self, coro: Coroutine[Any, Any, T]) -> T:
        return self.submit(coro).result()

    def close(self) -> None:
        if self.loop.is_running():
            self.run(_cancel_all())
            self.loop.call_soon_threadsafe(self.loop.stop)
            self._thread.join()
        self.loop.close()


def event_loop() -> LocalLoop | BackgroundLoop:
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return LocalLoop()
    return BackgroundLoop()


def in_order(loop: LocalLoop | BackgroundLoop, coros: Iterable[Coroutine[Any, Any, T]], window: int) -> Iterator[T]:
    """The results of `coros` in their order, with up to `window` of them started ahead of the one handed
    over (bounded memory, no stalls while the caller works). Closing the iterator cancels what still runs."""
    pending: deque = deque()
    coros = iter(coros)
    try:
        while True:
            for coro in coros:
                pending.append(loop.submit(coro))
                if len(pending) >= window:
                    break
            if not pending:
                return
            yield loop.result(pending.popleft())
    finally:
        for handle in pending:
            handle.cancel()

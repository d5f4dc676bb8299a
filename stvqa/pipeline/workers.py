"""Image-wise work on every core: `ordered_map` runs a function over a stream of items in worker processes, a
chunk of items at a time, and hands the results back in the stream's order, so the output is the one a single
process gives (same rows, same order, same counts), and memory stays that of a few chunks in flight.

Workers come from a fork server with stvqa already imported (a worker starts in milliseconds, and forks no
thread of the main process: Polars' and Arrow's thread pools stay out of the workers). A stream that fits in
one chunk runs in the calling process: small runs and tests pay nothing for processes.
"""

from __future__ import annotations

import multiprocessing
import os
from collections import Counter, deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ProcessPoolExecutor
from itertools import chain, islice
from typing import Any, TypeVar

T = TypeVar("T")
R = TypeVar("R")


def available_cores() -> int:
    """The cores this process may run on (its CPU affinity, which containers and `taskset` narrow)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return max(1, os.cpu_count() or 1)


CORES = available_cores()
WORKERS_FIELD = {"key": False, "help": "Processes for the image-wise stages (load's normalisation, generate, verify, export's images); "
                                       "the output is the same for any number. Default: the machine's cores."}


def check_workers(flag: str, workers: int) -> None:
    from ..config import check_range

    check_range(flag, workers, 1, 1024)


_CONTEXT = None
_END = object()


def _context():
    global _CONTEXT
    if _CONTEXT is None:
        _CONTEXT = multiprocessing.get_context("forkserver")
        _CONTEXT.set_forkserver_preload(["stvqa.stages"])
    return _CONTEXT


def _run_chunk(fn: Callable[[Any, Counter], Any], chunk: list[Any]) -> tuple[list[Any], Counter]:
    from .runner import fewer_collections

    stats: Counter = Counter()
    with fewer_collections():  # as in the main process (see there)
        return [fn(item, stats) for item in chunk], stats


def ordered_map(fn: Callable[[T, Counter], R], items: Iterable[T], workers: int, stats: Counter, chunk: int = 128) -> Iterator[R]:
    """`fn(item, stats)` for every item, in order; `stats` gets what the calls counted. `fn` must be picklable (a
    module-level function, or a `functools.partial` of one) and depend on nothing but its arguments."""
    items = iter(items)
    if workers <= 1:  # read no item ahead of the one handed over
        for item in items:
            yield fn(item, stats)
        return
    first = list(islice(items, chunk))
    more = next(items, _END)
    if more is _END:  # all of it fits in one chunk: not worth a process
        for item in first:
            yield fn(item, stats)
        return
    items = chain([more], items)
    chunks = chain([first], iter(lambda: list(islice(items, chunk)), []))
    pool = ProcessPoolExecutor(workers, mp_context=_context())
    pending: deque = deque()
    try:
        for part in chunks:
            pending.append(pool.submit(_run_chunk, fn, part))
            if len(pending) >= 2 * workers:  # enough queued to keep every worker busy, no more (memory stays flat)
                yield from _collect(pending.popleft(), stats)
        while pending:
            yield from _collect(pending.popleft(), stats)
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


def _collect(future, stats: Counter) -> list[Any]:
    results, counted = future.result()
    stats.update(counted)
    return results

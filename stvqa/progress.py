"""Progress of a running stage: a rich bar on a terminal, flushed plain lines in a log file, or nothing.

Stages only call `task = progress.task(description, total)` and `task.advance(n)`; how it is shown is
the caller's choice, so library code never writes to the terminal itself.
"""

from __future__ import annotations

import sys
import time
from typing import TextIO

from rich.progress import BarColumn, MofNCompleteColumn, ProgressColumn, TextColumn, TimeRemainingColumn
from rich.progress import Progress as RichBar
from rich.text import Text


class Task:
    """A unit of work with a known (or unknown, `None`) total."""

    def advance(self, n: int = 1) -> None:  # pragma: no cover - the silent default
        pass

    def status(self, text: str) -> None:
        """A line of figures shown beside the count (e.g. requests sent, retries, cost so far)."""

    def close(self) -> None:
        pass


class Progress:
    """The silent reporter (`--quiet`, and library calls)."""

    def task(self, description: str, total: int | None = None) -> Task:
        return Task()


class PlainProgress(Progress):
    """For output that is not a terminal: one flushed line at most every `interval` seconds, and one at the end."""

    def __init__(self, stream: TextIO | None = None, interval: float = 10.0) -> None:
        self.stream = stream or sys.stderr
        self.interval = interval

    def task(self, description: str, total: int | None = None) -> Task:
        return _PlainTask(self, description, total)


class _PlainTask(Task):
    def __init__(self, owner: PlainProgress, description: str, total: int | None) -> None:
        self.owner, self.description, self.total = owner, description, total
        self.done = 0
        self.started = self.last = time.monotonic()
        self.lines = 0
        self.text = ""

    def status(self, text: str) -> None:
        self.text = text

    def advance(self, n: int = 1) -> None:
        self.done += n
        now = time.monotonic()
        if now - self.last >= self.owner.interval:
            self.last = now
            self._line(now)

    def close(self) -> None:
        if self.lines:  # a stage that finished before its first line needs none: the summary says it
            self._line(time.monotonic(), final=True)

    def _line(self, now: float, final: bool = False) -> None:
        elapsed = max(now - self.started, 1e-9)
        rate = self.done / elapsed
        of = f"/{self.total:,}" if self.total else ""
        eta = ""
        if self.total and rate > 0 and not final:
            eta = f", ETA {max(self.total - self.done, 0) / rate:,.0f} s"
        state = "done" if final else "running"
        self.lines += 1
        text = f"; {self.text}" if self.text else ""
        print(f"[{self.description}] {state}: {self.done:,}{of} at {rate:,.1f}/s after {elapsed:,.1f} s{eta}{text}", file=self.owner.stream, flush=True)


class _RateColumn(ProgressColumn):
    def render(self, task) -> Text:
        return Text(f"{task.speed:,.0f}/s" if task.speed else "", style="progress.data.speed")


class RichProgress(Progress):
    """A live bar per stage (done/total, rate, ETA) on a terminal."""

    def __init__(self, console) -> None:
        self.console = console

    def task(self, description: str, total: int | None = None) -> Task:
        bar = RichBar(TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(), _RateColumn(), TimeRemainingColumn(),
                      TextColumn("{task.fields[status]}", markup=False), console=self.console, transient=True)
        bar.start()
        return _RichTask(bar, bar.add_task(description, total=total, status=""))


class _RichTask(Task):
    def __init__(self, bar: RichBar, task_id) -> None:
        self.bar, self.task_id = bar, task_id

    def advance(self, n: int = 1) -> None:
        self.bar.advance(self.task_id, n)

    def status(self, text: str) -> None:
        self.bar.update(self.task_id, status=text)

    def close(self) -> None:
        self.bar.stop()


def for_console(console, quiet: bool = False) -> Progress:
    """The reporter that fits where output goes."""
    if quiet:
        return Progress()
    return RichProgress(console) if console.is_terminal else PlainProgress()

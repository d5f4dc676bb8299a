"""The response cache: one SQLite file of replies, keyed by a hash of what was asked.

The key is the SHA-256 of the sorted-key JSON of endpoint, model, messages and sampling parameters, so a
reply is reused exactly when the same question goes to the same model. Every reply is committed as it
arrives (WAL journal), so a killed run loses at most the requests that were in flight, and the next run
sends only what has no reply yet. Several processes may share one file. Only replies and their usage are
stored: never request headers, never the API key. Schema changes are numbered migrations.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..pipeline.rundir import canonical_json, sha256_text

MIGRATIONS: list[Callable[[sqlite3.Connection], None]] = []
migration = MIGRATIONS.append


@migration
def m001_responses(db: sqlite3.Connection) -> None:
    db.execute("""CREATE TABLE responses (
        key TEXT PRIMARY KEY, base_url TEXT NOT NULL, model TEXT NOT NULL, reply TEXT NOT NULL,
        finish_reason TEXT, mode TEXT, input_tokens INTEGER NOT NULL, output_tokens INTEGER NOT NULL,
        retries INTEGER NOT NULL, seconds REAL, created_at TEXT NOT NULL)""")


def request_key(base_url: str, model: str, messages: list[dict[str, Any]], params: dict[str, Any]) -> str:
    """What identifies a reply: endpoint, model, messages and sampling parameters (not the output mode:
    JSON schema, JSON mode and plain text ask the same question)."""
    return sha256_text(canonical_json({"base_url": base_url, "model": model, "messages": messages, "params": params}))


@dataclass(frozen=True)
class CachedReply:
    reply: str
    input_tokens: int
    output_tokens: int
    finish_reason: str | None = None
    mode: str | None = None


class ResponseCache:
    def __init__(self, path: Path | str) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        # Autocommit: every `put` is its own committed transaction. One connection, used by one thread at a
        # time (the client's event loop); other processes wait up to 60 s for a write lock.
        self.db = sqlite3.connect(self.path, isolation_level=None, timeout=60, check_same_thread=False)
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute("PRAGMA synchronous=NORMAL")  # a committed reply survives the process being killed
        self._migrate()

    def _migrate(self) -> None:
        self.db.execute("CREATE TABLE IF NOT EXISTS _migrations (name TEXT PRIMARY KEY, applied_at TEXT NOT NULL)")
        done = {row[0] for row in self.db.execute("SELECT name FROM _migrations")}
        for step in MIGRATIONS:
            if step.__name__ in done:
                continue
            self.db.execute("BEGIN IMMEDIATE")
            try:
                if not self.db.execute("SELECT 1 FROM _migrations WHERE name = ?", (step.__name__,)).fetchone():  # another process
                    step(self.db)
                    self.db.execute("INSERT INTO _migrations VALUES (?, ?)", (step.__name__, _now()))
                self.db.execute("COMMIT")
            except BaseException:
                self.db.execute("ROLLBACK")
                raise

    def get(self, key: str) -> CachedReply | None:
        row = self.db.execute("SELECT reply, input_tokens, output_tokens, finish_reason, mode FROM responses WHERE key = ?", (key,)).fetchone()
        return CachedReply(*row) if row else None

    def put(self, key: str, *, base_url: str, model: str, reply: str, input_tokens: int, output_tokens: int,
            finish_reason: str | None = None, mode: str | None = None, retries: int = 0, seconds: float | None = None) -> None:
        self.db.execute("INSERT OR REPLACE INTO responses VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                        (key, base_url, model, reply, finish_reason, mode, input_tokens, output_tokens, retries, seconds, _now()))

    def __len__(self) -> int:
        return self.db.execute("SELECT count(*) FROM responses").fetchone()[0]

    def close(self) -> None:
        self.db.close()


def _now() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S%z")

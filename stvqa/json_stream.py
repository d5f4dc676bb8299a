"""Stream the elements of a JSON file whose top level is one array, without loading the file whole.

Visual Genome ships files of several hundred MB, each a single JSON array with one element per image.
`iter_json_array` reads a few MB at a time and decodes one element at a time with the standard library's
C decoder (`JSONDecoder.raw_decode`), so it is as fast per byte as `json.load` while holding only the
current buffer and one element in memory.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from .errors import DataError

CHUNK_CHARS = 1 << 22  # 4M characters a read
MAX_ELEMENT_CHARS = 1 << 28  # one array element larger than this is treated as a malformed file
_DECODER = json.JSONDecoder()
_SPACE = " \t\n\r"


def iter_json_array(path: Path) -> Iterator[Any]:
    """Yield each element of the top-level JSON array in `path`.

    Raises `DataError` naming the file, line and column when the file is not a JSON array or is malformed.
    """
    yield from _Reader(path, top="[")


def iter_json_array_text(path: Path) -> Iterator[tuple[Any, str]]:
    """Each element of the top-level JSON array in `path` and its JSON text: a string costs nothing to hand to
    another process, where the decoded element would cost more to send than to decode again."""
    yield from _Reader(path, top="[", with_text=True)


def iter_json_object(path: Path) -> Iterator[tuple[str, Any]]:
    """Yield each `(key, value)` of the top-level JSON object in `path` (GQA's scene-graph files)."""
    yield from _Reader(path, top="{")


class _Reader:
    def __init__(self, path: Path, top: str, with_text: bool = False) -> None:
        self.path = path
        self.top = top
        self.with_text = with_text
        self.buf = ""
        self.pos = 0  # position in buf
        self.consumed_chars = 0  # characters dropped from the front of buf so far
        self.consumed_lines = 0  # newlines among them (for error positions)
        self.consumed_tail = 0  # characters after the last consumed newline
        self.eof = False

    def __iter__(self) -> Iterator[Any]:
        with open(self.path, encoding="utf-8", errors="strict", newline="") as self.file:
            try:
                yield from self._elements()
            except UnicodeDecodeError as exc:
                raise DataError(
                    f"{self.path}: not UTF-8 text ({exc.reason} near byte {exc.start} of a read block)",
                    "Re-download the file; Visual Genome's JSON files are UTF-8.",
                ) from None

    def _fill(self) -> bool:
        """Append the next chunk to the buffer; False at end of file."""
        if self.eof:
            return False
        chunk = self.file.read(CHUNK_CHARS)
        if not chunk:
            self.eof = True
            return False
        # Drop what has been decoded already, keeping the count for error positions.
        dropped = self.buf[: self.pos]
        self.consumed_chars += len(dropped)
        self.consumed_lines += dropped.count("\n")
        last_newline = dropped.rfind("\n")
        self.consumed_tail = len(dropped) - last_newline - 1 if last_newline >= 0 else self.consumed_tail + len(dropped)
        self.buf = self.buf[self.pos :] + chunk
        self.pos = 0
        return True

    def _skip_space(self) -> str | None:
        """Advance past white space; return the next character (None at end of file)."""
        while True:
            while self.pos < len(self.buf) and self.buf[self.pos] in _SPACE:
                self.pos += 1
            if self.pos < len(self.buf):
                return self.buf[self.pos]
            if not self._fill():
                return None

    def _elements(self) -> Iterator[Any]:
        close = "]" if self.top == "[" else "}"
        kind = "a JSON array" if self.top == "[" else "a JSON object"
        if self._skip_space() != self.top:
            raise self._error(f"expected the file to start with {self.top!r} ({kind})", self.pos)
        self.pos += 1
        if self._skip_space() == close:
            return
        while True:
            if self.top == "[":
                value = self._decode_one()
                yield (value, self._last_text) if self.with_text else value
            else:
                key = self._decode_one()
                if not isinstance(key, str):
                    raise self._error("expected a string key", self.pos)
                if self._skip_space() != ":":
                    raise self._error("expected ':' after a key", self.pos)
                self.pos += 1
                self._skip_space()
                yield key, self._decode_one()
            nxt = self._skip_space()
            if nxt == ",":
                self.pos += 1
                if self._skip_space() is None:
                    raise self._error("file ends after ','", self.pos)
                continue
            if nxt == close:
                if self._skip_space_after_end():
                    raise self._error("unexpected data after the closing ']'", self.pos)
                return
            raise self._error(f"expected ',' or {close!r} between elements" if nxt else "file ends too early", self.pos)

    def _skip_space_after_end(self) -> bool:
        self.pos += 1
        return self._skip_space() is not None

    def _decode_one(self) -> Any:
        while True:
            try:
                value, end = _DECODER.raw_decode(self.buf, self.pos)
            except json.JSONDecodeError as exc:
                # An element cut by the end of the buffer fails near that end (or inside a string that
                # runs to it): read more and try again. An error well before the end is real.
                cut_by_buffer_end = exc.msg.startswith("Unterminated string") or len(self.buf) - exc.pos <= 16
                if cut_by_buffer_end and len(self.buf) - self.pos < MAX_ELEMENT_CHARS and self._fill():
                    continue
                raise self._error(exc.msg, exc.pos) from None
            if end == len(self.buf) and not self.eof and isinstance(value, (int, float)):
                # A number cut at the buffer's end would decode short; make sure it is complete.
                if self._fill():
                    continue
            if self.with_text:
                self._last_text = self.buf[self.pos:end]
            self.pos = end
            return value

    def _error(self, message: str, buf_pos: int) -> DataError:
        line = self.consumed_lines + self.buf.count("\n", 0, buf_pos) + 1
        last_newline = self.buf.rfind("\n", 0, buf_pos)
        column = buf_pos - last_newline if last_newline >= 0 else self.consumed_tail + buf_pos + 1
        return DataError(
            f"{self.path}: malformed JSON at line {line}, column {column}: {message}",
            "The file may be truncated or corrupted; re-download or re-extract it.",
        )

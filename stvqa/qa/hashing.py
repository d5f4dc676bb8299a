"""Seeded choices from a cryptographic hash: identical in every process and on every machine
(the reference pipeline used Python's salted `hash()`, which is not)."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from typing import TypeVar

T = TypeVar("T")


def unit(*parts: object) -> float:
    """A number in [0, 1) determined by `parts`."""
    digest = hashlib.sha256("\x1f".join(map(str, parts)).encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


def choose(items: Sequence[T], *parts: object) -> T:
    return items[int(unit(*parts) * len(items))]


def permutation(n: int, *parts: object) -> list[int]:
    """A permutation of range(n) (Fisher-Yates driven by the hash of `parts`).

    >>> permutation(4, "image-1:0", 0) == permutation(4, "image-1:0", 0)
    True
    """
    order = list(range(n))
    for i in range(n - 1, 0, -1):
        j = int(unit(*parts, i) * (i + 1))
        order[i], order[j] = order[j], order[i]
    return order


def sample(items: Sequence[T], k: int, *parts: object) -> list[T]:
    """`k` distinct items, in a hash-determined order."""
    return [items[i] for i in permutation(len(items), *parts)[:k]]

"""Seeded choices from a cryptographic hash: identical in every process and on every machine
(the reference pipeline used Python's salted `hash()`, which is not)."""

from __future__ import annotations

import hashlib
import math
from collections.abc import Callable, Sequence
from typing import TypeVar

T = TypeVar("T")


def unit(*parts: object) -> float:
    """A number in [0, 1) determined by `parts`."""
    digest = hashlib.sha256("\x1f".join(map(str, parts)).encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


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


def weighted_sample(items: Sequence[T], weights: Sequence[float], k: int, *parts: object,
                    excludes: Callable[[T, T], bool] | None = None) -> list[T]:
    """Up to `k` distinct items drawn with probability proportional to their weights, from a hash of `parts`
    (Efraimidis-Spirakis: the items with the smallest -log(u) / weight win). With `excludes`, an item that
    excludes one drawn before it is passed over (fewer than `k` come back when too few remain).

    >>> weighted_sample("abc", [1, 0, 1], 2, "x") in (["a", "c"], ["c", "a"])
    True
    >>> len(weighted_sample("abc", [1, 1, 1], 2, "x", excludes=lambda a, b: True))
    1
    """
    keyed = sorted((-math.log(max(unit(*parts, i), 1e-300)) / w, i) for i, w in enumerate(weights) if w > 0)
    chosen: list[T] = []
    for _, i in keyed:
        if len(chosen) == k:
            break
        if excludes is None or not any(excludes(items[i], c) for c in chosen):
            chosen.append(items[i])
    return chosen

"""Typical real-world sizes of things (data: sizes.yaml): what a guesser knows about a pair without the image.

>>> typical_size("sedan"), typical_size("blue bike"), typical_size("cups"), typical_size("qwzx")
(5.0, 2.0, 0.1, None)
>>> prior_larger("car", "cup"), prior_larger("desk", "chair"), prior_larger("cup", "qwzx")
('car', None, None)
"""

from __future__ import annotations

from functools import lru_cache
from importlib import resources

import yaml

from . import objecthood

# Typical sizes this many times apart: the larger kind nearly always looks larger too, so a guesser who knows
# only the names answers a size question right. Closer than this (a desk and a chair, a dog and a bench), the
# names do not decide it. The table's steps are about 3x, so this separates neighbouring steps.
PRIOR_RATIO = 2.5


@lru_cache(maxsize=1)
def _table() -> dict[str, float]:
    raw = yaml.safe_load(resources.files(__package__).joinpath("sizes.yaml").read_text(encoding="utf-8"))
    table: dict[str, float] = {}
    for metres, names in raw["metres"].items():
        for name in names:
            key = objecthood.canonical(str(name))
            if table.setdefault(key, float(metres)) != float(metres):
                raise ValueError(f"sizes.yaml: {name!r} (canonical {key!r}) is listed at {table[key]} and {metres} metres")
    return table


@lru_cache(maxsize=1 << 14)
def typical_size(name: str) -> float | None:
    """Typical largest extent in metres of a thing called `name`: its own entry, else its nearest listed
    hypernym's, else its head noun's (`objecthood.is_a`); None when nothing is known."""
    table = _table()
    return next((table[n] for n in objecthood.is_a(name) if n in table), None)


def prior_larger(a: str, b: str) -> str | None:
    """`a` or `b` when its kind is typically at least PRIOR_RATIO times the other's size; None when the two are
    alike or either size is unknown."""
    sa, sb = typical_size(a), typical_size(b)
    if sa is None or sb is None:
        return None
    if sa >= PRIOR_RATIO * sb:
        return a
    if sb >= PRIOR_RATIO * sa:
        return b
    return None

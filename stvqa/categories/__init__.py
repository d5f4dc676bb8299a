"""The nine question categories of the paper, one module each (its template candidates, its check, its prompt line,
its label and its share in the mix), in the order the paper lists them. Adding a category is one module and one
line here."""

from __future__ import annotations

from . import count, depth, distance, existence, instance_location, orientation, reach, relation, size
from .base import Category

REGISTRY: tuple[Category, ...] = tuple(m.CATEGORY for m in (relation, reach, size, orientation, instance_location, depth, distance,
                                                            count, existence))
BY_NAME: dict[str, Category] = {c.name: c for c in REGISTRY}
CATEGORIES: tuple[str, ...] = tuple(BY_NAME)
PAPER_MIX: dict[str, float] = {c.name: c.share for c in REGISTRY}  # half relation, the rest evenly
ROLES: tuple[str, ...] = tuple(dict.fromkeys(role for c in REGISTRY for role in c.roles))  # what a reply's objects may be

"""Settings of common things (`settings.yaml`): where an absent thing can be answered "no" with confidence."""

from __future__ import annotations

from functools import lru_cache
from importlib import resources

import yaml

from . import objecthood


@lru_cache(maxsize=1)
def table() -> dict[str, frozenset[str]]:
    raw = yaml.safe_load(resources.files(__package__).joinpath("settings.yaml").read_text(encoding="utf-8"))
    return {setting: frozenset(names) for setting, names in raw.items()}


@lru_cache(maxsize=1)
def vocabulary() -> tuple[str, ...]:
    """Every thing of some setting, sorted: the names existence questions ask about, "yes" and "no" alike."""
    return tuple(sorted(n for n in set().union(*table().values()) if objecthood.is_thing(n)))


@lru_cache(maxsize=1 << 14)
def settings_of(name: str) -> frozenset[str]:
    """The settings a name's thing belongs to, through its synonyms and kinds ("taxi" -> street)."""
    related = objecthood.related(name)
    return frozenset(s for s, names in table().items() if names & related)


def scene_settings(names) -> frozenset[str]:
    return frozenset().union(*(settings_of(n) for n in names)) if names else frozenset()

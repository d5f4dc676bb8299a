"""Config dataclasses: their field help is the only help text (the CLI's flags are made from them: `commands/flags.py`),
and their checks are the only checks."""

from __future__ import annotations

import math
from dataclasses import fields, is_dataclass
from typing import Any

from .errors import ConfigError


def key_dict(cfg: Any) -> Any:
    """A config as `dataclasses.asdict` gives it, without the fields whose metadata says `"key": False`:
    settings of how a stage runs (concurrency, rate limits, prices, cache paths) that do not change what
    it writes. The stage key is a hash of this, so changing them never invalidates finished work."""
    if is_dataclass(cfg) and not isinstance(cfg, type):
        return {f.name: key_dict(getattr(cfg, f.name)) for f in fields(cfg) if f.metadata.get("key", True)}
    if isinstance(cfg, (list, tuple)):
        return type(cfg)(key_dict(v) for v in cfg)
    if isinstance(cfg, dict):
        return {k: key_dict(v) for k, v in cfg.items()}
    return cfg


def dataclass_in(hint: Any) -> type | None:
    """The dataclass a field's type names, itself or inside `X | None`."""
    import typing

    if is_dataclass(hint) and isinstance(hint, type):
        return hint
    return next((a for a in typing.get_args(hint) if is_dataclass(a) and isinstance(a, type)), None)


def config_from_dict(cls: type, data: dict[str, Any]) -> Any:
    """A config dataclass from its `dataclasses.asdict` form (a manifest record): nested configs rebuilt, lists
    back to tuples where the field is a tuple, keys it does not know (written by another version) ignored."""
    import typing

    hints = typing.get_type_hints(cls)
    values = {}
    for f in fields(cls):
        if f.name not in data:
            continue
        value, inner = data[f.name], dataclass_in(hints[f.name])
        if inner is not None and isinstance(value, dict):
            value = config_from_dict(inner, value)
        elif isinstance(value, list) and _is_tuple(hints[f.name]):
            value = _tuples(value)
        values[f.name] = value
    return cls(**values)


def _is_tuple(hint: Any) -> bool:
    import typing

    return hint is tuple or typing.get_origin(hint) is tuple or any(_is_tuple(a) for a in typing.get_args(hint) if a is not type(None))


def _tuples(value: Any) -> Any:
    return tuple(_tuples(v) for v in value) if isinstance(value, list) else value


def check_range(flag: str, value: Any, low: float | None = None, high: float | None = None) -> None:
    """One message for every out-of-range value, whether it came from a flag or a --config file."""
    if isinstance(value, float) and not math.isfinite(value):
        raise ConfigError(f"{flag} {value} is not a finite number", f"Pass a number{_bounds(low, high)}.")
    if (low is not None and value < low) or (high is not None and value > high):
        raise ConfigError(f"{flag} {value} is out of range", f"Pass a number{_bounds(low, high)}.")


def _bounds(low: float | None, high: float | None) -> str:
    if low is not None and high is not None:
        return f" from {low} to {high}"
    return f" of at least {low}" if low is not None else f" of at most {high}"

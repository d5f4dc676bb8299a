"""JSON Schemas in `schemas/` are the contract between stages; this module loads and applies them."""

from __future__ import annotations

import json
from functools import cache
from collections.abc import Iterator
from typing import Any

import jsonschema

from .resources import resource_path


@cache
def load(name: str) -> dict[str, Any]:
    """`schemas/<name>.schema.json`, with the enums of every `category` and `role` property set from the category
    registry: adding a category is its module and its registry line, not an edit of every schema."""
    from .categories import CATEGORIES, ROLES

    schema = json.loads(resource_path("schemas", f"{name}.schema.json").read_text())
    enums = {"category": list(CATEGORIES), "role": list(ROLES)}

    for node in objects_in(schema):
        for key, value in node.get("properties", {}).items():
            if key in enums and isinstance(value, dict):
                value["enum"] = enums[key]
    return schema


def objects_in(node: Any) -> Iterator[dict[str, Any]]:
    """Every JSON object in a parsed schema, outermost first."""
    if isinstance(node, dict):
        yield node
        node = list(node.values())
    if isinstance(node, list):
        for value in node:
            yield from objects_in(value)


@cache
def validator(name: str) -> jsonschema.protocols.Validator:
    """A compiled validator for `schemas/<name>.schema.json` (`load`)."""
    schema = load(name)
    cls = jsonschema.validators.validator_for(schema)
    cls.check_schema(schema)
    return cls(schema)


def schema_errors(name: str, record: Any) -> list[str]:
    """Readable messages for every way `record` breaks schema `name` (empty when valid)."""
    errors = sorted(validator(name).iter_errors(record), key=lambda e: list(e.absolute_path))
    return [f"{'/'.join(map(str, e.absolute_path)) or '<root>'}: {e.message}" for e in errors]

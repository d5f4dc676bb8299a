"""JSON Schemas in `schemas/` are the contract between stages; this module loads and applies them."""

from __future__ import annotations

import json
from functools import cache
from typing import Any

import jsonschema

from .resources import resource_path


@cache
def validator(name: str) -> jsonschema.protocols.Validator:
    """A compiled validator for `schemas/<name>.schema.json`."""
    schema = json.loads(resource_path("schemas", f"{name}.schema.json").read_text())
    cls = jsonschema.validators.validator_for(schema)
    cls.check_schema(schema)
    return cls(schema)


def schema_errors(name: str, record: Any) -> list[str]:
    """Readable messages for every way `record` breaks schema `name` (empty when valid)."""
    errors = sorted(validator(name).iter_errors(record), key=lambda e: list(e.absolute_path))
    return [f"{'/'.join(map(str, e.absolute_path)) or '<root>'}: {e.message}" for e in errors]

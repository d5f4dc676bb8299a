"""The records module and the JSON Schema state one contract."""


import polars as pl

from stvqa.records import LETTERS, LEVELS, QA_COLUMNS, QA_REQUIRED, RATING_RANGE, VERIFIED_COLUMNS, option_text
from stvqa.categories import CATEGORIES
from stvqa.schema import load as load_schema

SCHEMA = load_schema("qa_sample")  # enums of categories set from the registry
JSON_TYPES = {pl.Utf8: "string", pl.Int32: "integer", pl.Boolean: "boolean"}


def test_schema_enums_are_the_records_constants() -> None:
    props = SCHEMA["properties"]
    assert tuple(props["category"]["enum"]) == CATEGORIES
    assert "".join(props["answer"]["enum"]) == LETTERS
    assert tuple(props["level"]["enum"]) == LEVELS
    assert (props["rating"]["minimum"], props["rating"]["maximum"]) == RATING_RANGE
    assert props["options"]["maxItems"] == len(LETTERS)


def test_schema_properties_are_the_qa_columns_with_matching_types() -> None:
    props = SCHEMA["properties"]
    assert set(props) == set(QA_COLUMNS) | set(VERIFIED_COLUMNS)
    assert tuple(SCHEMA["required"]) == QA_REQUIRED
    for name, dtype in {**QA_COLUMNS, **VERIFIED_COLUMNS}.items():
        declared = props[name].get("type")
        if dtype == pl.List(pl.Utf8):
            assert declared == "array" and props[name]["items"]["type"] == "string"
        elif declared is not None:
            types = {declared} if isinstance(declared, str) else set(declared)
            assert JSON_TYPES[dtype] in types, name


def test_option_text_points_at_the_lettered_option_or_nothing() -> None:
    assert option_text({"answer": "B", "options": ["left", "right"]}) == "right"
    assert option_text({"answer": "C", "options": ["left", "right"]}) == ""
    assert option_text({"answer": "AB", "options": ["left", "right"]}) == ""
    assert option_text({"answer": None, "options": None}) == ""

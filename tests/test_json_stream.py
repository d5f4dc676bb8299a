import json

import pytest

import stvqa.json_stream as js
from stvqa.errors import DataError


@pytest.fixture(params=[3, 7, 1 << 22], ids=["tiny-chunks", "small-chunks", "default-chunks"])
def chunk(request, monkeypatch):
    monkeypatch.setattr(js, "CHUNK_CHARS", request.param)


def test_array_elements_match_json_load(tmp_path, chunk) -> None:
    expected = [{"a": 1, "b": [1, 2, 3.5], "s": "x,]}\"[{"}, 12345, -1.5e3, "str", [], {}, None, True]
    path = tmp_path / "a.json"
    path.write_text(json.dumps(expected, indent=1))
    assert list(js.iter_json_array(path)) == expected


def test_object_items(tmp_path, chunk) -> None:
    expected = {"1": {"objects": {"5": {"name": "chair"}}}, "2": {}}
    path = tmp_path / "o.json"
    path.write_text(json.dumps(expected))
    assert dict(js.iter_json_object(path)) == expected


@pytest.mark.parametrize(
    ("text", "where", "what"),
    [
        ('[{"a": 1},\n {"b": 2,,}]', "line 2, column 10", "Expecting property name"),
        ('[{"a": 1},\n {"b": 2}', "line 2, column 10", "file ends too early"),
        ('{"a": 1}', "line 1, column 1", "expected the file to start with '['"),
        ('[1, 2] 3', "line 1, column 8", "unexpected data after the closing"),
    ],
)
def test_malformed_json_names_file_and_position(tmp_path, chunk, text, where, what) -> None:
    path = tmp_path / "bad.json"
    path.write_text(text)
    with pytest.raises(DataError) as info:
        list(js.iter_json_array(path))
    assert str(path) in info.value.message
    assert where in info.value.message
    assert what in info.value.message

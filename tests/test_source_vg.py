import json
from collections import Counter

import pytest

from stvqa.errors import DataError
from stvqa.names import AliasMap
from stvqa.stages.load.scenes import canonical_scenes
from stvqa.stages.load import LoadConfig
from stvqa.stages.load.sources import SOURCES


def load(data_dir, aliases=None, **cfg):
    stats = Counter()
    source = SOURCES["vg"]
    scenes = list(canonical_scenes(source.records(data_dir, stats), source.scene_of, "vg", aliases or AliasMap(),
                                   LoadConfig(validate_every=1, **cfg), stats))
    return scenes, stats


@pytest.mark.parametrize("real_vg_dir", ["v1.0", "v1.2", "v1.4"], indirect=True)
def test_real_records_of_every_version_load(real_vg_dir) -> None:
    scenes, stats = load(real_vg_dir)
    assert [s["image_id"] for s in scenes] == ["1", "2"]
    assert stats["scene_schema_invalid"] == 0
    first = scenes[0]
    assert (first["width"], first["height"]) == (800, 600)  # from image_data.json or, in v1.4, the JPEG header
    assert first["image_path"] == "images/1.jpg" and first["image_status"] == "ok"
    ids = {o["id"] for o in first["objects"]}
    assert len(first["objects"]) > 10 and len(first["relationships"]) > 10
    assert all(r["subject"] in ids and r["object"] in ids for r in first["relationships"])
    assert all(o["name"] == o["name"].strip().lower() for o in first["objects"])
    assert all(r["predicate"] == r["predicate"].lower() for r in first["relationships"])
    raw = json.loads((real_vg_dir / "objects.json").read_text())[0]["objects"]
    raw_clock = next(o for o in raw if "clock" in o.get("names", [o.get("name")]))
    clock = next(o for o in first["objects"] if o["name"] == "clock")
    x, y, w, h = (raw_clock[k] for k in "xywh")
    assert clock["bbox"] == [x, y, x + w, y + h]


def test_v14_merged_object_ids_are_kept_and_followed(vg_sample, tmp_path) -> None:
    data = tmp_path / "vg"
    data.mkdir()
    (data / "objects.json").write_text((vg_sample / "v1.4" / "objects.json").read_text())
    (data / "relationships.json").write_text((vg_sample / "v1.4" / "relationships.json").read_text())
    ids = [r.get("image_id", r.get("id")) for r in json.loads((data / "objects.json").read_text())]
    (data / "image_data.json").write_text(json.dumps([{"image_id": i, "width": 800, "height": 600} for i in ids]))
    scenes, stats = load(data)
    merged = [o for s in scenes for o in s["objects"] if len(o["source_ids"]) > 1]
    assert merged, "v1.4 objects carry merged_object_ids, which must be kept as source ids"
    assert stats["image_file_missing"] == 2 and all(s["image_status"] == "missing" for s in scenes)


def test_v14_without_image_data_or_images_is_an_error_naming_image_data(vg_sample, tmp_path) -> None:
    # Sizes guessed from the boxes would go into every prompt; the loader asks for image_data.json instead.
    data = tmp_path / "vg"
    data.mkdir()
    for name in ("objects.json", "relationships.json"):
        (data / name).write_text((vg_sample / "v1.4" / name).read_text())
    with pytest.raises(DataError, match="image_data.json"):
        load(data)


def test_aliases_from_vg_lists_apply(real_vg_dir, vg_sample) -> None:
    aliases = AliasMap.from_files(vg_sample / "aliases" / "object_alias.txt", vg_sample / "aliases" / "predicate_alias.txt")
    plain, _ = load(real_vg_dir)
    aliased, stats = load(real_vg_dir, aliases)
    assert stats["predicate_alias_applied"] > 0
    assert {r["predicate"] for s in aliased for r in s["relationships"]} != {r["predicate"] for s in plain for r in s["relationships"]}


def test_record_without_image_id_is_skipped_counted_and_warned(real_vg_dir, caplog) -> None:
    records = json.loads((real_vg_dir / "objects.json").read_text())
    records.insert(1, {"objects": [{"object_id": 1, "names": ["x"], "x": 0, "y": 0, "w": 5, "h": 5}]})
    (real_vg_dir / "objects.json").write_text(json.dumps(records))
    scenes, stats = load(real_vg_dir)
    assert [s["image_id"] for s in scenes] == ["1", "2"]
    assert stats["record_without_image_id"] == 1
    assert "without an image id" in caplog.text


def test_missing_file_names_it_and_says_where_to_download(tmp_path) -> None:
    (tmp_path / "objects.json").write_text("[]")
    with pytest.raises(DataError) as info:
        load(tmp_path)
    assert "relationships.json is missing" in info.value.message
    assert "visualgenome" in info.value.hint


def test_malformed_objects_file_names_file_and_position(real_vg_dir) -> None:
    text = (real_vg_dir / "objects.json").read_text()
    (real_vg_dir / "objects.json").write_text(text[: len(text) // 2])  # a truncated download
    with pytest.raises(DataError, match=r"objects.json: malformed JSON at line 1, column \d+"):
        load(real_vg_dir)


def test_relationship_records_that_never_align_are_counted(real_vg_dir) -> None:
    records = json.loads((real_vg_dir / "relationships.json").read_text())
    records.append({"image_id": 999, "relationships": []})
    (real_vg_dir / "relationships.json").write_text(json.dumps(records))
    _, stats = load(real_vg_dir)
    assert stats["relationships_record_without_objects"] == 1

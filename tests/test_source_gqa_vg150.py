import io
import json
from collections import Counter

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from PIL import Image

from stvqa.errors import DataError
from stvqa.names import AliasMap
from stvqa.stages.load.scenes import canonical_scenes
from stvqa.stages.load import LoadConfig
from stvqa.stages.load.sources import SOURCES


def load(data_dir, source):
    stats = Counter()
    records, scene_of = SOURCES[source].records(data_dir, stats), SOURCES[source].scene_of
    return list(canonical_scenes(records, scene_of, source, AliasMap(), LoadConfig(validate_every=1), stats)), stats


def jpeg(width=64, height=48) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (width, height), (10, 20, 30)).save(buf, format="JPEG")
    return buf.getvalue()


def test_gqa_scene_graphs(tmp_path) -> None:
    graphs = {
        "2370799": {"width": 640, "height": 480, "location": "living room", "objects": {
            "271881": {"name": "chair", "x": 220, "y": 310, "w": 50, "h": 80, "attributes": ["brown", "wooden"],
                       "relations": [{"name": "to the left of", "object": "275312"}, {"name": "near", "object": "999"}]},
            "275312": {"name": "Table", "x": 300, "y": 300, "w": 400, "h": 100, "attributes": [], "relations": []},
        }},
    }
    (tmp_path / "val_sceneGraphs.json").write_text(json.dumps(graphs))
    (tmp_path / "images").mkdir()
    (tmp_path / "images" / "2370799.jpg").write_bytes(jpeg())
    scenes, stats = load(tmp_path, "gqa")
    [scene] = scenes
    assert scene["objects"][0] == {"id": "chair.1", "name": "chair", "bbox": [220, 310, 270, 390], "attributes": ["brown", "wooden"],
                                   "source_ids": ["271881"], "synset": None}
    assert scene["objects"][1]["bbox"] == [300, 300, 640, 400]  # clipped to the image width
    assert scene["relationships"] == [{"subject": "chair.1", "predicate": "to the left of", "object": "table.1"}]
    assert scene["image_path"] == "images/2370799.jpg"
    assert (stats["relationship_missing_object"], stats["box_clipped"]) == (1, 1)


def test_gqa_without_scene_graph_files_is_a_clear_error(tmp_path) -> None:
    with pytest.raises(DataError, match="no \\*_sceneGraphs.json file"):
        load(tmp_path, "gqa")


def vg150_rows():
    return [
        {"image_id": "1591854", "image": {"bytes": jpeg(200, 100), "path": None}, "width": None, "height": None,
         "objects": json.dumps([{"id": "man.1", "bbox": [10, 10, 50, 90]}, {"id": "horse.1", "bbox": [40, 30, 190, 99]}]),
         "relationships": json.dumps([{"subject": "man.1", "predicate": "riding", "object": "horse.1"}])},
        {"image_id": "7", "image": {"bytes": None, "path": "../../etc/passwd"}, "width": 64, "height": 48,
         "objects": json.dumps([{"id": "dog.1", "bbox": [1, 1, 20, 20]}]), "relationships": "[]"},
        # Neither an image nor a size: dropped, never sized from its boxes.
        {"image_id": "8", "image": {"bytes": None, "path": "missing.jpg"},
         "objects": json.dumps([{"id": "cat.1", "bbox": [1, 1, 20, 20]}]), "relationships": "[]"},
    ]


def test_vg150_parquet_with_embedded_image(tmp_path) -> None:
    pq.write_table(pa.Table.from_pylist(vg150_rows()), tmp_path / "train.parquet")
    scenes, stats = load(tmp_path, "vg150")
    first, second = scenes
    assert (first["width"], first["height"], first["image_status"]) == (200, 100, "embedded")
    assert first["image_bytes"][:2] == b"\xff\xd8"
    assert [o["id"] for o in first["objects"]] == ["man.1", "horse.1"]
    assert first["relationships"] == [{"subject": "man.1", "predicate": "riding", "object": "horse.1"}]
    # An image path that escapes the data dir is refused, flagged and counted; the row is kept.
    assert second["image_status"] == "path_outside_data_dir" and second["image_path"] is None
    assert stats["image_path_outside_data_dir"] == 1
    assert stats["image_size_unknown"] == 1


def test_vg150_jsonl_with_image_path(tmp_path) -> None:
    (tmp_path / "imgs").mkdir()
    (tmp_path / "imgs" / "a.jpg").write_bytes(jpeg(30, 40))
    row = {"image_id": 5, "image": "imgs/a.jpg", "objects": [{"id": "cup.1", "bbox": [0, 0, 10, 10]}], "relationships": []}
    (tmp_path / "rows.jsonl").write_text(json.dumps(row) + "\n")
    [scene], _ = load(tmp_path, "vg150")
    assert (scene["image_id"], scene["width"], scene["height"], scene["image_path"]) == ("5", 30, 40, "imgs/a.jpg")


def test_vg150_malformed_jsonl_line_is_named(tmp_path) -> None:
    (tmp_path / "rows.jsonl").write_text('{"image_id": 1}\n{"image_id": \n')
    with pytest.raises(DataError, match="rows.jsonl: malformed JSON on line 2"):
        load(tmp_path, "vg150")


def test_vg150_damaged_parquet_is_named(tmp_path) -> None:
    (tmp_path / "train.parquet").write_bytes(b"PAR1 this is not parquet")
    with pytest.raises(DataError, match="train.parquet: not a readable Parquet file"):
        load(tmp_path, "vg150")

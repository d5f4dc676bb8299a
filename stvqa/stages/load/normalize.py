"""Raw scene graph -> canonical scene graph (shared/DESIGN.md "Canonical records").

Every drop and repair is counted under a stable snake_case reason in the `Counter` passed in.
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from ...config import check_range
from ...geometry import iou
from ...names import AliasMap, id_stem, normalize_text
from .sources.base import RawScene


@dataclass(frozen=True)
class NormalizeConfig:
    dedup_iou: float = field(
        default=0.7,
        metadata={"help": "Merge two objects of the same name whose boxes overlap at least this much (IoU); 1.0 disables."},
    )
    min_box_side: float = field(default=1.0, metadata={"help": "Drop boxes narrower or shorter than this many pixels after clipping."})

    def __post_init__(self) -> None:
        check_range("--dedup-iou", self.dedup_iou, 0.0, 1.0)  # an IoU above 1 merges nothing, as 1.0 does: say so, not silently
        check_range("--min-box-side", self.min_box_side, 0.0)


def _clean_number(v: float) -> float | int:
    """Keep integral coordinates as ints so the JSON looks like VG's (and the paper's) boxes."""
    i = int(v)
    return i if i == v else round(v, 2)


def normalize_scene(raw: RawScene, source: str, aliases: AliasMap, cfg: NormalizeConfig, stats: Counter) -> dict[str, Any] | None:
    """Canonical scene-graph dict for `raw`, or None when the image cannot be used (counted in `stats`)."""
    stats.update(raw.repairs)
    width, height = raw.width, raw.height
    if not width or not height or width <= 0 or height <= 0:
        # Never guess the size from the boxes: it would go into every prompt ("Image size: (W x H)") and
        # every normalised box, wrong wherever the boxes stop short of the image's edges.
        stats["image_size_unknown"] += 1
        return None
    kept, key_to_index = clean_objects(raw, aliases, cfg, width, height, stats)
    find = merge_duplicates(kept, cfg.dedup_iou, stats)
    objects, index_to_id = numbered(kept, find)
    return {
        "image_id": raw.image_id,
        "source": source,
        "width": int(width),
        "height": int(height),
        "image_path": raw.image_path,
        "image_status": raw.image_status,
        "objects": objects,
        "relationships": repointed(raw, aliases, key_to_index, find, index_to_id, stats),
    }


def clean_objects(raw: RawScene, aliases: AliasMap, cfg: NormalizeConfig, width: float, height: float,
                  stats: Counter) -> tuple[list[dict[str, Any]], dict[str, int]]:
    """Each object cleaned: its name normalised and aliased, its box finite, ordered, clipped to the image and not
    degenerate. Returns the kept objects and the source key (merged keys too) -> their index."""
    kept: list[dict[str, Any]] = []
    key_to_index: dict[str, int] = {}
    for obj in raw.objects:
        if obj.key in key_to_index:
            stats["object_duplicate_id"] += 1
            continue
        raw_name = obj.names[0] if obj.names and isinstance(obj.names[0], str) else ""
        name = normalize_text(raw_name)
        if not name:
            stats["object_without_name"] += 1
            continue
        if name != raw_name:
            stats["object_name_normalized"] += 1
        canonical_name = aliases.object_name(name)
        if canonical_name != name:
            stats["object_alias_applied"] += 1
        box = clipped_box(obj.box, width, height, cfg.min_box_side, stats)
        if box is None:
            continue
        key_to_index[obj.key] = len(kept)
        for merged in obj.merged_keys:
            key_to_index.setdefault(merged, len(kept))
        kept.append({
            "name": canonical_name,
            "bbox": box,
            "attributes": list(dict.fromkeys(normalize_text(a) for a in obj.attributes if a.strip())) if obj.attributes else [],
            "source_ids": [obj.key, *obj.merged_keys],
            "synset": obj.synset,
        })
    return kept, key_to_index


def clipped_box(box: tuple[float, float, float, float], width: float, height: float, min_side: float,
                stats: Counter) -> tuple[float, float, float, float] | None:
    """The box finite, ordered and clipped to the image, or None when nothing of it is left (counted)."""
    x1, y1, x2, y2 = box
    if not (math.isfinite(x1) and math.isfinite(y1) and math.isfinite(x2) and math.isfinite(y2)):
        stats["object_invalid_box"] += 1
        return None
    x1, x2 = min(x1, x2), max(x1, x2)
    y1, y2 = min(y1, y2), max(y1, y2)
    cx1, cy1 = min(max(x1, 0), width), min(max(y1, 0), height)
    cx2, cy2 = min(max(x2, 0), width), min(max(y2, 0), height)
    if (cx1, cy1, cx2, cy2) != (x1, y1, x2, y2):
        stats["box_clipped"] += 1
    if cx2 - cx1 < min_side or cy2 - cy1 < min_side:
        stats["object_zero_area"] += 1
        return None
    return cx1, cy1, cx2, cy2


def merge_duplicates(kept: list[dict[str, Any]], dedup_iou: float, stats: Counter):
    """Objects of the same name whose boxes overlap at least `dedup_iou` merged into the earlier one (VG annotates
    many objects twice): its source ids and attributes grow. Returns `find(i)`, the index object i merged into."""
    parent = list(range(len(kept)))

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    if dedup_iou < 1.0:
        by_name: dict[str, list[int]] = {}
        for i, o in enumerate(kept):
            by_name.setdefault(o["name"], []).append(i)
        for indices in by_name.values():
            for a_pos, a in enumerate(indices):
                for b in indices[a_pos + 1 :]:
                    if find(a) != find(b) and iou(kept[a]["bbox"], kept[b]["bbox"]) >= dedup_iou:
                        parent[find(b)] = find(a)  # the earlier object survives
    for i, o in enumerate(kept):
        root = find(i)
        if root == i:
            continue
        stats["object_merged_duplicate"] += 1
        target = kept[root]
        target["source_ids"].extend(s for s in o["source_ids"] if s not in target["source_ids"])
        target["attributes"].extend(a for a in o["attributes"] if a not in target["attributes"])
    return find


def numbered(kept: list[dict[str, Any]], find) -> tuple[list[dict[str, Any]], dict[int, str]]:
    """The surviving objects with ids `name.N`, numbered per name in source order; and index -> id."""
    per_name: Counter = Counter()
    index_to_id: dict[int, str] = {}
    objects: list[dict[str, Any]] = []
    for i, o in enumerate(kept):
        if find(i) != i:
            continue
        stem = id_stem(o["name"])
        per_name[stem] += 1
        index_to_id[i] = f"{stem}.{per_name[stem]}"
        objects.append({"id": index_to_id[i], "name": o["name"], "bbox": [_clean_number(v) for v in o["bbox"]],
                        "attributes": o["attributes"], "source_ids": o["source_ids"], "synset": o["synset"]})
    return objects, index_to_id


def repointed(raw: RawScene, aliases: AliasMap, key_to_index: dict[str, int], find, index_to_id: dict[int, str],
              stats: Counter) -> list[dict[str, str]]:
    """Relationships re-pointed at the surviving objects, predicates normalised; broken, self and repeated ones dropped."""
    relationships: list[dict[str, str]] = []
    seen: set[tuple[str, str, str]] = set()
    for rel in raw.relationships:
        predicate = normalize_text(rel.predicate) if isinstance(rel.predicate, str) else ""
        if not predicate:
            stats["relationship_without_predicate"] += 1
            continue
        if predicate != rel.predicate:
            stats["predicate_normalized"] += 1
        canonical_predicate = aliases.predicate(predicate)
        if canonical_predicate != predicate:
            stats["predicate_alias_applied"] += 1
        s_index, o_index = key_to_index.get(rel.subject), key_to_index.get(rel.object)
        if s_index is None or o_index is None:
            stats["relationship_missing_object"] += 1
            continue
        subject, obj = index_to_id[find(s_index)], index_to_id[find(o_index)]
        if subject == obj:
            stats["relationship_self"] += 1
            continue
        triple = (subject, canonical_predicate, obj)
        if triple in seen:
            stats["relationship_duplicate"] += 1
            continue
        seen.add(triple)
        relationships.append({"subject": subject, "predicate": canonical_predicate, "object": obj})
    return relationships

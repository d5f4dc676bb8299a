"""Synthetic Visual Genome files at full scale (VG 1.2 format), for benchmarks.

Defaults match Visual Genome 1.2: 108,077 images, on average 35 objects and 21 relationships per image,
names and predicates drawn with a Zipf-like skew from the VG150 vocabulary plus VG's raw quirks
(mixed-case predicates, trailing spaces, near-duplicate boxes). Names are skewed as in VG's records: the
most repeated name of an image has 3-4 instances (3.6 on average in the records of images 6-50); a plain
Zipf over this short vocabulary would give 6-7 men to every image, none of whom a question could name.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import random
from pathlib import Path

NAMES = (
    "man window person tree building shirt wall woman sign sky ground grass cloud hand head pole water leg "
    "plate car table fence door hair chair leaf people light ear street trunk jacket snow eye line wheel hat "
    "shadow bus sidewalk floor train roof boy field girl umbrella bag glass kite clock dog cat horse elephant "
    "giraffe zebra bench boat plane bike motorcycle truck lamp pillow bed book bottle cup bowl pizza sandwich "
    "banana orange flower plant vase box shelf counter cabinet sink toilet tile curtain rock mountain hill "
    "wave beach surfboard skateboard ski racket bear sheep cow bird traffic light fire hydrant stop sign "
    "tennis ball baseball bat frisbee laptop phone screen keyboard mouse remote paper letter number logo"
).split()
NAME_SKEW = 0.6  # Zipf exponent of names (weights 1 / rank ** NAME_SKEW)
PREDICATES = (
    "on,has,in,of,wearing,near,with,above,holding,behind,under,sitting on,wears,standing on,in front of,"
    "attached to,riding,at,carrying,over,walking on,next to,looking at,parked on,hanging from,covered in,"
    "belonging to,eating,using,laying on,along,watching,playing,mounted on,lying on,against,across,flying in,"
    "for,from,growing on,painted on,part of,says,to,and,between,covering,made of,walking in"
).split(",")


def zipf_choice(rng: random.Random, items: list[str], weights: list[float]) -> str:
    return rng.choices(items, weights)[0]


def write(root: Path, n_images: int = 108_077, objects_per_image: float = 35, relationships_per_image: float = 21, seed: int = 0) -> None:
    root.mkdir(parents=True, exist_ok=True)
    rng = random.Random(seed)
    name_weights = [1 / (i + 1) ** NAME_SKEW for i in range(len(NAMES))]
    predicate_weights = [1 / (i + 1) for i in range(len(PREDICATES))]
    files = {k: open(root / f"{k}.json", "w") for k in ("image_data", "objects", "relationships", "attributes")}
    for f in files.values():
        f.write("[")
    object_id = 1
    for image_id in range(1, n_images + 1):
        width, height = rng.choice([(800, 600), (500, 333), (640, 480), (800, 533)])
        objects = []
        for _ in range(max(1, int(rng.gauss(objects_per_image, objects_per_image / 3)))):
            w, h = rng.randint(5, width // 2), rng.randint(5, height // 2)
            x, y = rng.randint(0, width - w), rng.randint(0, height - h + 3)  # a few boxes run past the edge
            name = zipf_choice(rng, NAMES, name_weights)
            if rng.random() < 0.02:
                name = name.upper() + " "
            objects.append({"synsets": [f"{name.strip().lower()}.n.01"], "h": h, "object_id": object_id, "names": [name], "w": w, "y": y, "x": x})
            object_id += 1
            if rng.random() < 0.05:  # VG's near-duplicate annotations
                objects.append(dict(objects[-1], object_id=object_id, x=x + 1))
                object_id += 1
        relationships = []
        for rel_id in range(max(0, int(rng.gauss(relationships_per_image, relationships_per_image / 3)))):
            s, o = rng.choice(objects), rng.choice(objects)
            predicate = zipf_choice(rng, PREDICATES, predicate_weights)
            relationships.append({
                "predicate": predicate.upper() if rng.random() < 0.1 else predicate,
                "object": {"name": o["names"][0], **{k: o[k] for k in ("h", "object_id", "synsets", "w", "y", "x")}},
                "relationship_id": image_id * 100 + rel_id, "synsets": ["along.r.01"],
                "subject": {"name": s["names"][0], **{k: s[k] for k in ("h", "object_id", "synsets", "w", "y", "x")}},
            })
        attributes = [dict(o, attributes=[rng.choice(["white", "black", "red", "large", "wooden"])]) for o in objects[: len(objects) // 3]]
        sep = "," if image_id > 1 else ""
        files["image_data"].write(sep + json.dumps({"width": width, "url": f"https://example.invalid/VG_100K/{image_id}.jpg",
                                                    "height": height, "image_id": image_id, "coco_id": None, "flickr_id": None}))
        files["objects"].write(sep + json.dumps({"image_id": image_id, "objects": objects}))
        files["relationships"].write(sep + json.dumps({"image_id": image_id, "relationships": relationships}))
        files["attributes"].write(sep + json.dumps({"image_id": image_id, "attributes": attributes}))
    for f in files.values():
        f.write("]")
        f.close()


def cached(work: Path, prefix: str, n_images: int) -> Path:
    """A folder of `n_images` synthetic images under `work`, written unless already there. The folder is named
    by this file's digest too, so data written by an earlier version of the generator is never reused."""
    version = hashlib.sha256(Path(__file__).read_bytes()).hexdigest()[:8]
    root = work / f"{prefix}-{n_images}-{version}"
    if not (root / "attributes.json").exists():
        write(root, n_images)
    return root


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("out", type=Path)
    parser.add_argument("--images", type=int, default=108_077)
    args = parser.parse_args()
    write(args.out, args.images)

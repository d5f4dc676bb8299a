"""The bundled sample: procedurally drawn scenes with known boxes and relations, written in
Visual Genome 1.2's own format so that the real `vg` loader reads them.

Every scene is drawn from a seeded `random.Random`, so the sample is identical on every machine.
The scenes are chosen to give each of the nine question categories something to work with:
several instances of a class (count), spatial and interaction predicates (relation, reach),
clear size and position differences (size, orientation, instance location, distance) and
stated occlusion (depth). A few real-VG quirks are planted too (mixed-case predicates, names with
trailing spaces, a duplicated object) so that normalisation has work to do.
"""

from __future__ import annotations

import json
import os
import random
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from PIL import Image, ImageDraw

SAMPLE_VERSION = "vg-sample-v2"
N_IMAGES = 24
WIDTH, HEIGHT = 640, 480
HORIZON = 250
COLORS = {"red": (200, 40, 40), "blue": (40, 70, 200), "green": (40, 150, 60), "yellow": (230, 200, 40),
          "brown": (120, 80, 40), "white": (235, 235, 235), "black": (30, 30, 30), "gray": (128, 128, 128)}


def stvqa_home() -> Path:
    return Path(os.environ.get("STVQA_HOME") or Path.home() / ".cache" / "stvqa")


def sample_dir() -> Path:
    """The bundled sample's folder, drawn on first use (about 1 s) and reused afterwards."""
    target = stvqa_home() / "samples" / SAMPLE_VERSION
    if (target / "_COMPLETE").exists():
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=".tmp-", dir=target.parent))
    write_sample(tmp)
    (tmp / "_COMPLETE").write_text(SAMPLE_VERSION)
    try:
        os.replace(tmp, target)
    except OSError:  # another process finished first
        shutil.rmtree(tmp, ignore_errors=True)
    return target


@dataclass
class _Obj:
    name: str
    box: tuple[int, int, int, int]  # x1, y1, x2, y2
    color: str
    shape: str
    attributes: list[str] = field(default_factory=list)
    oid: int = 0


@dataclass
class _Scene:
    objects: list[_Obj] = field(default_factory=list)
    relations: list[tuple[int, str, int]] = field(default_factory=list)

    def add(self, name: str, box, color: str, shape: str = "rect", attributes=()) -> int:
        x1, y1, x2, y2 = (int(round(v)) for v in box)
        self.objects.append(_Obj(name, (x1, y1, x2, y2), color, shape, [color, *attributes]))
        return len(self.objects) - 1

    def rel(self, s: int, predicate: str, o: int) -> None:
        self.relations.append((s, predicate, o))


def _scale(bottom: float) -> float:
    """Objects lower in the picture are closer to the camera, so larger."""
    return 0.55 + 0.9 * (bottom - HORIZON) / (HEIGHT - HORIZON)


def _person(sc: _Scene, rng: random.Random, x: float, bottom: float, name: str) -> int:
    s = _scale(bottom)
    w, h = 46 * s, 150 * s
    person = sc.add(name, (x, bottom - h, x + w, bottom), rng.choice(["blue", "red", "green"]), "person")
    shirt = sc.add("shirt", (x + 4 * s, bottom - h + 34 * s, x + w - 4 * s, bottom - h + 85 * s), rng.choice(["white", "yellow"]))
    sc.rel(person, "wearing", shirt)
    return person


def _ground_x(rng: random.Random, taken: list[tuple[float, float]], width: float) -> float:
    for _ in range(50):
        x = rng.uniform(10, WIDTH - width - 10)
        if all(x + width < a - 12 or x > b + 12 for a, b in taken):
            taken.append((x, x + width))
            return x
    x = rng.uniform(10, WIDTH - width - 10)
    taken.append((x, x + width))
    return x


def _on_ground(sc: _Scene, rng: random.Random, taken, name: str, bottoms: tuple[float, float], size: tuple[float, float],
               colors, shape: str = "rect") -> tuple[int, float, float, float]:
    """An object standing on the ground, nearer (so larger) the lower it stands; returns (index, x, bottom, scale)."""
    bottom = rng.uniform(*bottoms)
    s = _scale(bottom)
    x = _ground_x(rng, taken, size[0] * s)
    color = colors if isinstance(colors, str) else rng.choice(colors)
    return sc.add(name, (x, bottom - size[1] * s, x + size[0] * s, bottom), color, shape), x, bottom, s


def _park(rng: random.Random) -> _Scene:
    sc, taken = _Scene(), []
    trees = [_on_ground(sc, rng, taken, "tree", (HORIZON + 10, HORIZON + 60), (90, 220), "green", "tree")[0] for _ in range(rng.randint(2, 4))]
    bench, bx, bottom, s = _on_ground(sc, rng, taken, "bench", (380, 440), (150, 55), "brown")
    man = _person(sc, rng, bx + 40 * s, bottom - 20 * s, "man")
    sc.rel(man, "sitting on", bench)
    sc.rel(man, "in front of", bench)
    dog = _on_ground(sc, rng, taken, "dog", (400, 470), (80, 50), ["brown", "black", "white"], "animal")[0]
    balls = [_on_ground(sc, rng, taken, "ball", (420, 470), (24, 24), ["red", "yellow", "blue"], "ellipse")[0] for _ in range(rng.randint(1, 3))]
    sc.rel(dog, "near" if len(balls) else "next to", balls[0])
    bird = sc.add("bird", (rng.uniform(50, 550), rng.uniform(20, 70), 0, 0), "black", "ellipse")
    b = sc.objects[bird].box
    sc.objects[bird].box = (b[0], b[1], b[0] + 30, b[1] + 16)
    sc.rel(bird, "above", trees[0])
    for t in trees:
        if sc.objects[t].box[3] < sc.objects[bench].box[3] and _overlap_x(sc.objects[t].box, sc.objects[bench].box):
            sc.rel(bench, "in front of", t)
    return sc


def _street(rng: random.Random) -> _Scene:
    sc, taken = _Scene(), []
    cars = []
    for _ in range(rng.randint(1, 3)):
        car, x, bottom, s = _on_ground(sc, rng, taken, "car", (HORIZON + 40, 400), (170, 70), ["red", "blue", "gray", "white"], "car")
        for wx in (x + 20 * s, x + 120 * s):
            wheel = sc.add("wheel", (wx, bottom - 30 * s, wx + 30 * s, bottom), "black", "ellipse")
            sc.rel(car, "has", wheel)
        cars.append(car)
    bottom = rng.uniform(410, 470)
    s = _scale(bottom)
    x = _ground_x(rng, taken, 50 * s)
    woman = _person(sc, rng, x, bottom, "woman")
    wb = sc.objects[woman].box
    umbrella = sc.add("umbrella", (wb[0] - 30 * s, wb[1] - 45 * s, wb[2] + 30 * s, wb[1] + 10 * s), rng.choice(["red", "yellow"]), "umbrella")
    sc.rel(woman, "holding", umbrella)
    sc.rel(umbrella, "above", woman)
    bike, x, bottom, s = _on_ground(sc, rng, taken, "bicycle", (360, 440), (110, 70), ["green", "blue"], "bicycle")
    man = _person(sc, rng, x + 30 * s, bottom - 40 * s, "man")
    sc.rel(man, "riding", bike)
    tree = _on_ground(sc, rng, taken, "tree", (HORIZON + 5, HORIZON + 30), (80, 200), "green", "tree")[0]
    for car in cars:
        if _overlap_x(sc.objects[car].box, sc.objects[tree].box):
            sc.rel(car, "in front of", tree)
    return sc


def _room(rng: random.Random) -> _Scene:
    sc, taken = _Scene(), []
    table, tx, bottom, s = _on_ground(sc, rng, taken, "table", (400, 440), (220, 95), ["brown", "white"], "table")
    top = bottom - 95 * s
    cups = []
    for i in range(rng.randint(1, 4)):
        cx = tx + 15 * s + i * 48 * s
        cups.append(sc.add("cup", (cx, top - 30 * s, cx + 24 * s, top), rng.choice(["white", "red", "blue"])))
        sc.rel(cups[-1], "on", table)
    lamp = sc.add("lamp", (tx + 80 * s, 30, tx + 140 * s, 110), "yellow", "lamp")
    sc.rel(lamp, "above", table)
    chair = _on_ground(sc, rng, taken, "chair", (330, 380), (70, 110), ["brown", "black"], "chair")[0]
    pbottom = rng.uniform(440, 475)
    ps = _scale(pbottom)
    px = _ground_x(rng, taken, 46 * ps)
    man = _person(sc, rng, px, pbottom, "man")
    mb = sc.objects[man].box
    mug = sc.add("cup", (mb[2] - 4, mb[1] + 70 * ps, mb[2] + 18 * ps, mb[1] + 95 * ps), "green")
    sc.rel(man, "holding", mug)
    sc.rel(man, "looking at", table)
    cat = _on_ground(sc, rng, taken, "cat", (440, 470), (60, 40), ["gray", "black", "white"], "animal")[0]
    sc.rel(cat, "near", chair)
    return sc


PARTS = ("shirt", "wheel")


def _add_layout_relations(sc: _Scene, rng: random.Random, limit: int = 5) -> None:
    """Relations an annotator would state between distinct kinds of object: left of, right of, next to, and
    in front of / behind where one occludes the other."""
    names = [o.name for o in sc.objects]
    main = [i for i, o in enumerate(sc.objects) if o.name not in PARTS and names.count(o.name) == 1]
    stated = {(s, o) for s, _, o in sc.relations} | {(o, s) for s, _, o in sc.relations}
    pairs = [(a, b) for a in main for b in main if a < b and (a, b) not in stated]
    rng.shuffle(pairs)
    added = 0
    for a, b in pairs:
        ba, bb = sc.objects[a].box, sc.objects[b].box
        gap = max(bb[0] - ba[2], ba[0] - bb[2])
        if gap < 0 and abs(ba[3] - bb[3]) > 30:  # overlapping in x: the lower one is nearer and drawn over the other
            near, far = (a, b) if ba[3] > bb[3] else (b, a)
            sc.rel(near, "in front of", far) if rng.random() < 0.5 else sc.rel(far, "behind", near)
        elif gap > 40:
            left, right = (a, b) if ba[2] < bb[0] else (b, a)
            sc.rel(left, "left of", right) if rng.random() < 0.5 else sc.rel(right, "right of", left)
        elif gap < 15 and abs(ba[3] - bb[3]) < 60:
            sc.rel(a, "next to", b)
        else:
            continue
        added += 1
        if added >= limit:
            break


def _overlap_x(a, b) -> bool:
    return min(a[2], b[2]) > max(a[0], b[0])


def _draw(sc: _Scene, rng: random.Random) -> Image.Image:
    img = Image.new("RGB", (WIDTH, HEIGHT), (150, 200, 240))
    d = ImageDraw.Draw(img)
    d.rectangle((0, HORIZON, WIDTH, HEIGHT), fill=(120, 170, 90) if rng.random() < 0.6 else (170, 160, 150))
    # Far objects first, so that nearer ones occlude them (what "in front of" states).
    for o in sorted(sc.objects, key=lambda o: (o.name == "shirt", o.box[3], o.box[1])):
        x1, y1, x2, y2 = o.box
        c = COLORS[o.color]
        if o.shape == "ellipse":
            d.ellipse(o.box, fill=c)
        elif o.shape == "tree":
            d.rectangle((x1 + (x2 - x1) * 0.4, y1 + (y2 - y1) * 0.5, x2 - (x2 - x1) * 0.4, y2), fill=COLORS["brown"])
            d.ellipse((x1, y1, x2, y1 + (y2 - y1) * 0.6), fill=c)
        elif o.shape == "person":
            d.ellipse((x1 + (x2 - x1) * 0.25, y1, x2 - (x2 - x1) * 0.25, y1 + (y2 - y1) * 0.22), fill=(230, 190, 160))
            d.rectangle((x1, y1 + (y2 - y1) * 0.22, x2, y2), fill=c)
        elif o.shape == "umbrella":
            d.pieslice((x1, y1, x2, y2 + (y2 - y1)), 180, 360, fill=c)
        elif o.shape == "lamp":
            d.polygon([(x1, y2), (x2, y2), ((x1 + x2) / 2, y1)], fill=c)
        elif o.shape == "table":
            d.rectangle((x1, y1, x2, y1 + (y2 - y1) * 0.15), fill=c)
            d.rectangle((x1 + 5, y1, x1 + 15, y2), fill=c)
            d.rectangle((x2 - 15, y1, x2 - 5, y2), fill=c)
        elif o.shape == "car":
            d.rounded_rectangle((x1, y1 + (y2 - y1) * 0.3, x2, y2 - (y2 - y1) * 0.2), radius=8, fill=c)
            d.rectangle((x1 + (x2 - x1) * 0.25, y1, x2 - (x2 - x1) * 0.25, y1 + (y2 - y1) * 0.35), fill=c)
        elif o.shape == "bicycle":
            r = (y2 - y1) * 0.4
            d.ellipse((x1, y2 - 2 * r, x1 + 2 * r, y2), outline=c, width=4)
            d.ellipse((x2 - 2 * r, y2 - 2 * r, x2, y2), outline=c, width=4)
            d.line((x1 + r, y2 - r, (x1 + x2) / 2, y1, x2 - r, y2 - r), fill=c, width=4)
        elif o.shape == "chair":
            d.rectangle((x1, y1, x1 + 10, y2), fill=c)
            d.rectangle((x1, (y1 + y2) / 2, x2, (y1 + y2) / 2 + 10), fill=c)
            d.rectangle((x2 - 10, (y1 + y2) / 2, x2, y2), fill=c)
        elif o.shape == "animal":
            d.ellipse((x1, y1 + (y2 - y1) * 0.3, x2 - (x2 - x1) * 0.2, y2 - (y2 - y1) * 0.2), fill=c)
            d.ellipse((x2 - (x2 - x1) * 0.35, y1, x2, y1 + (y2 - y1) * 0.5), fill=c)
        else:
            d.rectangle(o.box, fill=c)
    return img


def _vg_object(o: _Obj, with_attributes: bool) -> dict:
    x1, y1, x2, y2 = o.box
    record = {"synsets": [], "h": y2 - y1, "object_id": o.oid, "names": [o.name], "w": x2 - x1, "y": y1, "x": x1}
    if with_attributes:
        record["attributes"] = o.attributes
    return record


def write_sample(root: Path, n_images: int = N_IMAGES, seed: int = 0) -> None:
    """Draw `n_images` scenes into `root` as VG 1.2 files plus `VG_100K/<id>.jpg`."""
    (root / "VG_100K").mkdir(parents=True, exist_ok=True)
    image_data, objects, relationships, attributes = [], [], [], []
    next_object_id, next_rel_id = 1000, 5000
    builders = (_park, _street, _room)
    for i in range(n_images):
        image_id = i + 1
        rng = random.Random(f"{SAMPLE_VERSION}:{seed}:{image_id}")
        sc = builders[i % len(builders)](rng)
        _add_layout_relations(sc, rng)
        _draw(sc, rng).save(root / "VG_100K" / f"{image_id}.jpg", quality=88)
        for o in sc.objects:
            o.oid = next_object_id
            next_object_id += 1
        vg_objects = [_vg_object(o, False) for o in sc.objects]
        if i % 4 == 1:  # real VG quirks: a near-duplicate annotation and a name with trailing space / capitals
            dup = dict(vg_objects[0], object_id=next_object_id, x=vg_objects[0]["x"] + 2)
            next_object_id += 1
            vg_objects.append(dup)
            vg_objects[1]["names"] = [vg_objects[1]["names"][0].upper() + " "]
        rels = []
        for s, predicate, o in sc.relations:
            if i % 5 == 2 and predicate == "on":
                predicate = "ON"
            rels.append({"predicate": predicate, "relationship_id": next_rel_id, "synsets": [],
                         "subject": _rel_end(sc.objects[s]), "object": _rel_end(sc.objects[o])})
            next_rel_id += 1
        image_data.append({"width": WIDTH, "url": f"https://example.invalid/VG_100K/{image_id}.jpg",
                           "height": HEIGHT, "image_id": image_id, "coco_id": None, "flickr_id": None})
        objects.append({"image_id": image_id, "objects": vg_objects})
        relationships.append({"image_id": image_id, "relationships": rels})
        attributes.append({"image_id": image_id, "attributes": [_vg_object(o, True) for o in sc.objects]})
    for name, data in (("image_data", image_data), ("objects", objects), ("relationships", relationships), ("attributes", attributes)):
        (root / f"{name}.json").write_text(json.dumps(data))


def _rel_end(o: _Obj) -> dict:
    x1, y1, x2, y2 = o.box
    return {"name": o.name, "h": y2 - y1, "object_id": o.oid, "synsets": [], "w": x2 - x1, "y": y1, "x": x1}

"""The bundled sample: procedurally drawn scenes with known boxes and relations, written in
Visual Genome 1.2's own format so that the real `vg` loader reads them.

Every scene is drawn from a seeded `random.Random`, so the sample is identical on every machine.
The scenes give each of the nine question categories something to work with: several instances of a
class (count), spatial and interaction predicates (relation, reach), size and position differences (size,
orientation, instance location, distance) and stated occlusion (depth). They vary as photographs do, so that
the text of a question does not give its answer away: the horizon sits at a different height, things stand
at any depth (a far car is smaller than a near dog), who does what with what is drawn at random, and half the
scenes are mirrored. A few real-VG quirks are planted too (mixed-case predicates, names with trailing spaces,
a duplicated object) so that normalisation has work to do.
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

from ....errors import ConfigError

SAMPLE_VERSION = "vg-sample-v4"  # the cache folder: a new version whenever what is written changes
# The random draws of each scene. v4 draws the very scenes of v3, with a beak on each duck, and states fewer
# interactions: pushing, leaning on and playing with only where the two things touch.
DRAWING_SEED = "vg-sample-v3"
N_IMAGES = 60
WIDTH, HEIGHT = 640, 480
COLORS = {"red": (200, 40, 40), "blue": (40, 70, 200), "green": (40, 150, 60), "yellow": (230, 200, 40),
          "brown": (120, 80, 40), "white": (235, 235, 235), "black": (30, 30, 30), "gray": (128, 128, 128)}
PEOPLE = ("man", "woman", "boy", "girl")


def stvqa_home() -> Path:
    return Path(os.environ.get("STVQA_HOME") or Path.home() / ".cache" / "stvqa")


def sample_dir() -> Path:
    """The bundled sample's folder, drawn on first use (about 1 s) and reused afterwards."""
    home = stvqa_home()
    target = home / "samples" / SAMPLE_VERSION
    if (target / "_COMPLETE").exists():
        return target
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=".tmp-", dir=target.parent))
    except OSError as exc:
        why = "is a file" if home.is_file() or any(p.is_file() for p in target.parents) else f"cannot be written ({exc.strerror})"
        raise ConfigError(f"STVQA_HOME {home} {why}: the bundled sample is drawn there",
                          "Set STVQA_HOME to a folder you can write to (default ~/.cache/stvqa), or pass --data-dir.") from None
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
    grounded: bool = False  # stands on the ground, so its box's bottom edge is how far away it is


@dataclass
class _Scene:
    horizon: float
    objects: list[_Obj] = field(default_factory=list)
    relations: list[tuple[int, str, int]] = field(default_factory=list)
    taken: list[tuple[float, float, float]] = field(default_factory=list)  # (x1, x2, bottom) of things on the ground

    def add(self, name: str, box, color: str, shape: str = "rect", attributes=()) -> int:
        x1, y1, x2, y2 = (int(round(v)) for v in box)
        x1, x2 = max(0, x1), min(WIDTH, x2)  # boxes lie inside the picture, as VG's do
        y1, y2 = max(0, y1), min(HEIGHT, y2)
        self.objects.append(_Obj(name, (x1, y1, x2, y2), color, shape, [color, *attributes]))
        return len(self.objects) - 1

    def rel(self, s: int, predicate: str, o: int) -> None:
        self.relations.append((s, predicate, o))

    def box(self, i: int) -> tuple[int, int, int, int]:
        return self.objects[i].box

    def scale(self, bottom: float) -> float:
        """Things standing lower in the picture are nearer the camera, so larger: 0.35 at the horizon, 1.45 at the
        bottom edge."""
        return 0.35 + 1.1 * (bottom - self.horizon) / (HEIGHT - self.horizon)

    def depth(self, rng: random.Random, near: tuple[float, float]) -> float:
        """A bottom edge between the horizon (0) and the picture's bottom (1)."""
        return self.horizon + (HEIGHT - 4 - self.horizon) * rng.uniform(*near)


def _ground_x(sc: _Scene, rng: random.Random, width: float, bottom: float) -> float:
    """A free spot: things at a similar depth do not overlap; far behind or in front, they may (occlusion)."""
    for _ in range(60):
        x = rng.uniform(4, WIDTH - width - 4)
        if all(x + width < a - 10 or x > b + 10 or abs(bottom - d) > 60 for a, b, d in sc.taken):
            break
    sc.taken.append((x, x + width, bottom))
    return x


def _on_ground(sc: _Scene, rng: random.Random, name: str, near: tuple[float, float], size: tuple[float, float],
               colors, shape: str = "rect") -> tuple[int, float, float, float]:
    """A thing standing on the ground at a random depth, its size varied as things of a kind vary (a side table, a
    dining table); returns (index, x, bottom, scale)."""
    bottom = sc.depth(rng, near)
    s = sc.scale(bottom) * rng.uniform(0.6, 1.2)
    x = _ground_x(sc, rng, size[0] * s, bottom)
    color = colors if isinstance(colors, str) else rng.choice(colors)
    i = sc.add(name, (x, bottom - size[1] * s, x + size[0] * s, bottom), color, shape)
    sc.objects[i].grounded = True
    return i, x, bottom, s


def _person(sc: _Scene, rng: random.Random, near: tuple[float, float] = (0.2, 1.0), at: tuple[float, float] | None = None) -> int:
    """A person (man, woman, boy or girl: children are smaller; not one already in the scene) wearing a shirt, at a
    random spot or feet at `at`."""
    name = rng.choice([n for n in PEOPLE if n not in {o.name for o in sc.objects}])
    w, h = (46, 150) if name in ("man", "woman") else (34, 105)
    if at is None:
        person, x, bottom, s = _on_ground(sc, rng, name, near, (w, h), ["blue", "red", "green", "black"], "person")
    else:
        x, bottom = at
        s = sc.scale(bottom)
        person = sc.add(name, (x, bottom - h * s, x + w * s, bottom), rng.choice(["blue", "red", "green", "black"]), "person")
        sc.objects[person].grounded = True
    x1, y1, x2, _ = sc.box(person)
    ps = (x2 - x1) / w
    shirt = sc.add("shirt", (x1 + 4 * ps, y1 + 0.23 * h * ps, x2 - 4 * ps, y1 + 0.57 * h * ps), rng.choice(["white", "yellow"]))
    sc.rel(person, "wearing", shirt)
    return person


def _in_sky(sc: _Scene, rng: random.Random, name: str, size: tuple[float, float], color: str, shape: str) -> int:
    w, h = size
    x, y = rng.uniform(10, WIDTH - w - 10), rng.uniform(8, max(10.0, sc.horizon - h - 60))
    return sc.add(name, (x, y, x + w, y + h), color, shape)


def _on_top(sc: _Scene, rng: random.Random, name: str, base: int, size: tuple[float, float], color: str, shape: str = "rect") -> int:
    """A thing resting on top of `base`, scaled with it."""
    bx1, by1, bx2, by2 = sc.box(base)
    s = sc.scale(by2)
    w, h = size[0] * s, size[1] * s
    x = rng.uniform(bx1, max(bx1, bx2 - w))
    return sc.add(name, (x, by1 - h, x + w, by1 + 1), color, shape)


def _park(sc: _Scene, rng: random.Random) -> None:
    trees = [_on_ground(sc, rng, "tree", (0.0, 0.8), (90, 220), "green", "tree")[0] for _ in range(rng.randint(1, 4))]
    bench, bx, bottom, s = _on_ground(sc, rng, "bench", (0.0, 1.0), (150, 55), "brown")
    if rng.random() < 0.5:
        person = _person(sc, rng, at=(bx + rng.uniform(10, 90) * s, bottom - 20 * s))
        sc.rel(person, "sitting on", bench)
        ground = bottom  # the bench stands where the sitting person is
    else:
        person = _person(sc, rng)
        ground = sc.box(person)[3]
    kind, colors = rng.choice(["dog", "cat"]), ["brown", "black", "white", "gray"]
    px1, _, px2, _ = sc.box(person)
    if rng.random() < 0.4:  # at the person's feet, close enough to touch
        s = sc.scale(ground)
        x = px2 + 4 if px2 + 84 * s < WIDTH else px1 - 4 - 80 * s
        animal = sc.add(kind, (x, ground - 50 * s, x + 80 * s, ground), rng.choice(colors), "animal")
        sc.objects[animal].grounded = True
        sc.rel(person, rng.choice(["petting", "feeding"]), animal)
    else:
        animal = _on_ground(sc, rng, kind, (0.0, 1.0), (80, 50), colors, "animal")[0]
        sc.rel(person, rng.choice(["looking at", "pointing at"]), animal)
    balls = [_on_ground(sc, rng, "ball", (0.4, 1.0), (36, 36), ["red", "yellow", "blue"], "ellipse")[0] for _ in range(rng.randint(0, 4))]
    if balls:
        sc.rel(animal, _within_reach(sc, animal, balls[0], rng.choice(["playing with", "looking at"])), balls[0])
    ducks = rng.random() < 0.5  # ducks or birds, not both: a duck is a bird, and "how many birds?" would miss them
    for _ in range(rng.randint(3, 5) if ducks else 0):
        _on_ground(sc, rng, "duck", (0.5, 1.0), (56, 40), ["white", "brown"], "duck")
    for _ in range(0 if ducks else rng.randint(0, 3)):
        if rng.random() < 0.4:
            bird = _on_top(sc, rng, "bird", bench, (34, 20), "black", "ellipse")
            sc.rel(bird, "on", bench)
        else:
            bird = _in_sky(sc, rng, "bird", (40, 22), "black", "ellipse")
            below = [t for t in trees if _overlap_x(sc.box(t), sc.box(bird))]
            if below:
                sc.rel(bird, "above", below[0])
    if rng.random() < 0.4:
        kite = _in_sky(sc, rng, "kite", (40, 40), rng.choice(["red", "yellow", "blue"]), "kite")
        sc.rel(person, "flying", kite)


def _street(sc: _Scene, rng: random.Random) -> None:
    for _ in range(rng.randint(1, 3)):
        car, x, bottom, s = _on_ground(sc, rng, "car", (0.0, 0.9), (170, 70), ["red", "blue", "gray", "white"], "car")
        for wx in (x + 20 * s, x + 120 * s):
            sc.rel(car, "has", sc.add("wheel", (wx, bottom - 30 * s, wx + 30 * s, bottom), "black", "ellipse"))
    walker = _person(sc, rng, (0.1, 1.0))
    if rng.random() < 0.6:
        wb, s = sc.box(walker), sc.scale(sc.box(walker)[3])
        umbrella = sc.add("umbrella", (wb[0] - 30 * s, wb[1] - 45 * s, wb[2] + 30 * s, wb[1] + 10 * s), rng.choice(["red", "yellow"]), "umbrella")
        sc.rel(walker, rng.choice(["holding", "carrying"]), umbrella)
        sc.rel(umbrella, "above", walker)
    bike, x, bottom, s = _on_ground(sc, rng, "bicycle", (0.0, 1.0), (110, 70), ["green", "blue"], "bicycle")
    if rng.random() < 0.6:
        rider = _person(sc, rng, at=(x + 30 * s, bottom - 40 * s))
        sc.rel(rider, "riding", bike)
    else:
        sc.rel(walker, _within_reach(sc, walker, bike, rng.choice(["looking at", "pushing", "pointing at"])), bike)
    if rng.random() < 0.7:
        pole, px, pbottom, ps = _on_ground(sc, rng, "pole", (0.1, 0.9), (8, 200), "gray")
        sign = sc.add("sign", (px - 14 * ps, pbottom - 200 * ps, px + 22 * ps, pbottom - 165 * ps), rng.choice(["white", "blue", "red"]))
        sc.rel(sign, "on", pole)
    for _ in range(rng.randint(0, 5)):
        _on_ground(sc, rng, "traffic cone", (0.5, 1.0), (36, 54), ["red", "yellow"], "lamp")
    for _ in range(rng.randint(0, 2)):
        _on_ground(sc, rng, "tree", (0.0, 0.8), (80, 200), "green", "tree")


def _room(sc: _Scene, rng: random.Random) -> None:
    table, tx, bottom, s = _on_ground(sc, rng, "table", (0.0, 0.9), (170, 80), ["brown", "white"], "table")
    top = bottom - 80 * s
    for i in range(rng.randint(1, 3)):
        cx = tx + 12 * s + i * 34 * s
        sc.rel(sc.add("cup", (cx, top - 36 * s, cx + 28 * s, top + 1), rng.choice(["white", "red", "blue"])), "on", table)
    if rng.random() < 0.5:
        bowl = sc.add("bowl", (tx + 118 * s, top - 22 * s, tx + 162 * s, top + 1), rng.choice(["white", "blue"]), "bowl")
        sc.rel(bowl, "on", table)
        sc.rel(sc.add("fruit", (tx + 126 * s, top - 30 * s, tx + 154 * s, top - 8 * s), rng.choice(["yellow", "red", "green"]), "ellipse"), "in", bowl)
    if rng.random() < 0.5:
        lamp = sc.add("lamp", (tx + 60 * s, 20, tx + 110 * s, 20 + 60 * s), "yellow", "lamp")
        sc.rel(lamp, "above", table)
    else:
        lamp = _on_top(sc, rng, "lamp", table, (40, 60), "yellow", "lamp")
        sc.rel(lamp, "on", table)
    if rng.random() < 0.6:
        x, y = rng.uniform(20, WIDTH - 120), rng.uniform(15, max(20.0, sc.horizon - 110))
        sc.add("picture", (x, y, x + 90, y + 65), rng.choice(["blue", "green", "red"]), "picture")
    chair, cx, cbottom, cs = _on_ground(sc, rng, "chair", (0.0, 1.0), (70, 110), ["brown", "black"], "chair")
    person = _person(sc, rng, (0.0, 1.0))
    pb = sc.box(person)
    if rng.random() < 0.5:
        ps = sc.scale(pb[3])
        mug = sc.add("cup", (pb[2] - 4, pb[1] + 45 * ps, pb[2] + 18 * ps, pb[1] + 65 * ps), "green")
        sc.rel(person, rng.choice(["holding", "drinking from"]), mug)
    else:
        sc.rel(person, _within_reach(sc, person, table, rng.choice(["looking at", "leaning on", "pointing at"])), table)
    spot = rng.choice(["on chair", "under table", "on floor"])
    if spot == "on chair":
        sc.rel(_on_top(sc, rng, "cat", chair, (50, 32), rng.choice(["gray", "black", "white"]), "animal"), "on", chair)
    elif spot == "under table":
        cat = sc.add("cat", (tx + 50 * s, bottom - 35 * s, tx + 105 * s, bottom), rng.choice(["gray", "black", "white"]), "animal")
        sc.rel(cat, "under", table)
    else:
        _on_ground(sc, rng, "cat", (0.6, 1.0), (60, 40), ["gray", "black", "white"], "animal")


PARTS = ("shirt", "wheel")


def _add_layout_relations(sc: _Scene, rng: random.Random, limit: int = 3) -> None:
    """Relations an annotator would state between distinct kinds of object: left of, right of, next to, and
    in front of / behind where one occludes the other."""
    names = [o.name for o in sc.objects]
    main = [i for i, o in enumerate(sc.objects) if o.name not in PARTS and names.count(o.name) == 1]
    stated = {(s, o) for s, _, o in sc.relations} | {(o, s) for s, _, o in sc.relations}
    pairs = [(a, b) for a in main for b in main if a < b and (a, b) not in stated]
    rng.shuffle(pairs)
    pairs.sort(key=lambda ab: not _overlap_x(sc.objects[ab[0]].box, sc.objects[ab[1]].box))  # occlusion first: depth
    added = 0
    for a, b in pairs:
        ba, bb = sc.objects[a].box, sc.objects[b].box
        gap = max(bb[0] - ba[2], ba[0] - bb[2])
        grounded = sc.objects[a].grounded and sc.objects[b].grounded
        if gap < 0 and abs(ba[3] - bb[3]) > 30 and grounded:  # overlapping in x: the lower one is nearer, drawn over the other
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


def _mirror(sc: _Scene) -> None:
    """Left and right swapped: what stands left in one scene stands right in another."""
    for o in sc.objects:
        x1, y1, x2, y2 = o.box
        o.box = (WIDTH - x2, y1, WIDTH - x1, y2)


def _overlap_x(a, b) -> bool:
    return min(a[2], b[2]) > max(a[0], b[0])


TOUCHING = ("pushing", "leaning on", "playing with")  # interactions that need hands (or paws) on the thing


def _within_reach(sc: _Scene, agent: int, thing: int, verb: str) -> str:
    """`verb`, or "looking at" where it needs contact and the two boxes are apart (a walker across the street is
    not pushing the bicycle)."""
    a, b = sc.box(agent), sc.box(thing)
    touching = min(a[2], b[2]) - max(a[0], b[0]) > -8 and min(a[3], b[3]) > max(a[1], b[1])
    return verb if verb not in TOUCHING or touching else "looking at"


def _draw(sc: _Scene, rng: random.Random) -> Image.Image:
    img = Image.new("RGB", (WIDTH, HEIGHT), (150, 200, 240))
    d = ImageDraw.Draw(img)
    d.rectangle((0, sc.horizon, WIDTH, HEIGHT), fill=(120, 170, 90) if rng.random() < 0.6 else (170, 160, 150))
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
        elif o.shape == "kite":
            d.polygon([((x1 + x2) / 2, y1), (x2, (y1 + y2) / 2), ((x1 + x2) / 2, y2), (x1, (y1 + y2) / 2)], fill=c)
        elif o.shape == "picture":
            d.rectangle(o.box, fill=COLORS["brown"])
            d.rectangle((x1 + 6, y1 + 6, x2 - 6, y2 - 6), fill=c)
        elif o.shape == "bowl":
            d.chord((x1, y1 - (y2 - y1), x2, y2), 0, 180, fill=c)
        elif o.shape == "animal":
            d.ellipse((x1, y1 + (y2 - y1) * 0.3, x2 - (x2 - x1) * 0.2, y2 - (y2 - y1) * 0.2), fill=c)
            d.ellipse((x2 - (x2 - x1) * 0.35, y1, x2, y1 + (y2 - y1) * 0.5), fill=c)
        elif o.shape == "duck":  # an orange beak: a white duck and a white cat were one shape (round six)
            w, h = x2 - x1, y2 - y1
            d.ellipse((x1, y1 + h * 0.3, x2 - w * 0.2, y2 - h * 0.2), fill=c)
            d.ellipse((x2 - w * 0.42, y1, x2 - w * 0.12, y1 + h * 0.45), fill=c)
            d.polygon([(x2 - w * 0.14, y1 + h * 0.14), (x2, y1 + h * 0.22), (x2 - w * 0.14, y1 + h * 0.3)], fill=(230, 140, 30))
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
        rng = random.Random(f"{DRAWING_SEED}:{seed}:{image_id}")
        sc = _Scene(horizon=rng.uniform(170, 320))
        builders[i % len(builders)](sc, rng)
        if rng.random() < 0.5:
            _mirror(sc)
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

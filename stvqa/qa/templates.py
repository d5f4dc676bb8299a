"""The template generator: deterministic multiple-choice questions for the nine spatial categories.

Every answer is computed from the scene graph and the boxes, never guessed. For each image, a seeded
scheduler assigns categories to question slots up front (see `schedule`), so generation is
order-independent and can run in any number of processes. Candidates of a category are ranked by
salience (stvqa.focus), and the k-th slot of a category takes the k-th best candidate.

Difficulty rules (`level`):
  * base: existence and size are easy; relation, orientation, instance_location and count (up to 3)
    are medium; reach, depth, distance and count (4 or more) are hard;
  * one step harder when the smallest object involved covers under 1% of the image, one step easier
    when every object involved covers over 10%.
Rating (1-10): 2 + 5 x salience (mean salience of the objects involved, saturating at 0.5) + 3 x clarity
(how far the deciding quantity is from its threshold, per category), rounded and clipped to 1..10.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass
from functools import cache
from typing import Any

import yaml

from ..focus import LOW_SALIENCE_PREDICATES, focus, is_low_salience_object, object_salience
from ..names import lemma_phrase
from ..resources import resource_path
from . import geometry as geo
from ..records import LETTERS, LEVELS
from .config import GenerateConfig
from .hashing import choose, permutation, sample, unit
from .vocabulary import (
    DEPTH_BEHIND,
    DEPTH_FRONT,
    INTERACTION_ANSWERS,
    REACH_PREDICATES,
    SPATIAL_ANSWERS,
    SPATIAL_PREDICATES,
    group_of,
    overlapping,
    stated_in_front,
)

MAX_UNIQUE = 16


@cache
def phrasings() -> dict[str, list[str]]:
    return yaml.safe_load(resource_path("prompts", "question_templates.yaml").read_text())


def schedule(image_id: str, cfg: GenerateConfig) -> list[str]:
    """The categories of an image's question slots, from a hash of (seed, image id, slot) alone."""
    shares = cfg.shares()
    names = list(shares)
    slots = []
    for slot in range(cfg.per_image):
        u, acc = unit("schedule", cfg.seed, image_id, slot), 0.0
        chosen = names[-1]
        for name in names:
            acc += shares[name]
            if u < acc:
                chosen = name
                break
        slots.append(chosen)
    return slots


@dataclass
class Candidate:
    template: str
    slots: dict[str, str]  # placeholders of the phrasing
    answer: str
    distractors: list[str]
    involved: list[dict[str, Any]]  # objects the question is about
    clarity: float  # 0..1, how far from the deciding threshold
    args: dict[str, Any]  # what verification needs (object ids, class name, ...)
    base_level: str
    pool: tuple[str, ...] = ()  # distractors are drawn from here when the sample is made (only chosen candidates pay)
    swappable: bool = False  # the order of {a} and {b} in the question is drawn when the sample is made


class SceneView:
    """Indexes over one canonical scene graph that every category uses."""

    def __init__(self, scene: dict[str, Any]) -> None:
        self.scene = scene
        self.width, self.height = scene["width"], scene["height"]
        self.objects = scene["objects"]
        self.by_id = {o["id"]: o for o in self.objects}
        self.name_counts = Counter(o["name"] for o in self.objects)
        self.salience = {o["id"]: object_salience(o, self.width, self.height) for o in self.objects}
        # The most salient objects with a unique name; pairwise categories look at the top MAX_UNIQUE only,
        # which bounds the work per image (VG images have up to a few hundred objects).
        unique = sorted(
            (o for o in self.objects if self.name_counts[o["name"]] == 1 and not is_low_salience_object(o["name"])),
            key=lambda o: (-self.salience[o["id"]], o["id"]),
        )
        self.unique_ids = {o["id"] for o in unique}  # every uniquely named object: stated triples may use any
        self.unique = unique[:MAX_UNIQUE]
        self.centres = {o["id"]: geo.centre(o["bbox"]) for o in self.unique}
        self.predicates: dict[tuple[str, str], set[str]] = {}
        for r in scene["relationships"]:
            self.predicates.setdefault((r["subject"], r["object"]), set()).add(r["predicate"])
        self.names_present = set(self.name_counts)

    def share(self, obj) -> float:
        return geo.area(obj["bbox"]) / (self.width * self.height)

    def unique_triples(self, predicates) -> list[tuple[dict, str, dict]]:
        triples = []
        for r in self.scene["relationships"]:
            s, o = self.by_id[r["subject"]], self.by_id[r["object"]]
            if r["predicate"] in predicates and s["name"] != o["name"] and s["id"] in self.unique_ids and o["id"] in self.unique_ids:
                triples.append((s, r["predicate"], o))
        return sorted(triples, key=lambda t: (-(self.salience[t[0]["id"]] + self.salience[t[2]["id"]]), t[0]["id"], t[1], t[2]["id"]))


def _pairs(view: SceneView) -> list[tuple[dict, dict]]:
    return [(a, b) for i, a in enumerate(view.unique) for b in view.unique[i + 1 :]]


def _triple_candidates(view: SceneView, template: str, predicates, answers: tuple[str, ...], synonyms, clarity: float,
                       level: str, limit: int) -> list[Candidate]:
    """Questions about stated triples: the predicate is the answer; distractors are answers that neither
    the answer nor any other predicate stated for the pair covers (through `synonyms`)."""
    out = []
    for s, predicate, o in view.unique_triples(predicates):
        stated = {predicate, *view.predicates.get((s["id"], o["id"]), ())}
        taken = {p for q in stated for p in synonyms(q)}
        pool = tuple(p for p in answers if p not in taken)
        out.append(Candidate(template, {"a": s["name"], "b": o["name"]}, predicate, [], [s, o], clarity,
                             {"a": s["id"], "b": o["id"], "predicate": predicate}, level, pool=pool))
        if len(out) >= limit:
            break
    return out


def relation_candidates(view: SceneView, cfg: GenerateConfig, key: str, limit: int) -> list[Candidate]:
    return _triple_candidates(view, "relation", SPATIAL_PREDICATES - REACH_PREDICATES - LOW_SALIENCE_PREDICATES, SPATIAL_ANSWERS,
                              group_of, 0.6, "medium", limit)


def reach_candidates(view: SceneView, cfg: GenerateConfig, key: str, limit: int) -> list[Candidate]:
    return _triple_candidates(view, "reach", REACH_PREDICATES - LOW_SALIENCE_PREDICATES, INTERACTION_ANSWERS,
                              lambda p: {p}, 0.7, "hard", limit)


def size_candidates(view: SceneView, cfg: GenerateConfig, key: str, limit: int) -> list[Candidate]:
    out = []
    for a, b in _pairs(view):
        big, small = (a, b) if geo.area(a["bbox"]) >= geo.area(b["bbox"]) else (b, a)
        ratio = geo.area(big["bbox"]) / max(geo.area(small["bbox"]), 1e-9)
        if ratio < cfg.size_ratio:
            continue
        out.append(Candidate("size", {"a": a["name"], "b": b["name"]}, big["name"], [small["name"]], [a, b],
                             min(1.0, (ratio - cfg.size_ratio) / 3), {"larger": big["id"], "smaller": small["id"]}, "easy", swappable=True))
        if len(out) >= limit:
            break
    return out


def orientation_candidates(view: SceneView, cfg: GenerateConfig, key: str, limit: int) -> list[Candidate]:
    out = []
    for a, b in _pairs(view):
        if unit(key, "orientation-order", a["id"], b["id"]) < 0.5:
            a, b = b, a
        side = geo.horizontal_order(a["bbox"], b["bbox"], view.width, cfg.position_margin)
        if side:
            gap = abs(geo.centre(a["bbox"])[0] - geo.centre(b["bbox"])[0]) / view.width
            out.append(Candidate("orientation_horizontal", {"a": a["name"], "b": b["name"]}, side, ["right" if side == "left" else "left"],
                                 [a, b], min(1.0, gap / 0.5), {"a": a["id"], "b": b["id"], "axis": "horizontal"}, "medium"))
        else:
            vertical = geo.vertical_order(a["bbox"], b["bbox"], view.height, cfg.position_margin)
            if vertical:
                gap = abs(geo.centre(a["bbox"])[1] - geo.centre(b["bbox"])[1]) / view.height
                out.append(Candidate("orientation_vertical", {"a": a["name"], "b": b["name"]}, vertical, ["below" if vertical == "above" else "above"],
                                     [a, b], min(1.0, gap / 0.5), {"a": a["id"], "b": b["id"], "axis": "vertical"}, "medium"))
        if len(out) >= limit:
            break
    return out


def instance_location_candidates(view: SceneView, cfg: GenerateConfig, key: str, limit: int) -> list[Candidate]:
    out = []
    for a in view.unique:
        cell, margin = geo.grid_cell(a["bbox"], view.width, view.height)
        if margin < cfg.cell_margin:
            continue
        others = [c for c in geo.ALL_CELLS if c != cell]
        out.append(Candidate("instance_location", {"a": a["name"]}, cell, [], [a], min(1.0, margin / (1 / 6)), {"a": a["id"]}, "medium",
                             pool=tuple(others)))
        if len(out) >= limit:
            break
    return out


def depth_candidates(view: SceneView, cfg: GenerateConfig, key: str, limit: int) -> list[Candidate]:
    out = []
    for s, predicate, o in view.unique_triples(DEPTH_FRONT | DEPTH_BEHIND):
        if len(stated_in_front(view.scene["relationships"], s["id"], o["id"])) > 1:
            continue  # the graph says both "a in front of b" and "b in front of a"
        closer, farther = (s, o) if predicate in DEPTH_FRONT else (o, s)
        out.append(Candidate("depth", {"a": s["name"], "b": o["name"]}, closer["name"], [farther["name"]], [s, o], 0.8,
                             {"closer": closer["id"], "farther": farther["id"], "stated_by": predicate}, "hard", swappable=True))
        if len(out) >= limit:
            break
    return out


def distance_candidates(view: SceneView, cfg: GenerateConfig, key: str, limit: int) -> list[Candidate]:
    out = []
    diagonal = (view.width**2 + view.height**2) ** 0.5
    for ref in view.unique:
        rx, ry = view.centres[ref["id"]]
        others = [o for o in view.unique if o is not ref]
        distances = {o["id"]: ((view.centres[o["id"]][0] - rx) ** 2 + (view.centres[o["id"]][1] - ry) ** 2) ** 0.5 for o in others}
        for i, a in enumerate(others):
            for b in others[i + 1 :]:
                da, db = distances[a["id"]], distances[b["id"]]
                near, far, dn, df = (a, b, da, db) if da <= db else (b, a, db, da)
                if df < cfg.distance_ratio * max(dn, 1e-9) or df - dn < 0.1 * diagonal:
                    continue
                out.append(Candidate("distance", {"ref": ref["name"], "a": a["name"], "b": b["name"]}, near["name"], [far["name"]],
                                     [ref, a, b], min(1.0, (df - dn) / (0.5 * diagonal)), {"ref": ref["id"], "nearer": near["id"], "farther": far["id"]},
                                     "hard", swappable=True))
                if len(out) >= limit:
                    return out
    return out


def count_candidates(view: SceneView, cfg: GenerateConfig, key: str, limit: int) -> list[Candidate]:
    out = []
    low, high = cfg.count_range
    for name, n in sorted(view.name_counts.items(), key=lambda kv: (-kv[1], kv[0])):
        if not low <= n <= high or is_low_salience_object(name):
            continue
        if any(other != name and other in view.names_present for other in overlapping(name)):
            continue  # "how many men?" is ambiguous when a "person" is annotated too
        numbers = [m for m in (n - 1, n + 1, n + 2, n + 3) if m >= 0][:3]
        instances = [o for o in view.objects if o["name"] == name]
        plural = _plural(name)
        out.append(Candidate("count", {"plural": plural, "name": name}, str(n), [str(m) for m in numbers], instances,
                             1.0 if n <= 4 else 0.5, {"name": name}, "medium" if n <= 3 else "hard"))
        if len(out) >= limit:
            break
    return out


def existence_candidates(view: SceneView, cfg: GenerateConfig, key: str, limit: int, vocabulary: tuple[str, ...] = ()) -> list[Candidate]:
    present_blocked = set().union(*(overlapping(n) for n in view.names_present)) if view.names_present else set()
    present_lemmas = {lemma_phrase(n) for n in present_blocked}
    absent = [n for n in vocabulary if n not in present_blocked and lemma_phrase(n) not in present_lemmas and not is_low_salience_object(n)]
    out = []
    for i, a in enumerate(view.unique):
        if unit(key, "existence", i) < 0.5 or not absent:
            out.append(Candidate("existence", {"name": a["name"]}, "yes", ["no"], [a], 1.0, {"name": a["name"], "present": True}, "easy"))
        else:
            name = choose(absent, key, "absent", i)
            out.append(Candidate("existence", {"name": name}, "no", ["yes"], [], 1.0, {"name": name, "present": False}, "easy"))
        if len(out) >= limit:
            break
    return out


GENERATORS = {
    "relation": relation_candidates, "reach": reach_candidates, "size": size_candidates, "orientation": orientation_candidates,
    "instance_location": instance_location_candidates, "depth": depth_candidates, "distance": distance_candidates,
    "count": count_candidates,
}


def _plural(name: str) -> str:
    from lemminflect import getInflection

    words = name.split(" ")
    forms = getInflection(words[-1], tag="NNS")
    return " ".join([*words[:-1], forms[0] if forms else words[-1] + "s"])


def _level(candidate: Candidate, view: SceneView) -> str:
    index = LEVELS.index(candidate.base_level)
    shares = [view.share(o) for o in candidate.involved]
    if shares and min(shares) < 0.01:
        index += 1
    elif shares and min(shares) > 0.10:
        index -= 1
    return LEVELS[min(max(index, 0), 2)]


def _rating(candidate: Candidate, view: SceneView) -> int:
    saliences = [view.salience[o["id"]] for o in candidate.involved] or [0.5]
    salience = min(1.0, (sum(saliences) / len(saliences)) / 0.5)
    return int(min(10, max(1, round(2 + 5 * salience + 3 * candidate.clarity))))


def make_sample(candidate: Candidate, view: SceneView, cfg: GenerateConfig, sample_id: str, category: str) -> dict[str, Any]:
    """A QA row: phrasing, shuffled options, letter, level, rating and the question-focused subgraph."""
    templates = phrasings()[candidate.template]
    template_index = int(unit("phrasing", cfg.seed, sample_id) * len(templates))
    slots = dict(candidate.slots)
    if candidate.swappable and unit("order", cfg.seed, sample_id) < 0.5:
        slots["a"], slots["b"] = slots["b"], slots["a"]
    question = templates[template_index].format(**slots)
    distractors = candidate.distractors or sample(candidate.pool, 3, "distractors", cfg.seed, sample_id)
    texts = [candidate.answer, *distractors][:4]
    order = permutation(len(texts), "options", cfg.seed, sample_id)
    options = [texts[i] for i in order]
    letter = LETTERS[options.index(candidate.answer)]
    subgraph = focus(" ".join([question, *options]) if category != "existence" else question, view.scene)
    return {
        "sample_id": sample_id,
        "image_id": view.scene["image_id"],
        "category": category,
        "question": question,
        "options": options,
        "answer": letter,
        "answer_text": candidate.answer,
        "level": _level(candidate, view),
        "rating": _rating(candidate, view),
        "focus": json.dumps(subgraph, separators=(", ", ": ")),
        "args": json.dumps(candidate.args, sort_keys=True),
        "template": f"{candidate.template}/{template_index}",
        "generator": "template",
    }


def generate_for_scene(scene: dict[str, Any], cfg: GenerateConfig, vocabulary: tuple[str, ...], shortfalls: Counter) -> list[dict[str, Any]]:
    """Questions for one image, following its slot schedule; categories it cannot serve are counted in `shortfalls`."""
    view = SceneView(scene)
    samples = []
    used: Counter = Counter()
    cache_: dict[str, list[Candidate]] = {}
    slots = schedule(scene["image_id"], cfg)
    wanted = Counter(slots)  # candidate search stops once every slot of a category has one
    key = f"{cfg.seed}:{scene['image_id']}"
    for slot, category in enumerate(slots):
        if category not in cache_:
            if category == "existence":
                cache_[category] = existence_candidates(view, cfg, key, wanted[category], vocabulary)
            else:
                cache_[category] = GENERATORS[category](view, cfg, key, wanted[category])
        candidates = cache_[category]
        k = used[category]
        used[category] += 1
        if k >= len(candidates):
            shortfalls[category] += 1
            continue
        samples.append(make_sample(candidates[k], view, cfg, f"{scene['image_id']}:{slot}", category))
    return samples

"""A scripted question writer for the loopback chat server: it reads the request's scene graph as an LLM would
(ids, boxes, phrases, relations, slots), writes every slot's category from it with its own simple geometry, and
marks a wrong option in a share of its questions. It remembers what it wrote and which answer is right, so a test
can judge the exported dataset question by question.

It is deliberately not the project's code: its rules are what a careful-enough writer would do (boxes' areas and
centres, the relations as annotated), so whatever the gate keeps or drops is the gate's doing.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from llm_fakes import prompt_of
from stvqa.llm.fake_server import FakeReply

_OBJECT = re.compile(r"^(?P<id>\S+) (?P<box>[\d.]+,[\d.]+,[\d.]+,[\d.]+)(?: (?P<note>.*))?$")
SPATIAL = ("on", "in", "under", "above", "below", "behind", "in front of", "next to", "beside", "inside", "on top of", "near")
INTERACTION = ("holding", "riding", "carrying", "sitting on", "eating", "pulling", "walking on", "standing on", "looking at")
# The options a writer offers besides the answer: what the thing plainly is not doing (its own idea, not the gate's).
FALSE_ALTERNATIVES = {"on": ("under", "behind"), "in": ("under", "behind"), "under": ("on", "above"), "above": ("under", "behind"),
                      "behind": ("in front of", "on"), "in front of": ("behind", "under"), "next to": ("on", "under"),
                      "near": ("on", "under"), "holding": ("riding", "eating"), "riding": ("pulling", "carrying"),
                      "carrying": ("riding", "eating"), "eating": ("riding", "carrying")}
CELLS = ("top-left", "top", "top-right", "left", "center", "right", "bottom-left", "bottom", "bottom-right")
ABSENT = ("elephant", "giraffe", "zebra", "airplane", "sailboat", "surfboard", "snowboard", "kite")
# What a writer says instead of the graph's name (synonyms the project's lexicon knows, and some it may not).
SYNONYMS = {"couch": "sofa", "sofa": "couch", "car": "automobile", "bike": "bicycle", "bicycle": "bike", "man": "guy",
            "bush": "shrub", "airplane": "plane", "child": "kid", "kid": "child", "curtain": "drape",
            "cellphone": "cell phone", "television": "tv", "tv": "television", "motorcycle": "motorbike"}


def _unit(*parts: Any) -> float:
    digest = hashlib.sha256("\x1f".join(map(str, parts)).encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


@dataclass
class Thing:
    id: str
    name: str
    box: tuple[float, float, float, float]
    phrase: str | None  # how the prompt says to name it; None: never ask about it on its own

    @property
    def area(self) -> float:
        return (self.box[2] - self.box[0]) * (self.box[3] - self.box[1])

    @property
    def centre(self) -> tuple[float, float]:
        return (self.box[0] + self.box[2]) / 2, (self.box[1] + self.box[3]) / 2


def parse(request: dict[str, Any]) -> tuple[int, int, list[Thing], list[tuple[str, str, str]], list[tuple[str, str]]]:
    """(width, height, objects, relations, slots) of the generator's user message."""
    width = height = 0
    things, relations, slots, section = [], [], [], None
    for line in prompt_of(request).splitlines():
        if m := re.match(r"^Image size: (\d+) x (\d+)$", line):
            width, height = int(m.group(1)), int(m.group(2))
        elif line.startswith(("Objects", "Relations", "Slots")):
            section = line.split(":")[0]
        elif section == "Objects" and (m := _OBJECT.match(line)):
            name = re.sub(r"_+", " ", m.group("id").rsplit(".", 1)[0]).strip()
            note = m.group("note")
            phrase = None if note == "*" else (note or name)
            things.append(Thing(m.group("id"), name, tuple(float(v) for v in m.group("box").split(",")), phrase))
        elif section == "Relations" and line.strip():
            words = line.split()
            relations.append((words[0], " ".join(words[1:-1]), words[-1]))
        elif section == "Slots" and (m := re.match(r"^\d+\. (\w+), (\w+)$", line)):
            slots.append((m.group(1), m.group(2)))
    return width, height, things, relations, slots


@dataclass
class Written:
    """One question the writer wrote: what it knows to be the right answer, and whether it marked a wrong one."""

    image_id: str
    category: str
    question: str
    right: str
    marked_wrong: bool


@dataclass
class ScriptedWriter:
    """The chat server's handler. `wrong_share` of questions are marked on a wrong option; with `variants`, names
    become synonyms where it knows one and `missing_ids_share` of replies give no object ids."""

    wrong_share: float = 0.3
    variants: bool = False
    missing_ids_share: float = 0.0
    written: dict[tuple[str, str], Written] = field(default_factory=dict)

    def __call__(self, request: dict[str, Any], n: int) -> FakeReply:
        width, height, things, relations, slots = parse(request)
        image_id = hashlib.sha256(prompt_of(request).encode()).hexdigest()[:12]  # the prompt does not carry the id
        by_id = {t.id: t for t in things}
        questions, used = [], set()
        for slot, (category, level) in enumerate(slots):
            made = getattr(self, f"_{category}")(width, height, things, by_id, relations)
            fresh = sorted((m for m in made if m[0] not in used), key=lambda m: _unit("pick", image_id, slot, m[0]))
            if not fresh:
                continue  # leave the slot out rather than repeat a question
            text, options, right, roles = fresh[0]
            used.add(text)
            options = sorted(options, key=lambda o: _unit("order", image_id, slot, o)) if category != "count" else options
            wrong = _unit("wrong", image_id, slot) < self.wrong_share
            chosen = next(o for o in sorted(options, key=lambda o: _unit("wrong-pick", image_id, slot, o)) if o != right) if wrong else right
            item = {"question": text, "options": options, "answer": "ABCD"[options.index(chosen)], "category": category,
                    "level": level, "rating": 7}
            if _unit("ids", image_id) >= self.missing_ids_share:
                item["objects"] = [{"id": oid, "role": role} for role, oid in roles.items()]
            questions.append(item)
            self.written[(image_id, text)] = Written(image_id, category, text, right, wrong)
        return FakeReply(content=json.dumps({"questions": questions}))

    # --- naming -------------------------------------------------------------------------------------------------
    def name(self, thing: Thing) -> str:
        if self.variants and thing.phrase == thing.name and thing.name in SYNONYMS:
            return SYNONYMS[thing.name]
        return thing.phrase or thing.name

    @staticmethod
    def askable(things: list[Thing]) -> list[Thing]:
        return [t for t in things if t.phrase is not None]

    # --- one method per category: every question it could write, as (question, options, right answer, roles) -------
    def _relation(self, w, h, things, by_id, relations, vocabulary=SPATIAL, what="relation"):
        out = []
        for s, p, o in relations:
            if p not in vocabulary or s not in by_id or o not in by_id or not by_id[s].phrase or not by_id[o].phrase or by_id[s].name == by_id[o].name:
                continue
            answer = {"beside": "next to", "on top of": "on", "inside": "in", "below": "under"}.get(p, p)
            options = [answer, *(x for x in FALSE_ALTERNATIVES.get(answer, ("riding", "eating", "carrying")) if x != answer)][:3]
            a, b = self.name(by_id[s]), self.name(by_id[o])
            text = f"Where is the {a} with respect to the {b}?" if what == "relation" else f"What is the {a} doing with the {b}?"
            out.append((text, options, answer, {"subject": s, "reference": o}))
        return out

    def _reach(self, w, h, things, by_id, relations):
        return self._relation(w, h, things, by_id, relations, INTERACTION, "reach")

    def _pairs(self, things, fits):
        unique = self.askable(things)
        return [(a, b) for i, a in enumerate(unique) for b in unique[i + 1:] if a.name != b.name and fits(a, b)]

    def _size(self, w, h, things, by_id, relations):
        out = []
        for a, b in self._pairs(things, lambda a, b: max(a.area, b.area) >= 1.5 * min(a.area, b.area)):
            right = self.name(a) if a.area > b.area else self.name(b)
            out.append((f"Which appears larger in the image: the {self.name(a)} or the {self.name(b)}?", [self.name(a), self.name(b)], right,
                        {"first": a.id, "second": b.id}))
        return out

    def _orientation(self, w, h, things, by_id, relations):
        out = []
        for a, b in self._pairs(things, lambda a, b: abs(a.centre[0] - b.centre[0]) >= 0.1 * w):
            right = "left" if a.centre[0] < b.centre[0] else "right"
            out.append((f"From the camera's viewpoint, is the {self.name(a)} to the left or to the right of the {self.name(b)}?", ["left", "right"],
                        right, {"subject": a.id, "reference": b.id}))
        return out

    def _instance_location(self, w, h, things, by_id, relations):
        out = []
        for thing in self.askable(things):
            cx, cy = thing.centre
            right = CELLS[3 * min(int(3 * cy / h), 2) + min(int(3 * cx / w), 2)]
            others = sorted((c for c in CELLS if c != right), key=lambda c: _unit("cells", thing.id, c))[:3]
            out.append((f"In which part of the image is the {self.name(thing)}?", [right, *others], right, {"subject": thing.id}))
        return out

    def _depth(self, w, h, things, by_id, relations):
        out = []
        for s, p, o in relations:
            if p in ("in front of", "behind") and s in by_id and o in by_id and by_id[s].phrase and by_id[o].phrase and by_id[s].name != by_id[o].name:
                a, b = self.name(by_id[s]), self.name(by_id[o])
                out.append((f"Which is closer to the camera: the {a} or the {b}?", [a, b], a if p == "in front of" else b, {"first": s, "second": o}))
        return out

    def _distance(self, w, h, things, by_id, relations):
        unique = self.askable(things)[:12]

        def d(x, y):
            return ((x.centre[0] - y.centre[0]) ** 2 + (x.centre[1] - y.centre[1]) ** 2) ** 0.5

        out = []
        for r in unique:
            for a in unique:
                for b in unique:
                    if len({r.name, a.name, b.name}) == 3 and a.id < b.id and max(d(r, a), d(r, b)) >= 1.5 * min(d(r, a), d(r, b)):
                        right = self.name(a) if d(r, a) < d(r, b) else self.name(b)
                        out.append((f"In the image, which is closer to the {self.name(r)}: the {self.name(a)} or the {self.name(b)}?",
                                    [self.name(a), self.name(b)], right, {"reference": r.id, "first": a.id, "second": b.id}))
        return out

    def _count(self, w, h, things, by_id, relations):
        groups = defaultdict(list)
        for t in things:
            groups[t.name].append(t)
        out = []
        for name in sorted(n for n, ts in groups.items() if 2 <= len(ts) <= 6):
            n = len(groups[name])
            low = max(1, n - int(_unit("rank", name, n) * 4))
            plural = name + ("es" if name.endswith(("s", "sh", "ch")) else "s")
            out.append((f"How many {plural} are there in the image?", [str(v) for v in range(low, low + 4)], str(n), {"counted": groups[name][0].id}))
        return out

    def _existence(self, w, h, things, by_id, relations):
        present = {t.name for t in things}
        out = [(f"Is there a {t.name} in the image?", ["yes", "no"], "yes", {"object": t.id}) for t in self.askable(things)]
        return out + [(f"Is there a {name} in the image?", ["yes", "no"], "no", {}) for name in ABSENT if name not in present]

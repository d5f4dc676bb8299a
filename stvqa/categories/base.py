"""What every question category is made of, and what the categories share.

A category is one `Category`: its name, its short label, its share in the paper's mix, the roles of the objects
its questions are about (what an LLM reply names by id), its line of the LLM's prompt, its template candidates,
their phrasings and its check. The template generator asks `candidates` for questions it may write; the gate (the verify
stage) asks `check` to prove the answer of any question, whoever wrote it, and every distractor false.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

from .. import geometry as geo
from ..english import be
from ..lexicon import objecthood
from ..scene_view import DUPLICATE_IOU, SceneView

SAME = "about the same"
# Text-only guessers learn how often an option text is the answer. VG's answers are skewed ("on" is most of
# its spatial predicates, 2 most of its counts), so common answers are kept less often (a hash decides);
# the debias stage then draws distractors so that every option text has a similar chance of being right.
ANSWER_KEEP = {"on": 0.25, "in": 0.6, "wearing": 0.35, "2": 0.1, "3": 0.7}

Verdict = tuple[bool | None, str, dict[str, Any]]  # verified (None: cannot tell), the reason, the sample (a count may be corrected)


class Thresholded(Protocol):
    """What candidates and checks read of their config: the margins an answer must clear (`Thresholds`)."""

    thresholds: Any


@dataclass
class Candidate:
    """A question the template generator may write (see `stvqa.stages.generate.templates.make_sample`)."""

    template: str
    slots: dict[str, str]  # placeholders of the phrasing
    answer: str
    options: list[str]  # the answer and its distractors (ordered by the hash when the sample is made)
    involved: list[dict[str, Any]]  # objects the question is about: exactly the exported scene
    clarity: float  # 0..1, how far the deciding quantity is from its threshold
    args: dict[str, Any]  # what verification needs (object ids, class name, ...)
    pair: frozenset[str] = field(default_factory=frozenset)  # objects whose pairing one image asks about once
    swappable: bool = False  # the order of {a} and {b} in the question is drawn when the sample is made


@dataclass(frozen=True)
class Check:
    """What a category's check gets: the question as written, its scene, the objects of its roles and settings."""

    sample: dict[str, Any]
    scene: dict[str, Any]
    objects: dict[str, dict[str, Any]]  # id -> object, every object of the scene
    args: dict[str, Any]  # the objects of the question's roles (ids) and what else the category needs
    chosen: str  # the text of the option the answer letter points to
    cfg: Any  # thresholds, correct_counts
    view: SceneView | None = None  # the scene's indexes (things, phrases, group boxes), for the category's own rules

    def text(self, oid: str) -> str:
        """How the question named the object: its referring phrase when the writer recorded one."""
        return (self.args.get("texts") or {}).get(oid) or self.objects[oid]["name"]

    def by_position(self, *keys: str) -> bool:
        """Whether the question names one of these objects by where it is ("the chair on the left"), which
        gives away answers about where things are."""
        view = self.view
        return view is not None and any(view.refers_by.get(self.args[k]) == "position" and self.text(self.args[k]) == view.phrase[self.args[k]]
                                        for k in keys)


@dataclass(frozen=True)
class Category:
    name: str
    short: str  # narrow table columns (the filter funnel)
    share: float  # in the paper's mix: half relation, the rest evenly
    roles: dict[str, str]  # role (as a reply names it) -> the args key its object goes to
    prompt: str  # the category's line in the LLM's system prompt
    candidates: Callable[[SceneView, Thresholded, str, int], list[Candidate]]
    check: Callable[[Check], Verdict]
    hard: float = 0.0  # inherent difficulty, added to the level's measured risks
    optional_roles: frozenset[str] = frozenset()  # roles a question of this category may leave out (existence "no")
    compares: bool = False  # its objects are compared by their boxes: never one thing boxed twice
    # The template generator's phrasings: template -> several texts over `Candidate.slots`, one picked by a hash of
    # the sample id and the seed. Each states the reference frame where it could be ambiguous ("from the camera").
    phrasings: dict[str, tuple[str, ...]] = field(default_factory=dict)


def slots_of(view: SceneView, **objects: dict) -> dict[str, str]:
    slots = {key: view.phrase[o["id"]] for key, o in objects.items()}
    if "a" in slots:
        slots["be_a"] = be(slots["a"])
    return slots


def distinct_things(view: SceneView, a: dict, b: dict) -> bool:
    """Two objects a question may compare: not one object under two names ("van" and "work truck" boxed alike)."""
    return not objecthood.overlaps(a["name"], b["name"]) and geo.iou(a["bbox"], b["bbox"]) < DUPLICATE_IOU


def pairs(view: SceneView, by_position: bool = True) -> list[tuple[dict, dict]]:
    things = [o for o in view.named if by_position or view.refers_by[o["id"]] != "position"]
    return [(a, b) for i, a in enumerate(things) for b in things[i + 1 :] if distinct_things(view, a, b)]


def compare(x: float, y: float, ratio: float, same: float) -> tuple[str, float] | None:
    """'x' / 'y' when one is at least `ratio` times the other, SAME when within `same`, else None (unclear)."""
    big, small = max(x, y), max(min(x, y), 1e-9)
    if big >= ratio * small:
        return ("x" if x > y else "y"), min(1.0, (big / small - ratio) / 3 + 0.3)
    if big <= same * small:
        # At most half clear: people draw the line of "about the same" in different places (all 8 disagreements of
        # the first annotation round were such answers).
        return SAME, min(0.5, (same - big / small) / (same - 1) + 0.3)
    return None

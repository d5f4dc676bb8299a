"""reach: what a person or an animal does with a thing (holding, riding, sitting on, ...), as the graph states it."""

from __future__ import annotations

from ..scene_view import SceneView
from .base import Candidate, Category, Check, Verdict
from .relation import ROLES, check_triple, triple_candidates

AGENTS = frozenset({"person", "animal"})  # what "What is the X doing with the Y?" can be asked of


def candidates(view: SceneView, cfg, key: str, limit: int) -> list[Candidate]:
    """Interactions of people and animals only: VG also says "the pin is holding the note", but "What is the
    push pin doing with the reminder?" is no question a person would ask."""
    return triple_candidates(view, "reach", "interaction", limit, key, subjects=AGENTS)


PHRASINGS = {
    "reach": (
        "What {be_a} the {a} doing with the {b}?",
        "How {be_a} the {a} interacting with the {b}?",
        "Which interaction best describes the {a} and the {b}?",
    ),
}


def check(q: Check) -> Verdict:
    return check_triple(q, "reach", "interaction", subjects=AGENTS)


CATEGORY = Category(
    "reach", "reach", 0.0625, ROLES,
    "reach: what one object does with another (holding, riding, sitting on, carrying, ...), as stated in the graph; the subject "
    "is a person or an animal. Roles: subject, reference.",
    candidates, check, hard=0.3, phrasings=PHRASINGS,
)

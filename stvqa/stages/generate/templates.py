"""The template generator: deterministic multiple-choice questions for the nine spatial categories.

Every answer is computed from the scene graph and the boxes, never guessed, and every question names
only things a person can point at, each by a phrase that picks out exactly one object (see
`scene_view.py`). For each image, a seeded scheduler assigns categories to question slots up front
(see `schedule`), so generation is order-independent and can run in any number of processes.

What keeps the answer out of the text: answers and distractors of relation and reach questions come from
one canonical predicate vocabulary (`stvqa/lexicon/predicates.yaml`), distractors must be false for the
pair; count options are four consecutive numbers with the answer at an evenly spread rank; distance offers
"about the same" and asks it when it is true; existence draws "yes" and "no" objects from
one vocabulary of common things (`stvqa/lexicon/settings.yaml`); one image never asks about one pair twice.

Rating (1-10) is 10 minus the measured risks that a person would disagree with the answer: small boxes,
boxes covered by others, a thing that needs a referring expression, a deciding quantity close to its
threshold, a thing annotated again under another name. Level (easy/medium/hard) measures difficulty: small
or many objects, closeness to the threshold, and the category's inherent difficulty.
"""

from __future__ import annotations

import json
from collections import Counter
from functools import cache
from typing import Any

from ...categories import REGISTRY
from ...categories.base import Candidate
from ...english import be
from ...focus import subgraph
from ...hashing import permutation, unit
from ...records import LETTERS, LEVELS
from ...scene_view import SceneView
from .config import GenerateConfig

# Levels: the category's inherent difficulty (`Category.hard`) added to the measured risks.
HARD_CATEGORIES = {c.name: c.hard for c in REGISTRY}


@cache
def phrasings() -> dict[str, tuple[str, ...]]:
    """template -> its phrasings, from every category of the registry."""
    return {template: texts for c in REGISTRY for template, texts in c.phrasings.items()}


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


GENERATORS = {c.name: c.candidates for c in REGISTRY}  # category -> its template candidates


REFERRING_RISK = {"attribute": 0.5, "position": 0.7, "relation": 0.7}  # VG's attributes and relations can be wrong


def risks(candidate: Candidate, view: SceneView) -> dict[str, float]:
    """What could make a careful person disagree with the answer, each in 0..1."""
    involved = candidate.involved
    smallest = min((view.share(o) for o in involved), default=1.0)
    return {
        "small": 1.0 if smallest < 0.005 else 0.5 if smallest < 0.02 else 0.0,
        "occluded": max((view.occlusion(o) for o in involved), default=0.0) ** 2,
        "referred": max((REFERRING_RISK.get(view.refers_by.get(o["id"]), 0.0) for o in involved), default=0.0),
        "unclear": 1.0 - candidate.clarity,
        "name_disputed": 1.0 if any(view.name_disputed(o) for o in involved) else 0.0,
    }


def rating_and_level(candidate: Candidate, view: SceneView, category: str) -> tuple[int, str]:
    r = risks(candidate, view)
    rating = round(10 - 3 * r["small"] - 2 * r["occluded"] - 2 * r["referred"] - 4 * r["unclear"] - 3 * r["name_disputed"])
    difficulty = r["small"] + 0.5 * r["referred"] + r["unclear"] + HARD_CATEGORIES.get(category, 0.0) + 0.1 * max(0, len(candidate.involved) - 2)
    level = LEVELS[0] if difficulty < 0.5 else LEVELS[1] if difficulty < 1.0 else LEVELS[2]
    return int(min(10, max(1, rating))), level


def question_focus(candidate: Candidate, view: SceneView) -> dict[str, Any]:
    """The question-focused subgraph: exactly the objects the question refers to (the table of "the cup on the
    table" too), and the relations among them."""
    ids = {o["id"] for o in candidate.involved} | {view.anchor[o["id"]] for o in candidate.involved if o["id"] in view.anchor}
    return subgraph(view.objects, view.scene["relationships"], ids)


def names_its_own_answer(candidate: Candidate, view: SceneView) -> bool:
    """Whether the question would name one of its objects by its relation to another of them: "Where is the cup
    on the table relative to the table?"."""
    ids = {o["id"] for o in candidate.involved}
    return any(view.anchor.get(i) in ids for i in ids)


def make_sample(candidate: Candidate, view: SceneView, cfg: GenerateConfig, sample_id: str, category: str) -> dict[str, Any]:
    """A QA row: phrasing, shuffled options, letter, level, rating and the question-focused subgraph."""
    templates = phrasings()[candidate.template]
    template_index = int(unit("phrasing", cfg.seed, sample_id) * len(templates))
    slots = dict(candidate.slots)
    if candidate.swappable and unit("order", cfg.seed, sample_id) < 0.5:
        slots["a"], slots["b"] = slots["b"], slots["a"]
        slots["be_a"] = be(slots["a"])
    question = templates[template_index].format(**slots)
    texts = candidate.options[: len(LETTERS)]
    order = permutation(len(texts), "options", cfg.seed, sample_id)
    options = [texts[i] for i in order]
    rating, level = rating_and_level(candidate, view, category)
    texts = {o["id"]: view.phrase[o["id"]] for o in candidate.involved if o["id"] in view.phrase and category not in ("count", "existence")}
    args = dict(candidate.args, texts=texts) if texts else candidate.args
    return {
        "sample_id": sample_id,
        "image_id": view.scene["image_id"],
        "category": category,
        "question": question[0].upper() + question[1:],
        "options": options,
        "answer": LETTERS[options.index(candidate.answer)],
        "answer_text": candidate.answer,
        "level": level,
        "rating": rating,
        "focus": json.dumps(question_focus(candidate, view), separators=(", ", ": ")),
        "args": json.dumps(args, sort_keys=True),
        "template": f"{candidate.template}/{template_index}",
        "generator": "template",
    }


def generate_for_scene(scene: dict[str, Any], cfg: GenerateConfig, shortfalls: Counter) -> list[dict[str, Any]]:
    """Questions for one image, following its slot schedule; categories it cannot serve are counted in
    `shortfalls`. One image asks about one pair of objects once, and never repeats a question."""
    view = SceneView(scene)
    samples = []
    cache_: dict[str, list[Candidate]] = {}
    slots = schedule(scene["image_id"], cfg)
    wanted = Counter(slots)
    asked_pairs: set[frozenset[str]] = set()
    asked_texts: set[str] = set()
    key = f"{cfg.seed}:{scene['image_id']}"
    for slot, category in enumerate(slots):
        if category not in cache_:
            # A few spare candidates per slot: some are taken by pairs other categories already asked about.
            cache_[category] = GENERATORS[category](view, cfg, key, 3 * wanted[category] + 2)
        sample = None
        while cache_[category] and sample is None:
            candidate = cache_[category].pop(0)
            if len(candidate.pair) > 1 and any(len(candidate.pair & p) >= 2 for p in asked_pairs):
                continue
            if names_its_own_answer(candidate, view):
                continue
            made = make_sample(candidate, view, cfg, f"{scene['image_id']}:{slot}", category)
            if made["question"] in asked_texts:
                continue
            sample = made
            asked_pairs.add(candidate.pair)
            asked_texts.add(made["question"])
        if sample is None:
            shortfalls[category] += 1
        else:
            samples.append(sample)
    return samples

"""The LLM generator's prompt: a fixed system message that servers can cache, and one compact user message
per image with its size, its salient objects and relations, and the slots the scheduler assigned.

Each request stands alone (no running statistics of earlier replies), so any number can run at once and a
reply depends only on its image and its slots. Only things go into the graph (no stuff, regions, parts or
group boxes; `SceneView`), at most `MAX_OBJECTS`, most salient first, with the phrase a question must use
where the name alone is ambiguous; relations only between those, without possessive ones (has, wearing).

>>> user_message({"image_id": "1", "width": 640, "height": 480, "relationships": [],
...               "objects": [{"id": "dog.1", "name": "dog", "bbox": [40, 375, 143, 440]}]}, [("count", "easy")])
'Image size: 640 x 480\\nObjects:\\ndog.1 40,375,143,440\\nRelations: none\\nSlots:\\n1. count, easy'
"""

from __future__ import annotations

from functools import cache
from typing import Any

from ...categories import REGISTRY
from ...focus import LOW_SALIENCE_PREDICATES
from ...records import LEVELS
from ...resources import resource_path
from .config import GenerateConfig
from ...hashing import unit
from ...scene_view import SceneView
from .templates import schedule

PROMPT_FILE = "qa_generation.txt"
MAX_OBJECTS = 40  # the graph's most salient things: enough for every category, bounded tokens per image


@cache
def system_prompt() -> str:
    """`prompts/qa_generation.txt` with each category's line (`Category.prompt`, its roles included) at `{categories}`."""
    lines = "\n".join(f"- {c.prompt}" for c in REGISTRY)
    return resource_path("prompts", PROMPT_FILE).read_text(encoding="utf-8").strip().replace("{categories}", lines)


def slots(image_id: str, cfg: GenerateConfig) -> list[tuple[str, str]]:
    """(category, level) of each question slot: categories from the quota scheduler, levels evenly from a hash."""
    return [(category, LEVELS[int(unit("llm-level", cfg.seed, image_id, slot) * len(LEVELS))])
            for slot, category in enumerate(schedule(image_id, cfg))]


def _box(bbox) -> str:
    return ",".join(str(round(float(v))) for v in bbox)


def user_message(scene: dict[str, Any], wanted: list[tuple[str, str]], view: SceneView | None = None) -> str:
    view = view or SceneView(scene)
    shown = sorted(view.things, key=lambda o: (-view.salience[o["id"]], o["id"]))[:MAX_OBJECTS]
    ids = {o["id"] for o in shown}
    lines = [f"Image size: {scene['width']} x {scene['height']}", "Objects:"]
    for o in shown:
        phrase = view.phrase.get(o["id"])
        note = "" if phrase == o["name"] else " *" if phrase is None else f" {phrase}"
        lines.append(f"{o['id']} {_box(o['bbox'])}{note}")
    relations = [f"{r['subject']} {r['predicate']} {r['object']}" for r in scene["relationships"]
                 if r["subject"] in ids and r["object"] in ids and r["predicate"] not in LOW_SALIENCE_PREDICATES]
    lines += ["Relations:", *relations] if relations else ["Relations: none"]
    lines.append("Slots:")
    lines += [f"{i}. {category}, {level}" for i, (category, level) in enumerate(wanted, 1)]
    return "\n".join(lines)


def messages(scene: dict[str, Any], wanted: list[tuple[str, str]], view: SceneView | None = None) -> list[dict[str, str]]:
    return [{"role": "system", "content": system_prompt()}, {"role": "user", "content": user_message(scene, wanted, view)}]

"""Question generators behind one interface, looked up by the name given to `--generator`.

A generator turns the scenes file into questions, image by image: it yields, for each image, the QA rows
it wrote (the columns of `stvqa.records.QA_COLUMNS`) and the slots it could not fill, as rows with a
`reject_reason`. It may batch or run requests concurrently inside; the generate stage only counts and writes.
Besides the scenes and the config it gets a `GenerateContext`: the run directory, the stage's progress task
(for a status line), counters for the manifest, and a way to say the stage is incomplete (work to retry).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

from ...pipeline.workers import ordered_map
from ..load.scenes import ScenePart, scene_parts
from .config import GenerateConfig
from .context import GenerateContext
from .llm_writer import llm_questions
from .templates import generate_for_scene, schedule

Rows = list[dict[str, Any]]


@dataclass(frozen=True)
class Generator:
    name: str
    generate: Callable[[Path, GenerateConfig, GenerateContext], Iterator[tuple[Rows, Rows]]]
    help: str


def unfilled_slots(scene: dict[str, Any], cfg: GenerateConfig, samples: Rows, reason: str) -> Rows:
    """The scheduled slots of an image that got no question, as rows for rejects.parquet."""
    filled = {s["sample_id"] for s in samples}
    return [{"sample_id": sid, "image_id": scene["image_id"], "category": category, "generator": cfg.generator, "reject_reason": reason}
            for slot, category in enumerate(schedule(scene["image_id"], cfg))
            if (sid := f"{scene['image_id']}:{slot}") not in filled]


def template_questions(scenes_path: Path, cfg: GenerateConfig, ctx: GenerateContext | None = None) -> Iterator[tuple[Rows, Rows]]:
    """Image by image, from the image alone (so shards of a build generate exactly what one build would, and
    images can be shared out among `cfg.workers` processes, their questions coming back in the scenes' order)."""
    for rows in ordered_map(partial(_template_part, cfg=cfg), scene_parts(scenes_path), cfg.workers, Counter(), chunk=1):
        yield from rows


def _template_part(part: ScenePart, stats: Counter, cfg: GenerateConfig) -> list[tuple[Rows, Rows]]:
    """The questions of some scenes, which the worker reads itself (a scene costs more to send than to read)."""
    out = []
    for scene in part.read():
        samples = generate_for_scene(scene, cfg, stats)
        out.append((samples, unfilled_slots(scene, cfg, samples, "no_candidate")))
    return out


GENERATORS: dict[str, Generator] = {
    "template": Generator("template", template_questions, "offline and deterministic; every answer computed from the graph"),
    "llm": Generator("llm", llm_questions, "an LLM behind any OpenAI-compatible endpoint writes them from the graph; needs --model"),
}

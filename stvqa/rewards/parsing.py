"""Parsing completions and ground truths, and matching answers. Nothing here raises on any input."""

from __future__ import annotations

import json
import math
import re
from itertools import chain
from operator import itemgetter
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from .config import SpatialRewardConfig

_ID = r"[^\W\d]+\.\d+"  # the paper's [a-zA-Z_]+\.\d+, with letters of any script (ids keep them)
_TAG_CACHE: dict[str, tuple[str, str]] = {}
_SPACE = re.compile(r"\s+")


def _tags(name: str) -> tuple[str, str]:
    if name not in _TAG_CACHE:
        _TAG_CACHE[name] = (f"<{name}>", f"</{name}>")
    return _TAG_CACHE[name]


def tag_content(text: str, name: str) -> str | None:
    """The text inside the first `<name>...</name>`, or None."""
    open_tag, close_tag = _tags(name)
    start = text.find(open_tag)
    if start < 0:
        return None
    end = text.find(close_tag, start + len(open_tag))
    return None if end < 0 else text[start + len(open_tag) : end]


@dataclass(slots=True)
class Completion:
    tags_ok: bool
    scene_ok: bool
    objects: list[tuple[str, list[float]]] = field(default_factory=list)  # (id, bbox) of a valid scene
    n_relationships: int = 0
    answer: str | None = None


_NUMBER_TYPES_SET = frozenset((int, float))
_DICT_ONLY, _LIST_ONLY, _TWO, _FOUR = {dict}, {list}, {2}, {4}
_get_id, _get_bbox = itemgetter("id"), itemgetter("bbox")
_ID_LINES = re.compile(rf"(?:{_ID}\n)*")  # one id per line


def _loads(text: str) -> Any:
    try:
        return _fast_loads(text)
    except Exception:  # orjson is stricter (NaN, huge ints, lone surrogates): let json decide
        return json.loads(text)


try:
    from orjson import loads as _fast_loads
except ImportError:  # pragma: no cover - orjson is optional
    _fast_loads = json.loads


def parse_scene(text: str | None) -> tuple[bool, list[tuple[str, list[float]]], int]:
    """(valid, objects, relationship count) of a `<scene>` JSON in the paper's format."""
    if text is None:
        return False, [], 0
    try:
        scene = _loads(text)
    except (ValueError, RecursionError):
        return False, [], 0
    if type(scene) is not dict or type(scene.get("objects")) is not list or type(scene.get("relationships")) is not list:
        return False, [], 0
    # Checks run over the whole object list at once: a few C-level passes (map, join, set) instead of a
    # Python loop of checks per object, which is most of the cost of a reward.
    raw = scene["objects"]
    if raw and (set(map(type, raw)) != _DICT_ONLY or set(map(len, raw)) != _TWO):
        return False, [], 0
    try:
        ids = list(map(_get_id, raw))
        boxes = list(map(_get_bbox, raw))
        joined = "\n".join(ids) + "\n" if ids else ""
    except (KeyError, TypeError):  # a missing key, or an id that is not a string
        return False, [], 0
    if joined.count("\n") != len(ids) or _ID_LINES.fullmatch(joined) is None or len(set(ids)) != len(ids):
        return False, [], 0
    if boxes and (set(map(type, boxes)) != _LIST_ONLY or set(map(len, boxes)) != _FOUR):
        return False, [], 0
    values = list(chain.from_iterable(boxes))
    types = set(map(type, values))  # bool is its own type, so True/False are refused here
    if not types <= _NUMBER_TYPES_SET or (float in types and not all(map(math.isfinite, values))):
        return False, [], 0
    objects = list(zip(ids, boxes))
    for rel in scene["relationships"]:
        if (type(rel) is not dict or len(rel) != 3 or type(rel.get("subject")) is not str
                or type(rel.get("predicate")) is not str or type(rel.get("object")) is not str):
            return False, [], 0
    return True, objects, len(scene["relationships"])


_ANY_TAG = re.compile(r"</?(?:observe|scene|think|answer)>")


@lru_cache(maxsize=64)
def _expected_tag_sequence(required: tuple[str, ...]) -> list[str]:
    return [t for name in required for t in _tags(name)]


def parse_completion(text: Any, cfg: SpatialRewardConfig) -> Completion:
    """Check the tags (each exactly once, in order) and the scene JSON of one completion."""
    if isinstance(text, bytes):
        text = text.decode("utf-8", errors="replace")
    if not isinstance(text, str) or len(text) > cfg.max_completion_chars:
        return Completion(False, False)
    # Each required tag exactly once and in order <=> the required tags, as they occur, are exactly this list.
    expected = _expected_tag_sequence(cfg.required_tags)
    occurring = _ANY_TAG.findall(text)
    if len(expected) != 8:
        wanted = set(expected)
        occurring = [t for t in occurring if t in wanted]
    tags_ok = occurring == expected
    scene_ok, objects, n_relationships = parse_scene(tag_content(text, "scene"))
    answer = tag_content(text, "answer")
    return Completion(tags_ok, scene_ok, objects, n_relationships, answer.strip() if answer is not None else None)


@dataclass(frozen=True)
class GroundTruth:
    objects: tuple[tuple[str, tuple[float, ...]], ...]
    n_relationships: int
    answer: str  # e.g. "(B) behind"
    letter: str | None  # "b"
    option: str  # "behind", normalised


_LETTER_THEN_TEXT = (re.compile(r"\(([a-z])\)[.:]?\s*(.*)", re.S), re.compile(r"([a-z])[.):]\s*(.*)", re.S), re.compile(r"([a-z])()"))


def normalize_answer(text: str) -> str:
    return _SPACE.sub(" ", text).strip().lower().rstrip(".").strip()


def split_letter(text: str) -> tuple[str | None, str]:
    """`"(B) behind"` -> `("b", "behind")`; `"behind"` -> `(None, "behind")`."""
    norm = normalize_answer(text)
    for pattern in _LETTER_THEN_TEXT:
        match = pattern.fullmatch(norm)
        if match:
            return match[1], normalize_answer(match[2])
    return None, norm


@lru_cache(maxsize=16384)  # GRPO scores every completion of a group against the same ground truth
def parse_ground_truth(answer_text: str, scene_json: str | None = None) -> GroundTruth:
    """From the paper's `<scene>{...}</scene>\\n<answer>(B) behind</answer>` string, or from a separate
    scene JSON and a bare answer (`"(B) behind"` or `"<answer>(B) behind</answer>"`)."""
    scene_text = scene_json if scene_json is not None else tag_content(answer_text, "scene")
    answer = tag_content(answer_text, "answer")
    answer = (answer if answer is not None else answer_text).strip()
    objects: list[tuple[str, tuple[float, ...]]] = []
    n_relationships = 0
    try:
        scene = json.loads(scene_text) if scene_text else {}
        for obj in scene.get("objects") or []:
            if isinstance(obj, dict) and isinstance(obj.get("bbox"), list) and len(obj["bbox"]) == 4:
                objects.append((str(obj.get("id", "")), tuple(float(v) for v in obj["bbox"])))
        n_relationships = len(scene.get("relationships") or [])
    except (ValueError, TypeError, AttributeError, RecursionError):
        pass
    letter, option = split_letter(answer)
    return GroundTruth(tuple(objects), n_relationships, answer, letter, option)


def answer_matches(pred: str | None, gt: GroundTruth, strict: bool, options: list[str] | None = None) -> bool:
    """Strict: the paper's case-insensitive exact match. Default: also the letter alone, `(B)`, `B)`,
    `(B) behind` or `behind` when they all point to the answer's option; an answer naming two options fails."""
    if pred is None:
        return False
    if strict:
        return pred.strip().lower() == gt.answer.strip().lower()
    if normalize_answer(pred) == normalize_answer(gt.answer):
        return True
    norm = normalize_answer(pred)
    if len(set(re.findall(r"\(([a-z])\)", norm))) > 1:
        return False
    letter, text = split_letter(pred)
    if letter is not None and gt.letter is not None:
        if letter != gt.letter:
            return False
        return text == "" or text == gt.option
    if options:
        named = [o for o in (normalize_answer(split_letter(x)[1]) for x in options) if o and re.search(rf"(?<!\w){re.escape(o)}(?!\w)", text)]
        if len(set(named)) > 1:
            return False
    return text == gt.option

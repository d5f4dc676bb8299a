"""What a person sees in the two real Visual Genome images, and a checker for generated questions.

`tests/fixtures/real_images.yaml` was written by looking at `../shared/vg_sample/images/{1,2}.jpg`, not
from their annotations. `contradictions(sample, truth)` lists, in words, where a QA sample disagrees with it:

- existence: "no" for a kind listed as present (or any of its synonyms), "yes" for a kind listed absent;
- count: an answer other than a listed exact count, any count question about a kind marked `many` or
  `uncertain`, or a positive count of an absent kind;
- size, distance, count, existence: naming a region or stuff (sky, road, sidewalk, ...) as if it were a thing;
- orientation (left/right): an answer opposite to a pair in `left_right_checks`;
- distance: the farther thing of a pair in `nearer_checks`, or "about the same", as the one nearer the reference.

Names match lower-cased and singular/plural-insensitively (`stvqa.names.lemma_phrase`). Pytest puts this
folder on `sys.path` (tests/ is not a package), so tests import it as `real_image_truth`.

>>> truth = load_truth()
>>> contradictions({"image_id": "1", "category": "existence", "answer_text": "no", "args": '{"name": "men"}'}, truth)
['image 1: existence answer "no" for "men", but man is clearly visible']
"""

from __future__ import annotations

import json
import re
from functools import cache
from pathlib import Path
from typing import Any

import yaml

from stvqa.names import lemma_phrase

FIXTURE = Path(__file__).resolve().parent / "fixtures" / "real_images.yaml"

UNCOUNTABLE = ("many", "uncertain")
REGION_CATEGORIES = ("size", "distance", "count", "existence")
# args keys that name objects, per category (template generator: object ids like "parking_meter.1").
OBJECT_KEYS = ("a", "b", "ref", "larger", "smaller", "nearer", "farther", "closer", "name")
_ID = re.compile(r"^(?P<stem>[a-z_]+)\.\d+$")
_LETTERED = re.compile(r"^\(?[A-Z]\)\s*")


def load_truth(path: Path | str = FIXTURE) -> dict[str, dict[str, Any]]:
    """The fixture, keyed by image id as a string ("1", "2")."""
    data = yaml.safe_load(Path(path).read_text())
    return {str(k): v for k, v in data.items()}


def key(name: str) -> tuple[str, ...]:
    """Matching key of a name: lemmas of its lower-cased words (`"Parking Meters"` -> `("parking", "meter")`)."""
    return lemma_phrase(str(name).lower())


def name_of(ref: Any) -> str:
    """An object name from a template arg: an object id (`"lamp_post.1"` -> `"lamp post"`) or a name."""
    text = str(ref).strip().lower()
    m = _ID.match(text)
    if m:
        text = m.group("stem").replace("_", " ").strip()
    return text


def _names(entries: list[Any]) -> set[tuple[str, ...]]:
    keys = set()
    for entry in entries or []:
        names = entry.get("names", []) if isinstance(entry, dict) else [entry]
        keys |= {key(n) for n in names}
    return keys


def _args(sample: dict[str, Any]) -> dict[str, Any]:
    args = sample.get("args")
    if isinstance(args, str):
        try:
            args = json.loads(args or "null")
        except json.JSONDecodeError:
            args = None
    return args if isinstance(args, dict) else {}


def answer_text(sample: dict[str, Any]) -> str:
    """The chosen answer as text: `answer_text`, else the option the letter points at (without "(A) ")."""
    text = sample.get("answer_text")
    if not text:
        options = list(sample.get("options") or [])
        letter = str(sample.get("answer") or "").strip().strip("()")[:1].upper()
        index = ord(letter) - ord("A") if letter else -1
        text = options[index] if 0 <= index < len(options) else ""
    return _LETTERED.sub("", str(text)).strip().lower()


@cache
def _question_patterns() -> tuple[tuple[str, re.Pattern], ...]:
    """The generator's phrasings as regexes capturing {a}, {b}, {ref}, {name}, {plural} (empty if absent)."""
    from stvqa.stages.generate.templates import phrasings as shipped

    phrasings = shipped()
    patterns = []
    for category, texts in (phrasings or {}).items():
        for text in texts or []:
            parts = re.split(r"\{(\w+)\}", text)
            regex, seen = "", set()
            for i, part in enumerate(parts):
                if i % 2 and part == "be_a":  # verb agreement, not a name
                    regex += "(?:is|are)"
                elif i % 2 and part == "a_name":  # a class with its article: "an umbrella"
                    regex += "an? (?P<name>.+?)"
                elif i % 2:
                    regex += f"(?P={part})" if part in seen else f"(?P<{part}>.+?)"
                    seen.add(part)
                else:
                    regex += re.escape(part)
            patterns.append((category, re.compile(f"^{regex}$", re.IGNORECASE)))
    return tuple(patterns)


def involved(sample: dict[str, Any]) -> dict[str, str]:
    """Role -> object name of the objects a sample asks about: from `args`, else parsed from the question."""
    args = _args(sample)
    roles = {k: name_of(args[k]) for k in OBJECT_KEYS if isinstance(args.get(k), str) and args[k]}
    if roles:
        return roles
    question = str(sample.get("question") or "").strip()
    for _, pattern in _question_patterns():
        m = pattern.match(question)
        if m:
            found = {k: v.strip().lower() for k, v in m.groupdict().items() if v}
            if "plural" in found and "name" not in found:
                found["name"] = found.pop("plural")
            return found
    return {}


def _image_truth(sample: dict[str, Any], truth: dict[str, Any]) -> dict[str, Any] | None:
    if "present" in truth:  # one image's entry was passed
        return truth
    return truth.get(str(sample.get("image_id")))


def contradictions(sample: dict[str, Any], truth: dict[str, Any]) -> list[str]:
    """Human-readable ways `sample` disagrees with what a person sees (empty: no contradiction found).

    `truth` is `load_truth()` (or one image's entry of it); images not in it yield no contradictions.
    """
    image = _image_truth(sample, truth)
    if image is None:
        return []
    image_id = sample.get("image_id")
    category = str(sample.get("category") or "").lower()
    answer = answer_text(sample)
    roles = involved(sample)
    problems: list[str] = []
    where = f"image {image_id}"

    present = {}
    for entry in image.get("present") or []:
        for n in entry.get("names", []):
            present.setdefault(key(n), entry["names"][0])
    absent = _names(image.get("absent"))
    regions = _names(image.get("regions_or_stuff"))
    counts = {key(n): (n, v) for n, v in (image.get("counts") or {}).items()}

    if any(category.startswith(c) for c in REGION_CATEGORIES):
        for role, name in roles.items():
            if key(name) in regions:
                problems.append(f'{where}: {category} question treats "{name}" ({role}) as a thing, but it is a region/stuff')

    relational = "predicate" in _args(sample)  # "is there a cup on the table?": the cup's presence is not the question
    if category.startswith("existence") and "name" in roles and not relational:
        name = roles["name"]
        if answer == "no" and key(name) in present:
            problems.append(f'{where}: existence answer "no" for "{name}", but {present[key(name)]} is clearly visible')
        if answer == "yes" and key(name) in absent:
            problems.append(f'{where}: existence answer "yes" for "{name}", which is not in the image')

    if category.startswith("count") and "name" in roles:
        name = roles["name"]
        listed = counts.get(key(name))
        number = int(answer) if re.fullmatch(r"\d+", answer) else None
        if listed is not None:
            kind, value = listed
            if value in UNCOUNTABLE:
                problems.append(f'{where}: count question about "{name}", which cannot be counted reliably ({kind}: {value})')
            elif number is not None and number != int(value):
                problems.append(f'{where}: count answer {number} for "{name}", but a person counts {value}')
        elif key(name) in absent and number:
            problems.append(f'{where}: count answer {number} for "{name}", which is not in the image')

    is_horizontal = _args(sample).get("axis") == "horizontal" or answer in ("left", "right")
    if category.startswith("orientation") and is_horizontal and answer in ("left", "right") and {"a", "b"} <= roles.keys():
        a, b = key(roles["a"]), key(roles["b"])
        for check in image.get("left_right_checks") or []:
            left, right = _names(check["left"]), _names(check["right"])
            expected = "left" if a in left and b in right else "right" if a in right and b in left else None
            if expected and answer != expected:
                problems.append(f'{where}: says the {roles["a"]} is {answer} of the {roles["b"]}, but it is to the {expected}')
                break

    if category.startswith("distance") and {"ref", "a", "b"} <= roles.keys():
        pair = {key(roles["a"]), key(roles["b"])}
        for check in image.get("nearer_checks") or []:
            nearer, farther = _names(check["nearer"]), _names(check["farther"])
            if key(roles["ref"]) in _names(check["ref"]) and pair & nearer and pair & farther and not _names_in(answer, nearer):
                problems.append(f'{where}: says "{answer}" is nearer the {roles["ref"]}, but the {check["nearer"][0]} is')
    return problems


def _names_in(text: str, names: set[tuple[str, ...]]) -> bool:
    """Whether `text` ("white car", "guy on the right") contains one of `names` as whole words."""
    words = key(text)
    return any(words[i:i + len(n)] == n for n in names for i in range(len(words)))

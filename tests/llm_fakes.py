"""Replies for the loopback chat-completions server of the LLM tests: questions made from the prompt's
scene graph (so they name real objects and pass the generator's checks), and helpers to break them."""

from __future__ import annotations

import json
import re
from collections import Counter
from typing import Any

from stvqa.llm.fake_server import FakeReply

_OBJECT = re.compile(r"^([^\s]+)\.(\d+) (\d+),(\d+),(\d+),(\d+)(?: (.*))?$")


def prompt_of(request: dict[str, Any]) -> str:
    return next(m["content"] for m in request["messages"] if m["role"] == "user")


def parse_prompt(request: dict[str, Any]) -> tuple[list[dict[str, Any]], list[tuple[str, str]]]:
    """(objects, slots) of the user message the generator wrote."""
    objects, wanted, section = [], [], None
    for line in prompt_of(request).splitlines():
        if line.startswith(("Objects", "Relations", "Slots")):
            section = line.split(":")[0]
            continue
        if section == "Objects" and (m := _OBJECT.match(line)):
            stem, _, x1, y1, x2, y2, note = m.groups()
            objects.append({"name": stem.replace("_", " "), "bbox": [int(x1), int(y1), int(x2), int(y2)], "note": note})
        elif section == "Slots" and (m := re.match(r"^\d+\. (\w+), (\w+)$", line)):
            wanted.append((m.group(1), m.group(2)))
    return objects, wanted


def questions(request: dict[str, Any]) -> list[dict[str, Any]]:
    objects, wanted = parse_prompt(request)
    unique = [o for o in objects if o["note"] is None]
    counts = Counter(o["name"] for o in objects)
    out = []
    for i, (category, level) in enumerate(wanted):
        if category == "count" and counts:
            name, n = counts.most_common(1)[0]
            options = [str(v) for v in range(max(1, n - 1), max(1, n - 1) + 4)]
            out.append({"question": f"How many {name} objects are there in the image?", "options": options,
                        "answer": "ABCD"[options.index(str(n))], "category": category, "level": level, "rating": 7})
        elif len(unique) >= 2 and category != "existence":
            a, b = unique[i % len(unique)], unique[(i + 1) % len(unique)]
            if a["name"] == b["name"]:
                b = next((o for o in unique if o["name"] != a["name"]), b)
            left = (a["bbox"][0] + a["bbox"][2]) < (b["bbox"][0] + b["bbox"][2])
            out.append({"question": f"Seen from the camera, is the {a['name']} left or right of the {b['name']}? ({i})",
                        "options": ["left", "right"], "answer": "A" if left else "B", "category": category, "level": level, "rating": 8})
        elif objects:
            out.append({"question": f"Is there a {objects[0]['name']} in the image?", "options": ["yes", "no"], "answer": "A",
                        "category": category, "level": level, "rating": 9})
    return out


def valid(request: dict[str, Any], n: int = 0) -> FakeReply:
    """A correct reply: one question per slot, a function of the request alone (so reruns agree)."""
    return FakeReply(content=json.dumps({"questions": questions(request)}))


def reply_row(question: str, options: list[str], answer: str, category: str, objects=None, image_id: str = "7") -> dict[str, Any]:
    """A generated row as the LLM writer makes it from one reply question (`args = {"reply": ...}`), for the gate."""
    item = {"question": question, "options": options, "answer": answer, "category": category, "level": "easy", "rating": 8}
    if objects is not None:
        item["objects"] = objects
    return {"sample_id": f"{image_id}:0", "image_id": image_id, "category": category, "question": question, "options": options,
            "answer": answer, "answer_text": options["ABCD".index(answer)], "level": "easy", "rating": 8, "focus": "{}",
            "generator": "m", "template": None, "args": json.dumps({"reply": item})}


def gate_verdict(row: dict[str, Any], scene: dict[str, Any]) -> tuple[bool | None, str]:
    """(verified, reason) the verify stage's gate gives one row on its scene: kept with its reason, or rejected."""
    from stvqa.stages.verify.checks import VerifyConfig, verify_samples

    kept, dropped = verify_samples([row], scene, VerifyConfig(workers=1), Counter())
    return (kept[0]["verified"], kept[0]["verify_reason"]) if kept else (False, dropped[0]["reject_reason"])

"""JSON out of a model's reply: the whole reply, a fenced code block, or the first JSON value inside prose.

Servers without JSON mode, and models that ignore it, wrap the object in code fences or explain it;
reasoning models may put a `<think>` block first. A reply nothing can be read from raises `ValueError`
with a message the model can act on (it is quoted back to it in the re-ask).

>>> extract_json('Sure! Here it is:\\n```json\\n{"a": 1}\\n```')
{'a': 1}
>>> extract_json('<think>{"draft": true}</think> The answer is {"a": [1, 2]}. Done.')
{'a': [1, 2]}
"""

from __future__ import annotations

import json
import re
from typing import Any

_THINK = re.compile(r"<think>.*?</think>", re.DOTALL | re.IGNORECASE)
_FENCE = re.compile(r"```[a-zA-Z0-9_-]*[ \t]*\n?(.*?)```", re.DOTALL)
_MAX_STARTS = 64  # a reply with many stray braces is not worth scanning forever


def extract_json(text: str) -> Any:
    """The JSON object (or array) the reply holds; ValueError when there is none."""
    if not text or not text.strip():
        raise ValueError("the reply is empty")
    text = _THINK.sub("", text).strip()
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        error = exc
    for block in _FENCE.findall(text):
        try:
            return json.loads(block.strip())
        except json.JSONDecodeError:
            pass
    decoder = json.JSONDecoder()
    starts = [m.start() for m in re.finditer(r"[{\[]", text)][:_MAX_STARTS]
    for i, start in enumerate(starts):
        try:
            value, _ = decoder.raw_decode(text, start)
        except json.JSONDecodeError as exc:
            error = exc if i == 0 else error  # the first brace is most likely where the object was meant to start
            continue
        if isinstance(value, (dict, list)) and value:
            return value
    if not starts:
        raise ValueError("the reply contains no JSON object")
    raise ValueError(f"the reply is not valid JSON ({error.msg} at line {error.lineno} column {error.colno})")

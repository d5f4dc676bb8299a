"""Which option a judge's reply names: "B", "(B) behind", "B.", "Answer: B", "behind", "<answer> (B) behind </answer>".

A reply that names no option, or two different ones, names none (None): it is counted as a try without a
vote, never as agreement or disagreement.
"""

from __future__ import annotations

import re

from ....records import LETTERS

_ANSWER_TAG = re.compile(r"<answer>(.*?)</answer>", re.S | re.I)
_LETTER_ALONE = re.compile(r"^\(?([A-Da-d])\)?[.:)]?$")
_LETTER_FIRST = re.compile(r"^\(?([A-D])\)?[.:)]\s+(.+)$|^\(([A-D])\)\s*(.+)$")
_ANSWER_IS = re.compile(r"\banswer\s*(?:is|:)?\s*(?:option\s*)?\(?([A-D])\b\)?", re.I)
_PAREN_LETTER = re.compile(r"\(([A-D])\)")


def _clean(text: str) -> str:
    return re.sub(r"\s+", " ", text.replace("*", "").replace("`", "")).strip().rstrip(".!").strip()


def _option_named(text: str, options: list[str]) -> int | None:
    """The one option whose text the reply contains as a phrase (the longest wins when one contains another)."""
    low = f" {re.sub(r'[^a-z0-9 ]+', ' ', text.lower())} "
    found = []
    for i, option in enumerate(options):
        phrase = re.sub(r"[^a-z0-9 ]+", " ", option.lower()).strip()
        if phrase and re.search(rf"\b{re.escape(phrase)}\b", low):
            found.append(i)
    # "to the left of" also contains "left": drop options contained in another found one.
    found = [i for i in found if not any(j != i and options[i].lower() in options[j].lower() for j in found)]
    return found[0] if len(found) == 1 else None


def _letter(letter: str, n: int) -> int | None:
    index = LETTERS.find(letter.upper())
    return index if 0 <= index < n else None


def parse_choice(reply: str | None, options: list[str]) -> int | None:
    """The index of the option `reply` names among `options` (as shown in that try), or None.

    >>> opts = ["in front of", "behind"]
    >>> [parse_choice(r, opts) for r in ["B", "(B) behind", "b.", "Answer: B", "behind", "<answer> (A) in front of </answer>"]]
    [1, 1, 1, 1, 1, 0]
    >>> [parse_choice(r, opts) for r in ["", "A or B", "in front of or behind", "C"]]
    [None, None, None, None]
    """
    if not reply:
        return None
    tags = _ANSWER_TAG.findall(reply)
    text = _clean(tags[-1] if tags else reply)
    n = len(options)
    if m := _LETTER_ALONE.match(text):
        return _letter(m.group(1), n)
    if m := _LETTER_FIRST.match(text):
        letter, rest = (m.group(1), m.group(2)) if m.group(1) else (m.group(3), m.group(4))
        index = _letter(letter, n)
        named = _option_named(rest, options)
        return index if named is None or named == index else None
    if (index := _option_named(text, options)) is not None and _clean(text).lower() == options[index].lower():
        return index
    answers = {m.upper() for m in _ANSWER_IS.findall(text)} or {m for m in _PAREN_LETTER.findall(text)}
    if len(answers) == 1:
        return _letter(answers.pop(), n)
    return _option_named(text, options) if not re.search(r"\b(or|and)\b", text.lower()) else None

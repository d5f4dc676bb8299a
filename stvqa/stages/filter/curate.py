"""Offline curation rules of `stvqa filter`: drop duplicate questions, select by rating, level and a category
mix, and even out the answer letters.

Pure functions over lists of row dicts (the QA columns plus `verified`, `verify_reason` and any judge
columns, which pass through untouched). A dropped row comes back with a snake_case `reject_reason`. Every
choice is made by rating and a SHA-256 hash of the sample id, never by input order or Python's `hash()`,
so the result is the same in any process and for any order of the input rows.

Run them in this order: `dedup`, then `select`, then `balance_letters` (selection changes the letter counts).
"""

from __future__ import annotations

import json
import re
from collections import Counter, defaultdict
from collections.abc import Collection, Iterable, Mapping
from fractions import Fraction
from typing import Any

from ...names import lemma
from ...records import LETTERS
from ...categories import CATEGORIES, PAPER_MIX
from ...hashing import unit

Row = dict[str, Any]
ARTICLES = frozenset({"a", "an", "the"})
_WORD = re.compile(r"[^\W_]+(?:'[^\W_]+)?")  # letters and digits of any script; "camera's" stays one word


def normalise_question(text: str) -> str:
    """The question's words, lower-cased, without punctuation or articles, each as its singular noun form:
    the key under which two phrasings count as the same text.

    >>> normalise_question("Is there a cup?")
    'is there cup'
    >>> normalise_question("  is there   the CUPS ") == normalise_question("Is there a cup?")
    True
    >>> normalise_question("From the camera's viewpoint, is the man left of the glasses?")
    'from camera viewpoint is man left of glass'
    """
    tokens = _WORD.findall(text.lower().replace("\u2019", "'"))
    return " ".join(lemma(t) for t in tokens if t not in ARTICLES)


def dedup(rows: Iterable[Row]) -> tuple[list[Row], list[Row]]:
    """(kept, dropped): one row of each group of repeated questions about the same image.

    * `duplicate_question`: the same normalised question as a kept row from the same generator;
    * `duplicate_across_generators`: the same normalised question as a kept row from another generator;
    * `near_duplicate_question`: other words for a kept row's question, with the same category and answer
      text and either the same objects in `focus` and the same set of options, or (template rows) the same
      template family and `args` apart from the drawn distractors (`pool`) and the object phrasings
      (`texts`). Rows with neither an object in `focus` nor `args` are compared by text only.

    The answer text is part of both keys so that complementary questions ("which is closer: the man or the
    bench?" / "which is farther: ...") are both kept: they ask different things. The `args` key catches
    rephrasings whose distractors were drawn separately ("How is the man interacting with the bicycle?"
    and "What is the man doing with the bicycle?", both "riding" among different distractors).
    Rows are kept best first: higher `rating`, then `verified` True over None over False, then the smaller
    SHA-256 rank of the sample id. Both lists keep the input order.
    """
    rows = list(rows)
    by_image: dict[Any, list[int]] = defaultdict(list)
    for i, r in enumerate(rows):
        by_image[r["image_id"]].append(i)
    reasons: dict[int, str] = {}
    for indices in by_image.values():
        generators_by_text: dict[str, set[Any]] = defaultdict(set)
        kept_meanings: set[tuple] = set()
        for i in sorted(indices, key=lambda i: _preference(rows[i])):
            r = rows[i]
            text, meanings = normalise_question(r["question"]), _meanings(r)
            if text in generators_by_text:
                same_generator = r.get("generator") in generators_by_text[text]
                reasons[i] = "duplicate_question" if same_generator else "duplicate_across_generators"
            elif not kept_meanings.isdisjoint(meanings):
                reasons[i] = "near_duplicate_question"
            else:
                generators_by_text[text].add(r.get("generator"))
                kept_meanings.update(meanings)
    kept = [r for i, r in enumerate(rows) if i not in reasons]
    dropped = [dict(r, reject_reason=reasons[i]) for i, r in enumerate(rows) if i in reasons]
    return kept, dropped


def _preference(row: Row) -> tuple:
    """Sort key, best row first."""
    rating = row.get("rating")
    verified_rank = {True: 0, None: 1, False: 2}.get(row.get("verified"), 1)
    return (-rating if rating is not None else float("inf"), verified_rank, unit("dedup", row["sample_id"]), row["sample_id"])


def _meanings(row: Row) -> set[tuple]:
    """Keys of what the question asks, independent of its words (see `dedup`); empty when nothing is known
    but the text."""
    keys = set()
    graph = json.loads(row.get("focus") or "{}") or {}
    ids = frozenset(str(o["id"]) for o in graph.get("objects") or [])
    if ids:
        keys.add(("focus", row["category"], ids, frozenset(row["options"]), row["answer_text"]))
    args = json.loads(row.get("args") or "null")
    if isinstance(args, dict) and row.get("template"):
        facts = json.dumps({k: v for k, v in args.items() if k not in ("pool", "texts")}, sort_keys=True)
        family = row["template"].rsplit("/", 1)[0]  # "relation/2" is phrasing 2 of the family "relation"
        keys.add(("args", row["category"], family, facts, row["answer_text"]))
    return keys


def select(
    rows: Iterable[Row],
    *,
    min_rating: int | None = None,
    levels: Collection[str] | None = None,
    target: int | None = None,
    mix: Mapping[str, float] | Iterable[tuple[str, float]] | None = None,
    seed: int = 0,
) -> tuple[list[Row], list[Row], dict[str, int]]:
    """(kept, dropped, shortfalls): the rows that pass the rating and level filters and fit the target mix.

    * `rating_below_min`: `rating` below `min_rating` (or missing);
    * `level_not_selected`: `level` not in `levels`;
    * with `target`: each category's quota is its share of `target` (shares of `mix`, default the paper's,
      normalised), rounded by largest remainder so that the quotas add up to exactly `target`. Each category
      keeps its best-rated rows, ties broken by a seeded SHA-256 rank of the sample id (not file order); the
      rest are `over_target`. Rows of a category with no share are `category_not_in_mix`.

    `shortfalls` maps each category with fewer rows than its quota to the number missing. They are reported,
    not refilled from other categories: that would silently change the mix. Without `target`, `mix` is
    ignored and `shortfalls` is empty. Both lists keep the input order.
    """
    if target is not None and target < 0:
        raise ValueError(f"target must be at least 0, not {target}")
    rows = list(rows)
    reasons: dict[int, str] = {}
    for i, r in enumerate(rows):
        if min_rating is not None and (r.get("rating") is None or r["rating"] < min_rating):
            reasons[i] = "rating_below_min"
        elif levels is not None and r.get("level") not in levels:
            reasons[i] = "level_not_selected"
    shortfalls: dict[str, int] = {}
    if target is not None:
        quotas = category_quotas(target, PAPER_MIX if mix is None else mix)
        by_category: dict[str, list[int]] = defaultdict(list)
        for i, r in enumerate(rows):
            if i not in reasons:
                by_category[r["category"]].append(i)
        for category, indices in by_category.items():
            if category not in quotas:
                reasons.update((i, "category_not_in_mix") for i in indices)
                continue
            ranked = sorted(indices, key=lambda i: _rank_by_rating(rows[i], seed))
            reasons.update((i, "over_target") for i in ranked[quotas[category]:])
        shortfalls = {c: q - len(by_category.get(c, [])) for c, q in quotas.items() if len(by_category.get(c, [])) < q}
    kept = [r for i, r in enumerate(rows) if i not in reasons]
    dropped = [dict(r, reject_reason=reasons[i]) for i, r in enumerate(rows) if i in reasons]
    return kept, dropped, shortfalls


def best_first(rows: Iterable[Row], seed: int = 0) -> dict[str, list[Row]]:
    """Rows by category, each list in the order `select` keeps them for a target: best-rated first, ties by a
    seeded hash of the sample id (what the filter's judges are sent, wave by wave)."""
    out: dict[str, list[Row]] = defaultdict(list)
    for row in sorted(rows, key=lambda r: _rank_by_rating(r, seed)):
        out[row["category"]].append(row)
    return dict(out)


def _rank_by_rating(row: Row, seed: int) -> tuple:
    rating = row.get("rating")
    return (-rating if rating is not None else float("inf"), unit("select", seed, row["sample_id"]), row["sample_id"])


def category_quotas(target: int, mix: Mapping[str, float] | Iterable[tuple[str, float]]) -> dict[str, int]:
    """Rows per category: `target` split by the (normalised) shares, largest remainder first (ties: mix
    order), so the quotas add up to `target`. Categories with a zero share are left out.

    >>> category_quotas(10, {"relation": 0.5, "count": 0.25, "size": 0.25})
    {'relation': 5, 'count': 3, 'size': 2}
    >>> sum(category_quotas(7, (("relation", 1.0), ("depth", 1.0), ("size", 1.0))).values())
    7
    """
    shares = {c: Fraction(s) for c, s in dict(mix).items() if s > 0}  # exact: no float rounding in the sum
    unknown = sorted(set(shares) - set(CATEGORIES))
    if unknown or not shares:
        raise ValueError(f"mix needs positive shares of known categories (got {dict(mix)!r})")
    total = sum(shares.values())
    exact = {c: target * s / total for c, s in shares.items()}
    quotas = {c: int(e) for c, e in exact.items()}
    order = list(shares)
    by_remainder = sorted(order, key=lambda c: (-(exact[c] - quotas[c]), order.index(c)))
    for c in by_remainder[: target - sum(quotas.values())]:
        quotas[c] += 1
    return quotas


def balance_letters(rows: Iterable[Row], seed: int = 0) -> list[Row]:
    """The rows (new dicts, input order) with options re-ordered so that, among rows with the same number of
    options, each answer letter is used equally often (counts differ by at most one), and also within each
    category of them, so no category keeps a favourite letter.

    Rows are visited in a seeded SHA-256 order of their sample id; a row keeps its letter while that letter
    is under its quota, so as few rows as possible change. A moved row gets its answer at the new letter,
    and its distractors keep their relative order. `answer_text` is unchanged and stays `options[answer]`.
    """
    rows = [dict(r, options=list(r["options"])) for r in rows]
    groups: dict[int, dict[str, list[Row]]] = defaultdict(lambda: defaultdict(list))
    for r in rows:
        if len(r["options"]) >= 2:
            groups[len(r["options"])][r["category"]].append(r)
    for n, by_category in groups.items():
        overall = Counter({i: 0 for i in range(n)})
        for category in sorted(by_category):
            members = sorted(by_category[category], key=lambda r: (unit("letters", seed, r["sample_id"]), r["sample_id"]))
            current = [_answer_index(r) for r in members]
            quotas = _letter_quotas(len(members), n, overall, Counter(current))
            used = Counter({i: 0 for i in range(n)})
            movers = []
            for r, i in zip(members, current):
                if used[i] < quotas[i]:
                    used[i] += 1
                else:
                    movers.append((r, i))
            free = [j for j in range(n) for _ in range(quotas[j] - used[j])]
            for (r, i), j in zip(movers, free):
                distractors = r["options"][:i] + r["options"][i + 1 :]
                r["options"] = distractors[:j] + [r["answer_text"]] + distractors[j:]
                r["answer"] = LETTERS[j]
            overall.update(quotas)
    return rows


def _letter_quotas(size: int, n: int, overall: Counter, current: Counter) -> dict[int, int]:
    """Answers per letter index for one group: an even split, the odd ones going to the letters least used
    so far overall (which keeps the overall counts within one), then to the letters already most used here."""
    base, extra = divmod(size, n)
    favoured = sorted(range(n), key=lambda i: (overall[i], -current[i], i))[:extra]
    return {i: base + (i in favoured) for i in range(n)}


def _answer_index(row: Row) -> int:
    letter = row.get("answer")
    i = LETTERS.index(letter) if isinstance(letter, str) and len(letter) == 1 and letter in LETTERS else -1
    if not 0 <= i < len(row["options"]) or row["options"][i] != row["answer_text"]:
        raise ValueError(f"{row['sample_id']}: answer {letter!r} does not point at answer_text {row['answer_text']!r}")
    return i


def letter_distribution(rows: Iterable[Row]) -> dict[str, int]:
    """Answer letter counts, sorted by letter.

    >>> letter_distribution([{"answer": "B"}, {"answer": "A"}, {"answer": "B"}])
    {'A': 1, 'B': 2}
    """
    return dict(sorted(Counter(str(r["answer"]) for r in rows).items()))

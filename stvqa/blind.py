"""Blind-solvability audit: how well text-only guessers, which never see the image, answer the questions.

Every learned baseline is leave-one-image-out (LOIO): a row is scored with statistics from all *other* images,
obtained as (totals - the held-out image's own counts) with numpy, so 200,000 rows take about two seconds.
A row scores 1/m when the answer is among the m tied top options (the expected accuracy of a uniform random
tie-break): an uninformative baseline scores chance exactly, and no tie rule smuggles in position bias or Python's
salted hash(). Each row's credit depends only on the row and on order-free counts, and is summed as a whole number
of 1/UNIT, so reordering the rows cannot change a single figure. Options are compared lower-cased, without "(A) ".

Baselines (per category; k = number of options of the row; the question text is not used):
- option_prior: (times the text was correct + 1) / (times offered + k), LOIO; pick the highest. A text never seen
  elsewhere gets 1/k, so "the unfamiliar option is the answer" counts as a leak too.
- pair_prior: win rate of X over Y = (X correct with Y offered + 1) / (X or Y correct with both offered + 2), LOIO;
  pick the option with the largest sum of win rates over the other options ("sky" beats "cup" for size).
- numeric_rank: when every option parses as a number, pick the option whose rank among them (0 = smallest) was
  most often the answer's rank (LOIO, per category and k). Non-numeric rows get 1/k, i.e. chance, by definition.
- position: the most common answer letter (LOIO, per category and k).
- length: "pick the longest" or "pick the shortest", whichever earned more on the other images.
- option_set: among the other images' rows offering exactly the same set of option texts, the text most often
  correct, LOIO. It learns what the set's make-up says: when two options could both be true, neither can be a
  distractor of the other, so the remaining one is the answer ("above" and "on" offered: "under").
numeric_rank, position and length follow the majority softly when it is nearly level (see _majority).
"""

from __future__ import annotations

import math
import re
from collections import defaultdict
from collections.abc import Iterable
from typing import Any

import numpy as np

from .hashing import unit

BASELINES = ("option_prior", "pair_prior", "numeric_rank", "position", "length", "option_set")  # ties: the first names the leak
MAX_OPTIONS = 8
UNIT = 2 * math.lcm(*range(1, MAX_OPTIONS + 1))  # every credit (1/m, 1/k, the mean of two) is a whole number of 1/UNIT
_PREFIX = re.compile(r"^\([A-Z]\)\s*")


def _text(option: Any) -> str:
    # The exported "(A) sky" and " Sky" are the same option as "sky".
    return " ".join(_PREFIX.sub("", str(option).strip()).split()).lower()


def _number(text: str) -> float | None:
    try:
        x = float(text.replace(",", ""))
    except ValueError:
        return None
    return x if math.isfinite(x) else None


def _parse(rows: Iterable[dict[str, Any]] | Any) -> tuple:
    """Category names; per row image, category and answer index; per option (K columns, padded with -1) a
    (category, text) id, the numeric rank (0 = smallest; -1 unless every option of the row is a number), the length."""
    if hasattr(rows, "iter_rows"):  # a polars DataFrame
        rows = rows.select(["image_id", "category", "options", "answer"]).iter_rows(named=True)
    seen: dict[Any, int] = {}  # option vocabularies are small: normalise each distinct option once
    norm: dict[str, int] = {}
    props: list[tuple[float, int]] = []  # per normalised text: its number (or nan) and its length
    images: dict[str, int] = {}
    cats: dict[str, int] = {}
    img, cat, ans, cells, k = [], [], [], [], []
    for i, row in enumerate(rows):
        ids = [seen[o] if o in seen else _text_id(o, seen, norm, props) for o in row["options"]]
        letter = str(row["answer"]).strip().strip("()")[:1].upper()
        a = ord(letter) - ord("A") if letter else -1
        if not 2 <= len(ids) <= MAX_OPTIONS or not 0 <= a < len(ids):
            raise ValueError(f"row {i}: answer {row['answer']!r} must name one of 2..{MAX_OPTIONS} options")
        img.append(images.setdefault(str(row["image_id"]), len(images)))
        cat.append(cats.setdefault(str(row["category"]), len(cats)))
        ans.append(a)
        k.append(len(ids))
        cells += ids + [-1] * (MAX_OPTIONS - len(ids))
    K = max(k, default=2)
    tid = np.array(cells, dtype=np.int64).reshape(-1, MAX_OPTIONS)[:, :K]
    num, lens = np.array([*props, (math.nan, -1)]).T[:, tid]  # id -1 (padding) takes the last entry
    cat = np.array(cat, dtype=np.int64)
    valid = tid >= 0
    _, opt = np.unique(cat[:, None] * (len(norm) + 1) + tid, return_inverse=True)  # option ids per category
    opt = np.where(valid, opt.reshape(tid.shape), -1)
    numeric = ~np.isnan(np.where(valid, num, 0)).any(axis=1)
    rank = np.where(numeric[:, None] & valid, (num[:, None, :] < num[:, :, None]).sum(axis=2), -1)
    return list(cats), np.array(img, dtype=np.int64), cat, np.array(ans, dtype=np.int64), opt, rank, lens


def _text_id(option: Any, seen: dict, norm: dict[str, int], props: list) -> int:
    text = _text(option)
    if text not in norm:
        x = _number(text)
        norm[text] = len(norm)
        props.append((math.nan if x is None else x, len(text)))
    seen[option] = norm[text]
    return norm[text]


def _loo(ev_key: np.ndarray, ev_img: np.ndarray, q_key: np.ndarray, q_img: np.ndarray, weight=None) -> np.ndarray:
    """For each query (key, image): the (weighted) number of events with that key, minus the query image's own."""
    keys, inv = np.unique(np.concatenate([ev_key, q_key]), return_inverse=True)  # dense: no int64 overflow below
    ek, qk = inv[: len(ev_key)].ravel(), inv[len(ev_key):].ravel()
    total = np.bincount(ek, weights=weight, minlength=len(keys))
    g = int(max(ev_img.max(initial=0), q_img.max(initial=0))) + 1
    own_keys, own_inv = np.unique(ek * g + ev_img, return_inverse=True)
    own = np.bincount(own_inv.ravel(), weights=weight, minlength=len(own_keys))
    q = qk * g + q_img
    at = np.minimum(np.searchsorted(own_keys, q), max(len(own_keys) - 1, 0))
    mine = np.where(own_keys[at] == q, own[at], 0) if len(own_keys) else 0
    return total[qk] - mine


def _credit(score: np.ndarray, valid: np.ndarray, a: np.ndarray) -> np.ndarray:
    """UNIT/m when the answer is among the m best-scoring options, else 0."""
    s = np.where(valid, score, -np.inf)
    top = s == s.max(axis=1, keepdims=True)
    return np.where(top[np.arange(len(s)), a], UNIT // top.sum(axis=1), 0)


def _majority(counts: np.ndarray, valid: np.ndarray, own: np.ndarray, credits: np.ndarray) -> np.ndarray:
    """Credit for following the most common choice (letter, rank, length rule) of the other images, softly. Leaving
    an image out lowers its own answer's count, so a strict majority votes against the held-out row whenever the
    counts are nearly level (letters placed round-robin would score 0, not chance). So choices within `own` (the
    rows the held-out image itself had behind these counts) of the best count fully, and the weight then falls to 0
    over a further sqrt(best + 1): one row can barely move it, while a real leak is followed in full."""
    c = np.where(valid, counts, -np.inf)
    best = c.max(axis=1, keepdims=True)
    weight = np.clip(1 - np.maximum(best - c - own[:, None], 0) / np.sqrt(best + 1), 0, 1)
    return np.rint((weight * credits).sum(axis=1) / weight.sum(axis=1)).astype(np.int64)


def _own(key: np.ndarray, img: np.ndarray) -> np.ndarray:
    """Per row: the rows of its image with the same key (key >= -1)."""
    _, inv, n = np.unique((key + 1) * (int(img.max()) + 1) + img, return_inverse=True, return_counts=True)
    return n[inv.ravel()]


def _summary(n: int, chance: int, sums: dict[str, int]) -> dict[str, Any]:
    acc = {b: round(sums[b] / (UNIT * n), 6) if n else None for b in BASELINES}
    best = max(BASELINES, key=acc.__getitem__) if n else None  # first in BASELINES on a tie
    ch = round(chance / (UNIT * n), 6) if n else None
    return {"n": n, "chance": ch, "baselines": acc, "best": acc.get(best), "best_baseline": best,
            "excess": round(acc[best] - ch, 6) if n else None}


class _Table:
    """The rows as arrays, and what every baseline needs of them (see `_parse`)."""

    def __init__(self, rows: Iterable[dict[str, Any]] | Any) -> None:
        self.names, self.img, self.cat, self.a, self.opt, self.rank, self.lens = _parse(rows)
        self.n_rows, self.K = self.opt.shape
        self.valid, self.rows = self.opt >= 0, np.arange(self.n_rows)
        self.k = self.valid.sum(axis=1)
        self.answer = self.opt[self.rows, self.a] if self.n_rows else self.a
        self.cell_img = np.broadcast_to(self.img[:, None], self.opt.shape)
        self.group = (self.cat * (self.K + 1) + self.k)[:, None] * self.K  # (category, k): position and rank are learned per number of options
        self.answered = np.where(np.arange(self.K) == self.a[:, None], UNIT, 0)  # following option j earns UNIT if it is the answer

    def per_option(self, ev_key, ev_img, query) -> np.ndarray:
        """Leave-one-image-out counts for every offered option, 0 in the padding."""
        out = np.zeros(self.opt.shape)
        out[self.valid] = _loo(ev_key, ev_img, query[self.valid], self.cell_img[self.valid])
        return out

    def by_category(self, x: np.ndarray) -> list[int]:  # exact: integer sums
        out = np.zeros(len(self.names), dtype=np.int64)
        np.add.at(out, self.cat, x.astype(np.int64))
        return out.tolist()


def _option_prior(t: _Table) -> np.ndarray:
    offered, correct = t.per_option(t.opt[t.valid], t.cell_img[t.valid], t.opt), t.per_option(t.answer, t.img, t.opt)
    return _credit((correct + 1) / (offered + t.k[:, None]), t.valid, t.a)


def _pair_prior(t: _Table) -> np.ndarray:
    """Wins of the answer over each other option text; looked up for every ordered pair of the row's options."""
    opt, valid = t.opt, t.valid
    v = int(opt.max()) + 1
    beaten = valid & (opt != t.answer[:, None])
    wins = (t.answer[:, None] * v + opt)[beaten]
    pair = opt[:, :, None] * v + opt[:, None, :]
    both = valid[:, :, None] & valid[:, None, :] & (opt[:, :, None] != opt[:, None, :])
    w = np.zeros(pair.shape)
    w[both] = _loo(wins, t.cell_img[beaten], pair[both], np.broadcast_to(t.img[:, None, None], pair.shape)[both])
    rate = np.where(both, (w + 1) / (w + w.transpose(0, 2, 1) + 2), 0.0)
    return _credit(rate.sum(axis=2).round(9), valid, t.a)  # round: equal sums tie despite float error


def _option_set(t: _Table) -> np.ndarray:
    """The same set of texts in any order: sort each row's option ids (padding -1 first), then number the sets."""
    v = int(t.opt.max()) + 1
    _, set_id = np.unique(np.sort(t.opt, axis=1), axis=0, return_inverse=True)
    sets = set_id.ravel() * v  # key (set, text) = set * v + text id
    return _credit(t.per_option(sets + t.answer, t.img, sets[:, None] + t.opt), t.valid, t.a)


def _numeric_rank(t: _Table) -> np.ndarray:
    """Non-numeric rows: no rank to learn, so the baseline is credited chance (1/k) rather than 0."""
    numeric = t.rank[:, 0] >= 0
    ranked = t.per_option((t.group[:, 0] + t.rank[t.rows, t.a])[numeric], t.img[numeric], t.group + t.rank)
    own = _own(np.where(numeric, t.group[:, 0], -1), t.img)
    return np.where(numeric, _majority(ranked, t.valid, own, t.answered), UNIT // t.k)


def _position(t: _Table) -> np.ndarray:
    position = t.per_option(t.group[:, 0] + t.a, t.img, t.group + np.arange(t.K))
    return _majority(position, t.valid, _own(t.group[:, 0], t.img), t.answered)


def _length(t: _Table) -> np.ndarray:
    """"Pick the longest" and "pick the shortest", weighed by what each earned on the other images (in rows)."""
    rules = np.stack([_credit(t.lens, t.valid, t.a), _credit(-t.lens, t.valid, t.a)], axis=1)
    earned = np.stack([_loo(t.cat, t.img, t.cat, t.img, weight=x.astype(float)) for x in rules.T], axis=1) / UNIT
    return _majority(earned, np.ones(rules.shape, dtype=bool), _own(t.cat, t.img), rules)


_BASELINE_CREDIT = {"option_prior": _option_prior, "pair_prior": _pair_prior, "option_set": _option_set,
                    "numeric_rank": _numeric_rank, "position": _position, "length": _length}


def blind_audit(rows: Iterable[dict[str, Any]] | Any) -> dict[str, Any]:
    """Text-only baseline accuracies, overall and per category (see the module docstring). JSON-serialisable.

    >>> blind_audit([])["overall"]["n"]
    0
    """
    t = _Table(rows)
    if not t.n_rows:
        return {"overall": _summary(0, 0, {}) | {"best_per_category": None}, "by_category": {}}
    credit = {b: _BASELINE_CREDIT[b](t) for b in BASELINES}
    names = t.names
    n, chance, sums = t.by_category(np.ones(t.n_rows)), t.by_category(UNIT // t.k), {b: t.by_category(credit[b]) for b in BASELINES}
    by_category = {names[c]: _summary(n[c], chance[c], {b: sums[b][c] for b in BASELINES})
                   for c in sorted(range(len(names)), key=names.__getitem__)}
    overall = _summary(t.n_rows, sum(chance), {b: sum(sums[b]) for b in BASELINES})
    # Optimistic: each category's best baseline is chosen on the very rows it is scored on.
    best_each = sum(sums[by_category[names[c]]["best_baseline"]][c] for c in range(len(names)))
    overall["best_per_category"] = round(best_each / (UNIT * t.n_rows), 6)
    return {"overall": overall, "by_category": by_category}


def excess_by_chance(rows: list[dict[str, Any]], draws: int = 19, seed: int = 0) -> dict[str, float]:
    """Per category (and "overall"): the largest best-baseline excess over chance among `draws` copies of the table
    whose answers are re-drawn uniformly among each row's options, where no text can tell anything. With 19 draws,
    about the 95th percentile of what noise and picking the best of the baselines give on a table this size: on a
    small table, an excess below it says nothing either way."""
    worst: dict[str, float] = defaultdict(float)
    for d in range(draws):
        null = [dict(r, answer=chr(ord("A") + int(unit("null", seed, d, r.get("sample_id", i)) * len(r["options"]))))
                for i, r in enumerate(rows)]
        report = blind_audit(null)
        for name, s in [*report["by_category"].items(), ("overall", report["overall"])]:
            worst[name] = max(worst[name], s["excess"])
    return dict(worst)


def format_blind_report(report: dict[str, Any], by_chance: dict[str, float] | None = None) -> str:
    """A Markdown table (category, n, chance, each baseline, best; and the excess noise alone reaches, when given:
    `excess_by_chance`) for a dataset card."""
    head = ["category", "n", "chance", *BASELINES, "best", *(["excess", "by chance (95%)"] if by_chance else [])]
    lines = ["| " + " | ".join(head) + " |", "|---|" + "---:|" * (len(head) - 1)]

    def f(x: float | None) -> str:
        return "–" if x is None else f"{x:.3f}"

    for key, name, s in [*((c, c, s) for c, s in report["by_category"].items()), ("overall", "**overall**", report["overall"])]:
        best = f(s["best"]) + (f" ({s['best_baseline']})" if s["best_baseline"] else "")
        cells = [name, str(s["n"]), f(s["chance"]), *(f(s["baselines"][b]) for b in BASELINES), best]
        if by_chance:
            cells += [f"{s['excess']:+.3f}" if s["n"] else "–", f"{by_chance.get(key, 0.0):+.3f}"]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"

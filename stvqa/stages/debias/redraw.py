"""Distractors drawn so that no option text gives the answer away.

A text-only guesser learns P(correct | option text): in VG "on" is the answer of most spatial questions and
"center" of many location questions, so if distractors were drawn uniformly, "on" among the options would
mostly be right. Here each question's distractors are re-drawn from its valid pool (recorded by the
generator: every text in it is false for the question) with weights fitted over the whole table, so that
each text is offered about (options - 1) times as often as a distractor as it is the answer: then
P(correct | offered) is near 1 / options for every text. Works on the whole table, so it runs after a
merge of shards and gives the same result as on one build.

Some texts cannot be offered often enough: "near" is compatible with almost every predicate, so it is
never a valid distractor, and whenever it is offered it is right. Questions whose answer text stays right
more often than chance + `max_excess` when offered are thinned (a hash of the sample id decides which)
until it no longer does, and returned as dropped with the reason `answer_text_gives_itself_away`.

Some priors are known before any table is seen: the typical sizes of things answer "the car or the cup?". The
generator records for such questions whether the image agrees with the prior, and the agreeing side is thinned
first (`balance_priors`, reason `prior_gives_answer_away`).
"""

from __future__ import annotations

import json
import math
from collections import defaultdict
from typing import Any

from ...records import LETTERS
from ...hashing import permutation, unit, weighted_sample

MIN_OFFERS = 30  # a text offered fewer times is thinned only when its rate is clearly above the limit (SIGNIFICANCE)
SIGNIFICANCE = 0.05  # ...: P(right this often | right at the limit's rate) below this, not noise a guesser cannot learn
MIN_ROWS_TO_JUDGE_CREDIBLE = 200  # below this, "never an answer here" says more about the sample size than the text
UBIQUITOUS = 0.9  # an option offered by nearly every question of a category ("about the same", "yes")
ROUNDS = 8  # proportional fitting converges in a few rounds; more changes nothing visible
MIN_WEIGHT, MAX_WEIGHT = 1e-3, 1e3


def fit_weights(rows: list[dict[str, Any]]) -> dict[str, float]:
    """Weights per option text (within one category) such that, in expectation, each text is offered as a
    distractor (options - 1) times as often as it is the answer."""
    answers: dict[str, float] = defaultdict(float)
    for r in rows:
        answers[r["answer_text"]] += len(r["options"]) - 1
    weights = {t: 1.0 for r in rows for t in r["pool"]}
    for _ in range(ROUNDS):
        offered: dict[str, float] = defaultdict(float)
        for r in rows:
            total = sum(weights[t] for t in r["pool"])
            for t in r["pool"]:
                offered[t] += (len(r["options"]) - 1) * weights[t] / total
        for t in weights:
            target = answers.get(t, 0.0)
            ratio = (target / offered[t]) if offered[t] else 1.0
            weights[t] = min(MAX_WEIGHT, max(MIN_WEIGHT, weights[t] * ratio ** 0.5))  # damped: pools overlap
    return weights


def _args(sample: dict[str, Any]) -> dict[str, Any]:
    """The generator's `args` (JSON), or {} where there are none."""
    args = json.loads(sample.get("args") or "null")
    return args if isinstance(args, dict) else {}


def _pool(sample: dict[str, Any]) -> list[str] | None:
    return _args(sample).get("pool") or None


def _without_pool(row: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in row.items() if k != "pool"}


def redraw_distractors(samples: list[dict[str, Any]], seed: int) -> tuple[list[dict], list[dict]]:
    """(kept, dropped): the samples with distractors re-drawn where the generator recorded a pool
    (`args["pool"]`), the others as they are. Options are re-ordered by the same seeded hash as generation.
    Only texts that are the answer somewhere in the category are offered: a text that never is gives
    itself away as wrong. Texts the generator lists as possibly true together (`args["compatible"]`) are never
    offered together: where too few texts exclude one another, the question keeps fewer options (two at least).
    A question without any such text is dropped (`no_distractor_ever_an_answer`)."""
    by_category: dict[str, list[dict[str, Any]]] = defaultdict(list)
    out, dropped = [], []
    for s in sorted(samples, key=lambda s: s["sample_id"]):  # float sums in one order: identical in any process
        pool = _pool(s)
        if pool:
            by_category[s["category"]].append(dict(s, pool=pool))
        else:
            out.append(s)
    for rows in by_category.values():
        answers = {r["answer_text"] for r in rows}
        credible = []
        for r in rows:
            pool = [t for t in r["pool"] if t in answers or len(rows) < MIN_ROWS_TO_JUDGE_CREDIBLE]
            if pool:
                credible.append(dict(r, pool=pool))
            else:
                dropped.append(_without_pool(r) | {"reject_reason": "no_distractor_ever_an_answer"})
        rows = credible
        weights = fit_weights(rows)
        for r in rows:
            together = {frozenset(pair) for pair in _args(r).get("compatible") or ()}
            chosen = weighted_sample(r["pool"], [weights[t] for t in r["pool"]], len(r["options"]) - 1, "debias", seed,
                                     r["sample_id"], excludes=lambda x, y: frozenset((x, y)) in together)
            texts = [r["answer_text"], *chosen]
            options = [texts[i] for i in permutation(len(texts), "options", seed, r["sample_id"])]
            out.append(_without_pool(r) | {"options": options, "answer": LETTERS[options.index(r["answer_text"])]})
    return sorted(out, key=lambda s: s["sample_id"]), dropped


def _share_at_limit(answered: int, others: int, limit: float) -> float:
    """The share of `answered` questions to keep so that the text is right at most `limit` of the time among them
    and the `others` that offer it and answer otherwise (1.0 when it already is)."""
    return min(1.0, limit * others / ((1 - limit) * answered))


def _tail(k: int, n: int, p: float) -> float:
    """P(X >= k) for X ~ Binomial(n, p)."""
    return sum(math.comb(n, i) * p**i * (1 - p) ** (n - i) for i in range(k, n + 1))


def thin_giveaways(samples: list[dict[str, Any]], seed: int, max_excess: float) -> tuple[list[dict], list[dict]]:
    """(kept, dropped): per category, questions whose answer text is right more often than chance +
    `max_excess` among the questions that offer it are thinned to that rate (on a small table, only where the
    excess is more than noise: 20 right of 25 offered at a limit of 0.6 is, 3 of 5 is not); and where an option that
    nearly every question offers ("about the same") is right less often than chance - `max_excess`, the
    questions that offer it and answer otherwise are thinned, since it tells a guesser "not this one"."""
    by_category: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for s in samples:
        by_category[s["category"]].append(s)
    kept, dropped = [], []
    for rows in by_category.values():
        chance = sum(1 / len(r["options"]) for r in rows) / len(rows)
        limit = min(chance + max_excess, 0.999)
        answered: dict[str, int] = defaultdict(int)
        offered: dict[str, int] = defaultdict(int)
        for r in rows:
            answered[r["answer_text"]] += 1
            for t in r["options"]:
                offered[t] += 1
        keep_share = {}
        for t, a in answered.items():
            as_distractor = offered[t] - a
            credible = offered[t] >= MIN_OFFERS or _tail(a, offered[t], limit) < SIGNIFICANCE
            keep_share[t] = _share_at_limit(a, as_distractor, limit) if credible else 1.0
        floor = max(chance - max_excess, 0.001)
        keep_offering = {}  # ubiquitous text -> share kept of the questions that offer it and answer otherwise
        for t, n in offered.items():
            a, d = answered.get(t, 0), n - answered.get(t, 0)
            if n >= MIN_OFFERS and n >= UBIQUITOUS * len(rows) and a / n < floor and d:
                keep_offering[t] = min(1.0, a * (1 - floor) / (floor * d))
        for r in rows:
            share = keep_share[r["answer_text"]]
            share = min([share, *(keep_offering[t] for t in r["options"] if t in keep_offering and t != r["answer_text"])])
            if unit("thin", seed, r["sample_id"]) < share:
                kept.append(r)
            else:
                dropped.append(dict(r, reject_reason="answer_text_gives_itself_away"))
    return sorted(kept, key=lambda s: s["sample_id"]), dropped


def _cap(answered: list[int], limit: float) -> float:
    """The largest number c of questions per answer text such that, keeping min(a, c) of each text's `answered`
    questions, no text is right more than `limit` of the time: c <= limit * sum(min(a, c)). Thinning each text
    on its own to the rate it has among the others is not enough where several are above the limit ("2" and "3"
    among the counts 1-4): thinning one raises the others' rates."""
    cap, levels = 0.0, sorted(set(answered))
    for low, high in zip([0, *levels], levels):
        if high <= limit * sum(min(a, high) for a in answered):
            cap = high  # still under the limit at the next level
            continue
        # Between low and high, sum(min(a, c)) = kept_below + above * c: solve c = limit * (kept_below + above * c).
        # (limit * above < 1 here: had the rate not fallen along this stretch, high would still be under the limit.)
        kept_below, above = sum(a for a in answered if a <= low), sum(a > low for a in answered)
        cap = limit * kept_below / (1 - limit * above)
        break
    return cap


def thin_option_sets(samples: list[dict[str, Any]], seed: int, max_excess: float) -> tuple[list[dict], list[dict]]:
    """(kept, dropped): per category and set of option texts offered together (in any order), questions whose
    answer text is right more often than 1 / options + `max_excess` among the questions offering that very set are
    thinned to that rate (`option_set_gives_answer_away`): each text keeps at most `_cap` questions, those a hash of
    the sample id ranks first. Each text may be balanced on its own and still not within a set: "behind" and "in
    front of" offered alone, "behind" twice as often right. In a set offered fewer than MIN_OFFERS times, a text is
    thinned only where its excess is more than noise (as in `thin_giveaways`)."""
    by_set: dict[tuple, list[dict[str, Any]]] = defaultdict(list)
    for s in samples:
        by_set[(s["category"], *sorted(s["options"]))].append(s)
    dropped_ids: set[str] = set()
    for rows in by_set.values():
        limit = min(1 / len(rows[0]["options"]) + max_excess, 0.999)
        by_answer: dict[str, list[dict[str, Any]]] = defaultdict(list)
        for r in rows:
            by_answer[r["answer_text"]].append(r)
        keep = math.floor(_cap([len(a) for a in by_answer.values()], limit) + 1e-9)
        for answered in by_answer.values():
            if len(rows) < MIN_OFFERS and _tail(len(answered), len(rows), limit) >= SIGNIFICANCE:
                continue
            ranked = sorted(answered, key=lambda r: unit("thin-set", seed, r["sample_id"]))
            dropped_ids |= {r["sample_id"] for r in ranked[keep:]}
    kept = [s for s in samples if s["sample_id"] not in dropped_ids]
    dropped = [dict(s, reject_reason="option_set_gives_answer_away") for s in samples if s["sample_id"] in dropped_ids]
    return kept, dropped


def balance_priors(samples: list[dict[str, Any]], seed: int, max_excess: float) -> tuple[list[dict], list[dict]]:
    """(kept, dropped): per category, where the generator recorded whether world knowledge alone would answer a
    question right (`args["prior"]`: "agrees" or "contradicts", e.g. typical sizes for size questions), the larger
    side is thinned until following the prior is right at most chance + `max_excess` of the time on those
    questions: exactly, keeping the rows a hash of the sample id ranks first. The prior is known beforehand, not
    learned from the table, so this holds on a table of any size."""
    by_category: dict[str, dict[str, list[dict[str, Any]]]] = defaultdict(lambda: defaultdict(list))
    for s in samples:
        if (prior := _args(s).get("prior")) in ("agrees", "contradicts"):
            by_category[s["category"]][prior].append(s)
    dropped_ids: set[str] = set()
    for sides in by_category.values():
        agrees, contradicts = sides["agrees"], sides["contradicts"]
        n = len(agrees) + len(contradicts)
        limit = min(sum(1 / len(r["options"]) for r in agrees + contradicts) / n + max_excess, 0.999)
        for major, minor in ((agrees, contradicts), (contradicts, agrees)):
            keep = math.floor(limit * len(minor) / (1 - limit) + 1e-9)  # the most with keep / (keep + minor) <= limit
            if len(major) > keep:
                ranked = sorted(major, key=lambda r: unit("prior", seed, r["sample_id"]))
                dropped_ids |= {r["sample_id"] for r in ranked[keep:]}
    kept = [s for s in samples if s["sample_id"] not in dropped_ids]
    dropped = [dict(s, reject_reason="prior_gives_answer_away") for s in samples if s["sample_id"] in dropped_ids]
    return kept, dropped


def debias_options(samples: list[dict[str, Any]], seed: int, max_excess: float) -> tuple[list[dict], list[dict]]:
    """Questions a known prior answers thinned, distractors re-drawn, give-aways thinned, and distractors
    re-drawn for what is left: (kept, dropped). `max_excess` 1 thins nothing (no rate is above chance + 1): the
    distractors are only re-drawn."""
    if max_excess >= 1:
        return redraw_distractors(samples, seed)
    balanced, prior_decided = balance_priors(samples, seed, max_excess)
    drawn, no_distractors = redraw_distractors(balanced, seed)
    kept, thinned = thin_giveaways(drawn, seed, max_excess)
    final, late = redraw_distractors(kept, seed)
    final, set_thinned = thin_option_sets(final, seed, max_excess)
    return final, prior_decided + no_distractors + thinned + late + set_thinned

"""Blind-solvability audit (stvqa/qa/blind.py): text-only baselines must find the known leaks, stay at chance on a
balanced table, and really hold out each image. Tables are built with the project's seeded hash, so they are fixed."""

from __future__ import annotations

import json
import random

import polars as pl
import pytest

from stvqa.blind import BASELINES, blind_audit, format_blind_report
from stvqa.hashing import permutation, sample, unit


def _row(image: str, category: str, texts: list[str], answer: str, *salt: object) -> dict:
    """Options in a hash-shuffled order, so the answer's letter is uniform and carries no signal."""
    options = [texts[i] for i in permutation(len(texts), "blind-test", image, category, *salt)]
    return {"image_id": image, "category": category, "question": f"q about {image}?", "options": options,
            "answer": "ABCD"[options.index(answer)]}


def count_table(n_images: int = 200) -> list[dict]:
    """The generator's leak: options n-1, n, n+1, n+2, so the answer is always the second smallest."""
    rows = []
    for i in range(n_images):
        n = 1 + int(unit("n", i) * 9)
        rows.append(_row(f"c{i}", "count", [str(n - 1), str(n), str(n + 1), str(n + 2)], str(n)))
    return rows


def balanced_table(n_images: int = 600) -> list[dict]:
    """Answers drawn uniformly from the offered options, options from one pool: no text-only signal."""
    pool = ["cup", "sky", "table", "dog", "umbrella", "tree", "car", "bottle", "window", "person"]
    rows = []
    for i in range(n_images):
        g = f"b{i}"
        names = sample(pool, 4, "size", i)
        rows.append(_row(g, "size", names, names[int(unit("size-answer", i) * 4)]))
        counts = [str(x) for x in sample(range(10), 4, "count", i)]
        rows.append(_row(g, "count", counts, counts[int(unit("count-answer", i) * 4)]))
        rows.append(_row(g, "existence", ["yes", "no"], "yes" if unit("exists", i) < 0.5 else "no"))
    return rows


def test_count_rank_leak_is_found():
    report = blind_audit(count_table())
    count = report["by_category"]["count"]
    # Every other image has the answer at rank 1 (second smallest), so the learned rank is 1 and the only option of
    # rank 1 is the answer: 200/200 = 1.0, against chance 1/4.
    assert count["chance"] == 0.25
    assert count["baselines"]["numeric_rank"] == 1.0
    assert count["best"] == 1.0 and count["excess"] == 0.75
    # The letters are hash-shuffled, so the position baseline cannot exploit them.
    assert abs(count["baselines"]["position"] - 0.25) < 0.1


def test_answer_vocabulary_leak_is_found():
    answers = ["left", "right", "above", "below"]
    distractors = ["to the left of", "to the right of", "on top of", "under", "next to", "behind"]
    rows = []
    for i in range(200):
        answer = answers[int(unit("rel", i) * 4)]
        rows.append(_row(f"r{i}", "relation", [answer, *sample(distractors, 3, "d", i)], answer))
    rel = blind_audit(rows)["by_category"]["relation"]
    # An answer word, ~50 images of 50 correct: prior (49 + 1) / (49 + 4) ~ 0.94; a distractor was offered ~100 times
    # and never correct: (0 + 1) / (100 + 4) ~ 0.01. The answer always has the top prior: 200/200 = 1.0.
    assert rel["chance"] == 0.25
    assert rel["baselines"]["option_prior"] == 1.0
    assert rel["baselines"]["pair_prior"] == 1.0  # every answer word beat every distractor it met
    # No option is a number: numeric_rank is credited exactly 1/k per row.
    assert rel["baselines"]["numeric_rank"] == 0.25


def test_option_set_leak_is_found():
    # Four predicates, offered three at a time; each set has its own answer (as when two options of a set could both
    # be true, so the third must be the answer). Every text is offered 150 times and right 50: its own rate is
    # exactly chance, yet the set gives the answer away.
    texts = ["above", "on", "under", "behind"]
    sets = {(0, 1, 2): 2, (1, 2, 3): 3, (2, 3, 0): 0, (3, 0, 1): 1}
    rows = [_row(f"s{i}-{j}", "relation", [texts[t] for t in chosen], texts[answer], j)
            for i, (chosen, answer) in enumerate(sets.items()) for j in range(50)]
    rel = blind_audit(rows)["by_category"]["relation"]
    assert rel["chance"] == pytest.approx(1 / 3, abs=1e-6)
    assert rel["baselines"]["option_prior"] <= 1 / 3  # held out, a row's own answer text looks slightly worse
    assert rel["baselines"]["option_set"] == 1.0


def test_balanced_table_stays_at_chance():
    report = blind_audit(balanced_table())
    # Chance: size and count 1/4, existence 1/2; overall (600/4 + 600/4 + 600/2) / 1800 = 1/3.
    assert report["overall"]["chance"] == pytest.approx(1 / 3, abs=1e-6)
    assert set(report["by_category"]) == {"count", "existence", "size"}
    for name, cat in [*report["by_category"].items(), ("overall", report["overall"])]:
        assert cat["n"] == (1800 if name == "overall" else 600)
        for baseline in BASELINES:
            # 600 rows: one standard error is ~0.018, so 0.1 is > 5 SE; a real leak (as above) is far beyond.
            assert abs(cat["baselines"][baseline] - cat["chance"]) < 0.1, (name, baseline, cat)


def test_leave_one_image_out_really_holds_the_image_out():
    rows = []
    for i in range(150):
        g, answer = f"u{i}", f"o{i:05d}x0"
        for q in range(2):  # two questions per image share the image's unique answer text
            decoys = [f"o{i:05d}{q}{j}" for j in range(1, 4)]  # same length as the answer: no length signal
            rows.append(_row(g, "object", [answer, *decoys], answer, q))
    obj = blind_audit(rows)["by_category"]["object"]
    # In-sample, the answer text was correct 2 of 2 times: option_prior would score 1.0. Holding out only the row
    # would still see the sibling question: (1 + 1) / (1 + 4) = 0.4 > 1/4, again 1.0. Holding out the image,
    # every option is unseen, all four tie, and the row earns exactly 1/4.
    assert obj["baselines"]["option_prior"] == 0.25
    assert obj["baselines"]["pair_prior"] == 0.25
    assert obj["baselines"]["length"] == 0.25


def _placed(letters: list[int]) -> list[dict]:
    """One row per image, four options unique to the image, the answer at the given position."""
    rows = []
    for i, at in enumerate(letters):
        options = [f"p{i:04d}{j}" for j in range(4)]
        rows.append({"image_id": f"p{i}", "category": "place", "options": options, "answer": "ABCD"[at]})
    return rows


def test_position_round_robin_is_chance_and_a_favourite_letter_is_found():
    fair = blind_audit(_placed([i % 4 for i in range(200)]))["by_category"]["place"]
    # 50 answers per letter. Held out, a row's own letter has 49 against 50 for the others: a strict majority would
    # never pick it (0.0). Within one row (what the held-out image itself could add) all four tie: exactly 1/4.
    assert fair["baselines"]["position"] == 0.25
    skewed = blind_audit(_placed([0 if i % 4 else 1 + i % 3 for i in range(200)]))["by_category"]["place"]
    # 150 of 200 answers are "A" (i % 4 != 0); held out, "A" still leads by ~100: 150/200 = 0.75.
    assert skewed["baselines"]["position"] == 0.75


def test_same_figures_in_any_row_order_and_from_polars():
    rows = count_table(60) + balanced_table(120) + [
        _row("m0", "mixed", ["yes", "no"], "no"),
        _row("m1", "mixed", ["cup", "sky", "dog"], "sky"),
        _row("m1", "mixed", ["cup", "sky", "dog", "car"], "cup", 2),
    ]
    report = blind_audit(rows)
    shuffled = rows[:]
    random.Random(7).shuffle(shuffled)
    assert blind_audit(shuffled) == report
    assert blind_audit(pl.DataFrame(rows)) == report
    # The exported "(A) text" form of the options is the same options.
    lettered = [dict(r, options=[f"({'ABCD'[i]}) {o}" for i, o in enumerate(r["options"])]) for r in rows]
    assert blind_audit(lettered) == report
    json.dumps(report)  # plain, JSON-serialisable


def test_empty_input():
    for empty in ([], pl.DataFrame(schema={"image_id": pl.String, "category": pl.String, "question": pl.String,
                                           "options": pl.List(pl.String), "answer": pl.String})):
        report = blind_audit(empty)
        assert report["overall"]["n"] == 0 and report["overall"]["chance"] is None
        assert report["by_category"] == {}
        assert "**overall** | 0 |" in format_blind_report(report)


def test_chance_mixes_two_and_four_options():
    rows = [_row("i0", "mixed", ["yes", "no"], "yes"), _row("i1", "mixed", ["a", "b", "c", "d"], "c")]
    mixed = blind_audit(rows)["by_category"]["mixed"]
    # (1/2 + 1/4) / 2 = 0.375; nothing is numeric, so numeric_rank is credited 1/k per row: the same 0.375.
    assert mixed["chance"] == 0.375
    assert mixed["baselines"]["numeric_rank"] == 0.375


def test_markdown_table():
    table = format_blind_report(blind_audit(count_table()))
    lines = table.splitlines()
    assert lines[0] == "| category | n | chance | option_prior | pair_prior | numeric_rank | position | length | option_set | best |"
    assert lines[2].startswith("| count | 200 | 0.250 | ") and lines[2].endswith(" | 1.000 (numeric_rank) |")
    assert lines[3].startswith("| **overall** | 200 | 0.250 |")


def test_an_answer_that_names_no_option_is_an_error():
    with pytest.raises(ValueError, match="row 0"):
        blind_audit([{"image_id": "x", "category": "c", "options": ["a", "b"], "answer": "C"}])

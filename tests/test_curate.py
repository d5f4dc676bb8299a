"""The offline curation rules of `stvqa filter`: dedup, select, balance_letters."""

import json
import random
from collections import Counter, defaultdict

import polars as pl
import pytest
from typer.testing import CliRunner

from stvqa.cli import app
from stvqa.stages.filter.curate import balance_letters, category_quotas, dedup, letter_distribution, normalise_question, select
from stvqa.records import LETTERS
from stvqa.categories import PAPER_MIX


def row(sample_id: str, **fields) -> dict:
    """A QA row as verify leaves it; `focus_ids` lists the focus objects (empty: focus "{}")."""
    options = list(fields.pop("options", ["on", "under", "near"]))
    answer_text = fields.pop("answer_text", options[0])
    focus_ids = fields.pop("focus_ids", ["cup.1", "table.1"])
    focus = {"objects": [{"id": i, "bbox": [0, 0, 1, 1]} for i in focus_ids], "relationships": []} if focus_ids else {}
    base = {
        "sample_id": sample_id, "image_id": "1", "category": "relation", "question": "Where is the cup with respect to the table?",
        "options": options, "answer": LETTERS[options.index(answer_text)], "answer_text": answer_text, "level": "easy",
        "rating": 8, "focus": json.dumps(focus), "args": None, "template": None, "generator": "template",
        "verified": True, "verify_reason": "relation_in_graph",
    }
    return base | fields


def reasons(dropped: list[dict]) -> dict[str, str]:
    return {r["sample_id"]: r["reject_reason"] for r in dropped}


def ids(rows: list[dict]) -> set[str]:
    return {r["sample_id"] for r in rows}


# normalise_question


def test_normalise_question_ignores_case_punctuation_articles_and_plurals() -> None:
    assert normalise_question("Is there a cup?") == normalise_question("is there the cups") == "is there cup"
    assert normalise_question("Where is the MAN,  relative to the bench!") == "where is man relative to bench"
    # different objects or numbers stay different
    assert normalise_question("Is there a cup?") != normalise_question("Is there a mug?")
    assert normalise_question("Are there 2 cups?") != normalise_question("Are there 3 cups?")


# dedup


def test_exact_duplicate_from_the_same_generator() -> None:
    rows = [row("1:0"), row("1:1", question="where is the cup with respect to a table")]
    kept, dropped = dedup(rows)
    assert len(kept) == 1
    assert list(reasons(dropped).values()) == ["duplicate_question"]


def test_near_duplicate_in_other_words_with_the_same_objects_and_options() -> None:
    rows = [
        row("1:0", question="Where is the cup with respect to the table?", options=["on", "under", "near"]),
        row("1:1", question="How is the cup positioned relative to the table?", options=["near", "on", "under"], answer_text="on", rating=7),
    ]
    kept, dropped = dedup(rows)
    assert ids(kept) == {"1:0"}
    assert reasons(dropped) == {"1:1": "near_duplicate_question"}


def test_near_duplicate_by_template_args_despite_other_distractors() -> None:
    args = {"a": "man.1", "b": "bicycle.1", "predicate": "riding"}
    rows = [
        row("1:0", category="reach", question="How is the man interacting with the bicycle?", options=["pulling", "looking at", "riding"],
            answer_text="riding", template="reach/1", args=json.dumps(args | {"pool": ["pulling", "looking at"]})),
        row("1:1", category="reach", question="What is the man doing with the bicycle?", options=["drinking", "riding", "looking at"],
            answer_text="riding", template="reach/0", args=json.dumps(args | {"pool": ["drinking", "looking at"]}), rating=7),
    ]
    kept, dropped = dedup(rows)
    assert ids(kept) == {"1:0"}
    assert reasons(dropped) == {"1:1": "near_duplicate_question"}


def test_same_objects_and_options_with_another_answer_are_different_questions() -> None:
    rows = [  # closer / farther: complementary, both kept
        row("1:0", category="depth", question="Which is closer to the camera: the man or the bench?", options=["man", "bench"], answer_text="man"),
        row("1:1", category="depth", question="Which is farther from the camera: the man or the bench?", options=["man", "bench"], answer_text="bench"),
    ]
    kept, dropped = dedup(rows)
    assert ids(kept) == {"1:0", "1:1"} and dropped == []


def test_no_dedup_across_images_or_categories() -> None:
    rows = [
        row("1:0"),
        row("2:0", image_id="2"),  # the same question about another image
        row("1:1", category="distance", question="Which is nearer the cup: the table?"),  # same objects and options, other category
    ]
    kept, dropped = dedup(rows)
    assert ids(kept) == {"1:0", "2:0", "1:1"} and dropped == []


def test_rows_without_focus_objects_are_compared_by_text_only() -> None:
    rows = [
        row("1:0", category="existence", question="Is there a dog in the image?", options=["yes", "no"], answer_text="no", focus_ids=[]),
        row("1:1", category="existence", question="Is there a cat in the image?", options=["yes", "no"], answer_text="no", focus_ids=[]),
        row("1:2", category="existence", question="Is there the dogs in the image", options=["no", "yes"], answer_text="no", focus_ids=[], rating=5),
    ]
    kept, dropped = dedup(rows)
    assert ids(kept) == {"1:0", "1:1"}
    assert reasons(dropped) == {"1:2": "duplicate_question"}


def test_duplicate_across_generators() -> None:
    rows = [row("1:0", generator="template"), row("llm/1:0", generator="llm", rating=6, options=["on", "in", "behind"])]
    kept, dropped = dedup(rows)
    assert ids(kept) == {"1:0"}
    assert reasons(dropped) == {"llm/1:0": "duplicate_across_generators"}


def test_which_duplicate_survives() -> None:
    # higher rating wins over verified
    kept, _ = dedup([row("1:0", rating=6), row("1:1", rating=9, verified=None)])
    assert ids(kept) == {"1:1"}
    # same rating: verified True over None
    kept, _ = dedup([row("1:0", verified=None), row("1:1", verified=True)])
    assert ids(kept) == {"1:1"}
    # full tie: the hash rank of the sample id decides, whatever the input order
    tie = [row(f"1:{i}") for i in range(6)]
    kept, dropped = dedup(tie)
    assert len(kept) == 1 and len(dropped) == 5
    assert ids(dedup(tie[::-1])[0]) == ids(kept)


def test_dedup_carries_other_columns_and_keeps_input_order() -> None:
    rows = [row("1:2", consistency=0.75, judge_votes=["on", "on", None]), row("1:0", rating=3), row("2:0", image_id="2")]
    kept, dropped = dedup(rows)
    assert [r["sample_id"] for r in kept] == ["1:2", "2:0"]
    assert kept[0]["consistency"] == 0.75 and kept[0]["judge_votes"] == ["on", "on", None]
    assert dropped == [rows[1] | {"reject_reason": "duplicate_question"}]
    assert "reject_reason" not in rows[1]  # the input row is not changed


def test_dedup_of_nothing() -> None:
    assert dedup([]) == ([], [])


# select


def test_min_rating_and_levels() -> None:
    rows = [row("a", rating=3), row("b", rating=5, level="hard"), row("c", rating=7, level="medium"), row("d", rating=None)]
    kept, dropped, shortfalls = select(rows, min_rating=5, levels={"easy", "medium"})
    assert ids(kept) == {"c"}
    assert reasons(dropped) == {"a": "rating_below_min", "b": "level_not_selected", "d": "rating_below_min"}
    assert shortfalls == {}


def test_no_rule_keeps_everything() -> None:
    rows = [row("a"), row("b", rating=1, level="hard")]
    assert select(rows) == (rows, [], {})


def test_category_quotas_use_the_largest_remainder_and_sum_to_target() -> None:
    # 10 * (0.5, 0.25, 0.25) = 5, 2.5, 2.5: one remainder left, the tie goes to the earlier category
    assert category_quotas(10, (("relation", 0.5), ("count", 0.25), ("size", 0.25))) == {"relation": 5, "count": 3, "size": 2}
    # the paper's mix: 1/2 relation, 1/16 each other category
    assert category_quotas(16, PAPER_MIX) == {c: 8 if c == "relation" else 1 for c in PAPER_MIX}
    for target in range(60):
        assert sum(category_quotas(target, PAPER_MIX).values()) == target
    with pytest.raises(ValueError):
        category_quotas(10, {"colour": 1.0})


def test_target_with_mix_keeps_the_best_rated_and_reports_shortfalls() -> None:
    rows = [row(f"r{i}", rating=i + 1) for i in range(10)]  # relation, ratings 1..10
    rows += [row(f"c{i}", category="count", rating=5) for i in range(2)]  # too few for its quota
    rows += [row("s0", category="size")]  # not in the mix
    kept, dropped, shortfalls = select(rows, target=8, mix=(("relation", 0.5), ("count", 0.5)))
    assert ids(kept) == {"r9", "r8", "r7", "r6", "c0", "c1"}  # the four best-rated relation rows
    assert Counter(reasons(dropped).values()) == {"over_target": 6, "category_not_in_mix": 1}
    assert reasons(dropped)["s0"] == "category_not_in_mix"
    assert shortfalls == {"count": 2}


def test_target_without_mix_uses_the_paper_mix() -> None:
    rows = [row(f"{c}{i}", category=c) for c in PAPER_MIX for i in range(10)]
    kept, _, shortfalls = select(rows, target=32)
    # quotas 16 relation, 2 each other: relation has only 10 rows, the others keep 2 of 10
    assert Counter(r["category"] for r in kept) == {c: 10 if c == "relation" else 2 for c in PAPER_MIX}
    assert shortfalls == {"relation": 6}


def test_target_choice_is_seeded_and_does_not_depend_on_input_order() -> None:
    rows = [row(f"r{i}", rating=5 + i % 2) for i in range(40)]  # 20 rated 6 and 20 rated 5: ties at the cut
    shuffled = rows[:]
    random.Random(1).shuffle(shuffled)
    kept, _, _ = select(rows, target=10, mix={"relation": 1.0})
    assert len(kept) == 10 and all(r["rating"] == 6 for r in kept)
    assert ids(select(shuffled, target=10, mix={"relation": 1.0})[0]) == ids(kept)
    assert ids(select(rows, target=10, mix={"relation": 1.0}, seed=1)[0]) != ids(kept)
    assert ids(kept) != {f"r{i}" for i in range(1, 20, 2)}  # not simply the first ten in file order


def test_target_counts_only_rows_that_passed_the_filters() -> None:
    rows = [row("a", rating=2), row("b", rating=9)]
    kept, dropped, shortfalls = select(rows, min_rating=5, target=2, mix={"relation": 1})
    assert ids(kept) == {"b"} and reasons(dropped) == {"a": "rating_below_min"} and shortfalls == {"relation": 1}


def test_negative_target_is_refused() -> None:
    with pytest.raises(ValueError, match="target"):
        select([row("a")], target=-1)


# balance_letters


def assert_consistent(rows: list[dict]) -> None:
    for r in rows:
        assert r["options"][LETTERS.index(r["answer"])] == r["answer_text"], r


def assert_even(rows: list[dict], *group_by: str) -> None:
    """Within each group (option count plus `group_by` columns), letter counts differ by at most one."""
    groups: dict[tuple, Counter] = defaultdict(Counter)
    for r in rows:
        groups[(len(r["options"]), *(r[k] for k in group_by))][r["answer"]] += 1
    for (n, *_), counts in groups.items():
        full = [counts.get(letter, 0) for letter in LETTERS[:n]]
        assert max(full) - min(full) <= 1, (n, counts)


@pytest.mark.parametrize("n", [2, 3, 4])
def test_balance_letters_evens_out_each_option_count(n: int) -> None:
    options = ["w", "x", "y", "z"][:n]
    # every answer at A: the worst case; two categories so that their odd rows must spread over the letters
    rows = [row(f"{n}:{i}", options=options, answer_text="w", category="relation" if i % 3 else "depth") for i in range(5 * n + 1)]
    result = balance_letters(rows)
    assert_consistent(result)
    assert_even(result)
    assert_even(result, "category")
    assert all(r["answer"] == "A" for r in rows)  # inputs not mutated
    for before, after in zip(rows, result):
        assert after["answer_text"] == before["answer_text"] and sorted(after["options"]) == sorted(before["options"])
        # the distractors keep their relative order
        assert [o for o in after["options"] if o != "w"] == options[1:]


def test_balance_letters_groups_by_option_count() -> None:
    rows = [row(f"a{i}", options=["yes", "no"], answer_text="yes") for i in range(6)]
    rows += [row(f"b{i}", options=["on", "under", "near", "in"], answer_text="on") for i in range(8)]
    result = balance_letters(rows)
    assert letter_distribution(r for r in result if len(r["options"]) == 2) == {"A": 3, "B": 3}
    assert letter_distribution(r for r in result if len(r["options"]) == 4) == {"A": 2, "B": 2, "C": 2, "D": 2}


def test_balance_letters_leaves_balanced_rows_alone() -> None:
    rows = [row("a", options=["on", "under", "near"], answer_text="on"),
            row("b", options=["under", "on", "near"], answer_text="on"),
            row("c", options=["under", "near", "on"], answer_text="on")]
    assert balance_letters(rows) == rows


def test_balance_letters_is_deterministic_whatever_the_order() -> None:
    rows = [row(f"r{i}", options=["a", "b", "c"], answer_text="a" if i % 4 else "b") for i in range(30)]
    shuffled = rows[:]
    random.Random(2).shuffle(shuffled)
    by_id = {r["sample_id"]: r for r in balance_letters(rows)}
    assert all(by_id[r["sample_id"]] == r for r in balance_letters(shuffled))
    assert balance_letters(rows, seed=1) != balance_letters(rows)


def test_balance_letters_refuses_a_letter_that_does_not_point_at_the_answer() -> None:
    with pytest.raises(ValueError, match="x:0"):
        balance_letters([row("x:0") | {"answer": "C", "answer_text": "under"}])


def test_letter_distribution_is_sorted_by_letter() -> None:
    rows = [row("a", answer_text="near"), row("b", answer_text="on"), row("c", answer_text="near")]
    assert list(letter_distribution(rows).items()) == [("A", 1), ("C", 2)]
    assert letter_distribution([]) == {}


# real rows


@pytest.fixture(scope="module")
def sample_rows(tmp_path_factory) -> list[dict]:
    """Two builds of the bundled sample with different seeds, merged: the same images asked twice."""
    rows = []
    for seed in ("0", "1"):
        out = tmp_path_factory.mktemp("curate") / f"seed{seed}"
        result = CliRunner().invoke(app, ["--quiet", "build", "--out", str(out), "--seed", seed, "--per-image", "5", "--no-images"])
        assert result.exit_code == 0, result.output
        rows += [r | {"sample_id": f"{seed}/{r['sample_id']}"} for r in pl.read_parquet(out / "qa_debiased.parquet").to_dicts()]
    return rows


def test_dedup_and_balance_on_a_real_build(sample_rows) -> None:
    kept, dropped = dedup(sample_rows)
    assert dropped, "two seeds over the same images ask some questions twice"
    assert {r["reject_reason"] for r in dropped} <= {"duplicate_question", "near_duplicate_question"}
    assert len(kept) + len(dropped) == len(sample_rows)
    result = balance_letters(kept)
    assert_consistent(result)
    assert_even(result)
    assert [r["sample_id"] for r in result] == [r["sample_id"] for r in kept]
    assert all(a["answer_text"] == b["answer_text"] and sorted(a["options"]) == sorted(b["options"]) for a, b in zip(kept, result))

"""The records every stage shares, defined once: letters, levels and the QA row's columns (the categories are
`stvqa.categories`).

`schemas/qa_sample.schema.json` states the same contract for other tools; a test checks that the two agree.
"""

from __future__ import annotations

import polars as pl

LETTERS = "ABCD"
LEVELS = ("easy", "medium", "hard")
RATING_RANGE = (1, 10)

# A question as any generator writes it (qa_generated.parquet).
QA_COLUMNS: dict[str, pl.DataType] = {
    "sample_id": pl.Utf8, "image_id": pl.Utf8, "category": pl.Utf8, "question": pl.Utf8, "options": pl.List(pl.Utf8),
    "answer": pl.Utf8, "answer_text": pl.Utf8, "level": pl.Utf8, "rating": pl.Int32, "focus": pl.Utf8, "args": pl.Utf8,
    "template": pl.Utf8, "generator": pl.Utf8,
}
# Added by verify (qa.parquet).
VERIFIED_COLUMNS: dict[str, pl.DataType] = {"verified": pl.Boolean, "verify_reason": pl.Utf8}
# Added by the filter stage's judges (qa_filtered.parquet and the export); null where that judge did not run.
# `*_votes` hold each try's answer as option text (null: the reply named no option), so the option order of a
# row may change later without invalidating them; the rates are shares of the tries that named an option.
JUDGE_COLUMNS: dict[str, pl.DataType] = {
    "consistency": pl.Float64, "judge_votes": pl.List(pl.Utf8),  # vlm: a vision model answers with the image
    "blind_rate": pl.Float64, "blind_votes": pl.List(pl.Utf8),  # blind: a model answers from the text alone
    "pass_rate": pl.Float64, "policy_votes": pl.List(pl.Utf8),  # policy: the model about to be trained
}
# Added to every dropped row by the stage runner (rejects.parquet).
REJECT_COLUMNS: dict[str, pl.DataType] = {"reject_reason": pl.Utf8, "reject_stage": pl.Utf8}
QA_REQUIRED = ("sample_id", "image_id", "category", "question", "options", "answer", "answer_text", "level", "rating", "focus", "generator")


KNOWN_COLUMNS: dict[str, pl.DataType] = {**QA_COLUMNS, **VERIFIED_COLUMNS, **JUDGE_COLUMNS, **REJECT_COLUMNS}


def qa_frame(rows: list[dict], *extra: dict[str, pl.DataType]) -> pl.DataFrame:
    """Rows as a frame with the QA columns (plus `extra` column sets), in that order, then any column a stage
    added (`added_columns`), so that it flows through to the export. Known columns the sets leave out are dropped."""
    schema = dict(QA_COLUMNS)
    for columns in extra:
        schema.update(columns)
    added = [k for k in dict.fromkeys(k for r in rows for k in r) if k not in KNOWN_COLUMNS]
    if not added:
        return pl.DataFrame([{k: r.get(k) for k in schema} for r in rows], schema=schema)
    names = [*schema, *added]
    return pl.DataFrame([{k: r.get(k) for k in names} for r in rows], schema_overrides=schema, infer_schema_length=None).select(names)


def added_columns(schema: dict[str, pl.DataType]) -> dict[str, pl.DataType]:
    """The columns of a question table that no stvqa stage defines: a stage of the user's added them."""
    return {name: dtype for name, dtype in schema.items() if name not in KNOWN_COLUMNS}


def lettered(options: list[str]) -> list[str]:
    """["left", "right"] -> ["(A) left", "(B) right"]: how a question's options are shown, to a model and in an export."""
    return [f"({LETTERS[i]}) {o}" for i, o in enumerate(options)]


def question_with_options(question: str, options: list[str]) -> str:
    """The question and its lettered options, one a line (STVQA-7K's `question_with_options`)."""
    return question + "\n" + "\n".join(lettered(options))


def option_text(sample: dict) -> str:
    """The text of the option the answer letter points to ("" when the letter points nowhere)."""
    letter = sample.get("answer")
    index = LETTERS.index(letter) if isinstance(letter, str) and len(letter) == 1 and letter in LETTERS else -1
    options = sample.get("options") or []
    return options[index] if 0 <= index < len(options) else ""

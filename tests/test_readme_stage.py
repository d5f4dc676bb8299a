"""The README's "Adding a stage" example works as written, inside a real build: one module and one line in the
stage list, and the stages after it read its table, its drops never reach the dataset, its column does."""

from __future__ import annotations

import re
import sys
import types

import polars as pl
import pytest
from typer.testing import CliRunner

from conftest import REPO
from stvqa import stages
from stvqa.cli import app
from stvqa.pipeline.runner import wire
from stvqa.stages.generate import templates


def readme_stage_module(monkeypatch) -> types.ModuleType:
    """The README's code block, as the module `stvqa/stages/question_mark.py` it says to write."""
    text = (REPO / "README.md").read_text()
    section = text[text.index("## Adding a stage"):]
    code = re.search(r"```python\n(.*?)```", section, re.S).group(1)
    module = types.ModuleType("stvqa.stages.question_mark")
    module.__package__ = "stvqa.stages"
    monkeypatch.setitem(sys.modules, module.__name__, module)  # dataclasses look their module up there
    exec(compile(code, "README.md", "exec"), module.__dict__)
    return module


@pytest.fixture
def with_question_mark(monkeypatch):
    """The one line the README asks for: the stage in BUILD, after verify."""
    module = readme_stage_module(monkeypatch)
    names = [s.name for s in stages.BUILD]
    at = names.index("verify") + 1
    monkeypatch.setattr(stages, "BUILD", wire((*stages.BUILD[:at], module.STAGE, *stages.BUILD[at:])))
    # Count questions that do not end with their question mark, so that the stage has something to drop in a real build.
    phrasings = templates.phrasings()
    monkeypatch.setattr(templates, "phrasings", lambda: {**phrasings, "count": [p + " Count them." for p in phrasings["count"]]})
    return module


def test_the_readme_stage_runs_inside_a_real_build(with_question_mark, tmp_path) -> None:
    from datasets import load_dataset

    out = tmp_path / "run"
    result = CliRunner().invoke(app, ["build", "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "question_mark" in result.output  # the summary's row
    generated = pl.read_parquet(out / "qa.parquet")
    n_count = generated.filter(pl.col("category") == "count").height
    assert n_count > 0
    rejects = pl.read_parquet(out / "rejects.parquet").filter(pl.col("reject_stage") == "question_mark")
    assert rejects.height == n_count and set(rejects["reject_reason"]) == {"no_question_mark"}
    # The stage after it read its table: nothing it dropped is in the dataset, and the column it added is.
    assert (out / "qa_checked.parquet").exists()
    assert pl.read_parquet(out / "qa_debiased.parquet").filter(pl.col("category") == "count").height == 0
    dataset = load_dataset("parquet", data_dir=str(out / "dataset"))["train"]
    assert "count" not in set(dataset["category"]) and len(dataset) > 0
    assert dataset["question_chars"] == [len(q) for q in dataset["question_only"]]
    shown = CliRunner().invoke(app, ["inspect", str(out), "--stage", "question_mark", "-n", "1"])
    assert shown.exit_code == 0 and "qa_checked.parquet" in shown.output


def test_the_readme_stage_config_is_a_flag_of_stvqa_build(with_question_mark, tmp_path) -> None:
    out = tmp_path / "run"
    result = CliRunner().invoke(app, ["build", "--out", str(out), "--no-strict"])
    assert result.exit_code == 0, result.output
    assert pl.read_parquet(out / "rejects.parquet").filter(pl.col("reject_stage") == "question_mark").height == 0
    manifest = (out / "manifest.json").read_text()
    assert '"strict": false' in manifest


def test_the_readme_folder_map_matches_the_tree() -> None:
    """Every folder the map names exists, and every package of stvqa/ is on the map."""
    text = (REPO / "README.md").read_text()
    section = text[text.index("## Layout"):text.index("## Adding a stage")]
    block = re.search(r"```\n(.*?)```", section, re.S).group(1)
    named = {m.rstrip("/") for m in re.findall(r"^(stvqa/[\w/]+/)", block, re.M)}
    assert named and all((REPO / folder).is_dir() for folder in named), [f for f in named if not (REPO / f).is_dir()]
    packages = {p.parent.relative_to(REPO).as_posix() for p in (REPO / "stvqa").rglob("__init__.py")}
    top_level = {p for p in packages if p.count("/") <= 2} - {"stvqa", "stvqa/stages"}  # stages/ itself: the map's stage lines
    assert top_level <= named | {"stvqa/stages/load/sources", "stvqa/stages/filter/judges"}, top_level - named
    for module in re.findall(r"\b(\w+\.py)\b", block):
        assert list((REPO / "stvqa").rglob(module)), module

"""The README's "Adding a stage" example works as written: a new module and the runner, nothing else."""

import re

import polars as pl
from typer.testing import CliRunner

from conftest import REPO
from stvqa.cli import app
from stvqa.pipeline.rundir import RunDir
from stvqa.pipeline.runner import run_stages


def readme_stage_module() -> dict:
    text = (REPO / "README.md").read_text()
    section = text[text.index("## Adding a stage"):]
    code = re.search(r"```python\n(.*?)```", section, re.S).group(1)
    namespace = {"__name__": "stvqa.stages.question_mark", "__package__": "stvqa.stages"}
    exec(compile(code, "README.md", "exec"), namespace)
    return namespace


def test_the_readme_stage_runs_through_the_runner(tmp_path) -> None:
    module = readme_stage_module()
    out = tmp_path / "run"
    assert CliRunner().invoke(app, ["build", "--out", str(out)]).exit_code == 0
    qa = pl.read_parquet(out / "qa.parquet")
    broken = qa.with_columns(pl.when(pl.col("category") == "count").then(pl.col("question").str.replace(r"\?$", ".")).otherwise(pl.col("question")))
    broken.write_parquet(out / "qa.parquet")
    [result] = run_stages(RunDir(out), [(module["STAGE"], module["QuestionMarkConfig"]())])
    n_count = qa.filter(pl.col("category") == "count").height
    assert n_count > 0 and result.record["stats"]["dropped"] == {"no_question_mark": n_count}
    assert result.record["stats"]["kept"] == qa.height - n_count
    rejects = pl.read_parquet(out / "rejects.parquet").filter(pl.col("reject_stage") == "question_mark")
    assert rejects.height == n_count and set(rejects["category"]) == {"count"}

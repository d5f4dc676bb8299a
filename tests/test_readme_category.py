"""The README's "Adding a category" inside a real build: its module and its one registry line, added to a copy of
the package, give a category that the template generator writes, the gate verifies, the prompt, the schemas, the
summary, stats, inspect, the manifest's gate report and the dataset card all know, with worker processes too."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import polars as pl
import pytest

REPO = Path(__file__).resolve().parent.parent


def readme_category_code() -> str:
    section = (REPO / "README.md").read_text().split("## Adding a category", 1)[1].split("\n## ", 1)[0]
    return re.search(r"```python\n(.*?)```", section, re.S).group(1)


@pytest.fixture(scope="module")
def package_with_shape(tmp_path_factory) -> Path:
    """A copy of the package with the README's module and the one line in stvqa/categories/__init__.py."""
    root = tmp_path_factory.mktemp("pkg")
    shutil.copytree(REPO / "stvqa", root / "stvqa", ignore=shutil.ignore_patterns("__pycache__"))
    for shipped in ("schemas", "prompts", "pipelines"):  # resources beside the package in a checkout
        shutil.copytree(REPO / shipped, root / shipped)
    categories = root / "stvqa" / "categories"
    (categories / "shape.py").write_text(readme_category_code())
    init = (categories / "__init__.py").read_text()
    edited = init.replace("from . import count,", "from . import shape, count,", 1).replace("count, existence))", "count, existence, shape))", 1)
    assert edited != init and edited.count("shape") == 2, "the registry line moved: update the README and this test"
    (categories / "__init__.py").write_text(edited)
    return root


def run(package: Path, *args: str, home: Path) -> subprocess.CompletedProcess:
    env = dict(os.environ, PYTHONPATH=str(package), STVQA_HOME=str(home))
    # cwd: `python -m` puts the working directory first on sys.path, and the checkout's stvqa/ must not win
    return subprocess.run([sys.executable, "-m", "stvqa", *args], env=env, capture_output=True, text=True, timeout=600, cwd=home.parent)


def test_the_readme_category_is_written_verified_and_exported_in_a_real_build(package_with_shape, tmp_path) -> None:
    from datasets import load_dataset

    out = tmp_path / "run"
    built = run(package_with_shape, "build", "--out", str(out), "--mix", "relation=0.5,shape=0.5", "--workers", "2", home=tmp_path / "home")
    assert built.returncode == 0, built.stderr + built.stdout
    qa = pl.read_parquet(out / "qa.parquet").filter(pl.col("category") == "shape")
    assert qa.height > 10 and set(qa["verify_reason"]) == {"shape_matches_box"} and qa["verified"].all()
    assert all(q.startswith("Is the ") and q.endswith(" wider than it is tall in the image?") for q in qa["question"])
    gate = json.loads((out / "manifest.json").read_text())["stages"]["verify"]["gate"]["template"]["shape"]
    assert gate["verified"] == qa.height and gate["rejected"] == 0
    dataset = load_dataset("parquet", data_dir=str(out / "dataset"))["train"]
    assert "shape" in set(dataset["category"])
    card = (out / "dataset" / "README.md").read_text()
    assert "| template | shape |" in card and "| shape |" in card
    assert "shape" in built.stdout  # the summary's tables
    stats = run(package_with_shape, "stats", str(out), home=tmp_path / "home")
    assert stats.returncode == 0 and "shape" in stats.stdout, stats.stderr
    shown = run(package_with_shape, "inspect", str(out), "--category", "shape", "-n", "1", home=tmp_path / "home")
    assert shown.returncode == 0 and "wider than it is tall" in shown.stdout, shown.stderr


def test_the_readme_category_reaches_the_prompt_and_the_schemas_and_its_check_rejects_a_wrong_answer(package_with_shape, tmp_path) -> None:
    probe = """
import json
from collections import Counter
from stvqa.schema import load
from stvqa.stages.generate.llm_prompt import system_prompt
from stvqa.stages.verify.checks import VerifyConfig, verify_samples
scene = {"image_id": "1", "width": 640, "height": 480, "relationships": [],
         "objects": [{"id": "bus.1", "name": "bus", "bbox": [10, 100, 400, 300], "attributes": []}]}
row = {"sample_id": "1:0", "image_id": "1", "category": "shape", "question": "Is the bus wider than it is tall?", "options": ["yes", "no"],
       "answer": "B", "answer_text": "no", "level": "easy", "rating": 8, "focus": "{}", "generator": "m", "template": None,
       "args": json.dumps({"reply": {"objects": [{"id": "bus.1", "role": "subject"}]}})}
kept, dropped = verify_samples([row], scene, VerifyConfig(workers=1), Counter())
right, _ = verify_samples([dict(row, answer="A", answer_text="yes")], scene, VerifyConfig(workers=1), Counter())
print(json.dumps({"prompt": "- shape: is an object" in system_prompt(),
                  "enum": "shape" in load("qa_generation")["$defs"]["question"]["properties"]["category"]["enum"],
                  "wrong": dropped[0]["reject_reason"], "right": right[0]["verify_reason"]}))
"""
    env = dict(os.environ, PYTHONPATH=str(package_with_shape), STVQA_HOME=str(tmp_path))
    done = subprocess.run([sys.executable, "-c", probe], env=env, capture_output=True, text=True, timeout=300, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == {"prompt": True, "enum": True, "wrong": "shape_contradicts_box", "right": "shape_matches_box"}

"""The generate stage: questions for every scene, from the generator named in the config -> `qa_generated.parquet`.

Every scheduled slot ends as a question or as a rejected row (`no_candidate`: the image cannot serve the category;
the LLM generator's reasons are in `llm_writer.py`).
"""

from __future__ import annotations

import pyarrow.parquet as pq

from ...errors import ConfigError
from .config import GenerateConfig
from .context import GenerateContext
from .generators import GENERATORS
from .llm_writer import llm_inputs
from ...records import REJECT_COLUMNS, qa_frame
from ...pipeline.runner import Outcome, Stage, StageIO
from ..load import SCENES_FILE

QA_GENERATED_FILE = "qa_generated.parquet"


def generate(io: StageIO, cfg: GenerateConfig) -> Outcome:
    scenes = io.path(SCENES_FILE)
    task = io.task("images", task_total(scenes))
    ctx = GenerateContext(run_dir=io.run.path, task=task)
    kept, unfilled, images_without = [], [], 0
    try:
        for samples, missing in GENERATORS[cfg.generator].generate(scenes, cfg, ctx):
            kept += samples
            unfilled += missing
            images_without += not samples
            task.advance(1)
    finally:
        task.close()
    return Outcome(n_in=len(kept) + len(unfilled), kept=qa_frame(kept), dropped=qa_frame(unfilled, REJECT_COLUMNS),
                   counters={"images": task_total(scenes), "images_without_questions": images_without, **ctx.counters},
                   incomplete=ctx.incomplete)


def check_generator(cfg: GenerateConfig) -> None:
    if cfg.generator not in GENERATORS:
        choices = "; ".join(f"{g.name} ({g.help})" for g in GENERATORS.values())
        raise ConfigError(f"unknown --generator {cfg.generator!r}", f"Choose one of: {choices}.")
    if cfg.generator == "llm" and (cfg.llm is None or not cfg.llm.model):
        raise ConfigError("--generator llm needs --model", "e.g. --base-url http://localhost:8000/v1 --model Qwen/Qwen2.5-7B-Instruct")


def task_total(scenes) -> int:
    return pq.ParquetFile(scenes).metadata.num_rows


STAGE = Stage("generate", generate, GenerateConfig, reads=(SCENES_FILE,), table=QA_GENERATED_FILE, check=check_generator,
              external_inputs=llm_inputs, help="scene graphs -> questions (qa_generated.parquet)")

"""What a generator gets besides the scenes and its config (see `stvqa.stages.generate.generators`)."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from ...progress import Task


@dataclass
class GenerateContext:
    run_dir: Path
    task: Task = field(default_factory=Task)
    counters: Counter = field(default_factory=Counter)  # joins the stage's counters in the manifest
    incomplete: str = ""  # set when some work must be retried: the next build re-runs the stage

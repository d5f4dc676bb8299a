"""The stage runner: what every stage gets for free.

A stage is declared once (`Stage`): its name, the run files it reads and writes, its config dataclass
and one function `fn(io, cfg) -> Outcome`. The runner does the rest, the same way for every stage:

* the key: stage name, stvqa version, config (without run-control fields such as concurrency, marked
  `"key": False`), fingerprints of external inputs and the keys of the stages that wrote the files it
  reads; a stage whose key is recorded and whose outputs exist is skipped, unless it said it was
  incomplete (`Outcome.incomplete`, e.g. requests that failed): then the next run re-runs it;
* atomic outputs: the function writes to temporaries (`io.output(name)`), moved into place on success;
* rows it keeps go to its table file, rows it drops (each with a `reject_reason`) to `rejects.parquet`
  with `reject_stage` (the stage's previous rejects are replaced), so nothing is lost;
* one stats shape in the manifest: `in`, `kept`, `dropped` by reason, per-category counts, counters;
* progress and timing; zero kept rows where the next stage needs some is an error naming the top reasons.

Adding a stage is one module that declares a `Stage`, plus one line in the pipeline's stage list.
"""

from __future__ import annotations

import gc
import secrets
import sys
import time
from collections import Counter
from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field, is_dataclass, replace
from pathlib import Path
from typing import Any, Protocol

import polars as pl

from .. import __version__
from ..config import key_dict
from ..errors import ConfigError, DataError, WaitingForBatches, as_os_error
from ..progress import Progress, Task
from ..records import JUDGE_COLUMNS, REJECT_COLUMNS, VERIFIED_COLUMNS, qa_frame
from .rundir import REJECTS, RunDir, canonical_json, commit, discard, fingerprint, sha256_text, temp_dir, temp_file

REJECTS_FILE = REJECTS
FAILED_REJECTS_FILE = "rejects_failed.parquet"  # the drops of the last stage that kept nothing (its outputs stay as they were)
# What to check when a stage ends with nothing: the fix for each common reason.
REASON_HINTS = {
    "image_missing": "Images were not found under --data-dir (see data/README.md for the layout); --no-images exports text-only rows.",
    "image_unreadable": "The image files exist but cannot be read; check their permissions (and their folder's), or export with --no-images.",
    "image_undecodable": "The image files are damaged or not images; re-download them, or export with --no-images.",
    "image_size_unknown": "Image sizes come from image_data.json or the image files; put one of them into --data-dir.",
    "record_without_image_id": "The scene-graph records carry no image id; check that --source matches the files.",
    "outside_shard": "No image falls into this --shard; with few images use fewer shards.",
    "image_excluded": "Every image is listed in --exclude-images; check the file (vg:ID or coco:ID per line).",
    "llm_request_failed": "The LLM endpoint did not answer; check it is up, then build again: answered requests come from the cache.",
    "llm_max_cost_reached": "--max-cost was reached before anything was kept; raise it and build again (answered requests come from the cache).",
    "llm_bad_request": "The endpoint refused the requests as malformed; check --model, --max-tokens and the server's log.",
    "llm_invalid_json": "The model's replies are not JSON; try a larger or instruction-tuned model, or a server with JSON mode.",
}


@dataclass
class Outcome:
    """What a stage function returns. `kept` is the table of kept rows (the runner writes it to the stage's
    `table` file, if it has one) or, for stages that stream their own output, the number of rows they wrote."""

    n_in: int
    kept: pl.DataFrame | int
    dropped: pl.DataFrame | None = None  # rows with `reject_reason`
    dropped_counts: Counter = field(default_factory=Counter)  # drops that are not rows (e.g. unreadable records)
    counters: dict[str, int] = field(default_factory=dict)  # anything else worth a number (repairs, files, ...)
    info: dict[str, Any] = field(default_factory=dict)  # extra facts for the manifest (paths, sources)
    kept_by_category: Counter | None = None  # for stages whose `kept` is a count
    incomplete: str = ""  # why some work is left to retry (e.g. failed requests): the next run re-runs the stage
    steps: list[dict[str, Any]] | None = None  # a stage of several steps: each counted as a stage is (`Steps`)


@dataclass(frozen=True)
class Stage:
    name: str
    fn: Callable[["StageIO", Any], Outcome]
    config: type
    reads: tuple[str, ...] = ()  # run files, written by earlier stages (other than the questions `takes_questions` wires)
    table: str | None = None  # the question table the runner writes `Outcome.kept` to; the next stage's `io.questions()`
    takes_questions: bool = False  # reads the question table of the stage before it in the pipeline (`wire`)
    questions: str | None = None  # that table, set by `wire` from the pipeline's order: never written by hand
    writes: tuple[str, ...] = ()  # other run files or folders the function writes through `io.output`
    external_inputs: Callable[[Any], list[Path]] | None = None  # source files whose fingerprints join the key
    outputs_of: Callable[[Any], tuple[str, ...]] | None = None  # outputs that depend on the config (absolute paths)
    record_name: Callable[[Any], str] | None = None  # the manifest entry, when one stage can run for several targets
    needs_rows: bool = True  # zero kept rows is an error: the next stage would have nothing
    empty_hint: str = ""  # what to check when the stage's input has no rows at all
    check: Callable[[Any], None] | None = None  # refuses a config (ConfigError) before any stage of the build runs
    ledger: Callable[[RunDir, Any], "Ledger"] | None = None  # where the record and rejects go, when not into the run
    help: str = ""

    def outputs(self, cfg: Any) -> tuple[str, ...]:
        if self.outputs_of is not None:
            return self.outputs_of(cfg)
        return ((self.table,) if self.table else ()) + self.writes

    @property
    def inputs(self) -> tuple[str, ...]:
        """Every run file the stage reads: its own `reads` and the question table it was wired to."""
        return self.reads + ((self.questions,) if self.questions else ())


def wire(stages: tuple[Stage, ...]) -> tuple[Stage, ...]:
    """The pipeline in order, each stage that takes questions reading the table of the last stage before it that
    wrote one: inserting a stage into the list is all it takes for the stages after it to read its output."""
    wired, previous = [], None
    for stage in stages:
        if stage.takes_questions:
            if previous is None:
                raise ValueError(f"stage {stage.name} takes questions, and no stage before it writes any")
            stage = replace(stage, questions=previous)
        previous = stage.table or previous
        wired.append(stage)
    return tuple(wired)


class Ledger(Protocol):
    """Where a stage's record and rejects are kept: the run directory (`RunDir`), or for an output that must
    not change the run it reads (an export to another folder), that output itself."""

    rejects_file: Path

    def record(self, name: str) -> dict[str, Any] | None: ...

    def save_record(self, name: str, record: dict[str, Any]) -> None: ...


@dataclass
class StageResult:
    name: str
    skipped: bool
    record: dict[str, Any] = field(default_factory=dict)


class StageIO:
    """What a running stage may touch: the files it declared, temporaries for its outputs, progress."""

    def __init__(self, run: RunDir, stage: Stage, progress: Progress) -> None:
        self.run, self.stage, self._progress = run, stage, progress
        self.temporaries: dict[Path, Path] = {}

    def path(self, name: str) -> Path:
        if name not in self.stage.inputs:
            raise KeyError(f"stage {self.stage.name} reads {name} without declaring it")
        path = self.run.file(name)
        if not path.exists():
            raise DataError(f"{path} is missing", f"Run `stvqa build --out {self.run.path}` first.")
        return path

    def questions(self) -> Path:
        """The question table of the stage before this one (see `wire`)."""
        if self.stage.questions is None:
            raise KeyError(f"stage {self.stage.name} reads questions without `takes_questions=True`, or was not wired into a pipeline")
        return self.path(self.stage.questions)

    def output(self, name: str, directory: bool = False) -> Path:
        """A temporary to write output `name` into; it replaces the real one when the stage succeeds."""
        target = Path(name) if Path(name).is_absolute() else self.run.file(name)
        tmp = temp_dir(target) if directory else temp_file(target)
        self.temporaries[target] = tmp
        return tmp

    def task(self, description: str, total: int | None = None) -> Task:
        return self._progress.task(f"{self.stage.name}: {description}", total)


def config_dict(cfg: Any) -> dict[str, Any]:
    return asdict(cfg) if is_dataclass(cfg) else dict(cfg or {})


@contextmanager
def fewer_collections():
    """The cyclic GC collects less often while a stage runs. Stages build millions of small containers (scene
    graphs, rows) and keep them: with the default thresholds the GC walks all of them over and over, which cost
    more than the work itself (reading a scenes file into dicts: 4.1 s with it, 0.8 s without). Cycles are
    still collected, later; the thresholds are restored after the stage."""
    thresholds = gc.get_threshold()
    gc.set_threshold(max(thresholds[0], 100_000), max(thresholds[1], 50), max(thresholds[2], 100))
    try:
        yield
    finally:
        gc.set_threshold(*thresholds)


def upstream_keys(run: RunDir, stage: Stage) -> dict[str, str]:
    keys = {}
    for name in stage.inputs:
        found = run.producer(name)
        if found is None:
            raise ConfigError(f"{run.path} has no {name}: the stage that writes it has not run",
                              f"Run `stvqa build --out {run.path}` first.")
        keys[name] = found[1]["key"]
    return keys


def stage_key(stage_name: str, cfg: Any, inputs: list[dict], upstream: dict[str, str]) -> str:
    """The hash of what decides a stage's output; run-control settings (`"key": False` fields) are not in it."""
    config = key_dict(cfg) if is_dataclass(cfg) else dict(cfg or {})
    material = {"stage": stage_name, "version": __version__, "config": config, "inputs": inputs, "upstream": upstream}
    return sha256_text(canonical_json(material))


def _exists(run: RunDir, name: str) -> bool:
    return (Path(name) if Path(name).is_absolute() else run.file(name)).exists()


def run_stage(run: RunDir, stage: Stage, cfg: Any, progress: Progress | None = None, force: bool = False) -> StageResult:
    """Run one stage through the run directory (the caller holds `run.lock()`). A stage that fails, or keeps
    no rows where the next stage needs some, changes nothing: its outputs, its rejects and its manifest
    record stay those of its last success (the failed attempt's drops go to `rejects_failed.parquet`)."""
    name = stage.record_name(cfg) if stage.record_name else stage.name
    ledger = stage.ledger(run, cfg) if stage.ledger else run
    progress = progress or Progress()
    inputs = [fingerprint(p) for p in stage.external_inputs(cfg)] if stage.external_inputs else []
    upstream = upstream_keys(run, stage)
    key = stage_key(stage.name, cfg, inputs, upstream)
    outputs = stage.outputs(cfg)
    previous = ledger.record(name)
    if not force and previous and previous.get("key") == key and all(_exists(run, o) for o in outputs):
        return StageResult(name, True, previous)

    io = StageIO(run, stage, progress)
    started = time.perf_counter()
    try:
        with fewer_collections():
            outcome = stage.fn(io, cfg)
        dropped = outcome.dropped if outcome.dropped is not None and outcome.dropped.height else None
        stats = stage_stats(outcome, dropped)
        if stage.needs_rows and stats["kept"] == 0:
            if ledger is run and dropped is not None:
                _write_rejects(run.file(FAILED_REJECTS_FILE), [_conform(dropped.with_columns(pl.lit(name).alias("reject_stage")))])
            raise nothing_kept_error(name, stats, run, stage.empty_hint)
        if stage.table:
            kept = outcome.kept if isinstance(outcome.kept, pl.DataFrame) else pl.DataFrame()
            write_parquet(kept, io.output(stage.table), run.file(stage.table))
        for target, tmp in io.temporaries.items():
            commit(tmp, target)
    finally:
        for tmp in io.temporaries.values():
            if tmp.exists():
                discard(tmp)
    _replace_rejects(ledger.rejects_file, name, dropped)
    if outcome.incomplete:
        # Recorded under a key no later run computes: the next run re-runs this stage, and the stages after it.
        key = f"{key}:incomplete:{secrets.token_hex(4)}"
    record = {
        "key": key, "outputs": list(outputs), "config": config_dict(cfg), "inputs": inputs, "upstream": upstream,
        "stats": stats, **outcome.info,
        "seconds": round(time.perf_counter() - started, 3), "finished_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "command": " ".join(sys.argv), **({"incomplete": outcome.incomplete} if outcome.incomplete else {}),
    }
    ledger.save_record(name, record)
    return StageResult(name, False, record)


Rows = pl.DataFrame | list[dict[str, Any]]


def _counts(rows: Rows | None, column: str) -> Counter:
    if rows is None:
        return Counter()
    if isinstance(rows, pl.DataFrame):
        return Counter(dict(rows.drop_nulls(column).group_by(column).len().iter_rows())) if column in rows.columns else Counter()
    return Counter(r[column] for r in rows if r.get(column) is not None)


def tally(n_in: int, kept: Rows | int, dropped: Rows | None, dropped_counts: Counter | None = None,
          kept_by_category: Counter | None = None) -> dict[str, Any]:
    """The one shape every count of rows takes, for a stage and for each step inside one (the filter's funnel):
    `in`, `kept`, `dropped` by reason, and kept and dropped rows per category."""
    reasons = Counter(dropped_counts or {}) + _counts(dropped, "reject_reason")
    by_category = {"kept": Counter(kept_by_category or {}) if isinstance(kept, int) else _counts(kept, "category"),
                   "dropped": _counts(dropped, "category")}
    n_kept = kept if isinstance(kept, int) else kept.height if isinstance(kept, pl.DataFrame) else len(kept)
    counts: dict[str, Any] = {"in": n_in, "kept": n_kept, "dropped": dict(sorted(reasons.items()))}
    if any(by_category.values()):
        counts["by_category"] = {k: dict(sorted(v.items())) for k, v in by_category.items()}
    return counts


class Steps:
    """The steps inside one stage (the filter's dedup, rating, judges, balance), each counted as a stage is: what a
    step drops is what the one before it kept minus what it keeps (checked)."""

    def __init__(self, rows: Rows) -> None:
        self.n_in = rows.height if isinstance(rows, pl.DataFrame) else len(rows)
        self.steps: list[dict[str, Any]] = [{"step": "in", **tally(self.n_in, rows, None)}]
        self.dropped: list[Rows] = []

    @property
    def rows(self) -> int:
        return self.steps[-1]["kept"]

    def step(self, name: str, kept: list[dict[str, Any]], dropped: list[dict[str, Any]]) -> list[dict[str, Any]]:
        before = self.rows
        assert len(kept) + len(dropped) == before, f"{name}: {len(kept)} kept + {len(dropped)} dropped != {before}"
        self.steps.append({"step": name, **tally(before, kept, dropped)})
        self.dropped.extend(dropped)
        return kept


def stage_stats(outcome: Outcome, dropped: pl.DataFrame | None) -> dict[str, Any]:
    stats = tally(outcome.n_in, outcome.kept, dropped, outcome.dropped_counts, outcome.kept_by_category)
    if outcome.steps:
        stats["steps"] = outcome.steps
    if outcome.counters:
        stats["counters"] = dict(sorted(outcome.counters.items()))
    return stats


BATCH_PENDING = frozenset({"llm_batch_pending", "judge_batch_pending"})  # rows whose replies are still in a provider batch


def nothing_kept_error(stage: str, stats: dict[str, Any], run: RunDir, empty_hint: str = "") -> DataError | WaitingForBatches:
    """The stage kept nothing: say why; its previous output (if any) was left as it was."""
    if stats["in"] == 0:
        return DataError(f"{stage}: its input has no rows", empty_hint or f"Check what the earlier stages kept: `stvqa inspect {run.path}`.")
    if BATCH_PENDING & set(stats["dropped"]):  # rows wait for their replies: that, not the rest, is why none is kept
        return WaitingForBatches(f"{stage}: every request went out in provider batches ({sum(stats['dropped'].values()):,} rows wait for them)",
                                 "Run the same command again when they are done (within 24 h) to collect them, or add --batch-wait.")
    top = sorted(stats["dropped"].items(), key=lambda kv: (-kv[1], kv[0]))[:3]
    why = ", ".join(f"{reason} ({n:,})" for reason, n in top) or f"{stats['in']:,} in, none kept"
    hint = next((REASON_HINTS[r] for r, _ in top if r in REASON_HINTS), None)
    hint = hint or f"See the dropped rows and their reasons: `stvqa inspect {run.file(FAILED_REJECTS_FILE)}`."
    return DataError(f"{stage}: no rows left ({why}); its previous output is unchanged", hint)


REJECTS_SCHEMA = qa_frame([], VERIFIED_COLUMNS, JUDGE_COLUMNS, REJECT_COLUMNS).schema


def _conform(frame: pl.DataFrame) -> pl.DataFrame:
    """Every column of the rejects schema, in its order (null where a stage or an older file has none)."""
    return frame.select([pl.col(c).cast(t) if c in frame.columns else pl.lit(None, t).alias(c) for c, t in REJECTS_SCHEMA.items()])


def write_parquet(frame: pl.DataFrame, tmp: Path, target: Path) -> None:
    """`frame.write_parquet(tmp)`, with an OS fault (a full disk) reported as the OSError it is, naming `target`."""
    try:
        frame.write_parquet(tmp)
    except pl.exceptions.PolarsError as exc:
        fault = as_os_error(exc, str(target))
        if fault is None:
            raise
        raise fault from None


def _replace_rejects(path: Path, stage: str, dropped: pl.DataFrame | None) -> None:
    """rejects.parquet holds every stage's dropped rows; a stage that re-runs replaces its own share."""
    parts = []
    if path.exists():
        try:
            earlier = pl.read_parquet(path)
        except (OSError, pl.exceptions.PolarsError) as exc:
            raise DataError(f"{path} is not a readable rejects table ({type(exc).__name__})",
                            "It holds the rows earlier stages dropped; move it away (the stages that wrote it re-run) and build again.") from None
        if "reject_stage" not in earlier.columns:
            raise DataError(f"{path} is not a stvqa rejects table (no reject_stage column)",
                            "Move it away (the stages that wrote it re-run) and build again.")
        parts.append(_conform(earlier.filter(pl.col("reject_stage") != stage)))
    if dropped is not None:
        parts.append(_conform(dropped.with_columns(pl.lit(stage).alias("reject_stage"))))
    if parts:
        _write_rejects(path, parts)


def _write_rejects(path: Path, parts: list[pl.DataFrame]) -> None:
    frame = pl.concat(parts, how="vertical_relaxed")
    tmp = temp_file(path)
    try:
        write_parquet(frame, tmp, path)
        commit(tmp, path)
    finally:
        discard(tmp) if tmp.exists() else None


def run_stages(run: RunDir, stages: list[tuple[Stage, Any]], progress: Progress | None = None, force: bool = False) -> list[StageResult]:
    """Run `stages` in order under the run's lock; each is skipped when its key is unchanged."""
    for stage, cfg in stages:
        if stage.check:
            stage.check(cfg)
    results = []
    with run.lock():
        for stage, cfg in stages:
            results.append(run_stage(run, stage, cfg, progress, force))
    return results

"""Merge the runs of `stvqa build --shard i/N` into one run, as if one build had made it.

Every stage up to verify works image by image (the slot schedule, the choices and the split are pure
functions of the seed and the image id), so concatenating the shards' tables gives the unsharded build's
tables; the export then runs on the merged run. This is the scale-out path: shards run as array jobs
(Slurm, Kubernetes Jobs) and merge.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import fields
from pathlib import Path
from typing import Any, get_type_hints

import polars as pl
import pyarrow.parquet as pq

from .config import dataclass_in
from .errors import DataError
from .pipeline.rundir import RunDir, canonical_json, commit, discard, sha256_text, temp_file
from .pipeline.runner import Stage, StageResult
from .stages.load.scenes import RECORD_INDEX, Shard
from .stages.load import SCENES_FILE
from . import stages


def merged_stages() -> tuple[Stage, ...]:
    """The stages that work image by image, up to verify: the shards' tables are concatenated. The ones after
    them (they look at the whole table, or write the dataset) run on the merged run."""
    names = [s.name for s in stages.BUILD]
    return stages.BUILD[: names.index("verify") + 1]
_ROW, _STAGE_RANK = "_merge_row", "_merge_stage_rank"


def key_view(cls: type, config: dict[str, Any]) -> dict[str, Any]:
    """A recorded stage config without its run-control fields (`"key": False`: concurrency, limits, prices,
    caches, --overwrite), which shards of one build may set as they like."""
    hints = get_type_hints(cls)
    view = {}
    for f in fields(cls):
        if not f.metadata.get("key", True) or f.name not in config:
            continue
        value, inner = config[f.name], dataclass_in(hints[f.name])
        view[f.name] = key_view(inner, value) if inner is not None and isinstance(value, dict) else value
    return view


def _flat(value: Any, prefix: str = "") -> dict[str, Any]:
    if isinstance(value, dict):
        return {k: v for key, item in value.items() for k, v in _flat(item, f"{prefix}{key}.").items()}
    return {prefix.rstrip("."): value}


def _first_difference(stage: Stage, runs: list[RunDir], views: list[dict[str, Any]]) -> str:
    flat = [{k.removeprefix("config."): v for k, v in _flat(view).items()} for view in views]
    for key in sorted(set().union(*flat)):
        values = [f.get(key) for f in flat]
        if len({canonical_json(v) for v in values}) > 1:
            other = next(i for i, v in enumerate(values) if canonical_json(v) != canonical_json(values[0]))
            return f"{stage.name} {key}: {values[0]!r} in {runs[0].path}, {values[other]!r} in {runs[other].path}"
    return f"{stage.name} inputs differ"


def _comparable(stage: Stage, record: dict[str, Any]) -> dict[str, Any]:
    """What must be equal in every shard of one build: the stage's settings (but --shard and run control)
    and its input files."""
    config = {k: v for k, v in key_view(stage.config, record["config"]).items() if k != "shard"}
    return {"config": config, "inputs": record.get("inputs", [])}


def check_shards(runs: list[RunDir]) -> None:
    """The runs must be exactly the shards 0..N-1 of one N, finished, built with the same settings but --shard."""
    for stage in merged_stages():
        records = [run.record(stage.name) for run in runs]
        missing = [str(run.path) for run, record in zip(runs, records) if record is None]
        if missing:
            raise DataError(f"{', '.join(missing)} has no {stage.name} stage", "Merge runs that `stvqa build --shard i/N` finished.")
        unfinished = [(run, record) for run, record in zip(runs, records) if record.get("incomplete")]
        if unfinished:
            run, record = unfinished[0]
            raise DataError(f"{run.path}: {stage.name} is incomplete ({record['incomplete']})",
                            "Build that shard again (answered requests come from the cache), then merge.")
    shards = [run.record("load")["config"].get("shard") for run in runs]
    if None in shards:
        unsharded = runs[shards.index(None)].path
        raise DataError(f"{unsharded} was not built with --shard", "Merge the runs of `stvqa build --shard i/N`, one per shard.")
    parsed = [Shard.parse(s) for s in shards]
    counts = sorted({p.count for p in parsed})
    if len(counts) > 1:
        raise DataError(f"the runs are shards of different builds (--shard {', '.join(shards)}: of {' and of '.join(map(str, counts))})",
                        "Merge the shards 0..N-1 of one N.")
    indexes = sorted(p.index for p in parsed)
    if len(set(indexes)) != len(indexes):
        raise DataError(f"the runs are not distinct shards of one build (shards: {', '.join(shards)})", "Pass each `--shard i/N` run once.")
    absent = sorted(set(range(counts[0])) - set(indexes))
    if absent:
        raise DataError(f"shards {', '.join(f'{i}/{counts[0]}' for i in absent)} are missing (given: {', '.join(shards)})",
                        f"Merge all {counts[0]} shards of the build; build the missing ones with --shard first.")
    for stage in stages.BUILD:
        records = [run.record(stage.name) for run in runs]
        present = [(run, record) for run, record in zip(runs, records) if record is not None]
        if len({canonical_json(_comparable(stage, r)) for _, r in present}) > 1:
            difference = _first_difference(stage, [run for run, _ in present], [_comparable(stage, r) for _, r in present])
            raise DataError(f"the runs were built with different settings ({difference})",
                            "Merge only the shards of one build: the same flags but --shard.")


def _sum_stats(stats: list[dict[str, Any]]) -> dict[str, Any]:
    total: dict[str, Any] = {"in": 0, "kept": 0, "dropped": Counter()}
    by_category: dict[str, Counter] = {"kept": Counter(), "dropped": Counter()}
    counters: Counter = Counter()
    for s in stats:
        total["in"] += s["in"]
        total["kept"] += s["kept"]
        total["dropped"].update(s["dropped"])
        for part in by_category:
            by_category[part].update(s.get("by_category", {}).get(part, {}))
        counters.update(s.get("counters", {}))
    # Each shard skipped the others' images; together they skipped none.
    total["in"] -= total["dropped"].pop("outside_shard", 0)
    total["dropped"] = dict(sorted(total["dropped"].items()))
    if any(by_category.values()):
        total["by_category"] = {k: dict(sorted(v.items())) for k, v in by_category.items()}
    if counters:
        total["counters"] = dict(sorted(counters.items()))
    return total


def _write_ordered(frame: pl.LazyFrame, target: Path) -> None:
    tmp = temp_file(target)
    try:
        frame.sink_parquet(tmp)
        commit(tmp, target)
    finally:
        discard(tmp) if tmp.exists() else None


def _concat(paths: list[Path]) -> pl.LazyFrame:
    return pl.concat([pl.scan_parquet(p) for p in paths], how="vertical_relaxed")


def _in_build_order(rows: pl.LazyFrame, positions: pl.LazyFrame, first: tuple[str, ...] = ()) -> pl.LazyFrame:
    """The shards' rows in the order one build writes them: by the image's position in the source files (each
    image's rows lie in one shard, in their order there), after the `first` sort keys."""
    rows = rows.with_row_index(_ROW)
    added = RECORD_INDEX not in rows.collect_schema().names()
    if added:
        rows = rows.join(positions, on="image_id", how="left")
    ordered = rows.sort([*first, RECORD_INDEX, _ROW], nulls_last=True)
    return ordered.drop(_ROW, *first, *([RECORD_INDEX] if added else []))


def merge_runs(runs: list[RunDir], out: RunDir, overwrite: bool = False) -> list[StageResult]:
    """Write the shards' tables, rejects and manifest into `out` (under its lock); returns the merged stages.
    An `out` that holds a run already is replaced only with `overwrite`."""
    if any(run.path.resolve() == out.path.resolve() for run in runs):
        raise DataError(f"--out {out.path} is one of the runs to merge", "Merge into a new folder.")
    if not overwrite and out.record("load") is not None:
        raise DataError(f"--out {out.path} already holds a run", "Pass --overwrite to replace it with the merged run, or choose another --out.")
    check_shards(runs)
    for run in runs:
        if RECORD_INDEX not in pq.read_schema(run.file(SCENES_FILE)).names:
            raise DataError(f"{run.path} was built by an older stvqa (its scenes.parquet has no {RECORD_INDEX})",
                            "Build the shards again with this version (answered LLM requests come from the cache), then merge.")
    results = []
    with out.lock():
        manifest: dict[str, Any] = {"stages": {}}  # a fresh run: what --overwrite replaces is forgotten
        positions = pl.concat([pl.scan_parquet(run.file(SCENES_FILE)).select("image_id", RECORD_INDEX) for run in runs])
        for stage in merged_stages():
            for name in stage.outputs(None):
                _write_ordered(_in_build_order(_concat([run.file(name) for run in runs]), positions), out.file(name))
            records = [run.record(stage.name) for run in runs]
            config = dict(records[0]["config"], **({"shard": None} if stage.name == "load" else {}))
            record = {
                "key": sha256_text(canonical_json([r["key"] for r in records])),
                "outputs": list(stage.outputs(None)), "config": config, "stats": _sum_stats([r["stats"] for r in records]),
                "merged_from": [str(run.path.resolve()) for run in runs], "seconds": sum(r.get("seconds", 0) for r in records),
                **{k: v for k, v in records[0].items() if k in ("source", "data_dir", "sample", "alias_files")},
            }
            manifest["stages"][stage.name] = record
            results.append(StageResult(stage.name, False, record))
        rejects = [run.rejects_file for run in runs if run.rejects_file.exists()]
        merged_names = [stage.name for stage in merged_stages()]
        if rejects:  # the merged stages' rejects, stage by stage; the later stages add theirs when they run on the merged run
            rank = pl.col("reject_stage").replace_strict(merged_names, list(range(len(merged_names)))).alias(_STAGE_RANK)
            merged_rejects = _concat(rejects).filter(pl.col("reject_stage").is_in(merged_names)).with_columns(rank)
            _write_ordered(_in_build_order(merged_rejects, positions, first=(_STAGE_RANK,)), out.rejects_file)
        elif out.rejects_file.exists():
            out.rejects_file.unlink()
        out.save_manifest(manifest)
    return results


def later_stages(run: RunDir) -> list[tuple[Stage, Any]]:
    """The stages after the merged ones, with the settings the shards recorded (defaults where they have none)."""
    return [(stage, stages.recorded_config(run, stage)) for stage in stages.BUILD[len(merged_stages()):]]

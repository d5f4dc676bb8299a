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
from typing import Any

import polars as pl

from .errors import DataError
from .llm.config import LLMConfig
from .rundir import RunDir, canonical_json, commit, discard, sha256_text, temp_file
from .runner import REJECTS_FILE, Stage, StageResult, config_dict
from .stages import BUILD, BuildConfig

# The stages that work image by image are concatenated; the ones after them (they look at the whole
# table, or write the dataset) run on the merged run.
MERGED_STAGES = tuple(s for s in BUILD if s.name in ("load", "generate", "verify"))
LATER_STAGES = tuple(s for s in BUILD if s not in MERGED_STAGES)


_RUN_CONTROL = {f.name for f in fields(LLMConfig) if f.metadata.get("key", True) is False}


def _without_run_control(value: Any) -> Any:
    """Shards may be built with other LLM concurrency, limits, prices or caches: drop those settings."""
    if isinstance(value, dict):
        return {k: _without_run_control({c: x for c, x in v.items() if c not in _RUN_CONTROL} if k == "llm" and isinstance(v, dict) else v)
                for k, v in value.items()}
    return value


def _comparable(config: dict[str, Any]) -> str:
    """A stage config without what differs between shards of one build."""
    return canonical_json(_without_run_control({k: v for k, v in config.items() if k not in ("shard", "limit")}))


def check_shards(runs: list[RunDir]) -> None:
    for stage in MERGED_STAGES:
        records = [run.record(stage.name) for run in runs]
        missing = [str(run.path) for run, record in zip(runs, records) if record is None]
        if missing:
            raise DataError(f"{', '.join(missing)} has no {stage.name} stage", "Merge runs that `stvqa build --shard i/N` finished.")
        unfinished = [(run, record) for run, record in zip(runs, records) if record.get("incomplete")]
        if unfinished:
            run, record = unfinished[0]
            raise DataError(f"{run.path}: {stage.name} is incomplete ({record['incomplete']})",
                            "Build that shard again (answered requests come from the cache), then merge.")
        if len({_comparable(r["config"]) for r in records}) > 1:
            raise DataError(f"the runs were built with different {stage.name} settings",
                            "Merge only the shards of one build: the same flags but --shard.")
    shards = [run.record("load")["config"].get("shard") for run in runs]
    if None in shards or len(set(shards)) != len(shards):
        raise DataError(f"the runs are not distinct shards of one build (shards: {', '.join(map(str, shards))})",
                        "Pass each `--shard i/N` run once.")


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


def _write_concat(paths: list[Path], target: Path) -> None:
    tmp = temp_file(target)
    try:
        pl.concat([pl.scan_parquet(p) for p in paths], how="vertical_relaxed").sink_parquet(tmp)
        commit(tmp, target)
    finally:
        discard(tmp) if tmp.exists() else None


def merge_runs(runs: list[RunDir], out: RunDir) -> list[StageResult]:
    """Write the shards' tables, rejects and manifest into `out` (under its lock); returns the merged stages."""
    if any(run.path.resolve() == out.path.resolve() for run in runs):
        raise DataError(f"--out {out.path} is one of the runs to merge", "Merge into a new folder.")
    check_shards(runs)
    results = []
    with out.lock():
        manifest = out.manifest()
        for stage in MERGED_STAGES:
            for name in stage.outputs(None):
                _write_concat([run.file(name) for run in runs], out.file(name))
            records = [run.record(stage.name) for run in runs]
            config = dict(records[0]["config"])
            if stage.name == "load":
                config.update(shard=None, limit=None)
            record = {
                "key": sha256_text(canonical_json([r["key"] for r in records])),
                "outputs": list(stage.outputs(None)), "config": config, "stats": _sum_stats([r["stats"] for r in records]),
                "merged_from": [str(run.path.resolve()) for run in runs], "seconds": sum(r.get("seconds", 0) for r in records),
                **{k: v for k, v in records[0].items() if k in ("source", "data_dir", "sample", "alias_files")},
            }
            manifest["stages"][stage.name] = record
            results.append(StageResult(stage.name, False, record))
        rejects = [run.file(REJECTS_FILE) for run in runs if run.file(REJECTS_FILE).exists()]
        if rejects:
            _write_concat(rejects, out.file(REJECTS_FILE))
        out.save_manifest(manifest)
    return results


def later_stages(run: RunDir) -> list[tuple[Stage, Any]]:
    """The stages after the merged ones, with the settings the shards recorded (defaults where they have none)."""
    out = []
    for stage in LATER_STAGES:
        record = run.record(stage.name)
        default = BuildConfig().of(stage)
        cfg = stage.config(**{k: v for k, v in record["config"].items() if k in config_dict(default)}) if record else default
        out.append((stage, cfg))
    return out

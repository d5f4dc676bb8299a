"""Benchmark: a full `stvqa build` (load -> generate -> verify -> debias -> filter -> export) over synthetic
Visual Genome, without images (`--no-images`), timing every stage from the run's manifest. In one run: this
checkout with `--workers 1` and with every core (`--workers N`), and a baseline, the same build by another git
revision of stvqa (default: the last one before this session's work; `none` to skip it).

    python bench/bench_build.py --images 20000                    # this checkout at 1 and N workers, and the baseline
    python bench/bench_build.py --images 108077 --baseline none   # full scale, this checkout only
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
sys.path.insert(0, str(HERE))
DEFAULT_BASELINE = "630775b"  # the last commit before output safety, the stage layout and --workers


def checkout(ref: str, work: Path) -> Path:
    """A detached worktree of `ref` (its package runs from there through PYTHONPATH)."""
    tree = work / f"baseline-{ref}"
    if not tree.exists():
        subprocess.run(["git", "-C", str(REPO), "worktree", "add", "--detach", str(tree), ref], check=True, capture_output=True)
    return tree


def generated(stage: dict) -> int:
    return stage["stats"]["kept"] if "stats" in stage else stage["counts"]["generated"]  # the baseline's manifest


def run_build(code: Path, data_dir: Path, run: Path, per_image: int, workers: int | None = None) -> dict:
    env = dict(os.environ, PYTHONPATH=str(code))
    started = time.perf_counter()
    run.parent.mkdir(parents=True, exist_ok=True)
    subprocess.run([sys.executable, "-m", "stvqa", "build", "--source", "vg", "--data-dir", str(data_dir), "--out", str(run),
                    "--per-image", str(per_image), "--no-images", "--force", *(["--workers", str(workers)] if workers else [])],
                   check=True, capture_output=True, env=env, cwd=run.parent)
    total = time.perf_counter() - started
    stages = json.loads((run / "manifest.json").read_text())["stages"]
    n = generated(stages["generate"])
    qa_seconds = sum(stages[s]["seconds"] for s in stages if s != "load")
    return {"questions_generated": n, "seconds": {s: stages[s]["seconds"] for s in stages},
            "generate_verify_export_samples_per_s": round(n / qa_seconds), "whole_build_seconds": round(total, 1)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--images", type=int, default=20_000)
    parser.add_argument("--per-image", type=int, default=3)
    parser.add_argument("--baseline", default=DEFAULT_BASELINE, help="git revision to compare with, or 'none'")
    parser.add_argument("--work", type=Path, default=HERE / "out")
    args = parser.parse_args()

    import synthetic_vg

    from stvqa.pipeline.workers import CORES

    data_dir = synthetic_vg.cached(args.work, "vg-synthetic", args.images)
    runs = args.work / "runs"
    one = run_build(REPO, data_dir, runs / f"build-{args.images}-w1", args.per_image, workers=1)
    every = run_build(REPO, data_dir, runs / f"build-{args.images}-w{CORES}", args.per_image, workers=CORES)
    report = {"images": args.images, "cores": CORES, "this --workers 1": one, f"this --workers {CORES}": every,
              "whole_build_time_ratio_workers_1_over_n": round(one["whole_build_seconds"] / every["whole_build_seconds"], 3)}
    if args.baseline != "none":
        tree = checkout(args.baseline, args.work)
        report[f"baseline {args.baseline}"] = base = run_build(tree, data_dir, runs / f"build-{args.images}-baseline", args.per_image)
        report["whole_build_time_ratio_baseline_over_this_n"] = round(base["whole_build_seconds"] / every["whole_build_seconds"], 3)
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()

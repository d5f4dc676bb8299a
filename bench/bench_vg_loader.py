"""Benchmark: the streaming `vg` loader against a baseline that `json.load`s each file whole
(as Visual Genome's own Python driver does) and then runs the same normalisation and Parquet writer.

Each variant runs in its own process, so peak memory (ru_maxrss) is its own. Also times a second
`stvqa build` over unchanged inputs (the stage must be skipped).

    python bench/bench_vg_loader.py --images 108077     # full scale (about 1.5 GB of JSON; baseline peaks at >10 GB)
    python bench/bench_vg_loader.py --images 10000      # quick
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))


def run_streaming(data_dir: Path, out: Path) -> dict:
    from stvqa.names import AliasMap
    from stvqa.stages.load.scenes import canonical_batches, write_scenes
    from stvqa.stages.load import LoadConfig
    from stvqa.stages.load.sources import SOURCES

    stats: Counter = Counter()
    vg = SOURCES["vg"]
    rows = write_scenes(canonical_batches(vg.records(data_dir, stats), vg.scene_of, "vg", AliasMap(), LoadConfig(workers=1), stats), out)
    return {"rows": rows, "objects": stats["objects"], "relationships": stats["relationships"]}


def run_baseline(data_dir: Path, out: Path) -> dict:
    """Whole-file json.load, then the very same per-image join, normalisation and writer."""
    from stvqa.names import AliasMap
    from stvqa.stages.load.scenes import canonical_batches, write_scenes
    from stvqa.stages.load import LoadConfig
    from stvqa.stages.load.sources.vg import ImageIndex, _located, record_image_id, vg_scene

    objects = json.load(open(data_dir / "objects.json"))
    relationships = {record_image_id(r): r for r in json.load(open(data_dir / "relationships.json"))}
    attributes = {record_image_id(r): r for r in json.load(open(data_dir / "attributes.json"))}
    image_data = {record_image_id(r): (r["width"], r["height"], None) for r in json.load(open(data_dir / "image_data.json"))}
    images = ImageIndex(data_dir)

    def records():
        for record in objects:
            image_id = record_image_id(record)
            yield _located(image_id, record, record, relationships.get(image_id), attributes.get(image_id), image_data, images, data_dir)

    stats: Counter = Counter()
    rows = write_scenes(canonical_batches(records(), vg_scene, "vg", AliasMap(), LoadConfig(workers=1), stats), out)
    return {"rows": rows, "objects": stats["objects"], "relationships": stats["relationships"]}


def child(variant: str, data_dir: str, out: str) -> None:
    started = time.perf_counter()
    result = {"streaming": run_streaming, "baseline": run_baseline}[variant](Path(data_dir), Path(out))
    result["seconds"] = time.perf_counter() - started
    result["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps(result))


def measure(variant: str, data_dir: Path, work: Path) -> dict:
    out = subprocess.run([sys.executable, __file__, "--child", variant, str(data_dir), str(work / f"{variant}.parquet")],
                         check=True, capture_output=True, text=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--images", type=int, default=108_077)
    parser.add_argument("--work", type=Path, default=HERE / "out")
    parser.add_argument("--child", nargs=3, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        return child(*args.child)

    import synthetic_vg

    started = time.perf_counter()
    data_dir = synthetic_vg.cached(args.work, "vg-synthetic", args.images)
    print(f"synthetic data ready in {time.perf_counter() - started:.0f} s: {data_dir}")
    sizes = {p.name: p.stat().st_size / 1e6 for p in data_dir.glob("*.json")}
    print("input MB:", {k: round(v) for k, v in sizes.items()})

    streaming = measure("streaming", data_dir, args.work)
    baseline = measure("baseline", data_dir, args.work)
    assert streaming["rows"] == baseline["rows"] and streaming["objects"] == baseline["objects"], (streaming, baseline)

    run = args.work / "run-rebuild"
    cli = [sys.executable, "-m", "stvqa", "build", "--source", "vg", "--data-dir", str(data_dir), "--out", str(run)]
    subprocess.run(cli + ["--force"], check=True, capture_output=True)
    started = time.perf_counter()
    second = subprocess.run(cli, check=True, capture_output=True, text=True)
    rebuild_seconds = time.perf_counter() - started
    assert "unchanged" in second.stdout, second.stdout

    report = {
        "images": streaming["rows"], "objects": streaming["objects"], "relationships": streaming["relationships"],
        "streaming": {"images_per_s": round(streaming["rows"] / streaming["seconds"]), "seconds": round(streaming["seconds"], 1), "peak_rss_mb": round(streaming["peak_rss_mb"])},
        "baseline_json_load": {"images_per_s": round(baseline["rows"] / baseline["seconds"]), "seconds": round(baseline["seconds"], 1), "peak_rss_mb": round(baseline["peak_rss_mb"])},
        "speed_ratio_streaming_over_baseline": round(baseline["seconds"] / streaming["seconds"], 2),
        "peak_memory_ratio_streaming_over_baseline": round(streaming["peak_rss_mb"] / baseline["peak_rss_mb"], 3),
        "second_build_seconds": round(rebuild_seconds, 2),
        "cpu": os.cpu_count(),
    }
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()

"""Benchmark: a full `stvqa build` (load -> generate -> verify -> export) over synthetic Visual Genome,
without images (`--no-images`), timing every stage from the run's manifest.

    python bench/bench_build.py --images 108077    # full scale (reuses bench/out/vg-synthetic-108077 from bench_vg_loader.py)
    python bench/bench_build.py --images 5000
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--images", type=int, default=108_077)
    parser.add_argument("--per-image", type=int, default=3)
    parser.add_argument("--work", type=Path, default=HERE / "out")
    args = parser.parse_args()

    import synthetic_vg

    data_dir = args.work / f"vg-synthetic-{args.images}"
    if not (data_dir / "attributes.json").exists():
        synthetic_vg.write(data_dir, args.images)
    run = args.work / f"build-{args.images}"
    started = time.perf_counter()
    subprocess.run([sys.executable, "-m", "stvqa", "build", "--source", "vg", "--data-dir", str(data_dir), "--out", str(run),
                    "--per-image", str(args.per_image), "--no-images", "--force"], check=True, capture_output=True)
    total = time.perf_counter() - started
    stages = json.loads((run / "manifest.json").read_text())["stages"]
    generated = stages["generate"]["counts"]["generated"]
    exported = sum(v for k, v in stages["export"]["counts"].items() if k.startswith("rows_"))
    qa_seconds = sum(stages[s]["seconds"] for s in ("generate", "verify", "export"))
    report = {
        "images": stages["load"]["counts"]["images_kept"],
        "questions_generated": generated,
        "questions_exported": exported,
        "rejected_by_verify": stages["verify"]["counts"]["rejected"],
        "seconds": {s: stages[s]["seconds"] for s in ("load", "generate", "verify", "export")},
        "generate_verify_export_samples_per_s": round(generated / qa_seconds),
        "full_build_seconds_including_start_up": round(total, 1),
    }
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()

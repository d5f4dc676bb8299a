"""Text-only baselines of the template generator on three datasets, each next to chance.

    python quality/blind_audit.py                   # real VG records of images 6-50 and the bundled sample
    python quality/blind_audit.py --synthetic 20000 # plus synthetic Visual Genome of that many images

Each dataset is built with `--no-images` (20 questions an image on the real records and the sample,
3 on synthetic data) into a temporary folder, and the audit of its final questions is printed, with the excess
that noise alone reaches on a table of that size (`excess_by_chance`: answers re-drawn at random, 19 times).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import polars as pl

from stvqa.blind import blind_audit, excess_by_chance, format_blind_report
from stvqa.stages.load.sources.sample import N_IMAGES

HERE = Path(__file__).resolve().parent
SHARED = Path(os.environ.get("STVQA_SHARED", HERE.parent.parent / "shared"))


def build(args: list[str], out: Path) -> pl.DataFrame:
    subprocess.run([sys.executable, "-m", "stvqa", "--quiet", "build", "--out", str(out), "--no-images", *args], check=True, capture_output=True)
    return pl.read_parquet(out / "qa_filtered.parquet")  # what export writes: after dedup and letter balancing


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--synthetic", type=int, default=0, help="also audit synthetic VG of this many images")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        datasets = {f"bundled sample ({N_IMAGES} images, 20 slots each)": ["--per-image", "20"]}
        real = SHARED / "vg_sample" / "v1.2-annotations-6-50"
        if real.is_dir():
            datasets["real VG records, images 6-50 (20 slots each)"] = ["--data-dir", str(real), "--per-image", "20"]
        if args.synthetic:
            sys.path.insert(0, str(HERE.parent / "bench"))
            import synthetic_vg

            synthetic_vg.write(work / "synthetic", args.synthetic)
            datasets[f"synthetic VG ({args.synthetic:,} images, 3 slots each)"] = ["--data-dir", str(work / "synthetic"), "--per-image", "3"]
        for i, (name, flags) in enumerate(datasets.items()):
            rows = build(flags, work / f"run{i}")
            print(f"\n### {name}: {rows.height:,} questions\n")
            print(format_blind_report(blind_audit(rows), excess_by_chance(rows.to_dicts())))


if __name__ == "__main__":
    main()

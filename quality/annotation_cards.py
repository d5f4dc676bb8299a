"""Cards for an independent annotator: the distinct questions of several seeds on the two real VG images.

    python quality/annotation_cards.py --out /tmp/round5 --seeds 36-59 --exclude /tmp/round4/key.json

Builds `../shared/vg_sample` (v1.2 records and the two photographs) once per seed with `--per-image 20`,
keeps each distinct question (image, question, answer) once, skipping those in `--exclude` (an earlier
round's key), and writes to `--out`:
- `cards/rNNN.png`: the photograph with the question's boxes (none for existence and count, whose boxes
  would give the answer away), the question and its lettered options; no answer marked;
- `photo1.png`, `photo2.png`: the photographs, for a closer look;
- `shown.json`: what each card shows, as text, for the annotator;
- `key.json`: our answer, category, rating and level of each card, for scoring (not for the annotator).
The annotator's judgments are then compared with `key.json` (see quality/README.md).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
from collections import Counter
from pathlib import Path

import polars as pl
from PIL import Image

from stvqa.render import sample_card

HERE = Path(__file__).resolve().parent
SHARED = Path(os.environ.get("STVQA_SHARED", HERE.parent.parent / "shared"))
UNBOXED = ("existence", "count")


def seed_range(text: str) -> range:
    low, _, high = text.partition("-")
    return range(int(low), int(high or low) + 1)


def questions(vg_sample: Path, seeds: range, work: Path) -> list[dict]:
    """Distinct questions of the seeds, in the order first seen."""
    data = work / "data"
    shutil.copytree(vg_sample / "v1.2", data)
    shutil.copytree(vg_sample / "images", data / "images")
    seen, rows = set(), []
    for seed in seeds:
        run = work / f"seed-{seed}"
        built = subprocess.run([sys.executable, "-m", "stvqa", "--quiet", "build", "--out", str(run), "--data-dir", str(data),
                                "--per-image", "20", "--seed", str(seed)], capture_output=True, text=True)
        if built.returncode:
            sys.exit(f"error: stvqa build failed for seed {seed}:\n{built.stderr}")
        for r in pl.read_parquet(run / "qa_filtered.parquet").iter_rows(named=True):
            if (k := (r["image_id"], r["question"], r["answer_text"])) not in seen:
                seen.add(k)
                rows.append(r)
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--seeds", type=seed_range, default=seed_range("0-11"), help="e.g. 12-35")
    parser.add_argument("--exclude", type=Path, action="append", default=[], help="an earlier round's key.json")
    parser.add_argument("--vg-sample", type=Path, default=SHARED / "vg_sample")
    args = parser.parse_args()
    if not (args.vg_sample / "images").is_dir():
        sys.exit(f"error: no photographs in {args.vg_sample / 'images'}; pass --vg-sample (the shared vg_sample folder)")
    judged = {(v["image_id"], v["question"], v["answer_text"]) for path in args.exclude for v in json.loads(path.read_text()).values()}
    with tempfile.TemporaryDirectory() as work:
        rows = [r for r in questions(args.vg_sample, args.seeds, Path(work)) if (r["image_id"], r["question"], r["answer_text"]) not in judged]
    (args.out / "cards").mkdir(parents=True, exist_ok=True)
    photos = {i: Image.open(args.vg_sample / "images" / f"{i}.jpg").convert("RGB") for i in sorted({r["image_id"] for r in rows})}
    for i, photo in photos.items():
        photo.save(args.out / f"photo{i}.png")
    key, shown = {}, {}
    for n, r in enumerate(sorted(rows, key=lambda r: (r["category"], r["image_id"], r["question"]))):
        card, boxed = f"r{n:03d}", r["category"] not in UNBOXED
        shown[card] = {"question": r["question"], "options": list(r["options"]), "boxes": boxed}
        sample_card(shown[card] | {"focus": r["focus"] if boxed else None}, photos[r["image_id"]], max_side=640).save(args.out / "cards" / f"{card}.png")
        key[card] = {k: r[k] for k in ("sample_id", "image_id", "category", "question", "answer_text", "rating", "level")}
    (args.out / "key.json").write_text(json.dumps(key, indent=1))
    (args.out / "shown.json").write_text(json.dumps(shown, indent=1))
    print(f"{len(key)} cards in {args.out / 'cards'}:", dict(Counter(v["category"] for v in key.values())))


if __name__ == "__main__":
    main()

"""Cards for an independent annotator: the distinct questions of several seeds on the real photographs.

    python quality/annotation_cards.py --out /tmp/round5 --seeds 36-59 --exclude /tmp/round4/key.json
    python quality/annotation_cards.py --out /tmp/round7 --seeds 0-9 --gqa      # the two GQA photographs too

Builds `../shared/vg_sample` (v1.2 records and the two VG photographs; with `--gqa`, also its `gqa/` folder:
two GQA photographs and their scene graphs) once per seed with `--per-image 20`, keeps each distinct question
(image, question, answer) once, skipping those in `--exclude` (an earlier round's key), and writes to `--out`:
- `cards/rNNN.png`: the photograph with the question's boxes (none for existence and count, whose boxes
  would give the answer away), the question and its lettered options; no answer marked;
- `photo<image id>.png`: the photographs, for a closer look;
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


def sources(vg_sample: Path, work: Path, gqa: bool) -> list[tuple[str, Path, Path]]:
    """(source, data dir, folder of its photographs): VG's records and photographs, and GQA's when asked for."""
    data = work / "data"
    shutil.copytree(vg_sample / "v1.2", data)
    shutil.copytree(vg_sample / "images", data / "images")
    found = [("vg", data, data / "images")]
    if gqa:
        found.append(("gqa", vg_sample / "gqa", vg_sample / "gqa" / "images"))
    return found


def questions(vg_sample: Path, seeds: range, work: Path, gqa: bool = False) -> tuple[list[dict], dict[str, Path]]:
    """Distinct questions of the seeds, in the order first seen, and where each image's photograph is."""
    seen, rows, photos = set(), [], {}
    for source, data, images in sources(vg_sample, work, gqa):
        photos.update({p.stem: p for p in images.glob("*.jpg")})
        for seed in seeds:
            run = work / f"{source}-seed-{seed}"
            built = subprocess.run([sys.executable, "-m", "stvqa", "--quiet", "build", "--out", str(run), "--data-dir", str(data),
                                    "--source", source, "--per-image", "20", "--seed", str(seed)], capture_output=True, text=True)
            if built.returncode:
                sys.exit(f"error: stvqa build failed for {source} seed {seed}:\n{built.stderr}")
            for r in pl.read_parquet(run / "qa_filtered.parquet").iter_rows(named=True):
                if (k := (r["image_id"], r["question"], r["answer_text"])) not in seen:
                    seen.add(k)
                    rows.append(r)
    return rows, photos


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--seeds", type=seed_range, default=seed_range("0-11"), help="e.g. 12-35")
    parser.add_argument("--exclude", type=Path, action="append", default=[], help="an earlier round's key.json")
    parser.add_argument("--vg-sample", type=Path, default=SHARED / "vg_sample")
    parser.add_argument("--gqa", action="store_true", help="also the GQA photographs of vg_sample/gqa")
    args = parser.parse_args()
    if not (args.vg_sample / "images").is_dir():
        sys.exit(f"error: no photographs in {args.vg_sample / 'images'}; pass --vg-sample (the shared vg_sample folder)")
    judged = {(v["image_id"], v["question"], v["answer_text"]) for path in args.exclude for v in json.loads(path.read_text()).values()}
    with tempfile.TemporaryDirectory() as work:
        found, paths = questions(args.vg_sample, args.seeds, Path(work), args.gqa)
        rows = [r for r in found if (r["image_id"], r["question"], r["answer_text"]) not in judged]
        (args.out / "cards").mkdir(parents=True, exist_ok=True)
        photos = {i: Image.open(paths[i]).convert("RGB") for i in sorted({r["image_id"] for r in rows})}
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

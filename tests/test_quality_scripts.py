"""The annotation scripts of quality/: cards an annotator can judge without seeing our answers, and the scoring
of their judgments."""

import json
import subprocess
import sys
from pathlib import Path

QUALITY = Path(__file__).resolve().parent.parent / "quality"


def run(script: str, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(QUALITY / script), *args], capture_output=True, text=True)


def test_cards_hide_the_answers_and_an_earlier_round_is_skipped(vg_sample, tmp_path) -> None:
    out = tmp_path / "round"
    made = run("annotation_cards.py", "--out", str(out), "--seeds", "0", "--vg-sample", str(vg_sample))
    assert made.returncode == 0, made.stderr
    key, shown = json.loads((out / "key.json").read_text()), json.loads((out / "shown.json").read_text())
    assert len(key) >= 10 and key.keys() == shown.keys() == {p.stem for p in (out / "cards").glob("*.png")}
    for card, seen in shown.items():
        assert key[card]["answer_text"] in seen["options"] and "answer_text" not in seen
        assert seen["boxes"] == (key[card]["category"] not in ("existence", "count"))  # their boxes would tell
    again = run("annotation_cards.py", "--out", str(tmp_path / "next"), "--seeds", "0", "--vg-sample", str(vg_sample),
                "--exclude", str(out / "key.json"))
    assert again.returncode == 0 and json.loads((tmp_path / "next" / "key.json").read_text()) == {}


def test_cards_need_the_photographs(tmp_path) -> None:
    made = run("annotation_cards.py", "--out", str(tmp_path / "round"), "--vg-sample", str(tmp_path))
    assert made.returncode != 0 and "--vg-sample" in made.stderr and "Traceback" not in made.stderr


def test_scoring_counts_agreement_and_ranks_ratings(tmp_path) -> None:
    key = {f"r{i}": {"category": c, "question": f"q{i}", "answer_text": "yes", "rating": r}
           for i, (c, r) in enumerate([("existence", 10), ("existence", 9), ("distance", 4), ("distance", 2)])}
    judgments = [("r0", "yes", "high"), ("r1", "yes", "high"), ("r2", "yes", "low"), ("r3", "no", "high")]
    (tmp_path / "key.json").write_text(json.dumps(key))
    (tmp_path / "j.jsonl").write_text("\n".join(json.dumps({"card": c, "answer": a, "confidence": f, "sensible": True})
                                                for c, a, f in judgments))
    scored = run("score_annotations.py", str(tmp_path / "key.json"), str(tmp_path / "j.jsonl"))
    assert scored.returncode == 0, scored.stderr
    assert "| existence | 2 | 2 | 0 |" in scored.stdout and "| distance | 2 | 1 | 1 |" in scored.stdout
    assert "**4** | **3 (75.0%)** | **1**" in scored.stdout
    # Sure answers rated 10 and 9 above the doubted (4) and the disagreed (2): 1.0; the disagreed below both others.
    assert "AUC sure vs the others 1.000 (2 vs 2); sure or doubted vs disagreed 1.000 (1 disagreed)" in scored.stdout
    assert "r2 distance" in scored.stdout and "r3 distance" in scored.stdout and "r0 " not in scored.stdout

"""Published spatial benchmarks, read in their Hugging Face layout (a Hub id, or a local copy of its Parquet files),
evaluated as a model is trained: the recipe's reasoning prompt and frame (`frame.model_frame`), greedy decoding,
the answer read from `<answer>`.

- `cvbench` — CV-Bench 2D and 3D (`nyu-visionx/CV-Bench`, split test): `image`, `question` (or `prompt`),
  `choices`, `answer` "(A)", `task`, `type`.
- `blink` — BLINK's single-image spatial subsets (`BLINK-Benchmark/BLINK`, split val, one config each):
  `image_1`, `question`, `choices`, `answer` "(A)", `sub_task`. Rows with a second image are refused.
- `3dsrbench` — 3DSRBench (`ccvl/3DSRBench`, split test): `image`, `question`, `A`..`D`, `answer` (a letter),
  `category`; scored circularly: a question counts only when every rotation of its options is answered right.

An answer is a letter (`(B)`, `B`, `B) text`) or exactly one option's text; anything else is *unparseable*,
counted apart and never as a letter (the reference's scorer read every unparseable answer as "A"). Accuracy per
benchmark and task comes with its binomial standard error.
"""

from __future__ import annotations

import io
import math
import re
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterator

from ..errors import DataError
from ..records import question_with_options

LETTERS = "ABCDEFGH"
_ANSWER = re.compile(r"<answer>(.*?)</answer>", re.DOTALL | re.IGNORECASE)
_LETTER = re.compile(r"^\(?([A-H])\)?(?:[\s.:)-]+(.*))?$", re.DOTALL)


@dataclass(frozen=True)
class Item:
    """One benchmark question: its id, task, text, options, the right option's index and the image's bytes."""

    id: str
    task: str
    question: str
    options: tuple[str, ...]
    answer: int
    image: bytes


@dataclass(frozen=True)
class Benchmark:
    name: str
    hub_id: str
    split: str
    configs: tuple[str | None, ...]
    items: Callable[[dict[str, Any], str | None], Item | None]
    circular: bool = False


def _letter_index(text: Any) -> int:
    found = _LETTER.match(str(text or "").strip())
    if not found:
        raise DataError(f"answer {text!r} is not a letter such as (A)", "The benchmark's files are not in its published layout.")
    return LETTERS.index(found[1])


def _image_bytes(cell: Any) -> bytes:
    if isinstance(cell, dict) and cell.get("bytes"):
        return cell["bytes"]
    if isinstance(cell, (bytes, bytearray)):
        return bytes(cell)
    raise DataError("a benchmark row has no image bytes", "Use a copy of the benchmark with its images (the Hub's Parquet files).")


def _cvbench(row: dict[str, Any], config: str | None) -> Item:
    question = row.get("question") or re.split(r"\n\(A\)", row.get("prompt") or "")[0]
    task = " ".join(str(x) for x in (row.get("type"), row.get("task")) if x)
    return Item(str(row.get("idx", row.get("index", ""))), task or "all", question.strip(), tuple(map(str, row["choices"])),
                _letter_index(row["answer"]), _image_bytes(row["image"]))


def _blink(row: dict[str, Any], config: str | None) -> Item:
    if any(row.get(f"image_{i}") for i in (2, 3, 4)):
        raise DataError(f"BLINK {config}: row {row.get('idx')} has several images; stvqa evaluates single-image subsets",
                        f"Choose single-image subsets ({', '.join(c for c in BLINK_SUBSETS if c)}).")
    return Item(str(row.get("idx", "")), str(row.get("sub_task") or config), str(row["question"]).strip(),
                tuple(map(str, row["choices"])), _letter_index(row["answer"]), _image_bytes(row["image_1"]))


def _3dsrbench(row: dict[str, Any], config: str | None) -> Item:
    options = tuple(str(row[k]) for k in "ABCD" if row.get(k) not in (None, ""))
    return Item(str(row.get("index", "")), str(row.get("category") or "all"), str(row["question"]).strip(), options,
                _letter_index(row["answer"]), _image_bytes(row["image"]))


BLINK_SUBSETS = ("Spatial_Relation", "Relative_Depth", "Counting", "Object_Localization")
BENCHMARKS = {b.name: b for b in (
    Benchmark("cvbench", "nyu-visionx/CV-Bench", "test", (None,), _cvbench),
    Benchmark("blink", "BLINK-Benchmark/BLINK", "val", BLINK_SUBSETS, _blink),
    Benchmark("3dsrbench", "ccvl/3DSRBench", "test", (None,), _3dsrbench, circular=True),
)}


def benchmark(name: str) -> Benchmark:
    if name not in BENCHMARKS:
        raise DataError(f"unknown benchmark {name!r}", f"Choose one of: {', '.join(BENCHMARKS)}.")
    return BENCHMARKS[name]


def load_items(bench: Benchmark, data_dir: Path | None = None, limit: int | None = None) -> list[Item]:
    """The benchmark's questions: from `data_dir` (a local copy: Parquet files, per config in a folder of its name
    for BLINK) or from the Hub, at most `limit`."""
    from datasets import load_dataset

    items: list[Item] = []
    for config in bench.configs:
        if data_dir is not None:
            folder = data_dir / config if config and (data_dir / config).is_dir() else data_dir
            files = sorted(str(p) for p in folder.glob("**/*.parquet") if config is None or config in str(p))
            if not files:
                raise DataError(f"{folder} has no Parquet files of {bench.name}" + (f" ({config})" if config else ""),
                                f"Pass --data-dir with a copy of {bench.hub_id} (huggingface-cli download {bench.hub_id} --repo-type dataset).")
            rows = load_dataset("parquet", data_files=files, split="train")
        else:
            try:
                rows = load_dataset(bench.hub_id, config, split=bench.split)
            except Exception as exc:  # offline, not found, no access
                raise DataError(f"cannot load {bench.hub_id} from the Hub: {exc}", "Download it and pass --data-dir with the copy.") from None
        rows = rows.cast_column(_image_column(rows.column_names), _undecoded())
        for row in rows:
            items.append(bench.items(row, config))
            if limit is not None and len(items) >= limit:
                return items
    return items


def _image_column(columns: list[str]) -> str:
    return "image" if "image" in columns else "image_1"


def _undecoded():
    from datasets import Image

    return Image(decode=False)


def rotations(item: Item) -> Iterator[Item]:
    """The item with its options rotated by every offset (the first is the item itself): circular evaluation."""
    n = len(item.options)
    for k in range(n):
        options = item.options[k:] + item.options[:k]
        yield Item(item.id, item.task, item.question, options, (item.answer - k) % n, item.image)


def parse_choice(completion: str, options: tuple[str, ...]) -> int | None:
    """The option a completion chose (its `<answer>`, else the whole text), or None when it names none or several."""
    found = _ANSWER.search(completion)
    text = (found[1] if found else completion).strip()
    letter = _LETTER.match(text)
    if letter and LETTERS.index(letter[1]) < len(options):
        index, rest = LETTERS.index(letter[1]), (letter[2] or "").strip().lower()
        return index if not rest or rest == options[index].strip().lower() else None
    named = [i for i, o in enumerate(options) if text.lower() == o.strip().lower()]
    return named[0] if len(named) == 1 else None


def prompt_text(item: Item) -> str:
    return question_with_options(item.question, [f"({LETTERS[i]}) {o}" for i, o in enumerate(item.options)])


def score(results: list[tuple[Item, int | None]], circular: bool) -> dict[str, Any]:
    """Accuracy (with binomial standard errors) and unparseable share overall and per task; circularly, a question
    is right only when all its rotations are."""
    groups: dict[tuple[str, str], list[tuple[Item, int | None]]] = defaultdict(list)
    for i, (item, chosen) in enumerate(results):
        groups[(item.task, item.id if circular else str(i))].append((item, chosen))
    by_task: dict[str, list[tuple[bool, bool]]] = defaultdict(list)
    for (task, _), answers in groups.items():
        by_task[task].append((all(chosen == item.answer for item, chosen in answers), any(chosen is None for _, chosen in answers)))
    everything = [x for values in by_task.values() for x in values]
    return {**_accuracy(everything), "by_task": {t: _accuracy(v) for t, v in sorted(by_task.items())}}


def _accuracy(outcomes: list[tuple[bool, bool]]) -> dict[str, Any]:
    n = len(outcomes)
    p = sum(right for right, _ in outcomes) / n if n else 0.0
    return {"questions": n, "accuracy": round(p, 4), "stderr": round(math.sqrt(p * (1 - p) / n), 4) if n else None,
            "unparseable_rate": round(sum(bad for _, bad in outcomes) / n, 4) if n else None}


def framed_image(data: bytes, size: tuple[int, int]):
    from PIL import Image

    with Image.open(io.BytesIO(data)) as im:
        return im.convert("RGB").resize(size, Image.BICUBIC) if im.size != size else im.convert("RGB")

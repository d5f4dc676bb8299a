"""Export: verified QA rows -> Hugging Face-ready Parquet (shared/notes/parquet-images.md).

Columns are those of the released STVQA-7K (a drop-in replacement) plus TRL-ready ones (`prompt`, `image`,
`solution`, `scene`, `image_width`, `image_height`, ...). Images are embedded as encoded bytes, once per row; with
`max_pixels` they are downsized and every box is rescaled, so the ground truth always refers to the
image as stored.

Two layouts of the image column (`ExportConfig.layout`):
- `trl` (default): `image`, one `Image` per row. TRL's GRPOTrainer reads it as the prompt's image and the
  `datasets` viewer shows it. (TRL reads a column named `images` as a *list* of images per row.)
- `stvqa7k`: `images`, one `Image` per row, as the released STVQA-7K names it (for code written against it).
"""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from functools import cache, partial
from pathlib import Path
from collections.abc import Callable, Iterable, Iterator
from typing import Any

import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq

from ...resources import resource_path
from ...images import ImageProblem, decoded_within, read_image
from ...pipeline.workers import ordered_map
from ..load.scenes import ScenePart, scene_parts
from ...config import check_range
from ...pipeline.workers import CORES, WORKERS_FIELD, check_workers
from ...errors import ConfigError
from ...pipeline.ownership import EXPORT_MARK
from ...records import JUDGE_COLUMNS, lettered, question_with_options
from ...hashing import unit

IMAGE = pa.struct([("bytes", pa.binary()), ("path", pa.string())])
_STRING = {"dtype": "string", "_type": "Value"}


def arrow_type(dtype: pl.DataType) -> pa.DataType:
    """The Arrow type of a Polars column, with the plain (not large) strings and lists the rest of the export uses."""
    def plain(kind: pa.DataType) -> pa.DataType:
        if pa.types.is_large_string(kind):
            return pa.string()
        if pa.types.is_list(kind) or pa.types.is_large_list(kind):
            return pa.list_(plain(kind.value_type))
        if pa.types.is_struct(kind):
            return pa.struct([(f.name, plain(f.type)) for f in kind])
        return kind

    return plain(pl.DataFrame(schema={"c": dtype}).to_arrow().schema.field("c").type)


def feature_of(kind: pa.DataType) -> dict:
    """The `datasets` feature of an Arrow type: values, lists and structs of them."""
    if pa.types.is_list(kind):
        return {"feature": feature_of(kind.value_type), "_type": "List"}
    if pa.types.is_struct(kind):
        return {f.name: feature_of(f.type) for f in kind}
    if pa.types.is_string(kind):
        return _STRING
    names = {"double": "float64", "float": "float32", "halffloat": "float16"}  # datasets names floats by width
    return {"dtype": names.get(str(kind), str(kind)), "_type": "Value"}


COLUMNS: list[tuple[str, pa.DataType, dict]] = [
    ("sample_id", pa.string(), _STRING),
    ("image_id", pa.string(), _STRING),
    ("images", IMAGE, {"_type": "Image"}),  # the stvqa7k layout's name of the image column
    ("problem", pa.string(), _STRING),
    ("question_only", pa.string(), _STRING),
    ("question_with_options", pa.string(), _STRING),
    ("options", pa.list_(pa.string()), {"feature": _STRING, "_type": "List"}),
    ("answer", pa.string(), _STRING),
    ("answer_only", pa.string(), _STRING),
    ("answer_text", pa.string(), _STRING),
    ("answer_option_text", pa.string(), _STRING),
    ("category", pa.string(), _STRING),
    ("level", pa.string(), _STRING),
    ("rating", pa.int32(), {"dtype": "int32", "_type": "Value"}),
    ("prompt", pa.list_(pa.struct([("role", pa.string()), ("content", pa.string())])),
     {"feature": {"role": _STRING, "content": _STRING}, "_type": "List"}),
    ("image", IMAGE, {"_type": "Image"}),
    ("solution", pa.string(), _STRING),
    ("scene", pa.string(), _STRING),
    ("image_width", pa.int32(), {"dtype": "int32", "_type": "Value"}),
    ("image_height", pa.int32(), {"dtype": "int32", "_type": "Value"}),
    ("verified", pa.bool_(), {"dtype": "bool", "_type": "Value"}),
    ("verify_reason", pa.string(), _STRING),
    ("generator", pa.string(), _STRING),
    # The filter stage's judges (null where none ran): re-threshold with these instead of judging again.
    *((name, arrow_type(dtype), feature_of(arrow_type(dtype))) for name, dtype in JUDGE_COLUMNS.items()),
]
LAYOUTS = {"trl": "image", "stvqa7k": "images"}  # layout -> the name of its image column (the other one is left out)


def schema(layout: str = "trl", added: dict[str, pl.DataType] | None = None) -> pa.Schema:
    """The Arrow schema of an export, with the `huggingface` metadata that makes `datasets` read images; `added`:
    the columns a stage of the user's added to the questions, after stvqa's own."""
    drop = {name for name in LAYOUTS.values() if name != LAYOUTS[layout]}
    columns = [c for c in COLUMNS if c[0] not in drop] + [(n, arrow_type(t), feature_of(arrow_type(t))) for n, t in (added or {}).items()]
    return pa.schema([(n, t) for n, t, _ in columns], metadata={
        "huggingface": json.dumps({"info": {"features": {n: f for n, _, f in columns}}})
    })




SCHEMA = schema()
SPLITS = ("train", "val")


@dataclass(frozen=True)
class ExportConfig:
    val_split: float = field(default=0.1, metadata={"help": "Share of images in the val split (by image: a hash of the image id and the seed decides)."})
    seed: int = field(default=0, metadata={"help": "Seed of the split."})
    max_pixels: int | None = field(default=None, metadata={"help": "Downsize images above this many pixels (boxes are rescaled to match); 0: never."})
    shard_bytes: int = field(default=500_000_000, metadata={"help": "Start a new Parquet shard past this many bytes of row data."})
    jpeg_quality: int = field(default=90, metadata={"help": "JPEG quality of re-encoded (downsized) images."})
    embed_images: bool = field(default=True, metadata={"flag": "--images/--no-images", "old_keys": ("images",), "help": "Embed images in the Parquet; --no-images writes text-only rows (sizes from the scene graph)."})
    out: str | None = field(default=None, metadata={"help": "Dataset folder to write (data/train-*.parquet, data/val-*.parquet, README.md); default RUN/dataset."})
    overwrite: bool = field(default=False, metadata={"key": False, "help": "Replace --out when it holds an earlier `stvqa export` and nothing else."})
    layout: str = field(default="trl", metadata={"help": "Image column: `trl` writes `image` (what TRL and the datasets viewer read); "
                                                          "`stvqa7k` writes `images`, one image per row, as STVQA-7K names it."})
    workers: int = field(default=CORES, metadata=WORKERS_FIELD)

    def __post_init__(self) -> None:
        if self.layout not in LAYOUTS:
            raise ConfigError(f"--layout {self.layout!r} is not a layout", f"Choose one of: {', '.join(LAYOUTS)}.")
        check_range("--val-split", self.val_split, 0.0, 1.0)
        if self.max_pixels == 0:
            object.__setattr__(self, "max_pixels", None)
        if self.max_pixels is not None:
            check_range("--max-pixels", self.max_pixels, 1)
        check_range("--jpeg-quality", self.jpeg_quality, 1, 100)
        check_workers("--workers", self.workers)


@cache
def reasoning_template() -> str:
    return resource_path("prompts", "reasoning.txt").read_text().strip()


def scale_scene(focus_json: str, sx: float, sy: float) -> str:
    """The focus subgraph with every box scaled into the stored image's pixels: rounded to whole pixels, and at least
    one pixel wide and high (a bird far away in a thumbnail is still a box, not a line the rewards cannot score)."""
    graph = json.loads(focus_json)
    for obj in graph.get("objects", []):
        x1, y1, x2, y2 = obj["bbox"]
        x2, y2 = max(round(x2 * sx), 1), max(round(y2 * sy), 1)
        obj["bbox"] = [min(round(x1 * sx), x2 - 1), min(round(y1 * sy), y2 - 1), x2, y2]
    return json.dumps(graph, separators=(", ", ": "))


def split_of(image_id: str, cfg: ExportConfig) -> str:
    """The split of an image: a pure function of the image id and the seed, so that shards built apart and
    merged get exactly the split one build would give."""
    return "val" if unit("split", cfg.seed, image_id) < cfg.val_split else "train"


def export_row(sample: dict[str, Any], image: bytes, width: int, height: int, scene_json: str, layout: str = "trl",
               added: tuple[str, ...] = ()) -> dict[str, Any]:
    letter = sample["answer"]
    option_text = f"({letter}) {sample['answer_text']}"
    qwo = question_with_options(sample["question"], sample["options"])
    return {
        "sample_id": sample["sample_id"],
        "image_id": sample["image_id"],
        LAYOUTS[layout]: {"bytes": image, "path": None} if image is not None else None,
        "problem": qwo,
        "question_only": sample["question"],
        "question_with_options": qwo,
        "options": lettered(sample["options"]),
        "answer": f"<scene>{scene_json}</scene>\n<answer>{letter}</answer>",
        "answer_only": letter,
        "answer_text": sample["answer_text"],
        "answer_option_text": f"<scene>{scene_json}</scene>\n<answer>{option_text}</answer>",
        "category": sample["category"],
        "level": sample["level"],
        "rating": sample["rating"],
        "prompt": [{"role": "user", "content": reasoning_template().format(width=width, height=height, question=qwo)}],
        "solution": option_text,
        "scene": scene_json,
        "image_width": width,
        "image_height": height,
        "verified": sample.get("verified"),
        "verify_reason": sample.get("verify_reason"),
        "generator": sample["generator"],
        **{column: sample.get(column) for column in JUDGE_COLUMNS},
        **{column: sample.get(column) for column in added},
    }


class ShardWriter:
    """Rows of one split into `data/<split>-0000i-of-0000N.parquet`, a new shard past `shard_bytes`
    (N is known only at the end, so shards are renamed on `close`)."""

    def __init__(self, out_dir: Path, split: str, shard_bytes: int, batch_rows: int = 128, layout: str = "trl",
                 added: dict[str, pl.DataType] | None = None) -> None:
        self.out_dir, self.split, self.shard_bytes, self.batch_rows = out_dir, split, shard_bytes, batch_rows
        self.image_column, self.schema = LAYOUTS[layout], schema(layout, added)
        self.paths: list[Path] = []
        self.writer: pq.ParquetWriter | None = None
        self.pending: list[dict] = []
        self.size = 0
        self.rows = 0

    def add(self, row: dict[str, Any]) -> None:
        # Uncompressed size: the image once, the scene three times.
        row_bytes = len((row[self.image_column] or {}).get("bytes") or b"") + len(row["prompt"][0]["content"]) + 3 * len(row["scene"]) + 512
        if self.writer is not None and self.size + row_bytes > self.shard_bytes:
            self._flush()
            self.writer.close()
            self.writer = None
        if self.writer is None:
            path = self.out_dir / "data" / f".{self.split}-{len(self.paths):05d}.parquet.tmp"
            path.parent.mkdir(parents=True, exist_ok=True)
            self.paths.append(path)
            self.writer = pq.ParquetWriter(path, self.schema, compression="zstd")
            self.size = 0
        self.pending.append(row)
        self.size += row_bytes
        self.rows += 1
        if len(self.pending) >= self.batch_rows:
            self._flush()

    def _flush(self) -> None:
        if self.pending and self.writer is not None:
            self.writer.write_table(pa.Table.from_pylist(self.pending, schema=self.schema))
            self.pending.clear()

    def close(self) -> list[str]:
        self._flush()
        if self.writer is not None:
            self.writer.close()
        names = []
        for i, path in enumerate(self.paths):
            name = f"data/{self.split}-{i:05d}-of-{len(self.paths):05d}.parquet"
            path.rename(self.out_dir / name)
            names.append(name)
        return names


SCENE_COLUMNS = ["image_id", "width", "height", "image_path", "image_status", "image_bytes"]


@dataclass(frozen=True)
class Prepared:
    """One image as the export stores it: its bytes (None without images) and size, or why it cannot be."""

    image_id: str
    scene_width: int
    scene_height: int
    image: bytes | None = None
    width: int = 0
    height: int = 0
    problem: str | None = None


def prepared_images(scenes_path: Path, wanted: set[str], data_dir: Path | None, cfg: ExportConfig) -> Iterator[Prepared]:
    """The images of `wanted` in the scenes file's order, read, decoded and downsized by `cfg.workers` processes
    (each reads its part of the scenes file itself); without images, only the sizes."""
    work = ((part, wanted.intersection(part.image_ids)) for part in scene_parts(scenes_path))
    prepare = partial(_prepare_part, data_dir=data_dir, cfg=cfg)
    for part in ordered_map(prepare, (w for w in work if w[1]), cfg.workers if cfg.embed_images else 1, Counter(), chunk=1):
        yield from part


def _prepare_part(work: tuple[ScenePart, set[str]], stats: Counter, data_dir: Path | None, cfg: ExportConfig) -> list[Prepared]:
    part, wanted = work
    out = []
    for scene in part.read(SCENE_COLUMNS):
        if scene["image_id"] not in wanted:
            continue
        sized = partial(Prepared, scene["image_id"], scene["width"], scene["height"])
        if not cfg.embed_images:
            out.append(sized(None, scene["width"], scene["height"]))
            continue
        try:
            out.append(sized(*decoded_within(read_image(scene, data_dir), cfg.max_pixels, cfg.jpeg_quality)))
        except ImageProblem as problem:
            out.append(sized(problem=problem.reason))
    return out


def export_dataset(samples: list[dict[str, Any]], images: Iterable[Prepared], out_dir: Path, cfg: ExportConfig, stats: Counter,
                   advance: Callable[[int], None] | None = None, added: dict[str, pl.DataType] | None = None) -> tuple[list[dict], dict[str, Counter]]:
    """Write the splits while the prepared images stream by (so image bytes are held a few images at a time).
    Returns the rejected samples (images missing or undecodable, with `reject_reason`) and per-split counts
    (by category, level, answer letter and generator) for the card; `stats` gets rows and files per split."""
    by_image: dict[str, list[dict]] = defaultdict(list)
    for s in samples:
        by_image[s["image_id"]].append(s)
    writers = {split: ShardWriter(out_dir, split, cfg.shard_bytes, layout=cfg.layout, added=added) for split in SPLITS}
    counts: dict[str, Counter] = {split: Counter() for split in SPLITS}
    rejects: list[dict] = []
    for prepared in images:
        image_samples = by_image.pop(prepared.image_id, None)
        if not image_samples:
            continue
        if advance:
            advance(1)
        if prepared.problem:
            rejects.extend(dict(s, reject_reason=prepared.problem) for s in image_samples)
            continue
        image, width, height = prepared.image, prepared.width, prepared.height
        sx, sy = width / prepared.scene_width, height / prepared.scene_height
        split = split_of(prepared.image_id, cfg)
        for s in sorted(image_samples, key=lambda s: s["sample_id"]):
            row = export_row(s, image, width, height, scale_scene(s["focus"], sx, sy), cfg.layout, tuple(added or ()))
            writers[split].add(row)
            counts[split].update({f"category:{row['category']}": 1, f"level:{row['level']}": 1, f"letter:{row['answer_only']}": 1,
                                  f"generator:{row['generator']}": 1})
    for image_id, orphans in by_image.items():  # samples whose scene is gone from scenes.parquet
        rejects.extend(dict(s, reject_reason="scene_not_found") for s in orphans)
    for split, writer in writers.items():
        stats[f"files_{split}"] = len(writer.close())
        stats[f"rows_{split}"] = writer.rows
    return rejects, counts


def dataset_card(counts: dict[str, Counter], info: dict[str, Any], blind_report: str | None = None, funnel: str | None = None,
                 gate: str | None = None) -> str:
    """README.md with the YAML header the Hub reads (`configs`), counts by category, level and letter, what the
    gate did per generator and category, and the blind-solvability audit (how well text-only guessers do, next to chance)."""
    totals = {split: sum(v for k, v in counts[split].items() if k.startswith("category:")) for split in SPLITS}
    yaml_lines = ["---", "license: cc-by-4.0", "task_categories:", "- visual-question-answering", "configs:",
                  "- config_name: default", "  data_files:"]
    yaml_lines += [f"  - split: {'validation' if split == 'val' else split}\n    path: data/{split}-*" for split in SPLITS if totals[split]]
    yaml_lines += ["---", ""]
    lines = [f"# {info.get('name', 'stvqa spatial VQA')}", "",
             "Spatial visual-question-answering built by stvqa from scene graphs: multiple-choice questions in nine "
             "spatial categories, every answer computed from (and checked against) the scene graph.",
             "", "| field | value |", "|---|---|"]
    generators = sorted({k.split(":", 1)[1] for split in SPLITS for k in counts[split] if k.startswith("generator:")})
    info = dict(info, generator=", ".join(generators) or None)  # from the rows themselves, whatever the config said
    for key in ("source", "generator", "seed", "val_split", "max_pixels", "layout", "stvqa_version"):
        lines.append(f"| {key} | {info.get(key)} |")
    lines.append(f"| rows | train: {totals['train']}, val: {totals['val']} |")
    if info.get("command"):
        lines.append(f"| built with | `stvqa {info['command'].split(' ', 1)[-1]}` |")
    if info.get("image_excluded"):
        lines.append(f"| image_excluded | {info['image_excluded']} images left out by `--exclude-images` (e.g. a benchmark's) |")
    for title, prefix in (("category", "category:"), ("level", "level:"), ("answer letter", "letter:")):
        keys = sorted({k for split in SPLITS for k in counts[split] if k.startswith(prefix)})
        lines += ["", f"## Rows by {title}", "", f"| {title} | train | val | all |", "|---|---|---|---|"]
        for k in keys:
            t, v = counts["train"][k], counts["val"][k]
            lines.append(f"| {k[len(prefix):]} | {t} | {v} | {t + v} |")
    if gate:
        lines += ["", "## Verification (the gate)", "",
                  "Every question, whoever wrote it, reached the dataset only when its objects were identified and its answer proved "
                  "from the scene graph and boxes (`verified`; `corrected`: a count fixed to the graph's, or options that were not "
                  "provably false left out). Questions the gate could not prove were rejected (`unverifiable_*`) unless the build kept "
                  "them (`--keep-unverified`: `verified` is null). Per generator and category, before curation:", "", gate]
    if funnel:
        lines += ["", "## Curation funnel (`stvqa filter`)", "", "Questions kept after each step, per category.", "", funnel]
    if blind_report:
        lines += ["", "## Text-only baselines (blind-solvability audit)", "",
                  "Accuracy of guessers that never see the image, each learned on the other images (leave-one-image-out), "
                  "next to chance; see `stvqa/blind.py` for the definitions.", "", blind_report]
    lines += ["", "## Columns", "",
              f"The image, once per row, in `{LAYOUTS[info.get('layout') or 'trl']}` ("
              + ("what TRL and the viewer read" if (info.get("layout") or "trl") == "trl" else "STVQA-7K's name") + "). "
              "STVQA-7K's columns (`image_id`, `problem`, `question_only`, `question_with_options`, `options`, `answer` = "
              "`<scene>{subgraph}</scene>\\n<answer>X</answer>`, `answer_only`, `answer_text`, `answer_option_text`, `category`, "
              "`level`, `rating`) plus TRL-ready ones: `prompt` (conversational, observe -> scene -> think -> answer), "
              "`solution`, `scene` (ground-truth question-focused subgraph, boxes in pixels of the stored image), `image_width`, "
              "`image_height`, `verified`, `verify_reason`, `generator`, `sample_id`, and the judges' `consistency` (share of a vision "
              "model's tries that agreed), `judge_votes` (each try's answer), `blind_rate` and `pass_rate` (null where no judge ran).",
              "", "Reward functions that read these columns: `stvqa.rewards.spatial_thinker_reward`.",
              "", "## Licence", "",
              "Scene-graph annotations: Visual Genome and GQA are CC BY 4.0 (Krishna et al., 2017; Hudson and Manning, 2019). "
              "The images keep their own (Flickr) licences."]
    return "\n".join(yaml_lines + lines + ["", EXPORT_MARK]) + "\n"

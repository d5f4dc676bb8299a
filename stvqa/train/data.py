"""An exported dataset (local folder, Parquet file or Hub id) -> the columns TRL's GRPOTrainer reads.

**Coordinate convention.** A box is `[x1, y1, x2, y2]` in pixels of the image the model is shown, and the prompt
says that image's size (`Image size: (W x H)`). That size is `frame.model_frame`'s: the recipe's
`min_pixels`/`max_pixels` and, for the Qwen2-VL family, the vision encoder's grid. The stored image is resized to
exactly it, and the ground-truth boxes, `image_width`/`image_height` and the prompt with it, so the three always
agree and the processor (given the same bounds, `frame.apply_bounds`) resizes nothing.

Columns produced: `prompt` (conversational, from the recipe's prompt file), `image` (one image), `image_width`,
`image_height`, `scene` and `solution` (the ground truth the rewards read), plus the dataset's other columns.
Datasets in STVQA-7K's layout (`images`, `problem`, `answer_option_text`) work too.
"""

from __future__ import annotations

import io
import re
from functools import cache
from pathlib import Path
from typing import Any

from ..errors import ConfigError, DataError
from ..images import image_size, resize
from ..stages.export.parquet import scale_scene
from ..resources import resource_path
from .frame import model_frame

MAKE_IT = "Build one with `stvqa build --out RUN` (it writes RUN/dataset) or `stvqa export RUN --out DIR`."
_SPLIT_ALIASES = {"val": ("val", "validation"), "validation": ("validation", "val"), "test": ("test",), "train": ("train",)}
_SCENE = re.compile(r"<scene>(.*?)</scene>", re.DOTALL)
_ANSWER = re.compile(r"<answer>(.*?)</answer>", re.DOTALL)
_HUB_ID = re.compile(r"^[A-Za-z0-9][\w.-]*/[\w.-]+$")


@cache
def prompt_template(prompt_file: str) -> str:
    path = Path(prompt_file).expanduser()
    if not path.is_file():
        path = resource_path("prompts", prompt_file)
    try:
        return path.read_text().strip()
    except OSError:
        raise ConfigError(f"prompt file {prompt_file!r} not found", "Pass a file in prompts/ (e.g. reasoning.txt) or a path.") from None


def render_prompt(template: str, question: str, width: int, height: int) -> list[dict[str, str]]:
    return [{"role": "user", "content": template.format(width=width, height=height, question=question)}]


def resized(data: bytes, size: tuple[int, int]) -> bytes:
    """PNG: the model sees the pixels training resized, not a second lossy encoding of them."""
    from PIL import Image

    with Image.open(io.BytesIO(data)) as im:
        return resize(im, size, "PNG")


def scale_boxes(scene_json: str, sx: float, sy: float) -> str:
    """The scene with every box scaled as `stvqa export --max-pixels` does (`scale_scene`)."""
    return scene_json if sx == 1 and sy == 1 else scale_scene(scene_json, sx, sy)


def _split_files(folder: Path, split: str) -> list[str]:
    for name in _SPLIT_ALIASES.get(split, (split,)):
        for pattern in (f"data/{name}-*.parquet", f"{name}-*.parquet", f"data/{name}.parquet", f"{name}.parquet"):
            files = sorted(folder.glob(pattern))
            if files:
                return [str(f) for f in files]
    return []


def check_source(source: str) -> None:
    """A dataset that cannot exist is reported before anything loads: a path that is not there (a Hub id is
    only checked when it is loaded)."""
    path = Path(source).expanduser()
    if path.exists():
        return
    first = Path(source.split("/")[0]).expanduser()
    if not _HUB_ID.match(source) or first.is_dir() or source.startswith((".", "/", "~")):
        raise DataError(f"dataset {source} does not exist", MAKE_IT)


def load_split(source: str, split: str):
    """One split of a dataset: an export folder (`data/<split>-*.parquet`), a Parquet file, or a Hub id."""
    from datasets import load_dataset

    path = Path(source).expanduser()
    if path.is_file() and path.suffix == ".parquet":
        return load_dataset("parquet", data_files={split: [str(path)]}, split=split)
    if path.is_dir():
        files = _split_files(path, split)
        if not files:
            found = sorted({p.name.split("-")[0] for p in path.glob("**/*.parquet")})
            raise DataError(f"{path} has no {split!r} split" + (f" (it has: {', '.join(found)})" if found else " (no Parquet files)"),
                            f"Pass --split with one of its splits. {MAKE_IT}" if found else MAKE_IT)
        return load_dataset("parquet", data_files={split: files}, split=split)
    check_source(source)
    last: Exception | None = None
    for name in _SPLIT_ALIASES.get(split, (split,)):
        try:
            return load_dataset(source, split=name)
        except ValueError as exc:  # unknown split
            last = exc
        except Exception as exc:  # offline, not found, no access
            raise DataError(f"cannot load dataset {source} from the Hub: {exc}", "Check the id and your connection, or pass a local folder.") from None
    raise DataError(f"dataset {source} has no {split!r} split: {last}", "Pass --split with one of its splits.")


def check_columns(columns: list[str], source: str) -> None:
    """The columns training and evaluation need, each with its alternatives."""
    missing = []
    if "image" not in columns and "images" not in columns:
        missing.append("image (or images)")
    if not {"question_with_options", "problem"} & set(columns):
        missing.append("question_with_options (or problem)")
    if not ({"scene", "solution"} <= set(columns) or "answer_option_text" in columns):
        missing.append("scene and solution (or answer_option_text)")
    if missing:
        raise DataError(f"dataset {source} lacks the columns {'; '.join(missing)}", MAKE_IT + " Exports with --no-images cannot train.")


def prepare(ds, prompt_file: str, min_pixels: int, max_pixels: int, max_samples: int | None = None, source: str = "dataset",
            grid: int | None = None):
    """The columns GRPOTrainer reads (see the module docstring), each image resized to the frame the model sees:
    within [min_pixels, max_pixels] and on the vision encoder's `grid` (`frame.grid_of(processor)`), if it has one."""
    from datasets import Image, List, Sequence

    check_columns(ds.column_names, source)
    if max_samples is not None and max_samples < len(ds):
        ds = ds.select(range(max_samples))
    if len(ds) == 0:
        raise DataError(f"dataset {source} has no rows in this split", MAKE_IT)
    column = "image" if "image" in ds.column_names else "images"
    is_list = isinstance(ds.features[column], (List, Sequence, list))
    ds = ds.cast_column(column, List(Image(decode=False)) if is_list else Image(decode=False))
    template = prompt_template(prompt_file)
    has_size = {"image_width", "image_height"} <= set(ds.column_names)

    def row_columns(row: dict[str, Any]) -> dict[str, Any]:
        if is_list and len(row[column] or ()) > 1:
            raise DataError(f"a row of {source} has {len(row[column])} images; training and eval show the model one image per question",
                            "Keep one image per row (the first, if it is the one the question is about), or export with stvqa.")
        cell = row[column][0] if is_list and row[column] else None if is_list else row[column]
        if not cell or not cell.get("bytes"):
            raise DataError(f"a row of {source} has no image", MAKE_IT + " Exports with --no-images cannot train.")
        width, height = (row["image_width"], row["image_height"]) if has_size else image_size(cell["bytes"])
        size = model_frame(width, height, min_pixels, max_pixels, grid)
        if size != (width, height):
            cell = {"bytes": resized(cell["bytes"], size), "path": None}
        if row.get("scene") is not None and row.get("solution") is not None:
            scene, solution = row["scene"], row["solution"]
        else:
            text = row["answer_option_text"] or ""
            scene = (_SCENE.search(text) or [None, '{"objects": [], "relationships": []}'])[1].strip()
            solution = (_ANSWER.search(text) or [None, text])[1].strip()
        question = row.get("question_with_options") or row.get("problem") or ""
        return {"prompt": render_prompt(template, question.replace("<image>", "").strip(), *size), "image": cell,
                "image_width": size[0], "image_height": size[1], "solution": solution,
                "scene": scale_boxes(scene, size[0] / width, size[1] / height)}

    drop = [c for c in ("images", "image") if c in ds.column_names]  # TRL would read `images` before `image`
    ds = ds.map(row_columns, remove_columns=drop, desc="preparing prompts and images")
    return ds.cast_column("image", Image())

"""What `stvqa inspect`, `stvqa stats` and `stvqa render` show: samples and numbers as rich renderables on a
console (the image in half-blocks, or ASCII where the terminal has no colour), a keyboard browser, and
sample cards and contact sheets written as image files."""

from __future__ import annotations

import re
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from PIL import Image, ImageDraw
from rich.console import Console, Group, RenderableType
from rich.panel import Panel
from rich.style import Style
from rich.table import Table
from rich.text import Text

from .errors import ConfigError
from .records import LETTERS
from .render import fit_cells, text_colour_on, colour_for, contact_sheet, objects_table, parse_scene, sample_card, terminal_image
from .pipeline.rundir import atomic_path
from .samples import Samples

IMAGE_CELLS = (60, 30)  # the most columns and rows a terminal picture takes
SIDE_BY_SIDE = 112  # from this console width on, the details go beside the picture


# --- one sample in the terminal ------------------------------------------------------------------------

def terminal_picture(image: Image.Image, scene: str | dict | None, max_cols: int, max_rows: int, color: bool = True) -> Text:
    """The image at terminal resolution with the scene's boxes in their palette colours, each id written
    in its box's colour just above the box (cells are 1×2 pixels, so boxes are drawn after downscaling)."""
    cols, rows = fit_cells(image.size, max_cols, max_rows)
    small = image.convert("RGB").resize((cols, rows * 2), Image.LANCZOS)
    sx, sy = cols / image.width, rows * 2 / image.height
    draw, labels = ImageDraw.Draw(small), []
    for i, obj in enumerate(parse_scene(scene)["objects"]):
        bbox = obj.get("bbox") or []
        if len(bbox) != 4:
            continue
        x1, x2 = sorted((float(bbox[0]) * sx, float(bbox[2]) * sx))
        y1, y2 = sorted((float(bbox[1]) * sy, float(bbox[3]) * sy))
        if x2 < 0 or y2 < 0 or x1 > cols - 1 or y1 > rows * 2 - 1:
            continue
        box = [round(max(0, x1)), round(max(0, y1)), round(min(cols - 1, x2)), round(min(rows * 2 - 1, y2))]
        draw.rectangle(box, outline=colour_for(i), width=1)
        labels.append((box[0], max(0, box[1] // 2 - 1), str(obj.get("id", i))[:cols], colour_for(i)))
    lines = list(terminal_image(small, cols, rows, color=color).split("\n"))
    for x, y, label, colour in labels:
        x = max(0, min(x, cols - len(label)))
        line = Text()
        line.append_text(lines[y][:x])
        line.append(label, Style(color=_rgb(text_colour_on(colour)), bgcolor=_rgb(colour)) if color else None)
        line.append_text(lines[y][x + len(label):])
        lines[y] = line
    return Text("\n").join(lines)


def _rgb(rgb: tuple[int, int, int]) -> str:
    return "#{:02x}{:02x}{:02x}".format(*rgb)


def has_colour(console: Console) -> bool:
    return console.color_system is not None and not console.no_color


def details(row: dict[str, Any], note: str | None = None) -> Panel:
    """The question, options with the answer marked ✓, category, level, rating, verification, judge votes."""
    lines = Text()
    if row["question"]:
        lines.append(row["question"], "bold")
    for i, option in enumerate(row["options"]):
        right = LETTERS[i] == row["answer"]
        lines.append("\n " + ("✓" if right else " ") + f" ({LETTERS[i]}) {option}", "green" if right else "")
    meta = [str(row[k]) for k in ("category", "level") if row[k]]
    meta += [f"rating {row['rating']}"] if row["rating"] is not None else []
    meta += [f"{k} {row[k]}" for k in ("template", "generator", "split") if row[k]]
    if meta:
        lines.append("\n" + " · ".join(meta), "dim")
    if row["kind"] != "scene" and (row["verified"] is not None or row["verify_reason"]):
        verdict = {True: "verified ✓", False: "verify failed ✗", None: "not checked"}[row["verified"]]
        lines.append(f"\n{verdict}" + (f" ({row['verify_reason']})" if row["verify_reason"] else ""), "red" if row["verified"] is False else "dim")
    if row["judge"] is not None:
        lines.append(f"\njudges (share agreeing: votes): {row['judge']}", "dim")
    if row["reject_reason"]:
        lines.append(f"\nrejected at {row['reject_stage']}: {row['reject_reason']}", "red")
    if note:
        lines.append(f"\n{note}", "yellow")
    if row["kind"] == "scene":
        scene = parse_scene(row["scene"])
        lines.append(f"{row['width']}×{row['height']} · {len(scene['objects'])} objects · {len(scene['relationships'])} relationships", "dim")
    title = " · ".join(x for x in (f"#{row['row']}", row["sample_id"] and f"sample {row['sample_id']}", f"image {row['image_id']}") if x)
    return Panel(lines, title=title, title_align="left", expand=False)


def sample_view(samples: Samples, row: dict[str, Any], console: Console, max_rows: int = IMAGE_CELLS[1]) -> RenderableType:
    """Picture (at most `max_rows` lines), details and the subgraph (one object per line, swatches in the box colours)."""
    image, note = samples.image(row)
    cols = min(IMAGE_CELLS[0], console.width - 2)
    beside = console.width >= SIDE_BY_SIDE  # not for the one-line "not drawn" note
    if image is None:
        picture: RenderableType = Panel(Text(note or "no image", "yellow"), title="image missing", width=min(cols, 48))
    elif has_colour(console) or console.is_terminal:
        picture = terminal_picture(image, row["scene"], cols, max_rows, color=has_colour(console))
    else:
        beside = False
        picture = Text(f"(image {image.width}×{image.height} not drawn: the output is not a terminal; `stvqa render` writes it as a PNG)", "dim")
    text = Group(details(row, note), objects_table(row["scene"]))
    if beside:
        grid = Table.grid(padding=(0, 2))
        grid.add_row(picture, text)
        return grid
    return Group(picture, text)


def show(console: Console, samples: Samples, rows: list[dict]) -> None:
    for row in rows:
        console.print(sample_view(samples, row, console), soft_wrap=False)
        console.print()


# --- browsing with the keyboard --------------------------------------------------------------------------

NEXT = {"n", " ", "\r", "\n", "\x1b[C", "\xe0M", "l"}
PREVIOUS = {"p", "\x1b[D", "\xe0K", "h"}
JUMP = {"g", "j"}
QUIT = {"q", "Q", "\x1b", "\x03"}
ENTER = {"\r", "\n"}
HELP = "n/space/→ next · p/← previous · g NUMBER Enter jump to #NUMBER · q quit"


def terminal_keys() -> Callable[[], str]:
    """Keys from the terminal, one at a time (arrows arrive as escape sequences)."""
    import typer

    if not sys.stdin.isatty():
        raise ConfigError("--browse reads keys from a terminal, and standard input is not one",
                          "Run it in a terminal, or drop --browse to print samples (--limit N).")
    return typer.getchar


def _key(keys: Callable[[], str]) -> str | None:
    try:
        return keys()
    except (EOFError, StopIteration, KeyboardInterrupt):
        return None


def _number(console: Console, keys: Callable[[], str]) -> int | None:
    console.print("go to sample: ", end="")
    digits = ""
    while (key := _key(keys)) is not None and key not in ENTER:
        if key in QUIT:
            return None
        if key.isdigit():
            digits += key
            console.print(key, end="", highlight=False)
        elif key in ("\x7f", "\x08"):
            digits = digits[:-1]
    return int(digits) if digits else None


def browse(console: Console, samples: Samples, rows: list[dict], keys: Callable[[], str], start: int = 0) -> list[int]:
    """Page through `rows` one sample a screen; returns the positions shown, in order (0-based)."""
    shown: list[int] = []
    position, message = max(0, min(start, len(rows) - 1)), ""
    while rows:
        console.clear()
        console.print(f"[bold]{position + 1}[/] of {len(rows):,}  ({samples.path})", highlight=False)
        fit = max(8, min(IMAGE_CELLS[1], console.height - 14))  # the picture, details and key line on one screen
        console.print(sample_view(samples, rows[position], console, fit), soft_wrap=False)
        console.print(Text(HELP + (f"   {message}" if message else ""), "dim"))
        shown.append(position)
        key, message = _key(keys), ""
        if key is None or key in QUIT:
            break
        if key in NEXT:
            position, message = (position + 1, "") if position + 1 < len(rows) else (position, "(the last sample)")
        elif key in PREVIOUS:
            position, message = (position - 1, "") if position > 0 else (position, "(the first sample)")
        elif key in JUMP:  # to the row number the titles show (#12), as --index takes it
            number = _number(console, keys)
            found = next((i for i, r in enumerate(rows) if r.get("row") == number), None)
            if found is not None:
                position = found
            elif number is not None:
                message = f"(#{number} is not in this selection)"
        else:
            message = f"(unknown key {key!r})"
    return shown


# --- statistics ------------------------------------------------------------------------------------------

_EIGHTHS = " ▏▎▍▌▋▊▉"


def bar(share: float, width: int = 24) -> str:
    """A horizontal bar of `share` (0..1) of `width` cells, in eighths of a cell."""
    eighths = round(max(0.0, min(1.0, share)) * width * 8)
    return "█" * (eighths // 8) + (_EIGHTHS[eighths % 8] if eighths % 8 else "")


def stats_tables(result: dict[str, Any]) -> list[RenderableType]:
    """The tables of `stvqa stats`: counts and shares per column, the funnel, the rejects."""
    out: list[RenderableType] = [Text(f"{result['path']}: {result['rows']:,} rows ({', '.join(Path(f).name for f in result['files'])})")]
    for key, values in result["by"].items():
        table = _table(f"by {key}", (key, "rows", "share", ""))
        for value, c in values.items():
            table.add_row(value, f"{c['n']:,}", f"{c['share']:.1%}", bar(c["share"]))
        out.append(table)
    if result["funnel"]:
        table = _table("funnel (manifest.json)", ("stage", "in", "kept", "dropped", "kept of in"))
        for step in result["funnel"]:
            share = step["kept"] / step["in"] if step["in"] else 0.0
            table.add_row(step["stage"], f"{step['in']:,}", f"{step['kept']:,}", f"{step['dropped']:,}", f"{bar(share, 16)} {share:.0%}")
        out.append(table)
    if result["rejects"]:
        table = _table("rejects by stage and reason", ("stage", "reason", "rows", ""))
        most = max(n for reasons in result["rejects"].values() for n in reasons.values())
        for stage, reasons in result["rejects"].items():
            for reason, n in reasons.items():
                table.add_row(stage, reason, f"{n:,}", bar(n / most, 16))
        out.append(table)
    return out


def _table(title: str, columns: tuple[str, ...]) -> Table:
    table = Table(title=title, title_justify="left", header_style="bold")
    for i, column in enumerate(columns):
        numeric = column in ("rows", "share", "in", "kept", "dropped")
        table.add_column(column, justify="right" if numeric else "left", no_wrap=i == len(columns) - 1)
    return table


# --- pictures to share -----------------------------------------------------------------------------------

def cards(samples: Samples, rows: list[dict[str, Any]], max_side: int = 512):
    """Each row's card (a placeholder where the image is missing) with the note on its missing image, one at a time."""
    for row in rows:
        image, note = samples.image(row)
        yield row, sample_card(row, image, max_side=max_side), note and f"#{row['row']} ({row['sample_id'] or row['image_id']}): {note}"


def _format(path: Path) -> str:
    fmt = Image.registered_extensions().get(path.suffix.lower())
    if fmt is None:
        raise ConfigError(f"--out {path}: no image format has the extension {path.suffix or '(none)'}", "Name the file .png (or .jpg, .webp).")
    return fmt


def write_sheet(samples: Samples, rows: list[dict], out: Path, columns: int = 3, max_side: int = 512) -> tuple[Image.Image, list[str]]:
    """One contact sheet of the rows' cards, written to `out` (replaced in one rename); returns it and the notes."""
    if out.is_dir():
        raise ConfigError(f"--out {out} is a folder", "Name a file such as sheet.png, or pass --per-sample to write one PNG per sample into the folder.")
    fmt = _format(out)
    made = list(cards(samples, rows, max_side))
    sheet = contact_sheet([c for _, c, _ in made], columns)
    with atomic_path(out) as tmp:
        sheet.save(tmp, format=fmt)
    return sheet, [note for _, _, note in made if note]


def file_name(row: dict[str, Any]) -> str:
    """A file-system-safe name from the sample id ("10:0" -> "10_0")."""
    name = row["sample_id"] or f"image-{row['image_id']}"
    return re.sub(r"[^\w.-]+", "_", str(name), flags=re.ASCII).strip("._") or f"row-{row['row']}"


def write_cards(samples: Samples, rows: list[dict], folder: Path, max_side: int = 512) -> tuple[list[Path], list[str]]:
    """One PNG per sample in `folder`, named by sample id; returns the files and the notes."""
    if folder.exists() and not folder.is_dir():
        raise ConfigError(f"--out {folder} is a file", "With --per-sample, --out is a folder (created when missing).")
    folder.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    notes: list[str] = []
    for row, picture, note in cards(samples, rows, max_side):
        notes += [note] if note else []
        path, n = folder / f"{file_name(row)}.png", 1
        while path in written:
            n += 1
            path = folder / f"{file_name(row)}-{n}.png"
        with atomic_path(path) as tmp:
            picture.save(tmp, format="PNG")
        written.append(path)
    return written, notes

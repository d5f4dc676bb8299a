"""Pictures of samples for people to look at: boxes on images, sample cards, contact sheets, and
half-block terminal previews. Pure functions, no I/O — the CLI decides where things go."""

from __future__ import annotations

import json
from functools import lru_cache
from typing import Any

from PIL import Image, ImageDraw, ImageFont
from rich.color import Color
from rich.style import Style
from rich.table import Table
from rich.text import Text

# Saturated colours that stay apart from each other and from typical photo content (after Trubetskoy's
# "20 distinct colours"); object i always gets PALETTE[i % len], in pictures and in tables alike.
PALETTE: list[tuple[int, int, int]] = [
    (230, 25, 75), (60, 180, 75), (0, 130, 200), (255, 225, 25), (245, 130, 48), (145, 30, 180),
    (70, 240, 240), (240, 50, 230), (210, 245, 60), (250, 190, 212), (0, 128, 128), (170, 110, 40),
]
ASCII_RAMP = " .:-=+*#%@"


def colour_for(index: int) -> tuple[int, int, int]:
    return PALETTE[index % len(PALETTE)]


@lru_cache(maxsize=16)
def _font(size: int) -> ImageFont.ImageFont | ImageFont.FreeTypeFont:
    try:
        return ImageFont.load_default(size=size)
    except TypeError:  # Pillow < 10.1: only the fixed-size bitmap font
        return ImageFont.load_default()


def text_colour_on(rgb: tuple[int, int, int]) -> tuple[int, int, int]:
    """Black or white, whichever reads better on `rgb` (perceived luminance)."""
    return (0, 0, 0) if 0.299 * rgb[0] + 0.587 * rgb[1] + 0.114 * rgb[2] > 140 else (255, 255, 255)


def parse_scene(scene: str | dict | None) -> dict[str, Any]:
    """A sample's `focus`/`scene` column (JSON text, or already a dict) as {objects, relationships}."""
    if not scene:
        return {"objects": [], "relationships": []}
    data = json.loads(scene) if isinstance(scene, str) else scene
    return {"objects": data.get("objects") or [], "relationships": data.get("relationships") or []}


def draw_boxes(image: Image.Image, objects: list[dict], width: int | None = None, line: int = 3,
               scale: float | None = None, font_size: int = 13) -> Image.Image:
    """A copy of `image` with each object's box and id label in the object's palette colour.
    `width` resizes the copy to that width (boxes follow); `scale` multiplies the boxes, for boxes given
    in the coordinates of a larger original than `image`. Boxes are clipped; those fully outside are skipped."""
    img = image.convert("RGB")  # always a copy
    factor = 1.0 if scale is None else scale
    if width and width != img.width:
        factor *= width / img.width
        img = img.resize((width, max(1, round(img.height * width / img.width))), Image.LANCZOS)
    draw, font = ImageDraw.Draw(img), _font(font_size)
    w, h = img.size
    labels = []
    for i, obj in enumerate(objects):
        bbox = obj.get("bbox")
        if not bbox or len(bbox) != 4:
            continue
        x1, y1, x2, y2 = (float(v) * factor for v in bbox)
        x1, x2, y1, y2 = min(x1, x2), max(x1, x2), min(y1, y2), max(y1, y2)
        if x2 < 0 or y2 < 0 or x1 > w - 1 or y1 > h - 1:
            continue
        box = [round(max(0, x1)), round(max(0, y1)), round(min(w - 1, x2)), round(min(h - 1, y2))]
        colour = colour_for(i)
        draw.rectangle(box, outline=colour, width=max(1, min(line, box[2] - box[0] + 1, box[3] - box[1] + 1)))
        labels.append((box, colour, str(obj.get("id", i))))
    # Labels after all boxes, so a later box never paints over an earlier box's id.
    for box, colour, label in labels:
        l, t, r, b = draw.textbbox((0, 0), label, font=font)
        tw, th = r - l + 6, b - t + 4
        # Above the box when there is room, else just inside its top edge; never past the image's edges.
        x = max(0, min(box[0], w - tw))
        y = box[1] - th if box[1] - th >= 0 else min(box[1], max(0, h - th))
        draw.rectangle([x, y, x + tw - 1, y + th - 1], fill=colour)
        draw.text((x + 3 - l, y + 2 - t), label, fill=text_colour_on(colour), font=font)
    return img


def placeholder(width: int, height: int, text: str = "image missing") -> Image.Image:
    img = Image.new("RGB", (max(1, width), max(1, height)), (200, 200, 200))
    draw, font = ImageDraw.Draw(img), _font(max(12, min(width, height) // 12))
    l, t, r, b = draw.textbbox((0, 0), text, font=font)
    draw.text(((img.width - (r - l)) / 2 - l, (img.height - (b - t)) / 2 - t), text, fill=(90, 90, 90), font=font)
    return img


def _wrap(text: str, font, max_px: int) -> list[str]:
    """Greedy word wrap by rendered width; words longer than a line are cut by characters."""
    lines: list[str] = []
    for para in str(text).splitlines() or [""]:
        line = ""
        for word in para.split(" "):
            candidate = f"{line} {word}" if line else word
            if font.getlength(candidate) <= max_px:
                line = candidate
                continue
            if line:
                lines.append(line)
            line = ""
            for ch in word:
                if line and font.getlength(line + ch) > max_px:
                    lines.append(line)
                    line = ""
                line += ch
        lines.append(line)
    return lines


def sample_card(sample: dict, image: Image.Image | None, max_side: int = 512, font_size: int = 14,
                min_width: int = 360) -> Image.Image:
    """The sample's image (downscaled to fit `max_side`, boxes of its focus/scene drawn to match) above a
    caption: wrapped question, lettered options with the answer highlighted, and the sample's metadata."""
    scene = parse_scene(sample.get("focus") or sample.get("scene"))
    if image is None or image.width == 0 or image.height == 0:
        pic = placeholder(max_side, max_side * 3 // 4, "image missing")
    else:
        factor = min(1.0, max_side / max(image.width, image.height))
        pic = draw_boxes(image, scene["objects"], width=max(1, round(image.width * factor)))
    font, pad = _font(font_size), 8
    card_w = max(pic.width, min_width)
    text_w = card_w - 2 * pad
    asc, desc = font.getmetrics()
    line_h = asc + desc + 3

    # (text, colour, highlighted) per caption line
    rows: list[tuple[str, tuple[int, int, int], bool]] = []
    rows += [(s, (0, 0, 0), False) for s in _wrap(sample.get("question") or "", font, text_w)]
    answer = str(sample.get("answer") or "").strip().upper()
    for k, option in enumerate(sample.get("options") or []):
        letter = chr(ord("A") + k)
        right = letter == answer
        text = f"({letter}) {option}" + ("   <- answer" if right else "")
        rows += [(s, (0, 110, 0) if right else (40, 40, 40), right) for s in _wrap(text, font, text_w - 8)]
    meta = [str(sample[k]) for k in ("category", "level") if sample.get(k) not in (None, "")]
    if sample.get("rating") is not None:
        meta.append(f"rating {sample['rating']}")
    if sample.get("verified") is not None:
        meta.append("verified" if sample["verified"] else "NOT verified")
    ids = " ".join(f"{k}={sample[k]}" for k in ("sample_id", "image_id") if sample.get(k) not in (None, ""))
    grey = (110, 110, 110)
    rows += [(s, grey, False) for s in _wrap(" · ".join(meta), font, text_w)]
    if sample.get("verify_reason"):
        rows += [(s, grey, False) for s in _wrap(f"reason: {sample['verify_reason']}", font, text_w)]
    if ids:
        rows += [(s, grey, False) for s in _wrap(ids, font, text_w)]

    card = Image.new("RGB", (card_w, pic.height + 2 * pad + line_h * len(rows)), "white")
    card.paste(pic, ((card_w - pic.width) // 2, 0))
    draw = ImageDraw.Draw(card)
    y = pic.height + pad
    for text, colour, highlighted in rows:
        if highlighted:  # a pale green bar, so the answer stands out even at a glance
            draw.rectangle([pad - 3, y - 1, card_w - pad + 2, y + line_h - 2], fill=(220, 245, 220))
        draw.text((pad, y), text, fill=colour, font=font)
        y += line_h
    return card


def contact_sheet(cards: list[Image.Image], columns: int = 3, pad: int = 8) -> Image.Image:
    """Cards in a grid on white, row-major; each row as tall as its tallest card."""
    if not cards:
        return Image.new("RGB", (2 * pad + 1, 2 * pad + 1), "white")
    columns = max(1, min(columns, len(cards)))
    cell_w = max(c.width for c in cards)
    rows = [cards[i:i + columns] for i in range(0, len(cards), columns)]
    heights = [max(c.height for c in row) for row in rows]
    sheet = Image.new("RGB", (columns * cell_w + (columns + 1) * pad, sum(heights) + (len(rows) + 1) * pad), "white")
    y = pad
    for row, row_h in zip(rows, heights):
        for j, card in enumerate(row):
            sheet.paste(card.convert("RGB"), (pad + j * (cell_w + pad), y))
        y += row_h + pad
    return sheet


def fit_cells(size: tuple[int, int], max_w: int, max_h: int | None) -> tuple[int, int]:
    """(columns, rows) fitting the image keeping its aspect: a cell is 1 px wide and 2 px tall."""
    w, h = size
    cols = max(1, max_w)
    rows = max(1, round(cols * h / w / 2))
    if max_h is not None and rows > max_h:
        rows = max(1, max_h)
        cols = max(1, min(max_w, round(rows * 2 * w / h)))
    return cols, rows


def terminal_image(image: Image.Image | None, max_width_cells: int, max_height_cells: int | None = None,
                   color: bool = True) -> Text:
    """The image as rich Text: each cell is "▀" with the top pixel as foreground and the bottom pixel as
    background. `color=False` gives ASCII art by brightness instead, for terminals without colour."""
    if image is None or image.width == 0 or image.height == 0:
        return Text("[image missing]")
    cols, rows = fit_cells(image.size, max_width_cells, max_height_cells)
    if not color:
        grey = image.convert("L").resize((cols, rows), Image.LANCZOS)
        px = grey.load()
        top = len(ASCII_RAMP) - 1
        return Text("\n".join("".join(ASCII_RAMP[px[x, y] * top // 255] for x in range(cols)) for y in range(rows)))
    small = image.convert("RGB").resize((cols, rows * 2), Image.LANCZOS)
    px = small.load()
    text = Text()
    for r in range(rows):
        if r:
            text.append("\n")
        for x in range(cols):
            fg, bg = px[x, 2 * r], px[x, 2 * r + 1]
            text.append("▀", Style(color=Color.from_rgb(*fg), bgcolor=Color.from_rgb(*bg)))
    return text


def terminal_image_plain(image: Image.Image | None, max_width_cells: int, max_height_cells: int | None = None) -> Text:
    return terminal_image(image, max_width_cells, max_height_cells, color=False)


def objects_table(scene_json: str | dict | None) -> Table:
    """One row per object (swatch in its box colour, id, x1,y1,x2,y2), then the relationships."""
    scene = parse_scene(scene_json)
    table = Table(show_header=False, box=None, padding=(0, 1), pad_edge=False)
    table.add_column(width=2, no_wrap=True)
    table.add_column(no_wrap=True)
    table.add_column(no_wrap=True)
    for i, obj in enumerate(scene["objects"]):
        bbox = obj.get("bbox") or []
        coords = ",".join(f"{float(v):g}" for v in bbox)
        table.add_row(Text("██", style=Style(color=Color.from_rgb(*colour_for(i)))), str(obj.get("id", i)), coords)
    # Relationships as a left-aligned caption, so a long one wraps instead of widening the id column.
    rels = [f"{r.get('subject')} {r.get('predicate')} {r.get('object')}" for r in scene["relationships"]]
    if rels:
        table.caption, table.caption_justify = Text("\n".join(rels), style="dim"), "left"
    return table

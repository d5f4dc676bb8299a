from __future__ import annotations

import json
import re

from PIL import Image
from rich.console import Console

from stvqa.render import (
    PALETTE, colour_for, contact_sheet, draw_boxes, objects_table, placeholder, sample_card, terminal_image,
    terminal_image_plain,
)

BG = (30, 60, 90)


def _sample(objects, **extra):
    return {
        "question": "Is the man to the left of the bench?", "options": ["yes", "no", "cannot tell", "both"],
        "answer": "B", "category": "left_right", "level": "L1", "rating": 4, "verified": True,
        "focus": json.dumps({"objects": objects, "relationships": [{"subject": "man.1", "predicate": "on", "object": "bench.1"}]}),
        **extra,
    }


def test_palette_is_distinct():
    assert len(PALETTE) >= 10 and len(set(PALETTE)) == len(PALETTE)
    assert colour_for(len(PALETTE)) == colour_for(0)


def test_draw_boxes_edges_inside_and_second_colour():
    img = Image.new("RGB", (200, 100), BG)
    out = draw_boxes(img, [{"id": "man.1", "bbox": [40, 30, 120, 90]}, {"id": "bench.1", "bbox": [150, 10, 190, 60]}], line=3)
    assert out is not img and out.size == (200, 100) and img.getpixel((40, 60)) == BG  # input untouched
    c0, c1 = colour_for(0), colour_for(1)
    assert c0 != c1
    for xy in [(40, 60), (42, 60), (120, 60), (118, 60), (80, 90), (80, 88)]:
        assert out.getpixel(xy) == c0, xy
    assert out.getpixel((80, 70)) == BG  # well inside the box
    assert out.getpixel((39, 60)) == BG and out.getpixel((43, 60)) == BG  # the outline is `line` px wide
    assert out.getpixel((150, 40)) == c1 and out.getpixel((190, 40)) == c1
    # The label sits in the box's colour at its top-left (above it, since there is room).
    assert out.getpixel((41, 28)) == c0


def test_draw_boxes_clips_and_skips():
    img = Image.new("RGB", (200, 100), BG)
    out = draw_boxes(img, [{"id": "a", "bbox": [-50, 50, 100, 500]}, {"id": "gone", "bbox": [300, 10, 400, 20]}])
    assert out.getpixel((0, 70)) == colour_for(0) and out.getpixel((60, 99)) == colour_for(0)
    assert out.getpixel((199, 15)) == BG


def test_draw_boxes_scale_and_width():
    img = Image.new("RGB", (200, 100), BG)
    assert draw_boxes(img, [{"id": "a", "bbox": [80, 30, 160, 90]}], scale=0.5).getpixel((40, 30)) == colour_for(0)
    out = draw_boxes(img, [{"id": "a", "bbox": [80, 30, 160, 90]}], width=100)
    assert out.size == (100, 50) and out.getpixel((40, 30)) == colour_for(0) and out.getpixel((39, 30)) == BG


def test_sample_card_scales_boxes():
    img = Image.new("RGB", (800, 400), BG)
    card = sample_card(_sample([{"id": "man.1", "bbox": [200, 100, 600, 300]}]), img, max_side=400)
    assert card.width == 400 and card.height > 200  # image 400x200 plus a caption
    assert card.getpixel((100, 75)) == colour_for(0)  # left edge at x=200*0.5, mid-height 150*0.5
    assert card.getpixel((95, 75)) == BG and card.getpixel((200, 75)) == BG
    assert card.getpixel((300, 75)) == colour_for(0)  # right edge 600*0.5


def test_sample_card_missing_image_and_long_question():
    long_q = "Where is the " + "very " * 200 + "small thing? " + "x" * 500
    card = sample_card(_sample([{"id": "man.1", "bbox": [0, 0, 10, 10]}], question=long_q, verify_reason="ok " * 80), None, max_side=300)
    assert card.width == 360  # the minimum caption width; the placeholder is centred above
    assert card.getpixel((30, 5)) == placeholder(300, 225).getpixel((0, 0))
    assert card.height > 225 + 20 * 14  # the question wrapped onto many lines
    zero = sample_card(_sample([]), Image.new("RGB", (0, 0)))
    assert zero.width >= 360


def test_terminal_image_lines_and_colour():
    img = Image.new("RGB", (200, 100), (0, 0, 255))
    img.paste((255, 0, 0), (0, 0, 100, 50))  # top-left quadrant red
    console = Console(record=True, width=80, color_system="truecolor")
    console.print(terminal_image(img, 40))
    ansi = console.export_text(styles=True, clear=False)
    lines = console.export_text().splitlines()
    assert len(lines) == 10  # 40 px wide -> 20 px tall -> 10 rows of half blocks
    assert all(line == "▀" * 40 for line in lines)
    first = re.match(r"(\x1b\[[0-9;]*m)+", ansi).group(0)
    assert "38;2;255;0;0" in first and "48;2;255;0;0" in first  # top-left cell: red over red
    assert "38;2;0;0;255" in ansi.splitlines()[-1]


def test_terminal_image_top_pixel_is_foreground():
    img = Image.new("RGB", (40, 20), (0, 0, 255))  # already cell-sized: no resampling blur
    img.paste((255, 0, 0), (0, 0, 40, 1))
    img.paste((0, 255, 0), (0, 1, 40, 2))
    console = Console(record=True, width=80, color_system="truecolor")
    console.print(terminal_image(img, 40))
    first = re.match(r"(\x1b\[[0-9;]*m)+", console.export_text(styles=True)).group(0)
    assert "38;2;255;0;0" in first and "48;2;0;255;0" in first


def test_terminal_image_height_limit_and_plain():
    img = Image.new("RGB", (100, 200), (255, 255, 255))
    console = Console(record=True, width=80, color_system="truecolor")
    console.print(terminal_image(img, 80, max_height_cells=20))
    lines = console.export_text().splitlines()
    assert len(lines) == 20 and len(lines[0]) == 20  # 20 rows = 40 px tall -> 20 px wide
    plain = terminal_image_plain(img, 10).plain.splitlines()
    assert len(plain) == 10 and set("".join(plain)) == {"@"}
    assert terminal_image(None, 10).plain == "[image missing]"


def test_contact_sheet_grid():
    cards = [Image.new("RGB", (100, 50), "red") for _ in range(5)]
    sheet = contact_sheet(cards, columns=3, pad=8)
    assert sheet.size == (3 * 100 + 4 * 8, 2 * 50 + 3 * 8)
    assert sheet.getpixel((4, 4)) == (255, 255, 255) and sheet.getpixel((8, 8)) == (255, 0, 0)
    assert sheet.getpixel((8 + 2 * 108 + 50, 8 + 58 + 25)) == (255, 255, 255)  # 6th slot is empty


def test_objects_table():
    scene = {"objects": [{"id": "man.1", "bbox": [1, 2, 30, 40]}, {"id": "bench.1", "bbox": [5.5, 6, 7, 8]}],
             "relationships": [{"subject": "man.1", "predicate": "on", "object": "bench.1"}]}
    console = Console(record=True, width=80, color_system="truecolor")
    console.print(objects_table(json.dumps(scene)))
    text = console.export_text(clear=False)
    assert "man.1" in text and "1,2,30,40" in text and "5.5,6,7,8" in text and "man.1 on bench.1" in text
    r, g, b = colour_for(1)
    assert f"38;2;{r};{g};{b}" in console.export_text(styles=True)

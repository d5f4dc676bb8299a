"""Box geometry used to compute and verify answers."""

from __future__ import annotations

import math

GRID_CELLS = (("top-left", "top", "top-right"), ("left", "center", "right"), ("bottom-left", "bottom", "bottom-right"))
ALL_CELLS = tuple(cell for row in GRID_CELLS for cell in row)


def area(box) -> float:
    return max(0.0, box[2] - box[0]) * max(0.0, box[3] - box[1])


def centre(box) -> tuple[float, float]:
    return (box[0] + box[2]) / 2, (box[1] + box[3]) / 2


def centre_distance(a, b) -> float:
    (ax, ay), (bx, by) = centre(a), centre(b)
    return math.hypot(ax - bx, ay - by)


def grid_cell(box, width: float, height: float) -> tuple[str, float]:
    """The 3 x 3 cell of the box centre, and how far (as a share of the image) the centre is from a cell border."""
    cx, cy = centre(box)
    fx, fy = min(max(cx / width, 0.0), 0.999999), min(max(cy / height, 0.0), 0.999999)
    col, row = int(fx * 3), int(fy * 3)
    margin = min(abs(fx * 3 - round(fx * 3)), abs(fy * 3 - round(fy * 3))) / 3
    return GRID_CELLS[row][col], margin


def horizontal_order(a, b, width: float, margin: float) -> str | None:
    """'left' / 'right' when box a lies clearly to one side of b (centres apart by `margin` of the width, and
    at most a little horizontal overlap), else None."""
    (ax, _), (bx, _) = centre(a), centre(b)
    overlap = min(a[2], b[2]) - max(a[0], b[0])
    smaller = min(a[2] - a[0], b[2] - b[0])
    if abs(ax - bx) < margin * width or overlap > 0.25 * smaller:
        return None
    return "left" if ax < bx else "right"


def vertical_order(a, b, height: float, margin: float) -> str | None:
    (_, ay), (_, by) = centre(a), centre(b)
    overlap = min(a[3], b[3]) - max(a[1], b[1])
    smaller = min(a[3] - a[1], b[3] - b[1])
    if abs(ay - by) < margin * height or overlap > 0.25 * smaller:
        return None
    return "above" if ay < by else "below"

"""Box geometry: overlap, areas, centres, gaps, the 3 x 3 grid and left/right, above/below orders."""

from __future__ import annotations

import math

GRID_CELLS = (("top-left", "top", "top-right"), ("left", "center", "right"), ("bottom-left", "bottom", "bottom-right"))
ALL_CELLS = tuple(cell for row in GRID_CELLS for cell in row)


def iou(a, b) -> float:
    """Intersection over union of two boxes (x1, y1, x2, y2)."""
    # Conditional expressions, not min/max: called for every pair of boxes of every scene, most not overlapping.
    iw = (a[2] if a[2] < b[2] else b[2]) - (a[0] if a[0] > b[0] else b[0])
    if iw <= 0:
        return 0.0
    ih = (a[3] if a[3] < b[3] else b[3]) - (a[1] if a[1] > b[1] else b[1])
    if ih <= 0:
        return 0.0
    inter = iw * ih
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return inter / union if union > 0 else 0.0


def area(box) -> float:
    w, h = box[2] - box[0], box[3] - box[1]
    return w * h if w > 0 and h > 0 else 0.0


def centre(box) -> tuple[float, float]:
    return (box[0] + box[2]) / 2, (box[1] + box[3]) / 2


def centre_distance(a, b) -> float:
    (ax, ay), (bx, by) = centre(a), centre(b)
    return math.hypot(ax - bx, ay - by)


def gap(a, b) -> float:
    """The shortest distance between two boxes (0 when they touch or overlap)."""
    dx = max(0.0, a[0] - b[2], b[0] - a[2])
    dy = max(0.0, a[1] - b[3], b[1] - a[3])
    return math.hypot(dx, dy)


def grid_cell(box, width: float, height: float) -> tuple[str, float]:
    """The 3 x 3 cell of the box centre, and how far (as a share of the image) the centre is from a cell border."""
    cx, cy = centre(box)
    fx, fy = min(max(cx / width, 0.0), 0.999999), min(max(cy / height, 0.0), 0.999999)
    col, row = int(fx * 3), int(fy * 3)
    margin = min(abs(fx * 3 - round(fx * 3)), abs(fy * 3 - round(fy * 3))) / 3
    return GRID_CELLS[row][col], margin


def share_in_cell(box, cell: str, width: float, height: float) -> float:
    """The share of the box's area inside the given 3 x 3 cell.

    >>> share_in_cell([0, 0, 100, 300], "left", 300, 300), share_in_cell([0, 100, 100, 200], "left", 300, 300)
    (0.3333333333333333, 1.0)
    """
    row = next(r for r, cells in enumerate(GRID_CELLS) if cell in cells)
    col = GRID_CELLS[row].index(cell)
    x1, y1, x2, y2 = box
    ix = min(x2, (col + 1) * width / 3) - max(x1, col * width / 3)
    iy = min(y2, (row + 1) * height / 3) - max(y1, row * height / 3)
    area = (x2 - x1) * (y2 - y1)
    return max(ix, 0) * max(iy, 0) / area if area > 0 else 0.0


def _side(a, b, axis: int, extent: float, margin: float, labels: tuple[str, str]) -> str | None:
    """labels[0] / labels[1] when box a lies clearly before / after b along `axis` (0 = x, 1 = y): centres apart
    by `margin` of the image's extent, and overlapping by at most a quarter of the smaller box; else None."""
    lo, hi = axis, axis + 2
    ca, cb = (a[lo] + a[hi]) / 2, (b[lo] + b[hi]) / 2
    overlap = min(a[hi], b[hi]) - max(a[lo], b[lo])
    smaller = min(a[hi] - a[lo], b[hi] - b[lo])
    if abs(ca - cb) < margin * extent or overlap > 0.25 * smaller:
        return None
    return labels[0] if ca < cb else labels[1]


def horizontal_order(a, b, width: float, margin: float) -> str | None:
    """'left' / 'right' from the camera's viewpoint, or None when unclear."""
    return _side(a, b, 0, width, margin, ("left", "right"))


def vertical_order(a, b, height: float, margin: float) -> str | None:
    """'above' / 'below' in the image, or None when unclear."""
    return _side(a, b, 1, height, margin, ("above", "below"))

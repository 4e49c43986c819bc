"""A per-frame index code: the frame number drawn as 16 black/white blocks in the top-left corner.

The layout is proportional to the image (8 columns of width W/20, 2 rows of height H/12), so the
code can be read back from a resized frame as long as the aspect ratio is kept roughly and each
block stays a few pixels wide. Reading samples the middle of each block, which survives lossy coding.
"""

from __future__ import annotations

import numpy as np

BITS = 16
COLS = 8
ROWS = BITS // COLS
_CELL_W = 1 / 20
_CELL_H = 1 / 12


def _cell(height: int, width: int, bit: int) -> tuple[int, int, int, int]:
    row, col = divmod(bit, COLS)
    x0, x1 = round(col * _CELL_W * width), round((col + 1) * _CELL_W * width)
    y0, y1 = round(row * _CELL_H * height), round((row + 1) * _CELL_H * height)
    return y0, y1, x0, x1


def draw_code(image: np.ndarray, value: int) -> None:
    """Draw ``value`` (0 .. 65535) into the top-left corner of an [H, W, 3] uint8 image, in place."""
    if not 0 <= value < 2**BITS:
        raise ValueError(f"index code holds 0..{2**BITS - 1}, got {value}")
    h, w = image.shape[:2]
    for bit in range(BITS):
        y0, y1, x0, x1 = _cell(h, w, bit)
        image[y0:y1, x0:x1] = 255 if (value >> bit) & 1 else 0


def read_code(image: np.ndarray) -> int:
    """Read the value back from an [H, W, 3] or [H, W] image (any size with the same layout)."""
    h, w = image.shape[:2]
    value = 0
    for bit in range(BITS):
        y0, y1, x0, x1 = _cell(h, w, bit)
        dy, dx = max(0, (y1 - y0) // 4), max(0, (x1 - x0) // 4)
        patch = image[y0 + dy : max(y0 + dy + 1, y1 - dy), x0 + dx : max(x0 + dx + 1, x1 - dx)]
        if float(patch.mean()) > 127.5:
            value |= 1 << bit
    return value

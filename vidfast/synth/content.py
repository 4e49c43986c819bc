"""Scene content for synthetic videos: each kind has its own colours, texture and motion, so every
hard cut between two kinds is an obvious content change, and each comes with a true description.

A renderer draws one frame from the grid, the time since the scene began and the scene's progress
(0..1), and a direction flag; all arithmetic is vectorised numpy on float32 (cheap at test sizes).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Grid:
    """Pixel coordinates normalised to 0..1 (x across, y down), shape [H, W], float32."""

    x: np.ndarray
    y: np.ndarray

    @staticmethod
    def make(width: int, height: int) -> Grid:
        y, x = np.mgrid[0:height, 0:width].astype(np.float32)
        return Grid(x / max(1, width - 1), y / max(1, height - 1))


Renderer = Callable[[Grid, float, float, bool], np.ndarray]


def _rgb(*channels: np.ndarray | float, shape: tuple[int, int]) -> np.ndarray:
    return np.stack([np.broadcast_to(np.asarray(c, np.float32), shape) for c in channels], axis=-1)


def _gradient_square(g: Grid, t: float, u: float, flip: bool) -> np.ndarray:
    img = _rgb(230 + 20 * g.x, 120 + 60 * g.y, 30 + 20 * g.x, shape=g.x.shape)
    cx = 0.15 + 0.7 * (1 - u if flip else u)
    inside = (np.abs(g.x - cx) < 0.09) & (np.abs(g.y - 0.5) < 0.16)
    img[inside] = (200, 20, 20)
    return img


def _sine_bars(g: Grid, t: float, u: float, flip: bool) -> np.ndarray:
    phase = (-1 if flip else 1) * 2.0 * t
    wave = 0.5 + 0.5 * np.sin(2 * np.pi * (6 * g.x - phase))
    return _rgb(40 + 200 * wave, 70 + 170 * wave, 200 + 55 * wave, shape=g.x.shape)


def _checkerboard(g: Grid, t: float, u: float, flip: bool) -> np.ndarray:
    shift = (-1 if flip else 1) * 0.25 * t
    cells = (np.floor(8 * g.x) + np.floor(5 * (g.y - shift))) % 2
    return _rgb(10 + 20 * cells, 40 + 170 * cells, 10 + 30 * cells, shape=g.x.shape)


def _disc(g: Grid, t: float, u: float, flip: bool) -> np.ndarray:
    angle = (-1 if flip else 1) * 2 * np.pi * 0.4 * t
    cx, cy = 0.5 + 0.25 * np.cos(angle), 0.5 + 0.25 * np.sin(angle)
    img = _rgb(110 + 20 * g.y, 30, 150 + 30 * g.x, shape=g.x.shape)
    img[(g.x - cx) ** 2 + ((g.y - cy) * 0.6) ** 2 < 0.012] = (250, 220, 30)
    return img


def _stripes(g: Grid, t: float, u: float, flip: bool) -> np.ndarray:
    a = (-1 if flip else 1) * 0.5 * t
    s = 0.5 + 0.5 * np.sign(np.sin(2 * np.pi * 5 * ((g.x - 0.5) * np.cos(a) + (g.y - 0.5) * np.sin(a))))
    return _rgb(200 + 55 * s, 25 + 230 * s, 40 + 215 * s, shape=g.x.shape)


def _rings(g: Grid, t: float, u: float, flip: bool) -> np.ndarray:
    r = np.sqrt((g.x - 0.5) ** 2 + ((g.y - 0.5) * 0.56) ** 2)
    wave = 0.5 + 0.5 * np.sin(2 * np.pi * (10 * r - (1 if not flip else -1) * 0.8 * t))
    v = 60 + 120 * wave
    return _rgb(v, v, v, shape=g.x.shape)


@dataclass(frozen=True)
class SceneKind:
    """One kind of scene: its renderer and its description for either motion direction."""

    name: str
    render: Renderer
    description: str
    description_flipped: str

    def describe(self, flip: bool) -> str:
        """The ground-truth sentence for this scene."""
        return self.description_flipped if flip else self.description


# Ordered so that neighbours in the cycle differ strongly in hue, saturation and brightness.
SCENE_KINDS: tuple[SceneKind, ...] = (
    SceneKind(
        "gradient_square", _gradient_square,
        "A red square moves left to right across a warm orange gradient.",
        "A red square moves right to left across a warm orange gradient.",
    ),
    SceneKind(
        "sine_bars", _sine_bars,
        "Soft blue and white vertical bars drift to the right.",
        "Soft blue and white vertical bars drift to the left.",
    ),
    SceneKind(
        "checkerboard", _checkerboard,
        "A green and black checkerboard scrolls downward.",
        "A green and black checkerboard scrolls upward.",
    ),
    SceneKind(
        "disc", _disc,
        "A yellow disc circles clockwise over a purple background.",
        "A yellow disc circles counterclockwise over a purple background.",
    ),
    SceneKind(
        "stripes", _stripes,
        "Red and white stripes rotate slowly clockwise.",
        "Red and white stripes rotate slowly counterclockwise.",
    ),
    SceneKind(
        "rings", _rings,
        "Grey concentric rings expand outward from the centre.",
        "Grey concentric rings shrink inward toward the centre.",
    ),
)

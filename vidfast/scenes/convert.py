"""Frame conversion for the content detectors: FFmpeg BGR24 + cv2.resize, or the fused native kernel.

PySceneDetect's frames are FFmpeg's full-size BGR24 conversion, then ``cv2.resize`` INTER_LINEAR.
``vidfast._C.yuv420p_small_bgr`` computes the same small frame straight from the yuv420p planes
(FFmpeg's x86 16-bit yuv2rgb arithmetic + OpenCV's fixed-point bilinear), touching only the source
pixels the filter reads — several times cheaper. Because that equality rests on what this FFmpeg and
OpenCV build do, every video is self-checked: the first frame, and any frame whose format, size,
colour space or range differs from the last checked one, is also converted the reference way and
compared; one differing byte switches the video to the reference conversion for good.
"""

from __future__ import annotations

import av
import cv2
import numpy as np

from vidfast import _native

# FFmpeg's ff_yuv2rgb_coeffs rows {crv, cbu, cgu, cgv}, indexed by AVColorSpace / SWS_CS_*.
_BT601 = (104597, 132201, 25675, 53279)
_COEFFS: dict[int, tuple[int, int, int, int]] = {
    1: (117489, 138438, 13975, 34925),  # BT.709
    4: (104448, 132798, 24759, 53109),  # FCC
    7: (117579, 136230, 16907, 35559),  # SMPTE 240M
    9: (110013, 140363, 12277, 42626),  # BT.2020 NCL
    10: (110013, 140363, 12277, 42626),  # BT.2020 CL
}
_LIMITED_RANGES = (0, 1)  # unspecified, MPEG


def reference_small_bgr(frame: av.VideoFrame, out: np.ndarray) -> None:
    """Exactly scenedetect's frame: FFmpeg bgr24 at full size, then cv2.resize INTER_LINEAR into ``out``."""
    bgr = frame.to_ndarray(format="bgr24")
    if bgr.shape[:2] != out.shape[:2]:
        cv2.resize(bgr, (out.shape[1], out.shape[0]), dst=out, interpolation=cv2.INTER_LINEAR)
    else:
        out[...] = bgr


def _planes(frame: av.VideoFrame) -> list[np.ndarray]:
    rows = (frame.height, (frame.height + 1) // 2, (frame.height + 1) // 2)
    return [np.frombuffer(p, np.uint8).reshape(r, p.line_size) for p, r in zip(frame.planes, rows)]


class SmallBgrConverter:
    """Converts decoded frames to scenedetect's small BGR frames, fused when proven equal."""

    def __init__(self, use_native: bool = True) -> None:
        self._c = _native._C if use_native and _native.HAS_NATIVE else None
        if self._c is not None and not hasattr(self._c, "yuv420p_small_bgr"):
            self._c = None
        self._checked_key: tuple | None = None
        self.fused = self._c is not None
        self.fallback_reason: str | None = None
        if self._c is None:
            self.fallback_reason = "native kernel unavailable" if use_native else "fused decode disabled"
        self.fused_frames = 0

    def __call__(self, frame: av.VideoFrame, out: np.ndarray) -> None:
        """Write the small BGR image of ``frame`` into ``out`` [oh, ow, 3]."""
        if not self.fused:
            reference_small_bgr(frame, out)
            return
        key = (frame.format.name, frame.width, frame.height, frame.colorspace, frame.color_range)
        if key[0] != "yuv420p" or key[4] not in _LIMITED_RANGES:
            self._give_up(f"{key[0]} range={key[4]} has no fused path")
            reference_small_bgr(frame, out)
            return
        self._fused(frame, out)
        if key != self._checked_key:
            ref = np.empty_like(out)
            reference_small_bgr(frame, ref)
            if not np.array_equal(ref, out):
                self._give_up(f"fused conversion differs from FFmpeg+OpenCV for {key}")
                out[...] = ref
                return
            self._checked_key = key
        self.fused_frames += 1

    def _fused(self, frame: av.VideoFrame, out: np.ndarray) -> None:
        y, u, v = _planes(frame)
        coeffs = _COEFFS.get(int(frame.colorspace), _BT601)
        self._c.yuv420p_small_bgr(y, u, v, frame.width, frame.height, out, coeffs)

    def _give_up(self, reason: str) -> None:
        self.fused = False
        self.fallback_reason = reason

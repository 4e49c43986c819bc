"""Frame ops with native (C++/OpenMP), CUDA and numpy reference implementations.

- ``resize(frames, size, interpolation="bilinear"|"area")`` — uint8 NHWC resize, cv2.resize semantics
- ``convert_color(frames, code)`` — rgb<->bgr, ->gray, ->hsv with OpenCV 8-bit semantics
- ``yuv420p_to_rgb(y, u, v, size=None, matrix=, full_range=)`` — decode-path colour conversion (+resize)
- ``split_yuv420p(packed)`` — PyAV's ``to_ndarray(format="yuv420p")`` array -> (y, u, v) planes
- ``normalize_to_chw(frames, size, mean, std)`` — uint8 NHWC -> float32 NCHW model input
- ``reference`` — the pure-numpy implementations (fallback and test oracle)

Every op takes one frame ``[H, W, C]`` or a batch ``[N, H, W, C]`` (numpy or torch) and
``backend="auto"|"native"|"reference"|"cuda"``; ``auto`` uses CUDA kernels for torch CUDA tensors,
the native CPU kernels for host arrays, and the reference when nothing faster is built.
"""

from vidfast.ops._dispatch import BACKENDS, available_backends
from vidfast.ops.color import COLOR_CODES, convert_color
from vidfast.ops.normalize import normalize_to_chw
from vidfast.ops.resize import INTERPOLATIONS, resize
from vidfast.ops.yuv import YUV_MATRICES, split_yuv420p, yuv420p_to_rgb

__all__ = [
    "BACKENDS",
    "COLOR_CODES",
    "INTERPOLATIONS",
    "YUV_MATRICES",
    "available_backends",
    "convert_color",
    "normalize_to_chw",
    "resize",
    "split_yuv420p",
    "yuv420p_to_rgb",
]

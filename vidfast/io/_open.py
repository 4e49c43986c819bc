"""Open a video file with PyAV and turn every way it can fail into a DecodeError with a reason."""

from __future__ import annotations

import errno
import os
from pathlib import Path

import av
from av.container import InputContainer
from av.video.stream import VideoStream

from vidfast.errors import DecodeError

# Leading bytes of container formats we recognise: a file that starts like a video but cannot be
# opened was almost always cut off (interrupted download or recording), not random data.
_SIGNATURES: tuple[tuple[int, bytes, str], ...] = (
    (4, b"ftyp", "MP4/MOV"),
    (0, b"\x1a\x45\xdf\xa3", "Matroska/WebM"),
    (8, b"AVI ", "AVI"),
    (0, b"FLV", "FLV"),
    (0, b"\x00\x00\x01\xba", "MPEG-PS"),
)


def check_path(path: str | os.PathLike[str]) -> Path:
    """The path as a Path, or a DecodeError if it is missing, a directory, empty or unreadable."""
    p = Path(path)
    if "\x00" in str(p):
        raise DecodeError("bad_name", f"{str(p)!r}: the path contains a NUL character; fix the input list.")
    try:
        os.stat(p)
    except OSError as exc:
        if exc.errno == errno.ENAMETOOLONG:
            raise DecodeError(
                "bad_name", f"{str(p)[:120]}...: the name is too long for the file system "
                f"({len(os.fsencode(p.name))} bytes); fix the input list or rename the file."
            ) from None
    if not p.exists():
        raise DecodeError(
            "missing", f"{p}: no such file; check the path (relative paths resolve from {os.getcwd()})."
        )
    if p.is_dir():
        raise DecodeError(
            "not_a_video", f"{p}: is a directory, not a video file; pass the video files inside it."
        )
    if p.stat().st_size == 0:
        raise DecodeError("empty_file", f"{p}: the file is empty (0 bytes); re-download or re-export it.")
    if not os.access(p, os.R_OK):
        raise DecodeError(
            "unreadable", f"{p}: permission denied; make the file readable (chmod a+r) or run as its owner."
        )
    return p


def sniff_container(path: Path) -> str | None:
    """The container family the file's first bytes announce, or None when they match none we know."""
    with open(path, "rb") as fh:
        head = fh.read(16)
    for offset, magic, name in _SIGNATURES:
        if head[offset : offset + len(magic)] == magic:
            return name
    return None


def _open_failure(path: Path, exc: Exception) -> DecodeError:
    if isinstance(exc, PermissionError):
        return DecodeError("unreadable", f"{path}: permission denied ({exc}); make the file readable.")
    family = sniff_container(path)
    if family is not None:
        return DecodeError(
            "truncated",
            f"{path}: starts like an {family} file but FFmpeg cannot read its index ({exc}); "
            "the file is probably cut off (interrupted download/recording). Re-download it, or re-mux "
            "what is left with `ffmpeg -i in -c copy out.mkv` / untrunc.",
        )
    return DecodeError(
        "not_a_video",
        f"{path}: not a video FFmpeg can read ({exc}); check that the file is really a video and not "
        "an HTML page, image or partial download.",
    )


def open_input(path: str | os.PathLike[str]) -> tuple[Path, InputContainer]:
    """Check the path and open it for reading; every failure is a DecodeError with a reason."""
    p = check_path(path)
    try:
        container = av.open(str(p), mode="r", metadata_errors="ignore")
    except (av.FFmpegError, OSError, UnicodeDecodeError, ValueError) as exc:
        raise _open_failure(p, exc) from exc
    return p, container


def first_video_stream(container: InputContainer, path: Path) -> VideoStream:
    """The container's first video stream, or DecodeError('no_video_stream')."""
    if not container.streams.video:
        kinds = sorted({s.type for s in container.streams}) or ["none"]
        raise DecodeError(
            "no_video_stream",
            f"{path}: has no video stream (streams: {', '.join(kinds)}); it is probably an audio-only "
            "file — remove it from the input list.",
        )
    return container.streams.video[0]

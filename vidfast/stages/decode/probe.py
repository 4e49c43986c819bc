"""Stages that probe videos and check that they decode, with the PyAV reference backend."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

from vidfast.errors import DecodeError
from vidfast.io import decode_check, probe
from vidfast.runtime.records import VideoTask
from vidfast.runtime.stage import Resources, Stage


@dataclass
class ProbeStage(Stage):
    """Reads container and stream facts; an unreadable input fails here with its reason."""

    name: ClassVar[str] = "probe"
    resources: ClassVar[Resources] = Resources(cpus=1.0, memory_gb=0.1)
    count_frames: bool = True

    def process_item(self, task: VideoTask) -> dict[str, Any]:
        info = probe(task.video, count_frames=self.count_frames)
        self.stats.add("duration_s", info.duration_s or 0.0)
        return info.to_dict()


@dataclass
class DecodeCheckStage(Stage):
    """Decodes every frame at a tiny size, counting decoded and corrupt frames."""

    name: ClassVar[str] = "decode_check"
    resources: ClassVar[Resources] = Resources(cpus=1.0, memory_gb=0.3)
    check_size: int = 0
    threads: int = 0

    def process_item(self, task: VideoTask) -> dict[str, Any]:
        size = (self.check_size, self.check_size) if self.check_size else None
        stats = decode_check(task.video, size=size, threads=self.threads or None)
        if stats.frames_decoded == 0:
            raise DecodeError("decode_failed", f"{task.video}: no frame could be decoded; the file is damaged.")
        self.stats.add("frames", stats.frames_decoded)
        self.stats.add("frames_corrupt", stats.frames_corrupt)
        return stats.to_dict()

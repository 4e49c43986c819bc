"""Video input: probing, decoding and frame sampling on PyAV (FFmpeg).

- ``probe(path, count_frames=False) -> VideoInfo``: container/stream facts; DecodeError with a reason
  for missing, empty, unreadable, non-video, audio-only and truncated files.
- ``decode(path, ...) -> Iterator[DecodedFrame]``: threaded streaming decode at a chosen size and
  format; ``decode_check(path) -> DecodeStats``: decode everything once, keep nothing.
- ``plan_uniform`` / ``plan_fps`` -> ``SamplePlan``; ``sample_frames(path, plan, ...) -> SampledFrames``:
  the planned frames in one forward pass (forward keyframe jumps on sparse plans).
"""

from vidfast.io.decode import DecodedFrame, DecodeStats, FrameFormat, decode, decode_check, output_size
from vidfast.io.probe import VideoInfo, probe
from vidfast.io.sampling import SampledFrames, SamplePlan, plan_fps, plan_uniform, sample_frames

__all__ = [
    "DecodeStats",
    "DecodedFrame",
    "FrameFormat",
    "SamplePlan",
    "SampledFrames",
    "VideoInfo",
    "decode",
    "decode_check",
    "output_size",
    "plan_fps",
    "plan_uniform",
    "probe",
    "sample_frames",
]

"""``vidfast synth OUT``: write synthetic test videos with a JSON truth sidecar."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import click

from vidfast.errors import ConfigError
from vidfast.synth.generate import CODECS, SynthOptions, generate


def _parse_size(ctx: click.Context, param: click.Parameter, value: str) -> tuple[int, int]:
    try:
        w, h = (int(v) for v in value.lower().split("x"))
    except ValueError:
        raise click.BadParameter(f"expected WIDTHxHEIGHT such as 320x180, got {value!r}") from None
    return w, h


@click.command("synth")
@click.argument("out", type=click.Path(path_type=Path))
@click.option("--duration", default=5.0, show_default=True, help="Seconds of video.")
@click.option("--fps", default=25.0, show_default=True, help="Frame rate (the mean rate with --vfr).")
@click.option(
    "--size", default="320x180", show_default=True, callback=_parse_size, help="WIDTHxHEIGHT, even."
)
@click.option("--codec", type=click.Choice(sorted(CODECS)), default="h264", show_default=True,
              help="Container follows OUT's extension: .mp4 (h264, vp9), .mkv (all), .webm (vp9), "
              ".avi (mjpeg, h264).")
@click.option("--scenes", default=4, show_default=True, help="Number of scenes.")
@click.option(
    "--fade/--no-fade", default=True, show_default=True, help="Join one pair of scenes by a cross-dissolve."
)
@click.option("--fade-seconds", default=1.0, show_default=True, help="Length of the cross-dissolve.")
@click.option("--vfr", is_flag=True, help="Variable frame rate (irregular frame durations).")
@click.option("--noise", default=6.0, show_default=True, help="Gaussian noise std-dev, in 0-255 levels.")
@click.option("--seed", default=0, show_default=True, help="Random seed (scene order, timing, noise).")
@click.option("--audio", is_flag=True, help="Add an audio track (a quiet tone).")
@click.option("--crf", default=23, show_default=True, help="Quality for h264/vp9 (lower is better).")
@click.option("--gop", type=int, default=None, help="Keyframe interval in frames (default: encoder's).")
@click.option("--index-code", is_flag=True, help="Draw each frame's index as a block code in the corner.")
@click.option(
    "--rotation", type=click.Choice(["0", "90", "180", "270"]), default="0",
    help="Display rotation (clockwise).",
)
@click.option(
    "--count", default=1, show_default=True, help="Write N videos into directory OUT (seeds seed..seed+N-1)."
)
def synth_command(out: Path, count: int, **kwargs: object) -> None:
    """Write synthetic video OUT (or COUNT videos into directory OUT) with a <video>.json truth file."""
    kwargs["fade_s"] = kwargs.pop("fade_seconds")
    kwargs["rotation"] = int(str(kwargs["rotation"]))
    opts = SynthOptions(**kwargs)  # type: ignore[arg-type]
    targets = _targets(out, count, opts)
    try:
        for path, seed in targets:
            truth = generate(path, dataclasses.replace(opts, seed=seed))
            click.echo(
                f"{path}: {truth.frame_count} frames, {truth.duration:.2f} s, "
                f"cuts {truth.cuts}, fades {truth.fades}"
            )
    except ConfigError as exc:
        raise click.UsageError(str(exc)) from exc


def _targets(out: Path, count: int, opts: SynthOptions) -> list[tuple[Path, int]]:
    if count < 1:
        raise click.BadParameter("must be >= 1", param_hint="--count")
    if count == 1 and out.suffix:
        return [(out, opts.seed)]
    if out.suffix:
        raise click.UsageError(f"with --count {count}, OUT must be a directory, not {out}")
    ext = ".webm" if opts.codec == "vp9" else ".avi" if opts.codec == "mjpeg" else ".mp4"
    return [(out / f"synth_{opts.seed + i:04d}{ext}", opts.seed + i) for i in range(count)]

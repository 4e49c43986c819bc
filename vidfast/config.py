"""Run configuration: dataclasses are the single source; presets, YAML files and ``--set`` feed them.

Resolution order (later wins): dataclass defaults → preset (``vidfast/presets/<name>.yaml``) →
``--config FILE.yaml`` → ``--set key.sub=value``. Unknown keys and invalid values raise
``ConfigError`` naming the key, the valid choices and the closest match.
"""

from __future__ import annotations

import dataclasses
import difflib
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import ConfigDict, Field, TypeAdapter, ValidationError

from vidfast.errors import ConfigError

PRESETS_DIR = Path(__file__).resolve().parent / "presets"
PositiveInt = Annotated[int, Field(ge=1)]
NonNegInt = Annotated[int, Field(ge=0)]
# CLIP / tagger runtime: torch (eager), its torch.compile twins (torch-cudagraphs: + CUDA graphs, CUDA only),
# onnxruntime, or TensorRT engines built from the ONNX exports (vidfast.models.tensorrt)
VisionBackend = Literal["auto", "torch", "torch-compile", "torch-cudagraphs", "onnxruntime", "tensorrt"]


@dataclass
class DecodeConfig:
    """Video decoding."""

    # auto: GPU decode (DALI, else PyNvVideoCodec) when a GPU and the package are present, else pyav.
    # dali without a GPU uses DALI's CPU decoder (VP8/VP9/MJPEG only). Applies to sampled frames (key
    # frames, scene/caption frames not kept by shot detection); shot detection itself decodes with PyAV.
    backend: Literal["auto", "pyav", "dali", "nvdec"] = "auto"
    threads: NonNegInt = 0  # decoder threads per video; 0 lets FFmpeg choose
    device_frames: bool = False  # keep GPU-decoded frames on the GPU for the model stages (no host copy)


@dataclass
class ProbeConfig:
    """The ``probe`` recipe: what to check for every input video."""

    count_frames: bool = True  # exact frame count and VFR detection by demuxing every packet
    decode_check: bool = True  # decode every frame (at a tiny size) and count corrupt ones
    check_size: NonNegInt = 0  # 0: decode only; N: also scale every frame to N x N grey (exercises the scaler)


@dataclass
class ScenesConfig:
    """Shot detection and scene rules (detector defaults equal PySceneDetect 0.7's)."""

    detector: Literal["content", "adaptive", "transnetv2"] = "content"
    threshold: float | None = None  # None: the detector's default (27 / 3.0 / 0.5)
    min_scene_len: PositiveInt = 15  # frames
    backend: Literal["auto", "native", "reference", "cuda"] = "auto"
    min_scene_s: Annotated[float, Field(ge=0)] = 0.5  # shorter scenes are dropped
    max_scenes: PositiveInt | None = None  # cap per video; None = no cap (a cap, when hit, is reported)


@dataclass
class GroundingConfig:
    """The InternVid-G grounding recipe (defaults: the original's, bugs fixed)."""

    frames_per_scene: PositiveInt = 3
    normalize_scene_embeddings: bool = False  # the original averaged un-normalised embeddings
    merge_threshold: float = 0.85
    merge_rule: Literal["last", "union"] = "last"
    caption_min_scene_s: Annotated[float, Field(ge=0)] = 1.0  # merged scenes shorter than this get no caption
    caption_prompt: str | None = None  # BLIP-2 prompt; None = plain captioning
    caption_max_new_tokens: PositiveInt = 30
    caption_score: Literal["max", "mean"] = "max"  # over the scene's sampled frames
    selection: str = "median"  # median (whole run) | video_median | a fixed clip_sim threshold such as 0.25
    boundary_shift: float = 0.25
    span_same_threshold: float = 0.8
    min_caption_span_s: float = 0.5
    max_caption_span_s: float = 10.0
    no_context: Literal["drop", "flag", "keep"] = "drop"  # records whose negative span adds nothing
    clip_batch_size: PositiveInt = 64
    caption_batch_size: PositiveInt = 16
    videos_per_batch: PositiveInt = 8  # model stages batch across this many videos
    # One decode per video: shot detection keeps the frames CLIP and BLIP-2 will need (scenes/keeper.py).
    keep_frames: bool = True
    keep_window_mb: PositiveInt = 256  # decoded frames held per video while their scene may still need them
    keep_cache_mb: PositiveInt = 1024  # converted frames kept per video; beyond it they are fetched later
    keep_merge_groups: PositiveInt = 4  # merged scenes of up to this many scenes get their middle kept
    duplicates: bool = True  # write duplicates.jsonl: near-identical merged scenes across videos
    duplicate_threshold: Annotated[float, Field(ge=-1, le=1)] = 0.95  # cosine of mean scene embeddings
    duplicate_neighbours: PositiveInt = 16  # neighbours each scene looks at (raise for heavy duplication)
    search_backend: Literal["auto", "faiss", "numpy"] = "auto"
    vision_backend: VisionBackend = "auto"
    emit_intermediates: bool = False  # also write the original tool's intermediate files
    hawkeye_records: bool = True  # HawkEye grounding instruction records
    seed: int = 0


@dataclass
class ModelsConfig:
    """Which models the recipes load: HF repo ids, local directories, or ``embedded:<name>``."""

    clip: str = "openai/clip-vit-large-patch14"
    blip2: str = "Salesforce/blip2-opt-2.7b"
    # clip-zero-shot (models.clip over the tag vocabulary), another CLIP ref, or a Tag2Text/RAM tagging model
    # (tag2text-swin-14m, ram-swin-large-14m, embedded:ram-tiny, a converted directory or an original .pth)
    tagger: str = "clip-zero-shot"
    detector: str = "google/owlv2-base-patch16-ensemble"  # region boxes (OWLv2 / OWL-ViT)
    llm: str = "Qwen/Qwen2.5-7B-Instruct"
    text_encoder: str = "sentence-transformers/all-MiniLM-L6-v2"
    device: Literal["auto", "cpu", "cuda"] = "auto"
    dtype: Literal["auto", "float32", "float16", "bfloat16"] = "auto"


@dataclass
class LLMConfig:
    """The LLM recipes (videochatgpt, videochat, videochat2, judge) and their engine."""

    backend: Literal["auto", "transformers", "vllm", "openai"] = "auto"
    endpoint: str | None = None  # base URL of a local OpenAI-compatible server (backend openai)
    max_retries: NonNegInt = 2  # re-samples of an invalid answer before it is recorded as a failure
    batch_size: PositiveInt = 16  # requests per generate batch (transformers backend)
    videos_per_batch: PositiveInt = 64  # videos whose prompts go to the engine in one call
    max_tokens: PositiveInt | None = None  # cap on every task's max_tokens (None: the prompt files')
    temperature: Annotated[float, Field(ge=0)] | None = None  # override every task's temperature
    descriptive: bool = True  # videochatgpt: also the 150-300-word detailed-description item
    dedup: bool = True  # drop near-duplicate QA within a video (MiniLM, models.text_encoder)
    dedup_threshold: Annotated[float, Field(gt=0, le=1)] = 0.92
    captions: str | None = None  # caption JSON ({id: {sentences}} or {id: text}) or "sidecar"; None: sidecar
    predictions: str | None = None  # judge: predictions JSON list
    judge_criteria: str = "auto"  # auto | comma list of correctness,detail_orientation,context,temporal,consistency,zero_shot
    mcq_options: Annotated[int, Field(ge=2, le=26)] = 4  # videochat2 options per question
    mcq_labels: str | None = None  # videochat2: candidate label list (.txt lines or JSON list) for distractors
    mcq_task: str = "Answer a multiple-choice question about what happens in a short video."
    seed: int = 0


@dataclass
class VideoChatGPTConfig:
    """The videochatgpt recipe's semi-automatic path: key frames -> BLIP-2 captions, tags, region
    captions -> tag-vocabulary filter -> LLM dense summary -> QA (seed-spec 1.4)."""

    # auto: with llm.captions the GT caption + the dense summary (semi prompts; an input that is only
    # an id gets the human-assisted QA), without it the dense summary alone; human: captions only
    # (llm.captions or sidecars); semi: the dense summary alone; assisted: caption + dense summary.
    mode: Literal["auto", "human", "semi", "assisted"] = "auto"
    key_frames: PositiveInt = 8  # per video, uniformly over its duration (one decode pass)
    pred_dir: str | None = None  # precomputed {id}.json 4-tuples (the original's --pred_dir) instead of vision
    caption_prompt: str | None = None  # BLIP-2 prompt for frames and regions; None = plain captioning
    caption_max_new_tokens: PositiveInt = 30
    tag_vocabulary: Literal["tag2text", "ram"] = "tag2text"
    tag_template: str = "a photo of {tag}"
    tag_threshold: float = 0.25  # CLIP cosine a tag needs (ViT-L/14 matches score ~0.25-0.35); -1: top-k only
    tag_top_k: PositiveInt = 10  # at most this many tags per key frame, best first
    # Tag2Text/RAM tagger (models.tagger): one probability threshold for every class; None: the model's own
    tag_model_threshold: Annotated[float, Field(ge=0, le=1)] | None = None
    region_top_k: PositiveInt = 5  # region captions per key frame
    region_min_score: Annotated[float, Field(ge=0, le=1)] = 0.1  # detector score (sigmoid) a box needs
    region_nms_iou: Annotated[float, Field(gt=0, le=1)] = 0.5
    region_rank: Literal["objectness", "tags"] = "objectness"  # class-agnostic (GRiT-like) or tag queries
    creative_semi: bool = False  # also the creative QA when the dense summary is used (the original had none)
    vision_backend: VisionBackend = "auto"  # CLIP (tagger)
    vision_batch_size: PositiveInt = 16  # frames / crops per model call


@dataclass
class RayStageConfig:
    """How the Ray executor runs one stage (``runtime.ray.stages.<stage name>.<key>``)."""

    num_gpus: Annotated[float, Field(ge=0)] | None = None  # per worker, fractions share a GPU; None: the stage's
    num_cpus: Annotated[float, Field(ge=0)] | None = None  # per worker; None: the stage's (model actors 0)
    actors: PositiveInt | None = None  # fixed actor-pool size; None: 1 without GPUs, else up to GPUs / num_gpus
    batch_size: PositiveInt | None = None  # videos per call; None: the stage's


@dataclass
class RayConfig:
    """The Ray executor (``runtime.executor=ray``): which cluster, and per-stage resources."""

    address: str | None = None  # auto | ray://host:port | host:port; None: $RAY_ADDRESS, else a new local cluster
    num_cpus: PositiveInt | None = None  # a new local cluster's CPUs (None: all of this machine's)
    num_gpus: NonNegInt | None = None  # a new local cluster's GPUs (None: those Ray detects)
    object_store_mb: PositiveInt | None = None  # a new local cluster's object store (None: Ray's default)
    worker_retries: NonNegInt = 3  # re-runs of a batch whose worker process died, before its videos fail alone
    # torch intra-op threads in each worker process (0: the node's CPUs, as a local run has; Ray alone
    # would give a worker reserving < 1 CPU one thread, starving CPU model stages)
    torch_threads: NonNegInt = 0
    stages: dict[str, RayStageConfig] = field(default_factory=dict)


@dataclass
class RuntimeConfig:
    """The executor."""

    executor: Literal["local", "ray"] = "local"
    workers: PositiveInt = 2  # workers per CPU stage (local executor)
    queue_size: PositiveInt = 16  # bound of each inter-stage queue (back-pressure, local executor)
    progress: bool = True
    retry_failed: bool = False  # re-try videos whose failure is stored from an earlier run
    verbose: bool = False  # library output (weight loading, warnings) on the terminal, not in vidfast.log
    # i/n: this process runs shard i of n (videos chosen by a hash of their id) into the shared run
    # directory, writing manifest.<i>-of-<n>.jsonl; `vidfast merge DIR` exports once all n are done.
    shard: str | None = None
    ray: RayConfig = field(default_factory=RayConfig)
    report_html: bool = True  # write report.html (figures need the `report` extra: matplotlib)


@dataclass
class RunConfig:
    """Everything one ``vidfast run`` needs besides its inputs and output directory."""

    recipe: str = "probe"
    preset: str = "default"
    decode: DecodeConfig = field(default_factory=DecodeConfig)
    probe: ProbeConfig = field(default_factory=ProbeConfig)
    scenes: ScenesConfig = field(default_factory=ScenesConfig)
    grounding: GroundingConfig = field(default_factory=GroundingConfig)
    models: ModelsConfig = field(default_factory=ModelsConfig)
    llm: LLMConfig = field(default_factory=LLMConfig)
    videochatgpt: VideoChatGPTConfig = field(default_factory=VideoChatGPTConfig)
    runtime: RuntimeConfig = field(default_factory=RuntimeConfig)

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


# A value that parses as a number is accepted for a text field (``--set grounding.selection=-1``,
# ``selection: 0.25`` in YAML): such fields document numbers among their values.
for _section in [v for v in list(globals().values()) if isinstance(v, type) and dataclasses.is_dataclass(v)]:
    _section.__pydantic_config__ = ConfigDict(coerce_numbers_to_str=True)  # type: ignore[attr-defined]


def available_presets() -> list[str]:
    return sorted(p.stem for p in PRESETS_DIR.glob("*.yaml"))


def _read_yaml(path: Path, what: str) -> dict[str, Any]:
    try:
        doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ConfigError(f"cannot read {what} {path}: {exc.strerror or exc}") from exc
    except yaml.YAMLError as exc:
        raise ConfigError(f"{what} {path} is not valid YAML: {exc}") from exc
    if doc is None:
        return {}
    if not isinstance(doc, dict):
        raise ConfigError(f"{what} {path} must hold a mapping of config keys, got {type(doc).__name__}")
    return doc


def _check_keys(doc: dict[str, Any], cls: type, prefix: str = "") -> None:
    """Raise on keys that are not fields of ``cls`` (recursively), suggesting the closest one."""
    fields = {f.name: f for f in dataclasses.fields(cls)}
    for key, value in doc.items():
        dotted = f"{prefix}{key}"
        if key not in fields:
            hint = difflib.get_close_matches(str(key), fields, n=1)
            did = f" Did you mean '{prefix}{hint[0]}'?" if hint else ""
            raise ConfigError(
                f"unknown config key '{dotted}'.{did} Valid keys{' under ' + prefix[:-1] if prefix else ''}: "
                f"{', '.join(sorted(fields))}."
            )
        ftype = fields[key].default_factory if fields[key].default_factory is not dataclasses.MISSING else None
        if ftype is not None and dataclasses.is_dataclass(ftype):
            if not isinstance(value, dict):
                raise ConfigError(f"config key '{dotted}' is a section; give it a mapping, e.g. {dotted}.<key>=...")
            _check_keys(value, ftype, dotted + ".")
        item_type = _mapping_of_sections(cls, key)
        if item_type is not None:  # e.g. runtime.ray.stages.<stage name>.<key>
            if not isinstance(value, dict):
                raise ConfigError(f"config key '{dotted}' maps names to sections; e.g. {dotted}.<name>.<key>=...")
            for name, section in value.items():
                if not isinstance(section, dict):
                    raise ConfigError(f"config key '{dotted}.{name}' is a section; give it a mapping, "
                                      f"e.g. {dotted}.{name}.<key>=...")
                _check_keys(section, item_type, f"{dotted}.{name}.")


def _mapping_of_sections(cls: type, key: str) -> type | None:
    """The section class ``X`` when field ``key`` of ``cls`` is a ``dict[str, X]`` of dataclasses."""
    hint = typing.get_type_hints(cls).get(key)
    if typing.get_origin(hint) is dict:
        args = typing.get_args(hint)
        if len(args) == 2 and dataclasses.is_dataclass(args[1]):
            return args[1]
    return None


def _merge(base: dict[str, Any], update: dict[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for key, value in update.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = _merge(out[key], value)
        else:
            out[key] = value
    return out


def parse_override(item: str) -> dict[str, Any]:
    """Turn ``a.b=value`` into ``{"a": {"b": value}}``; the value is parsed as a YAML scalar."""
    key, sep, raw = item.partition("=")
    if not sep or not key.strip():
        raise ConfigError(f"--set expects key=value (e.g. runtime.workers=4), got {item!r}")
    try:
        value = yaml.safe_load(raw) if raw.strip() else ""
    except yaml.YAMLError:
        value = raw
    doc: dict[str, Any] = value
    for part in reversed(key.strip().split(".")):
        doc = {part: doc}
    return doc


def _validate(doc: dict[str, Any]) -> RunConfig:
    try:
        return TypeAdapter(RunConfig).validate_python(doc)
    except ValidationError as exc:
        problems = []
        for err in exc.errors():
            loc = ".".join(str(p) for p in err["loc"])
            problems.append(f"config '{loc}': {err['msg']} (got {err.get('input')!r})")
        raise ConfigError("; ".join(problems)) from None


def load_config(
    preset: str = "default",
    config_file: str | Path | None = None,
    overrides: list[str] | tuple[str, ...] = (),
    **values: Any,
) -> RunConfig:
    """Resolve a ``RunConfig`` from a preset, an optional YAML file, ``--set`` overrides and keywords."""
    if preset not in available_presets():
        raise ConfigError(f"unknown preset {preset!r}; available presets: {', '.join(available_presets())}")
    doc: dict[str, Any] = {}
    layers = [_read_yaml(PRESETS_DIR / f"{preset}.yaml", "preset")]
    if config_file is not None:
        layers.append(_read_yaml(Path(config_file), "config file"))
    layers += [parse_override(o) for o in overrides]
    layers.append({k: v for k, v in values.items() if v is not None})
    for layer in layers:
        _check_keys(layer, RunConfig)
        doc = _merge(doc, layer)
    doc["preset"] = preset
    return _validate(doc)


def config_yaml(cfg: RunConfig) -> str:
    return yaml.safe_dump(cfg.to_dict(), sort_keys=False)

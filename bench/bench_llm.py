"""LLM engine benchmark: batched engine vs one request at a time (how the originals called the API).

Same backend, same model (SmolLM2-135M-Instruct), same requests: the ``sequential`` competitor
calls ``generate`` once per request, as the original scripts made one blocking API call per item;
the ``batched`` competitor submits the whole workload in one ``generate`` call. Reported per mode:
wall time, requests/s, valid QA items/s, generated tokens/s, and per task the share of answers
valid on the first try and after retries (failures are counted, never dropped).

    python bench/bench_llm.py                       # transformers in this venv (+ vllm if .venv-vllm exists)
    python bench/bench_llm.py --backends transformers --n 8
    .venv-vllm/bin/python bench/bench_llm.py --backends vllm --json-out /tmp/vllm.json
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

CAPTIONS = [
    "A man in a red shirt rides a bike down a steep hill, stops by a fountain and drinks water.",
    "Two girls play tennis on a clay court; one serves, the other misses and both laugh.",
    "A chef chops onions on a wooden board, fries them in a pan and adds chopped tomatoes.",
    "A dog chases a yellow ball across a park lawn and brings it back to a small boy.",
    "A woman paints a blue flower on a canvas near a window while rain falls outside.",
    "Three friends set up a tent at a lake, light a campfire and roast marshmallows at dusk.",
    "A mechanic lifts a car with a jack, removes a flat tire and fits the spare wheel.",
    "A skateboarder jumps over a bench in a plaza and lands while a crowd cheers.",
]
JUDGED = [("What does the man ride?", "a bike", p) for p in ("a bicycle", "a horse", "a red bike", "nothing")]
# task -> (how many QA items one valid answer holds)
QA_ITEMS = {
    "summary_qa": 3,
    "description_qa": 3,
    "creative_qa": 1,
    "clip_caption_condense": 0,
    "judge_correctness": 0,
}


def workload(n: int, max_tokens: int | None) -> list[Any]:
    """``n`` captions x (summary QA, description QA, creative QA, condensation) + 2n judge calls."""
    from vidfast.llm import load_prompt

    reqs = []
    for i in range(n):
        cap = CAPTIONS[i % len(CAPTIONS)]
        for task in ("summary_qa", "description_qa", "creative_qa"):
            spec = load_prompt(task)
            samp = replace(
                spec.sampling, seed=i, max_tokens=min(spec.sampling.max_tokens, max_tokens or 10**6)
            )
            reqs.append(spec.request(key=f"{task}/{i}", sampling=samp, caption=cap))
        reqs.append(load_prompt("clip_caption_condense").request(key=f"cond/{i}", captions=cap))
    judge = load_prompt("judge_correctness")
    reqs += [
        judge.request(key=f"judge/{i}", question=q, answer=a, prediction=p)
        for i, (q, a, p) in enumerate(JUDGED * max(1, n // 2))
    ]
    return reqs


def _caption_index(request: Any) -> int:
    """The caption a request belongs to (judge calls count two per caption), to subsample the same mix."""
    index = int(request.key.split("/")[1])
    return index // 2 if request.key.startswith("judge/") else index


def run_mode(engine: Any, reqs: list[Any], sequential: bool) -> dict[str, Any]:
    """Time one competitor on a fresh set of counters."""
    engine.stats = {}
    t0 = time.perf_counter()
    results = [engine.generate([r])[0] for r in reqs] if sequential else engine.generate(reqs)
    wall = time.perf_counter() - t0
    qa_items = sum(QA_ITEMS[r.task] for r in results if r.ok)
    tokens = sum(r.tokens_out for r in results)
    return {
        "wall_s": round(wall, 2),
        "requests": len(reqs),
        "valid": sum(r.ok for r in results),
        "requests_per_s": round(len(reqs) / wall, 3),
        "qa_items": qa_items,
        "qa_per_s": round(qa_items / wall, 3),
        "generated_tokens": tokens,
        "tokens_per_s": round(tokens / wall, 1),
        "per_task": engine.stats_dict(),
    }


def bench_backend(backend: str, n: int, max_tokens: int | None, sequential_n: int | None) -> dict[str, Any]:
    """Load the engine once, warm it up, then run batched and sequential on the same requests."""
    from vidfast.llm import create_engine

    t0 = time.perf_counter()
    opts = {"max_model_len": 2048} if backend == "vllm" else {"batch_size": 64}
    engine = create_engine(backend, "smollm2", **opts)
    load_s = time.perf_counter() - t0
    reqs = workload(n, max_tokens)
    engine.generate(workload(1, 16))  # warm-up: compile schemas / caches, not timed
    batched = run_mode(engine, reqs, sequential=False)
    seq_reqs = reqs if sequential_n is None else [r for r in reqs if _caption_index(r) < sequential_n]
    sequential = run_mode(engine, seq_reqs, sequential=True)
    return {
        "backend": backend,
        "model": getattr(engine, "model_path", "smollm2"),
        "load_s": round(load_s, 1),
        "batched": batched,
        "sequential": sequential,
        "speedup_requests_per_s": round(batched["requests_per_s"] / sequential["requests_per_s"], 2),
        "speedup_tokens_per_s": round(batched["tokens_per_s"] / max(sequential["tokens_per_s"], 1e-9), 2),
    }


def _in_vllm_venv(args: argparse.Namespace) -> dict[str, Any] | None:
    from vidfast import envs

    py = Path(envs.get("VIDFAST_VLLM_VENV")) / "bin" / "python"
    if not py.is_file():
        return {"skipped": f"no vLLM venv at {py.parent.parent} (scripts/setup_vllm_cpu.sh)"}
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "vllm.json"
        cmd = [str(py), __file__, "--backends", "vllm", "--n", str(args.n), "--json-out", str(out)]
        cmd += ["--max-tokens", str(args.max_tokens)] if args.max_tokens else []
        cmd += ["--sequential-n", str(args.sequential_n)] if args.sequential_n is not None else []
        env = {**os.environ, "VLLM_CPU_KVCACHE_SPACE": os.environ.get("VLLM_CPU_KVCACHE_SPACE", "1")}
        proc = subprocess.run(cmd, env=env, capture_output=True, text=True, check=False)
        if proc.returncode != 0:
            return {"failed": proc.stderr[-2000:]}
        return json.loads(out.read_text())["vllm"]


def main() -> None:
    """Parse arguments, run the chosen backends, write bench/results/llm.json (or --json-out)."""
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--backends", default="transformers,vllm")
    ap.add_argument(
        "--n", type=int, default=8, help="captions in the workload (5 requests each + judge calls)"
    )
    ap.add_argument("--max-tokens", type=int, default=None, help="cap on max_tokens of the QA tasks")
    ap.add_argument(
        "--sequential-n",
        type=int,
        default=None,
        help="run the sequential competitor on the first K captions only (rates stay comparable)",
    )
    ap.add_argument("--json-out", default=None, help="write raw JSON here instead of bench/results/llm.json")
    args = ap.parse_args()
    import importlib.util

    out: dict[str, Any] = {}
    for backend in args.backends.split(","):
        if backend == "vllm" and importlib.util.find_spec("vllm") is None:
            out["vllm"] = _in_vllm_venv(args)
        else:
            out[backend] = bench_backend(backend, args.n, args.max_tokens, args.sequential_n)
        print(json.dumps({backend: out[backend]}, indent=1)[:3000], flush=True)
    if args.json_out:
        Path(args.json_out).write_text(json.dumps(out))
        return
    from bench.common import write_result

    payload = {
        "workload": {
            "captions": args.n,
            "max_tokens_cap": args.max_tokens,
            "sequential_captions": args.sequential_n,
        },
        "results": out,
    }
    print("wrote", write_result("llm", payload))


if __name__ == "__main__":  # vLLM spawns workers: the guard is required
    main()

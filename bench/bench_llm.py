"""LLM engine benchmark: batched engine vs one request at a time (how the originals called the API).

Same backend, same model (SmolLM2-135M-Instruct), same requests (same prompts, max_tokens,
temperature, top-p, frequency penalty and per-request seeds): the ``sequential`` competitor calls
``generate`` once per request, as the original scripts made one blocking API call per item; the
``batched`` competitor submits the whole workload in one ``generate`` call. Reported per mode:
wall time, CPU time (this process and its children - vLLM's engine runs in child processes), the
load average around the run, requests/s, valid QA items/s, generated tokens/s, the same per CPU
second, and per task the share of answers valid on the first try and after retries; failures are
listed with their error and raw text, never dropped. The ratios batched/sequential are given on
wall time and on CPU time (the latter is the fairer one on a machine shared with other work).

The batched competitor gets a realistic batch (a run submits ``llm.videos_per_batch`` videos' prompts
per call, hundreds of requests); the sequential one, whose rate does not depend on the workload
size, runs the first K captions of the same workload (identical requests, same task mix) to keep
the run short; ``same_answer_share`` checks that those requests got the same answers in both.

    python bench/bench_llm.py                       # transformers in this venv (+ vllm if .venv-vllm exists)
    python bench/bench_llm.py --backends transformers --n 8 --sequential-n 2
    .venv-vllm/bin/python bench/bench_llm.py --backends vllm --json-out /tmp/vllm.json

bench/results/llm.json holds one section per backend, each with the date, command line, load
and library versions of the run that produced it: a run updates the sections of the backends it
measured and keeps the others from the previous file as they were (marked ``kept``: the vLLM
section stays when the vLLM venv is absent here, instead of being replaced by a skip).
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
    """``n`` captions x (summary QA, description QA, creative QA, condensation) + 2n judge calls.

    Every request carries its own seed, so both competitors sample from the same random streams.
    """
    from vidfast.llm import load_prompt

    def sampling(task: str, seed: int) -> Any:
        s = load_prompt(task).sampling
        return replace(s, seed=seed, max_tokens=min(s.max_tokens, max_tokens or 10**6))

    reqs = []
    for i in range(n):
        cap = CAPTIONS[i % len(CAPTIONS)]
        for task in ("summary_qa", "description_qa", "creative_qa"):
            reqs.append(load_prompt(task).request(key=f"{task}/{i}", sampling=sampling(task, i), caption=cap))
        cond = "clip_caption_condense"
        reqs.append(load_prompt(cond).request(key=f"cond/{i}", sampling=sampling(cond, i), captions=cap))
    judge = load_prompt("judge_correctness")
    reqs += [
        judge.request(
            key=f"judge/{i}", sampling=sampling("judge_correctness", i), question=q, answer=a, prediction=p
        )
        for i, (q, a, p) in enumerate(JUDGED * max(1, n // 2))
    ]
    return reqs


def _caption_index(request: Any) -> int:
    """The caption a request belongs to (judge calls count two per caption), to subsample the same mix."""
    index = int(request.key.split("/")[1])
    return index // 2 if request.key.startswith("judge/") else index


def cpu_seconds() -> float:
    """CPU time (user + system) of this process, its live children and its reaped children."""
    import resource

    import psutil

    me = psutil.Process()
    total = sum(me.cpu_times()[:2])
    for child in me.children(recursive=True):
        try:
            total += sum(child.cpu_times()[:2])
        except psutil.Error:
            pass
    reaped = resource.getrusage(resource.RUSAGE_CHILDREN)
    return total + reaped.ru_utime + reaped.ru_stime


def run_mode(engine: Any, reqs: list[Any], sequential: bool) -> tuple[dict[str, Any], list[Any]]:
    """Time one competitor on a fresh set of counters; its report and its results."""
    engine.stats = {}
    load0, c0, t0 = os.getloadavg()[0], cpu_seconds(), time.perf_counter()
    results = [engine.generate([r])[0] for r in reqs] if sequential else engine.generate(reqs)
    wall, cpu, load1 = time.perf_counter() - t0, cpu_seconds() - c0, os.getloadavg()[0]
    qa_items = sum(QA_ITEMS[r.task] for r in results if r.ok)
    tokens = sum(r.tokens_out for r in results)
    first = sum(r.ok and r.attempts == 1 for r in results)
    return {
        "wall_s": round(wall, 2),
        "cpu_s": round(cpu, 2),
        "load_avg_1m": [round(load0, 2), round(load1, 2)],
        "requests": len(reqs),
        "valid": sum(r.ok for r in results),
        "first_try_valid": first,
        "first_try_valid_share": round(first / max(len(reqs), 1), 3),
        "valid_share": round(sum(r.ok for r in results) / max(len(reqs), 1), 3),
        "requests_per_s": round(len(reqs) / wall, 3),
        "qa_items": qa_items,
        "qa_per_s": round(qa_items / wall, 3),
        "qa_per_cpu_s": round(qa_items / max(cpu, 1e-9), 3),
        "generated_tokens": tokens,
        "tokens_per_s": round(tokens / wall, 1),
        "tokens_per_cpu_s": round(tokens / max(cpu, 1e-9), 1),
        "per_task": engine.stats_dict(),
        "failures": [
            {"key": r.key, "attempts": r.attempts, "error": r.error, "raw": r.text[:300]}
            for r in results
            if not r.ok
        ],
    }, results


def _ratio(a: float, b: float) -> float | None:
    return round(a / b, 2) if b else None


def bench_backend(
    backend: str, n: int, max_tokens: int | None, sequential_n: int | None, batch_size: int = 64,
    dtype: str = "auto",
) -> dict[str, Any]:
    """Load the engine once, warm it up, then run batched and sequential on the same requests."""
    from vidfast.llm import create_engine

    t0 = time.perf_counter()
    if backend == "vllm":  # ~90k fp32 tokens of SmolLM2: room for a few hundred requests at once
        os.environ.setdefault("VLLM_CPU_KVCACHE_SPACE", "4")
    opts = {"max_model_len": 2048} if backend == "vllm" else {"batch_size": batch_size, "dtype": dtype}
    engine = create_engine(backend, "smollm2", **opts)
    load_s = time.perf_counter() - t0
    reqs = workload(n, max_tokens)
    engine.generate(workload(1, 16))  # warm-up: compile schemas / caches, not timed
    batched, b_results = run_mode(engine, reqs, sequential=False)
    seq_reqs = reqs if sequential_n is None else [r for r in reqs if _caption_index(r) < sequential_n]
    sequential, s_results = run_mode(engine, seq_reqs, sequential=True)
    # Fairness check: the requests both competitors ran should get the same answers.
    by_key = {r.key: r.text for r in b_results}
    same = sum(by_key[r.key] == r.text for r in s_results)
    engine_info: dict[str, Any] = {"model": getattr(engine, "model_path", "smollm2")}
    if backend == "vllm":
        import vllm

        engine_info.update(
            vllm=vllm.__version__, dtype=engine.dtype, structured_outputs=engine.structured_backend
        )
    else:
        import torch

        engine_info.update(
            batch_size=batch_size,
            dtype=str(engine.model.dtype).removeprefix("torch."),
            torch_threads=torch.get_num_threads(),
            grammar=getattr(engine, "grammar_engine", None) or "none (prompting + forced JSON prefix)",
        )
    return {
        "backend": backend,
        **engine_info,
        "load_s": round(load_s, 1),
        "batched": batched,
        "sequential": sequential,
        "same_answer_share": round(same / max(len(s_results), 1), 3),
        "speedup": {
            "qa_per_s": _ratio(batched["qa_per_s"], sequential["qa_per_s"]),
            "tokens_per_s": _ratio(batched["tokens_per_s"], sequential["tokens_per_s"]),
            "requests_per_s": _ratio(batched["requests_per_s"], sequential["requests_per_s"]),
            "qa_per_cpu_s": _ratio(batched["qa_per_cpu_s"], sequential["qa_per_cpu_s"]),
            "tokens_per_cpu_s": _ratio(batched["tokens_per_cpu_s"], sequential["tokens_per_cpu_s"]),
        },
    }


def _sizes(text: str | None) -> dict[str, int] | int | None:
    """``8`` or ``vllm=32,transformers=16`` (a size per backend)."""
    if text is None or "=" not in text:
        return None if text is None else int(text)
    return {k.strip(): int(v) for k, v in (part.split("=") for part in text.split(","))}


def _for(backend: str, sizes: dict[str, int] | int | None) -> int | None:
    return sizes.get(backend) if isinstance(sizes, dict) else sizes


def _in_vllm_venv(args: argparse.Namespace) -> dict[str, Any] | None:
    from vidfast import envs

    py = Path(envs.get("VIDFAST_VLLM_VENV")) / "bin" / "python"
    if not py.is_file():
        return {"skipped": f"no vLLM venv at {py.parent.parent} (scripts/setup_vllm_cpu.sh)"}
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "vllm.json"
        n, seq_n = _for("vllm", args.n), _for("vllm", args.sequential_n)
        cmd = [str(py), __file__, "--backends", "vllm", "--n", str(n), "--json-out", str(out)]
        cmd += ["--max-tokens", str(args.max_tokens)] if args.max_tokens else []
        cmd += ["--sequential-n", str(seq_n)] if seq_n is not None else []
        cmd += ["--batch-size", str(args.batch_size)]
        # 4 GiB of KV cache: ~90k fp32 tokens of SmolLM2, room for a few hundred requests at once
        env = {**os.environ, "VLLM_CPU_KVCACHE_SPACE": os.environ.get("VLLM_CPU_KVCACHE_SPACE", "4")}
        proc = subprocess.run(cmd, env=env, capture_output=True, text=True, check=False)
        if proc.returncode != 0:
            return {"failed": proc.stderr[-2000:]}
        return json.loads(out.read_text())["vllm"]


def main() -> None:
    """Parse arguments, run the chosen backends, write bench/results/llm.json (or --json-out)."""
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--backends", default="transformers,vllm")
    ap.add_argument(
        "--n",
        type=_sizes,
        default=_sizes("vllm=32,transformers=8"),
        help="captions in the workload (4 requests each + 2 judge calls): N, or per backend vllm=N,transformers=M",
    )
    ap.add_argument(
        "--max-tokens",
        type=int,
        default=None,
        help="cap on every task's max_tokens (default: the prompt files')",
    )
    ap.add_argument(
        "--sequential-n",
        type=_sizes,
        default=_sizes("vllm=8,transformers=8"),
        help="run the sequential competitor on the first K captions only: the same requests as the "
        "batched run's first K captions, same task mix, so rates compare (K, or per backend like --n)",
    )
    ap.add_argument("--batch-size", type=int, default=64, help="transformers backend: requests per batch")
    ap.add_argument("--dtype", default="auto", choices=("auto", "float32", "bfloat16"),
                    help="transformers backend: weights dtype (auto: the engine's choice for this device)")
    ap.add_argument("--note", default=None, help="free text stored with the result (e.g. machine load)")
    ap.add_argument("--json-out", default=None, help="write raw JSON here instead of bench/results/llm.json")
    args = ap.parse_args()
    import importlib.util

    out: dict[str, Any] = {}
    for backend in args.backends.split(","):
        if backend == "vllm" and importlib.util.find_spec("vllm") is None:
            out["vllm"] = _in_vllm_venv(args)
        else:
            out[backend] = bench_backend(
                backend,
                _for(backend, args.n),
                args.max_tokens,
                _for(backend, args.sequential_n),
                args.batch_size,
                args.dtype,
            )
        print(json.dumps({backend: out[backend]}, indent=1)[:3000], flush=True)
    if args.json_out:
        Path(args.json_out).write_text(json.dumps(out))
        return
    print("wrote", write_merged(out, args))


def write_merged(out: dict[str, Any], args: argparse.Namespace) -> Path:
    """Write bench/results/llm.json: this run's sections, plus the previous file's for backends not measured now."""
    from bench.common import RESULTS_DIR, describe_machine, write_result

    run = {
        "date": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "command": "python bench/bench_llm.py " + " ".join(sys.argv[1:]),
        "machine": describe_machine(),
        "note": args.note,
    }
    sections: dict[str, Any] = {}
    for backend, result in out.items():
        if result is None or "skipped" in result or "failed" in result:
            continue
        sections[backend] = {
            **result,
            "run": run,
            "workload": {
                "captions": _for(backend, args.n),
                "sequential_captions": _for(backend, args.sequential_n),
                "max_tokens_cap": args.max_tokens,
                "requests": len(workload(_for(backend, args.n), args.max_tokens)),
            },
        }
    previous_path = RESULTS_DIR / "llm.json"
    previous = json.loads(previous_path.read_text()) if previous_path.is_file() else {}
    for backend in ("transformers", "vllm"):
        if backend in sections or not isinstance(previous.get(backend), dict):
            continue
        kept = dict(previous[backend])
        # a section from the older single-run layout gets that run's description
        kept.setdefault(
            "run",
            {
                k: previous.get(k)
                for k in ("date", "command", "machine", "note")
                if previous.get(k) is not None
            },
        )
        kept["kept"] = "not rerun by the latest command; measured by the run described in its `run`"
        sections[backend] = kept
    why_not = {b: r for b, r in out.items() if r is not None and ("skipped" in r or "failed" in r)}
    payload = {
        "command": run["command"],
        "note": "each backend's section carries the run (date, command, machine, load) that measured it",
        **({"not_measured_now": why_not} if why_not else {}),
        **sections,
    }
    return write_result("llm", payload)


if __name__ == "__main__":  # vLLM spawns workers: the guard is required
    main()

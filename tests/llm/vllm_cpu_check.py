"""Run by test_llm_vllm_cpu.py inside .venv-vllm: real vLLM (CPU) engine on SmolLM2, prints one JSON line."""

from __future__ import annotations

import json
import sys


def main() -> None:
    from vidfast.llm import create_engine, load_prompt, pick_backend
    from vidfast.llm.vllm_backend import prefix_order

    engine = create_engine("vllm", max_model_len=2048)
    detailed = load_prompt("detailed_description_qa")
    cond, judge, qa = (
        load_prompt("clip_caption_condense"),
        load_prompt("judge_zero_shot"),
        load_prompt("summary_qa"),
    )
    caps = [
        "A man rides a bike down a hill and stops to drink water.",
        "Two girls play tennis and laugh after a missed serve.",
        "A chef chops onions and fries them in a pan.",
    ]
    reqs = [cond.request(key=f"c{i}", captions=c) for i, c in enumerate(caps)]
    reqs += [
        judge.request(key=f"j{i}", question="What does the man ride?", answer="a bike", prediction=p)
        for i, p in enumerate(["a bicycle", "a horse"])
    ]
    reqs += [qa.request(key="qa", caption=caps[0])]
    # 150-300 words: the largest word-limit pattern, which only a lazy grammar compiler (guidance) handles
    reqs += [detailed.request(key="dd", description="; ".join(caps))]
    results = engine.generate(reqs)
    print(
        json.dumps(
            {
                "auto": pick_backend("auto"),
                "dtype": engine.dtype,
                "structured_backend": engine.structured_backend,
                "order": prefix_order(reqs),
                "results": [
                    {
                        "key": r.key,
                        "ok": r.ok,
                        "attempts": r.attempts,
                        "data": r.data,
                        "error": r.error,
                        "tokens_out": r.tokens_out,
                    }
                    for r in results
                ],
                "stats": engine.stats_dict(),
            }
        ),
        flush=True,
    )
    sys.stdout.flush()


if __name__ == "__main__":  # vLLM spawns workers: the guard is required
    main()

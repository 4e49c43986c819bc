"""The GPU check's dry run: every step of bench/gpu_check.sh on this CPU machine with tiny sizes.

It proves the script and bench/bench_gpu.py run end to end (environment report, carried wheels, the
native build check, the needs_cuda tests collected, the similarity chain, and every bench section:
CLIP eager vs its compiled twin, BLIP-2 batched vs batch-1, the RAM tagger, decode via DALI's CPU
decoder vs PyAV, and the grounding recipe with injected one-layer full-size-architecture models). The
numbers of a dry run mean nothing; the GPU figures come from running it without --dry-run on a GPU.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]

pytest.importorskip("torch")
pytest.importorskip("transformers")


def test_gpu_check_dry_run_runs_every_step(tmp_path: Path) -> None:
    env = {**os.environ, "PYTHON": sys.executable, "VIDFAST_BENCH_RESULTS": str(tmp_path),
           "VIDFAST_CACHE_DIR": str(tmp_path / "cache"), "HF_HUB_OFFLINE": "1"}  # fmt: skip
    proc = subprocess.run(["bash", str(REPO / "bench" / "gpu_check.sh"), "--dry-run"], cwd=REPO, env=env,
                          capture_output=True, text=True, timeout=900, check=False)  # fmt: skip
    doc = json.loads((tmp_path / "gpu_check_dry.json").read_text())
    steps = {s["step"]: s["rc"] for s in doc["steps"]}
    assert steps == {s: 0 for s in ("env", "wheels", "build", "cuda_tests", "similarity", "bench_gpu")}, (
        proc.stdout
    )
    assert proc.returncode == 0
    sections = doc["sections"]
    assert set(sections) == {"clip", "blip2", "decode", "grounding", "tagger"}
    assert not [name for name, s in sections.items() if "error" in s or "skipped" in s], sections
    assert doc["dry_run"] is True and doc["machine"]["cpu"]
    assert sections["clip"]["twin_cos_min_vs_eager"] > 0.999
    assert sections["grounding"]["done"] == 1 and sections["grounding"]["failed"] == 0
    assert sections["decode"]["frames"] > 0 and sections["blip2"]["batched_vs_batch1"] > 0
    assert (tmp_path / "similarity.json").is_file()
    assert "needs_cuda" not in proc.stderr  # the dry run never reports a missing GPU as an error

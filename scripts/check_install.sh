#!/usr/bin/env bash
# Install vidfast exactly as the README's Install section says — `pip install ".[models,onnx,faiss]"`,
# not editable — into a new virtual environment outside the checkout, then check it from another
# directory (scripts/check_installed.py: every module imports, the data files are there, a probe run
# writes real rows). CI runs this before the tests, so no packaging hole can land again.
#   PYTHON=python3   the interpreter to build the environment from
#   KEEP=1           keep the environment and its work directory (printed) for a look afterwards
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
PYTHON=${PYTHON:-python3}
tmp=$(mktemp -d)
[ "${KEEP:-0}" = 1 ] || trap 'rm -rf "$tmp"' EXIT
start=$(date +%s)
"$PYTHON" -m venv "$tmp/venv"
. "$tmp/venv/bin/activate"
pip install -q --upgrade pip
pip install -q "torch==2.13.0"    # the CPU build on CPU machines, as in the README
pip install -q "$repo[models,onnx,faiss]"
cd "$tmp"                          # nothing of the checkout on sys.path
python "$repo/scripts/check_installed.py" "$tmp/work"
echo "install check passed in $(( $(date +%s) - start )) s (environment: $tmp/venv)"

#!/usr/bin/env bash
# Fetch the wheels bench/gpu_check.sh installs on the GPU machine (which reaches no package index) into
# wheels/ (git-ignored; the device call carries it, 64 MiB at most). Run on a connected CPU machine:
#
#   bash bench/gpu_wheels.sh                  # for the GPU machine's Python (default 3.12)
#   GPU_PYTHON=3.11 bash bench/gpu_wheels.sh
#
# What and why (cp312 manylinux x86_64): vidfast's own dependencies with theirs (av 35 MB — the PyAV
# reference decoder; pydantic, click, jsonschema, httpx, tenacity, psutil ...: a few MB), pytest, pybind11
# (to build vidfast._C with nvcc there), and pynvvideocodec 27 MB (NVDEC) when it still fits. pip on the GPU
# machine installs from this directory only what is missing there. DALI (199 MB) and TensorRT (no wheels on
# PyPI) cannot be carried, so their GPU figures stay unmeasured unless the GPU image has them.
set -euo pipefail
cd "$(dirname "$0")/.."
PYV=${GPU_PYTHON:-3.12}
DEST=wheels
mkdir -p "$DEST"
REQUIRED=${GPU_WHEELS:-"av==19.0.2 numpy pydantic click pyyaml tqdm psutil jsonschema httpx tenacity pytest pybind11"}
OPTIONAL=${GPU_WHEELS_OPTIONAL:-"pynvvideocodec==2.2.4"}
download() {
  # shellcheck disable=SC2086
  python3 -m pip download --only-binary=:all: --dest "$DEST" --python-version "$PYV" \
    --platform manylinux_2_28_x86_64 --platform manylinux2014_x86_64 --platform manylinux_2_17_x86_64 "$@"
}
size() { du -cb "$DEST"/*.whl | tail -n 1 | cut -f1; }
LIMIT=$((64 * 1024 * 1024 - 512 * 1024))  # the rest of the working tree needs a little room too
# numpy, typing-extensions etc. come with the GPU image; they are fetched only to resolve, then dropped
download $REQUIRED
rm -f "$DEST"/numpy-*.whl
if [ "$(size)" -gt "$LIMIT" ]; then
  echo "wheels/ holds $(( $(size) / 1048576 )) MiB of required wheels: over the 64 MiB a device call carries" >&2
  exit 1
fi
for pkg in $OPTIONAL; do
  download --no-deps "$pkg"
  if [ "$(size)" -gt "$LIMIT" ]; then
    name=${pkg%%=*}
    rm -f "$DEST"/"${name}"-*.whl
    echo "dropped $pkg: it does not fit in the 64 MiB carry limit (its figures stay unmeasured)" >&2
  fi
done
ls -la "$DEST"
TOTAL=$(size)
echo "wheels/: $((TOTAL / 1048576)) MiB, carry it with the device call (carry: [\"wheels\"])"

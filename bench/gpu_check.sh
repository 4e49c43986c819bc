#!/usr/bin/env bash
# The GPU verification of vidfast in ONE call on a lent GPU machine (H100/H200), inside the 10-minute
# limit of one device command (GPU_CHECK_DEADLINE_S, default 570 s: each step gets at most what is left):
#
#   1. environment: GPU, driver, python/torch versions;
#   2. wheels carried in wheels/ (bench/gpu_wheels.sh fetches them on a connected CPU machine) installed
#      with --no-deps --no-index;
#   3. the native extension built with nvcc for this GPU's architecture (pip install -e . through CMake, or
#      tools/build_native_direct.py when the machine has no CMake);
#   4. VIDFAST_FAIL_WITHOUT_CUDA=1 pytest -m needs_cuda (a skipped CUDA test would hide a missing GPU);
#   5. bench/bench_gpu.py: CLIP ViT-L/14 fp16 images/s (eager vs torch.compile+CUDA graphs vs TensorRT),
#      BLIP-2 batched vs batch-1, the RAM tagger, NVDEC decode fps vs PyAV, grounding video-hours/GPU-hour;
#   6. bench/bench_similarity.py at 10k scenes (the chain vs its GEMM) — run before step 5, which gets
#      what is left of the deadline.
#
# Every step has a time limit, logs to bench/results/gpu_check/<step>.log and appends its exit status to
# steps.jsonl; a failing step does not stop the others. The exit status is the number of failed steps.
#
#   bash bench/gpu_check.sh             # on the GPU machine
#   bash bench/gpu_check.sh --dry-run   # on a CPU machine: every step with tiny sizes, results to a scratch dir
set -uo pipefail
cd "$(dirname "$0")/.."
DRY=0
[ "${1:-}" = "--dry-run" ] && DRY=1
PY=${PYTHON:-python3}
if [ "$DRY" = 1 ]; then
  OUT=${VIDFAST_BENCH_RESULTS:-$(mktemp -d -t vidfast-gpu-check-XXXX)}
else
  OUT=bench/results/gpu
fi
export VIDFAST_BENCH_RESULTS=$OUT
LOGS=$OUT/gpu_check
mkdir -p "$LOGS"
: > "$LOGS/steps.jsonl"
FAILED=0
# The whole check must end inside one device call (10 minutes): steps get what is left of this deadline.
DEADLINE=${GPU_CHECK_DEADLINE_S:-570}

log() { echo "[gpu_check $(date -u +%H:%M:%S)] $*"; }

# step NAME LIMIT_S CMD...: run CMD with a time limit, log it, record {step, rc, seconds}
step() {
  local name=$1 limit=$2
  shift 2
  local left=$((DEADLINE - SECONDS - 20))  # 20 s kept for the summary
  if [ "$left" -lt 15 ]; then
    log "step $name skipped: the ${DEADLINE}s deadline is reached"
    printf '{"step": "%s", "rc": 124, "seconds": 0, "skipped": "deadline"}\n' "$name" >> "$LOGS/steps.jsonl"
    FAILED=$((FAILED + 1))
    return
  fi
  [ "$limit" -gt "$left" ] && limit=$left
  log "step $name (limit ${limit}s): $*"
  local t0=$SECONDS
  timeout --kill-after=10 "$limit" bash -c '"$@"' step-"$name" "$@" > "$LOGS/$name.log" 2>&1
  local rc=$?
  printf '{"step": "%s", "rc": %d, "seconds": %d}\n' "$name" "$rc" $((SECONDS - t0)) >> "$LOGS/steps.jsonl"
  tail -n 4 "$LOGS/$name.log" | sed "s/^/    /"
  [ "$rc" = 0 ] || { FAILED=$((FAILED + 1)); log "step $name FAILED (rc $rc)"; }
}

env_report() {
  nvidia-smi --query-gpu=name,driver_version,memory.total,compute_cap --format=csv || echo "no nvidia-smi (dry run: no GPU)"
  "$PY" - <<'EOF'
import platform, torch
print("python", platform.python_version(), "torch", torch.__version__, "cuda", torch.version.cuda,
      "gpu", torch.cuda.get_device_name(0) if torch.cuda.is_available() else None)
for m in ("triton", "cupy", "numba", "onnxruntime", "cv2", "transformers", "av", "PyNvVideoCodec", "nvidia.dali", "tensorrt"):
    try:
        mod = __import__(m, fromlist=["x"])
        print(m, getattr(mod, "__version__", "?"))
    except Exception as exc:
        print(m, "missing:", type(exc).__name__)
EOF
  command -v nvcc && nvcc --version | tail -n 1
}

install_wheels() {
  shopt -s nullglob
  local wheels=(wheels/*.whl)
  if [ ${#wheels[@]} = 0 ]; then echo "no carried wheels in wheels/"; return 0; fi
  if [ "$DRY" = 1 ]; then  # built for the GPU machine's Python: check the archives and the carry size
    "$PY" - "${wheels[@]}" <<'EOF'
import os, sys, zipfile
bad = [w for w in sys.argv[1:] if zipfile.ZipFile(w).testzip() is not None]
size = sum(os.path.getsize(w) for w in sys.argv[1:])
print(len(sys.argv) - 1, "wheels,", round(size / 2**20, 1), "MiB; damaged:", bad)
sys.exit(1 if bad or size > 64 * 2**20 else 0)
EOF
    return
  fi
  # only what the GPU image lacks: pip resolves against the installed packages and this directory
  local names
  names=$(for w in "${wheels[@]}"; do basename "$w" | cut -d- -f1; done)
  # shellcheck disable=SC2086
  "$PY" -m pip install --no-index --find-links wheels $names
}

build_native() {
  if [ "$DRY" = 1 ]; then  # the CPU box already built it (scripts/bootstrap.sh); check what was built
    "$PY" -c "import vidfast._native as n; assert n.HAS_NATIVE, n.NATIVE_IMPORT_ERROR; print(n.build_info())"
    return
  fi
  # only this GPU's architecture (a quarter of the compile time of the default four)
  local arch
  arch=$(nvidia-smi --query-gpu=compute_cap --format=csv,noheader 2>/dev/null | head -n 1 | tr -d '. ')
  export VIDFAST_CUDA_ARCHS=${VIDFAST_CUDA_ARCHS:-${arch:-90}}
  if command -v cmake > /dev/null; then
    VIDFAST_TARGET_DEVICE=cuda "$PY" -m pip install --no-deps --no-build-isolation -e .
  else  # no CMake on the machine (its wheel does not fit the carry): the same sources, compiled directly
    "$PY" tools/build_native_direct.py --device cuda --archs "$VIDFAST_CUDA_ARCHS"
  fi &&
    "$PY" -c "import vidfast._native as n; assert n.HAS_CUDA_KERNELS, 'built without CUDA kernels'; print(n.build_info())"
}

cuda_tests() {
  if [ "$DRY" = 1 ]; then  # the tests exist and are collected; they run on the GPU
    "$PY" -m pytest -m needs_cuda --collect-only -q tests
    return
  fi
  VIDFAST_FAIL_WITHOUT_CUDA=1 "$PY" -m pytest -m needs_cuda -q -rs -p no:cacheprovider tests
}

summary() {
  "$PY" - "$LOGS/steps.jsonl" "$OUT" "$DRY" <<'EOF'
import json, sys
from pathlib import Path
steps = [json.loads(line) for line in Path(sys.argv[1]).read_text().splitlines() if line.strip()]
out, dry = Path(sys.argv[2]), sys.argv[3] == "1"
name = "gpu_check_dry.json" if dry else "gpu_check.json"
path = out / name
doc = json.loads(path.read_text()) if path.is_file() else {"benchmark": name[:-5], "sections": {}}
doc["steps"] = steps
path.write_text(json.dumps(doc, indent=2) + "\n")
print(path, "steps:", [(s["step"], s["rc"]) for s in steps])
EOF
}

# run from the checkout whether or not the editable install succeeds (the direct build writes vidfast/_C*.so)
export PYTHONPATH=$PWD${PYTHONPATH:+:$PYTHONPATH}
export DRY PY
export -f env_report install_wheels build_native cuda_tests

if [ "$DRY" = 1 ]; then
  BENCH_ARGS=(--dry-run)
  SIM_ARGS=(--sizes 200 --repeat 1)
else
  BENCH_ARGS=(--budget-s 240)
  SIM_ARGS=(--sizes 10000 --repeat 3)
fi

step env 30 env_report
step wheels 60 install_wheels
step build 150 build_native
step cuda_tests 150 cuda_tests
step similarity 60 "$PY" bench/bench_similarity.py "${SIM_ARGS[@]}"
step bench_gpu 330 "$PY" bench/bench_gpu.py "${BENCH_ARGS[@]}"
summary
log "done: $FAILED failed step(s); results in $OUT"
exit "$FAILED"

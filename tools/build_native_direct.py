"""Build ``vidfast._C`` with g++ and nvcc directly, for machines without CMake (the lent GPU machine).

The normal build is ``pip install .`` (setup.py drives CMakeLists.txt). This script compiles the same
sources with the same flags and definitions — every ``csrc/**/*.cpp``, plus ``csrc/**/*.cu`` when nvcc
is found (``VIDFAST_WITH_CUDA``), OpenMP, the generated ``vidfast_build_info.h`` — and links the module
in place (``vidfast/_C<ext-suffix>``), so ``PYTHONPATH=<repo>`` finds it. It needs pybind11 and a C++17
compiler; CUDA links ``cudart_static`` from ``$CUDA_HOME/lib64`` (default: next to nvcc).

    python tools/build_native_direct.py [--device auto|cpu|cuda] [--archs 90] [--out vidfast] [--jobs N]
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import sysconfig
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CXX_FLAGS = [
    "-std=c++17",
    "-O3",
    "-fno-math-errno",
    "-fno-trapping-math",
    "-fPIC",
    "-fvisibility=hidden",
    "-Wall",
]
NVCC_FLAGS = ["-std=c++17", "-O3", "--fmad=false", "-lineinfo", "-Xcompiler", "-fPIC,-fvisibility=hidden"]


def _run(cmd: list[str]) -> None:
    proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if proc.returncode:
        sys.exit(f"build failed: {' '.join(cmd)}\n{proc.stdout}\n{proc.stderr}")


def _compiler_version(cxx: str) -> str:
    out = subprocess.run([cxx, "--version"], capture_output=True, text=True, check=False).stdout.splitlines()
    first = out[0] if out else cxx
    return ("GNU " + first.split()[-1]) if "g++" in first or "GCC" in first else first


def _nvcc_version(nvcc: str) -> str:
    out = subprocess.run([nvcc, "--version"], capture_output=True, text=True, check=False).stdout
    for token in out.replace(",", " ").split():
        if token.startswith("V") and token[1:2].isdigit():
            return token[1:]
    return ""


def _cuda_lib_dirs(nvcc: str) -> list[str]:
    """Where libcudart_static.a may live: $CUDA_HOME, nvcc's own toolkit (asked with -v, since nvcc
    may be a wrapper script), /usr/local/cuda."""
    homes = [os.environ.get("CUDA_HOME", ""), str(Path(nvcc).resolve().parent.parent), "/usr/local/cuda"]
    probe = subprocess.run(
        [nvcc, "--dryrun", "-x", "cu", "-c", os.devnull, "-o", os.devnull],
        capture_output=True,
        text=True,
        check=False,
    )
    for line in (probe.stdout + probe.stderr).splitlines():
        if line.startswith("#$ TOP="):
            homes.insert(0, line.split("=", 1)[1].strip())
    dirs = []
    for home in filter(None, homes):
        for sub in ("lib64", "lib", "targets/x86_64-linux/lib"):
            if (Path(home) / sub / "libcudart_static.a").is_file():
                dirs.append(str(Path(home) / sub))
    if not dirs:
        sys.exit(f"libcudart_static.a not found under {homes}; set CUDA_HOME to the CUDA toolkit")
    return dirs


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--device", default=os.environ.get("VIDFAST_TARGET_DEVICE", "auto"), choices=("auto", "cpu", "cuda")
    )
    parser.add_argument(
        "--archs", default=os.environ.get("VIDFAST_CUDA_ARCHS", "80;86;89;90"), help="e.g. 90 or 80;90"
    )
    parser.add_argument("--out", default=str(ROOT / "vidfast"), help="directory the module is written to")
    parser.add_argument("--build-dir", default=str(ROOT / "build" / "direct"))
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 2)
    args = parser.parse_args(argv)
    import pybind11

    cxx = os.environ.get("CXX", "g++")
    nvcc = None if args.device == "cpu" else (os.environ.get("CUDACXX") or shutil.which("nvcc"))
    if args.device == "cuda" and not nvcc:
        sys.exit("--device cuda but no nvcc on PATH (or CUDACXX)")
    cuda = nvcc is not None
    archs = [a.strip() for a in args.archs.replace(",", ";").split(";") if a.strip()]
    build = Path(args.build_dir) / ("cuda" if cuda else "cpu")
    gen = build / "generated"
    gen.mkdir(parents=True, exist_ok=True)
    info = (ROOT / "csrc" / "build_info.h.in").read_text()
    values = {
        "VIDFAST_ARCHS_BUILT": ";".join(archs) if cuda else "",
        "VIDFAST_CUDA_VERSION": _nvcc_version(nvcc) if cuda else "",
        "VIDFAST_COMPILER": _compiler_version(cxx),
        "VIDFAST_TARGET_DEVICE": args.device,
    }
    for key, value in values.items():
        info = info.replace(f"@{key}@", value)
    info = info.replace("#cmakedefine01 VIDFAST_OPENMP", "#define VIDFAST_OPENMP 1")
    (gen / "vidfast_build_info.h").write_text(info)

    includes = ["-I", str(ROOT / "csrc"), "-I", str(gen), "-I", pybind11.get_include(),
                "-I", sysconfig.get_paths()["include"]]  # fmt: skip
    defines = ["-DVIDFAST_WITH_CUDA"] if cuda else []
    jobs: list[list[str]] = []
    objects: list[str] = []
    for src in sorted((ROOT / "csrc").rglob("*.cpp")):
        obj = str(build / (src.relative_to(ROOT).as_posix().replace("/", "_") + ".o"))
        jobs.append([cxx, *CXX_FLAGS, "-fopenmp", *defines, *includes, "-c", str(src), "-o", obj])
        objects.append(obj)
    if cuda:
        gencode = [f"-gencode=arch=compute_{a},code=sm_{a}" for a in archs]
        for src in sorted((ROOT / "csrc").rglob("*.cu")):
            obj = str(build / (src.relative_to(ROOT).as_posix().replace("/", "_") + ".o"))
            jobs.append([nvcc, *NVCC_FLAGS, *gencode, *defines, *includes, "-c", str(src), "-o", obj])
            objects.append(obj)
    with ThreadPoolExecutor(max(1, args.jobs)) as pool:
        list(pool.map(_run, jobs))
    target = Path(args.out) / ("_C" + sysconfig.get_config_var("EXT_SUFFIX"))
    link = [cxx, "-shared", "-o", str(target), *objects, "-fopenmp"]
    if cuda:
        link += [f"-L{d}" for d in _cuda_lib_dirs(nvcc)] + ["-lcudart_static", "-lpthread", "-ldl", "-lrt"]
    _run(link)
    print(
        f"built {target} (cuda={cuda}, archs={values['VIDFAST_ARCHS_BUILT'] or '-'}, {len(objects)} objects)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())

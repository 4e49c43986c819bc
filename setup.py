"""Build script: packages vidfast and builds the native extension vidfast._C with CMake.

Build switches come from ``vidfast/envs.py`` (loaded by file path, so the package is never imported
at build time):

* ``VIDFAST_TARGET_DEVICE`` = ``auto`` (CUDA kernels when nvcc is found) | ``cpu`` | ``cuda``
* ``VIDFAST_SKIP_NATIVE=1`` builds no extension; vidfast then runs on its reference paths.
* ``VIDFAST_CUDA_ARCHS`` (CMake CUDA_ARCHITECTURES syntax), ``VIDFAST_BUILD_JOBS``.

The top-level ``models/`` and ``prompts/`` data directories are copied into the wheel as
``vidfast/_data/models`` and ``vidfast/_data/prompts`` (see ``vidfast.resources.data_dir``).
"""

from __future__ import annotations

import hashlib
import importlib.util
import os
import shutil
import subprocess
import sys
from pathlib import Path

from setuptools import Extension, find_namespace_packages, setup
from setuptools.command.build_ext import build_ext
from setuptools.command.build_py import build_py

ROOT = Path(__file__).resolve().parent
DATA_DIRS = ("models", "prompts")


def _load_envs():
    spec = importlib.util.spec_from_file_location("_vidfast_envs_for_build", ROOT / "vidfast" / "envs.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


ENVS = _load_envs()


def _cmake_executable() -> str:
    """System cmake first; the ``cmake`` PyPI package as a fallback."""
    found = shutil.which("cmake")
    if found:
        return found
    try:
        import cmake  # type: ignore[import-not-found]

        return str(Path(cmake.CMAKE_BIN_DIR) / "cmake")
    except ImportError:
        sys.exit(
            "vidfast build: cmake not found. Install it (apt install cmake / pip install cmake) "
            "or set VIDFAST_SKIP_NATIVE=1 to install without the native extension."
        )


class CMakeExtension(Extension):
    """An extension whose sources are built by CMakeLists.txt rather than by setuptools."""

    def __init__(self, name: str) -> None:
        super().__init__(name, sources=[])


class VidfastBuildExt(build_ext):
    """Runs cmake configure + build and puts the module where setuptools expects it."""

    def build_extension(self, ext: Extension) -> None:
        device = ENVS.get("VIDFAST_TARGET_DEVICE").strip().lower()
        if device not in {"auto", "cpu", "cuda"}:
            sys.exit(f"vidfast build: VIDFAST_TARGET_DEVICE={device!r}; valid: auto, cpu, cuda")
        out_dir = Path(self.get_ext_fullpath(ext.name)).resolve().parent
        # One CMake tree per interpreter+device: an isolated pip build and a dev venv never share a cache.
        tag = hashlib.sha1(sys.executable.encode()).hexdigest()[:8]
        build_dir = Path(self.build_temp).resolve() / f"cmake-{device}-{tag}"
        build_dir.mkdir(parents=True, exist_ok=True)
        cmake = _cmake_executable()
        subprocess.run(
            [cmake, "-S", str(ROOT), "-B", str(build_dir), *self._configure_args(device, out_dir)], check=True
        )
        jobs = ENVS.get("VIDFAST_BUILD_JOBS").strip() or str(os.cpu_count() or 1)
        subprocess.run([cmake, "--build", str(build_dir), "--config", "Release", "-j", jobs], check=True)

    @staticmethod
    def _configure_args(device: str, out_dir: Path) -> list[str]:
        import pybind11

        args = [
            f"-DCMAKE_LIBRARY_OUTPUT_DIRECTORY={out_dir}",
            f"-DCMAKE_LIBRARY_OUTPUT_DIRECTORY_RELEASE={out_dir}",
            "-DCMAKE_BUILD_TYPE=Release",
            f"-DPython_EXECUTABLE={sys.executable}",
            f"-Dpybind11_DIR={pybind11.get_cmake_dir()}",
            f"-DVIDFAST_TARGET_DEVICE={device}",
        ]
        if device != "cpu":
            archs = ENVS.get("VIDFAST_CUDA_ARCHS").strip()
            # Given at configure time so CMake's compiler check and the target agree (never empty).
            args += [f"-DVIDFAST_CUDA_ARCHS={archs}", f"-DCMAKE_CUDA_ARCHITECTURES={archs}"]
        return args


class VidfastBuildPy(build_py):
    """Also copies the top-level models/ and prompts/ data into vidfast/_data/ in the build tree."""

    def run(self) -> None:
        super().run()
        for kind in DATA_DIRS:
            src = ROOT / kind
            if src.is_dir():
                dst = Path(self.build_lib) / "vidfast" / "_data" / kind
                shutil.copytree(
                    src, dst, dirs_exist_ok=True, ignore=shutil.ignore_patterns("__pycache__", "*.pyc")
                )


def _ext_modules() -> list[Extension]:
    if ENVS.flag("VIDFAST_SKIP_NATIVE"):
        print("vidfast build: VIDFAST_SKIP_NATIVE=1, not building vidfast._C (reference paths only)")
        return []
    return [CMakeExtension("vidfast._C")]


setup(
    # every directory of the package, with or without an __init__.py (data folders included), so a
    # forgotten __init__.py cannot drop a subpackage from a wheel
    packages=find_namespace_packages(include=["vidfast", "vidfast.*"], exclude=["*__pycache__*"]),
    package_data={
        # data/tags/: the Tag2Text / RAM vocabularies with their LICENSE and NOTICE (no extension)
        "vidfast": ["py.typed", "presets/*.yaml", "**/*.yaml", "**/*.yml", "**/*.json", "**/*.txt", "data/tags/*"]
    },
    ext_modules=_ext_modules(),
    cmdclass={"build_ext": VidfastBuildExt, "build_py": VidfastBuildPy},
    zip_safe=False,
)

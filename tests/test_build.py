"""The build: what the installed extension reports, the runtime kill switch, and the build switches.

The two build tests copy the sources to a temporary directory and run
``pip wheel --no-build-isolation`` there (CPU-only: about 30-60 s on 2 cores; skip-native: seconds).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from vidfast import _native

REPO = Path(__file__).resolve().parents[1]
SOURCES = ("setup.py", "pyproject.toml", "CMakeLists.txt", "MANIFEST.in", "tools", "csrc", "vidfast", "models", "prompts")

# Runs in a subprocess: the same ops on fixed inputs, reported as checksums plus the backend state.
PROBE = """
import json, zlib, numpy as np
from vidfast import _native, ops
rng = np.random.default_rng(7)
x = rng.integers(0, 256, (2, 37, 53, 3), dtype=np.uint8)
y, u, v = x[..., 0], x[:, :19, :27, 1].copy(), x[:, :19, :27, 2].copy()
outs = [ops.resize(x, (20, 31)), ops.resize(x, (12, 17), "area"), ops.convert_color(x, "rgb2hsv"),
        ops.yuv420p_to_rgb(np.ascontiguousarray(y), u, v, (16, 16)), ops.normalize_to_chw(x, (8, 8), 0.5, 0.25)]
print(json.dumps({"has_native": _native.HAS_NATIVE, "error": _native.NATIVE_IMPORT_ERROR,
                  "sums": [zlib.crc32(np.ascontiguousarray(o).tobytes()) for o in outs]}))
"""


# An editable install of vidfast adds a meta-path finder that resolves missing submodules (such as
# vidfast._C) from the source tree; a probe of an unpacked wheel must not see it.
NO_EDITABLE = "import sys; sys.meta_path[:] = [f for f in sys.meta_path if 'Editable' not in repr(f)]\n"


def _probe(env: dict[str, str], pythonpath: Path | None = None) -> dict:
    env = {**os.environ, **env}
    code = PROBE
    if pythonpath is not None:
        env["PYTHONPATH"] = str(pythonpath)
        code = NO_EDITABLE + PROBE
    out = subprocess.run(
        [sys.executable, "-c", code],
        env=env,
        capture_output=True,
        text=True,
        check=True,
        cwd=pythonpath or REPO,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_installed_build_reports_its_configuration():
    info = _native.build_info()
    if not _native.HAS_NATIVE:
        assert info["reason"] and not info["cuda"]
        pytest.skip(f"vidfast._C not built here: {info['reason']}")
    assert isinstance(info["openmp"], bool) and info["compiler"]
    assert info["cuda"] == _native.HAS_CUDA_KERNELS
    assert info["target_device"] in {"auto", "cpu", "cuda"}
    if info["target_device"] == "cpu":
        assert not info["cuda"]
    if info["cuda"]:
        assert info["cuda_archs"] and info["cuda_version"]
    elif info["target_device"] == "auto":
        assert shutil.which("nvcc") is None or info["reason"]


def test_disable_native_falls_back_to_identical_reference_results():
    disabled = _probe({"VIDFAST_DISABLE_NATIVE": "1"})
    assert disabled["has_native"] is False and "VIDFAST_DISABLE_NATIVE" in disabled["error"]
    normal = _probe({"VIDFAST_DISABLE_NATIVE": "0"})
    assert normal["has_native"] == _native.HAS_NATIVE
    assert disabled["sums"][:4] == normal["sums"][:4]  # uint8 ops are bit-exact


def _build_wheel(tmp_path: Path, env: dict[str, str]) -> Path:
    """``pip wheel`` of a copy of the sources (no build artefacts of the checkout can leak in)."""
    src = tmp_path / "src"
    for name in SOURCES:
        path = REPO / name
        if path.is_dir():
            shutil.copytree(path, src / name, ignore=shutil.ignore_patterns("__pycache__", "*.so", "*.pyc"))
        else:
            src.mkdir(exist_ok=True)
            shutil.copy2(path, src / name)
    cmd = [
        sys.executable,
        "-m",
        "pip",
        "wheel",
        "--no-build-isolation",
        "--no-deps",
        "-q",
        "-w",
        str(tmp_path / "dist"),
        str(src),
    ]
    proc = subprocess.run(cmd, env={**os.environ, **env}, capture_output=True, text=True)
    assert proc.returncode == 0, f"{' '.join(cmd)} failed:\n{proc.stdout[-2000:]}\n{proc.stderr[-4000:]}"
    (wheel,) = (tmp_path / "dist").glob("vidfast-*.whl")
    return wheel


def _unpack(wheel: Path, dest: Path) -> list[str]:
    with zipfile.ZipFile(wheel) as zf:
        zf.extractall(dest)
        return zf.namelist()


@pytest.fixture(scope="module")
def cpu_wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A CPU-only native wheel, built once for the tests of this module that need one."""
    return _build_wheel(tmp_path_factory.mktemp("cpu-wheel"), {"VIDFAST_TARGET_DEVICE": "cpu", "VIDFAST_SKIP_NATIVE": "0"})


@pytest.mark.slow  # ~40 s on 2 idle cores, ~2 min on a loaded shared machine (runs by default)
def test_cpu_only_build(tmp_path, cpu_wheel):
    wheel = cpu_wheel
    names = _unpack(wheel, tmp_path / "site")
    assert any(n.startswith("vidfast/_C.") for n in names)
    code = NO_EDITABLE + "import json; from vidfast import _native; print(json.dumps(_native.build_info()))"
    out = subprocess.run(
        [sys.executable, "-c", code],
        cwd=tmp_path / "site",
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, "PYTHONPATH": str(tmp_path / "site")},
    )
    info = json.loads(out.stdout)
    assert info["native"] is True and info["cuda"] is False and info["target_device"] == "cpu"


def test_skip_native_build_installs_and_works(tmp_path):
    wheel = _build_wheel(tmp_path, {"VIDFAST_SKIP_NATIVE": "1"})
    assert wheel.name.endswith("py3-none-any.whl")
    names = _unpack(wheel, tmp_path / "site")
    assert not any(n.startswith("vidfast/_C.") for n in names)
    assert {"vidfast/_data/models/clip-tiny.yaml", "vidfast/_data/prompts/summary_qa.yaml"} <= set(names)
    tags = {"tag_list.txt", "ram_tag_list.txt", "LICENSE", "NOTICE.txt"}  # vocabularies + their licence
    assert {f"vidfast/data/tags/{n}" for n in tags} <= set(names)
    result = _probe({"VIDFAST_DISABLE_NATIVE": "0"}, pythonpath=tmp_path / "site")
    assert result["has_native"] is False and "_C" in result["error"]


@pytest.mark.slow
def test_wheel_installs_and_runs_outside_the_checkout(tmp_path, cpu_wheel):
    """A non-editable install of the wheel into a new environment, used from a directory outside the
    checkout: every module of the source tree is installed and imports, the data files come with it,
    and a probe run writes real rows (scripts/check_installed.py). Third-party dependencies come from
    this environment through a .pth path entry (CI's scripts/check_install.sh also installs them from
    the package index, as the README says); vidfast itself comes only from the wheel."""
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    py = venv / "bin" / "python"
    subprocess.run([sys.executable, "-m", "pip", "--python", str(py), "install", "-q", "--no-deps", str(cpu_wheel)],
                   check=True, capture_output=True)
    site = subprocess.run([str(py), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                          check=True, capture_output=True, text=True).stdout.strip()
    deps = [p for p in sys.path if p.endswith("site-packages")]
    (Path(site) / "_dependencies.pth").write_text("\n".join(deps) + "\n")
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    env["PATH"] = f"{venv / 'bin'}{os.pathsep}{env.get('PATH', '')}"
    work = tmp_path / "outside"
    proc = subprocess.run([str(py), str(REPO / "scripts" / "check_installed.py"), str(work)], cwd=tmp_path,
                          capture_output=True, text=True, env=env)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert "installed vidfast works" in proc.stdout and f"from {venv}" in proc.stdout

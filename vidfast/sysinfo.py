"""``vidfast info``: version, how the native part was built, and every backend's availability."""

from __future__ import annotations

import platform
from typing import Any

from vidfast import __version__
from vidfast.backends import BACKENDS


def collect() -> dict[str, Any]:
    """Everything ``vidfast info`` prints, as a dict (``--json``)."""
    from vidfast import _native

    return {
        "version": __version__,
        "python": platform.python_version(),
        "native": _native.build_info(),
        "backends": [
            {"family": b.family, "name": b.name, "available": (r := b.reason()) is None, "reason": r, "note": b.describe()}
            for b in BACKENDS
        ],
        "using": _using(),
    }


def _using() -> dict[str, dict[str, str]]:
    """What ``auto`` runs here for decode and the vision models, and why."""
    from vidfast.io.gpu_decode import backend_reasons, resolve_backend

    name, device = resolve_backend("auto")
    reasons = backend_reasons()
    if name == "pyav":
        why = f"GPU decode unavailable: dali ({reasons['dali-gpu']}); nvdec ({reasons['nvdec']})"
    else:
        why = f"{name} decodes on the GPU (NVDEC)"
    try:
        from vidfast.models.tensorrt import vision_runtime

        vision = vision_runtime()
    except ImportError as exc:  # no torch: the vision models cannot run at all
        vision = {"using": "none", "why": f"vision models need torch ({exc})"}
    return {"decode": {"using": f"{name} ({device})", "why": why}, "vision": vision}


def render(doc: dict[str, Any]) -> str:
    """A plain-text rendering of ``collect()``."""
    native = doc["native"]
    lines = [f"vidfast {doc['version']} (Python {doc['python']})", "", "native extension vidfast._C:"]
    lines += [f"  {k}: {v}" for k, v in native.items()]
    lines += ["", f"{'family':<11} {'backend':<15} {'status':<12} detail"]
    for b in doc["backends"]:
        status = "available" if b["available"] else "unavailable"
        lines.append(f"{b['family']:<11} {b['name']:<15} {status:<12} {b['note'] if b['available'] else b['reason']}")
    lines += ["", "auto uses:"]
    for family, row in doc.get("using", {}).items():
        lines.append(f"  {family:<9} {row['using']}  <- {row['why']}")
    return "\n".join(lines)

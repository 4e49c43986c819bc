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
    }


def render(doc: dict[str, Any]) -> str:
    """A plain-text rendering of ``collect()``."""
    native = doc["native"]
    lines = [f"vidfast {doc['version']} (Python {doc['python']})", "", "native extension vidfast._C:"]
    lines += [f"  {k}: {v}" for k, v in native.items()]
    lines += ["", f"{'family':<11} {'backend':<15} {'status':<12} detail"]
    for b in doc["backends"]:
        status = "available" if b["available"] else "unavailable"
        lines.append(f"{b['family']:<11} {b['name']:<15} {status:<12} {b['note'] if b['available'] else b['reason']}")
    return "\n".join(lines)

"""Where vidfast's data directories (``models/``, ``prompts/``) live.

In a source checkout or an editable install they are the top-level ``models/`` and ``prompts/``
directories next to the package; ``pip install .`` copies them into the wheel as
``vidfast/_data/<kind>`` (see setup.py), and ``data_dir`` returns that copy.
"""

from __future__ import annotations

from pathlib import Path

from vidfast.errors import ConfigError

DATA_KINDS = ("models", "prompts")
_PACKAGE_DIR = Path(__file__).resolve().parent


def data_dir(kind: str) -> Path:
    """The directory holding ``kind`` data (``"models"`` or ``"prompts"``); it may be empty or absent."""
    if kind not in DATA_KINDS:
        raise ConfigError(f"unknown data kind {kind!r}; valid: {', '.join(DATA_KINDS)}")
    source = _PACKAGE_DIR.parent / kind
    if source.is_dir() and (_PACKAGE_DIR.parent / "pyproject.toml").is_file():
        return source
    return _PACKAGE_DIR / "_data" / kind

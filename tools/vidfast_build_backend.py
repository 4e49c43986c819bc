"""In-tree PEP 517 backend: setuptools' own, plus `cmake` from PyPI when the system has none.

setup.py does the real work (CMake-driven build of vidfast._C); this wrapper only decides whether
the isolated build environment needs the cmake wheel.
"""

from __future__ import annotations

import shutil

from setuptools import build_meta as _orig
from setuptools.build_meta import *


def _extra() -> list[str]:
    return [] if shutil.which("cmake") else ["cmake>=3.18"]


def get_requires_for_build_wheel(config_settings=None):
    return _orig.get_requires_for_build_wheel(config_settings) + _extra()


def get_requires_for_build_editable(config_settings=None):
    return _orig.get_requires_for_build_editable(config_settings) + _extra()

"""The recipe contract: which stages a recipe runs and how it exports its outputs."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from vidfast.config import RunConfig
from vidfast.runtime.records import VideoTask
from vidfast.runtime.stage import Stage


@dataclass
class ExportContext:
    """What an exporter sees: the run directory, the resolved config and every task."""

    out_dir: Path
    config: RunConfig
    tasks: list[VideoTask]
    stats: dict[str, Any] = field(default_factory=dict)  # what the export counted, copied into report.json


@dataclass(frozen=True)
class Recipe:
    """A named pipeline: stages built from the config, and an exporter writing the outputs."""

    name: str
    description: str
    build_stages: Callable[[RunConfig], list[Stage]]
    export: Callable[[ExportContext], dict[str, str]]

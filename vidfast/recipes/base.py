"""The recipe contract: which stages a recipe runs and how it exports its outputs."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from vidfast.config import RunConfig
from vidfast.runtime.records import VideoTask
from vidfast.runtime.stage import Stage


@dataclass
class ExportContext:
    """What an exporter sees: the run directory, the resolved config and every task."""

    out_dir: Path
    config: RunConfig
    tasks: list[VideoTask]


@dataclass(frozen=True)
class Recipe:
    """A named pipeline: stages built from the config, and an exporter writing the outputs."""

    name: str
    description: str
    build_stages: Callable[[RunConfig], list[Stage]]
    export: Callable[[ExportContext], dict[str, str]]

"""Where a run's output goes: vidfast's own progress display on the terminal, everything the libraries
print (weight-loading bars, deprecation warnings, FFmpeg and vLLM messages) into ``vidfast.log`` in the
run directory.

The redirection is at the file-descriptor level, so it also catches what C/C++ code and child
processes write to standard error, not just Python's ``sys.stderr``. vidfast's progress bars write
to ``console()``: a duplicate of the terminal's descriptor taken before the redirection. With
``verbose`` nothing is redirected and the libraries' own progress bars stay on.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TextIO

LOG_NAME = "vidfast.log"
_console: TextIO | None = None


def console() -> TextIO:
    """The stream for vidfast's own progress display: the terminal, even while library output is routed."""
    return _console or sys.stderr


def _hf_progress_bars(enabled: bool) -> bool | None:
    """Turn the Hugging Face progress bars (weight loading, GGUF conversion, shard writing) on or off;
    returns whether they were on (None when the libraries are not installed). transformers, when it is
    imported later, starts with huggingface_hub's setting."""
    try:
        from huggingface_hub import utils as hub_utils
    except ImportError:
        return None
    was = not hub_utils.are_progress_bars_disabled()
    if "transformers" in sys.modules:
        from transformers.utils import logging as hf_logging

        was = was and hf_logging.is_progress_bar_enabled()
        (hf_logging.enable_progress_bar if enabled else hf_logging.disable_progress_bar)()
    (hub_utils.enable_progress_bars if enabled else hub_utils.disable_progress_bars)()
    return was


@contextmanager
def route_library_output(run_dir: str | os.PathLike[str], verbose: bool = False) -> Iterator[Path]:
    """While the block runs, send standard error (fd 2) to ``run_dir/vidfast.log`` unless ``verbose``;
    ``console()`` keeps writing to the terminal. Yields the log's path."""
    global _console
    log = Path(run_dir) / LOG_NAME
    with open(log, "a", encoding="utf-8") as fh:
        fh.write(f"\n=== vidfast run {time.strftime('%Y-%m-%d %H:%M:%S')} (pid {os.getpid()})"
                 f"{': verbose, library output shown on the terminal' if verbose else ''} ===\n")
    if verbose or _console is not None:  # verbose, or already inside a routed run
        yield log
        return
    try:
        saved = os.dup(2)
    except OSError:  # no standard error to route
        yield log
        return
    bars_were_on = _hf_progress_bars(False)
    sys.stderr.flush()
    log_fd = os.open(log, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    os.dup2(log_fd, 2)
    os.close(log_fd)
    _console = open(os.dup(saved), "w", buffering=1, encoding="utf-8", errors="replace")  # noqa: SIM115
    try:
        yield log
    finally:
        sys.stderr.flush()
        os.dup2(saved, 2)
        os.close(saved)
        _console.close()
        _console = None
        if bars_were_on:
            _hf_progress_bars(True)

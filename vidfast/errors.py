"""Exceptions raised by vidfast. Every message says what went wrong and what to do next."""

from __future__ import annotations


class VidfastError(Exception):
    """Base class of every error vidfast raises on purpose."""


class ConfigError(VidfastError, ValueError):
    """A configuration key or value is invalid (the message lists the valid choices)."""


class InputError(VidfastError):
    """An input path, list file or caption file cannot be used."""


class DecodeError(VidfastError):
    """A video cannot be probed or decoded.

    ``reason`` is a short stable code (``missing``, ``empty_file``, ``unreadable``, ``not_a_video``,
    ``no_video_stream``, ``truncated``, ``decode_failed``) used to group failures in the run report.
    """

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason


class BackendUnavailable(VidfastError, RuntimeError):
    """A backend that was asked for explicitly cannot run here; the message says why and how to fix it."""


class OutputError(VidfastError):
    """The output directory cannot be created or written."""

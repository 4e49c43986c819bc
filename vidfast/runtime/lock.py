"""One writer per run directory: an OS advisory lock held for the life of a run.

``vidfast run`` takes an exclusive ``flock`` on ``run.lock`` in the run directory before it touches
anything and holds it until it returns. A second run pointed at the same directory fails at once
with an error naming the holder (pid, host, start time, written into the lock file) instead of
interleaving its writes. The kernel drops the lock when the holding process dies, so a run killed
with ``kill -9`` never leaves a stale lock; the lock file itself may stay and is harmless.

Shards of one run (``runtime.shard = "i/n"``) share a directory: each holds a *shared* lock on
``run.lock`` (so an unsharded run cannot start beside them, nor they beside it) and an exclusive
lock on its own ``run.<i>-of-<n>.lock`` (so the same shard cannot run twice).
"""

from __future__ import annotations

import datetime as _dt
import fcntl
import json
import os
import re
import socket
from pathlib import Path
from typing import Any

from vidfast.errors import OutputError

_SHARD = re.compile(r"^\s*(\d+)\s*/\s*(\d+)\s*$")
MAIN_LOCK = "run.lock"


def parse_shard(shard: str) -> tuple[int, int]:
    """``"i/n"`` -> ``(i, n)`` with ``0 <= i < n``; a clear error otherwise."""
    m = _SHARD.match(shard)
    if not m or not 0 <= int(m.group(1)) < int(m.group(2)):
        raise OutputError(f"runtime.shard must look like 'i/n' with 0 <= i < n (e.g. '0/4'), got {shard!r}")
    return int(m.group(1)), int(m.group(2))


def lock_name(shard: str | None) -> str:
    """The file a run (or one shard of it) locks exclusively: ``run.lock``, or ``run.<i>-of-<n>.lock``."""
    if not shard:
        return MAIN_LOCK
    i, n = parse_shard(shard)
    return f"run.{i}-of-{n}.lock"


def _holder(path: Path) -> dict[str, Any]:
    try:
        return json.loads(path.read_text(encoding="utf-8") or "{}")
    except (OSError, ValueError):
        return {}


def _describe(paths: list[Path]) -> str:
    """Who holds the lock, from what the holders wrote into their lock files (cleared on release)."""
    found = []
    for path in paths:
        h = _holder(path)
        if h:
            shard = f" (shard {h['shard']})" if h.get("shard") else ""
            found.append(f"vidfast pid {h.get('pid', '?')} on host {h.get('host', '?')}{shard}, "
                         f"started {h.get('started', '?')}")
    return "; ".join(found) or "another vidfast process"


class RunLock:
    """Context manager holding a run directory's lock(s); raises ``OutputError`` when already held."""

    def __init__(self, root: str | os.PathLike[str], shard: str | None = None) -> None:
        self.root = Path(root)
        self.shard = shard or None
        self.path = self.root / lock_name(self.shard)
        self._fds: list[int] = []
        self._held = False

    def _take(self, path: Path, mode: int, holders: list[Path]) -> int:
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, mode | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            raise OutputError(
                f"the run directory {self.root} is in use by another run: {_describe(holders)} "
                f"holds {path.name}. Wait for that run to finish (or stop it), or choose another output "
                "directory with -o/--output. The lock goes away by itself when that process exits, even "
                "when it is killed, so there is nothing to clean up."
            ) from None
        return fd

    def acquire(self) -> RunLock:
        self.root.mkdir(parents=True, exist_ok=True)
        main = self.root / MAIN_LOCK
        try:
            if self.shard:  # shared: shards coexist, an unsharded run (exclusive) excludes them all
                self._fds.append(self._take(main, fcntl.LOCK_SH, [main]))
                fd = self._take(self.path, fcntl.LOCK_EX, [self.path])
            else:
                fd = self._take(main, fcntl.LOCK_EX, [main, *sorted(self.root.glob("run.*-of-*.lock"))])
        except BaseException:
            self.release()
            raise
        self._fds.append(fd)
        self._held = True
        holder = {"pid": os.getpid(), "host": socket.gethostname(), "shard": self.shard,
                  "started": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds")}
        os.ftruncate(fd, 0)
        os.pwrite(fd, (json.dumps(holder) + "\n").encode(), 0)
        return self

    def release(self) -> None:
        first = True
        while self._fds:
            fd = self._fds.pop()
            try:
                if first and self._held:  # the exclusive lock (taken last): clear its holder line
                    os.ftruncate(fd, 0)
                first = False
                fcntl.flock(fd, fcntl.LOCK_UN)
            finally:
                os.close(fd)
        self._held = False

    def __enter__(self) -> RunLock:
        return self.acquire()

    def __exit__(self, *exc: object) -> None:
        self.release()

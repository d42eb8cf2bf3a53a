"""One writer per sweep folder: the lock file ``DIR/.dcsim-sweep.lock``.

The sweep that writes a folder holds an exclusive ``flock`` on the lock file for as long as it
runs; the file holds the writer's identity (pid, host, boot id, start time) for the message a
second writer gets. The kernel drops a ``flock`` when its holder dies, however it dies, so a lock
left by a killed sweep is free at once (stale-safe without guessing). Where ``flock`` is not
available (some network file systems, Windows), the recorded pid decides instead: a lock whose
owner is dead is taken over (``dcsim.io.owner``).

The lock file is only ever created in a new folder, an empty one or a dcsim sweep folder; the
spawned workers do not inherit it (file descriptors are not inheritable in Python).

Imports: fcntl (where present), json, os, dcsim.errors, dcsim.io.owner.
"""

from __future__ import annotations

import contextlib
import json
import os
from pathlib import Path
from types import TracebackType
from typing import Any

from dcsim.errors import ConfigError, Issue
from dcsim.io.owner import owner_alive, process_identity, read_identity

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows
    fcntl = None  # type: ignore[assignment]

__all__ = ["LOCK_NAME", "SweepLock"]

LOCK_NAME = ".dcsim-sweep.lock"


def _busy(root: Path, owner: dict[str, Any] | None) -> ConfigError:
    who = (f"pid {owner.get('pid')} on {owner.get('host')}" if owner else "another process")
    return ConfigError(Issue("--out", f"{root} is being written by another dcsim sweep ({who}); "
                             "wait for it to finish (or stop it), or pick another --out"))


class SweepLock:
    """An acquired lock on a sweep folder; release with :meth:`release` or ``with``."""

    def __init__(self, root: Path, fd: int) -> None:
        self.root = root
        self.path = root / LOCK_NAME
        self._fd: int | None = fd

    @classmethod
    def acquire(cls, root: Path) -> SweepLock:
        """Lock ``root`` (an existing folder) for this process, or raise ``ConfigError``."""
        path = Path(root) / LOCK_NAME
        for _ in range(20):  # retried only if another process replaced the file meanwhile
            fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
            try:
                if not cls._lock_fd(fd, path):
                    raise _busy(Path(root), read_identity(path))
                try:
                    same = os.path.samestat(os.fstat(fd), os.stat(path))
                except FileNotFoundError:
                    same = False
                if not same:  # the previous owner removed the file after we opened it
                    os.close(fd)
                    continue
                os.ftruncate(fd, 0)
                os.write(fd, (json.dumps(process_identity()) + "\n").encode("utf-8"))
                os.fsync(fd)
                return cls(Path(root), fd)
            except BaseException:
                with contextlib.suppress(OSError):
                    os.close(fd)
                raise
        raise _busy(Path(root), read_identity(path))

    @staticmethod
    def _lock_fd(fd: int, path: Path) -> bool:
        """Take the kernel lock on ``fd``; False if another process holds it."""
        if fcntl is not None:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                return True
            except BlockingIOError:
                return False
            except OSError:
                pass  # no flock on this file system: fall back to the recorded pid
        owner = read_identity(path)
        return owner is None or owner["pid"] == os.getpid() or not owner_alive(owner)

    def release(self) -> None:
        """Remove the lock file and drop the lock (idempotent)."""
        fd, self._fd = self._fd, None
        if fd is None:
            return
        with contextlib.suppress(OSError):
            self.path.unlink()
        with contextlib.suppress(OSError):
            os.close(fd)

    def __enter__(self) -> SweepLock:
        return self

    def __exit__(self, et: type[BaseException] | None, ev: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.release()


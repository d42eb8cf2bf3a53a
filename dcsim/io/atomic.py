"""Writing a file so that its path holds the old bytes or the new ones, never a part.

Imports: os, re.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

__all__ = ["atomic_write_bytes", "temporary_name", "temporary_of"]


def temporary_name(final: Path) -> Path:
    """The hidden temporary ``final`` is written to first: ``.<name>.tmp-<pid>`` beside it."""
    return final.parent / f".{final.name}.tmp-{os.getpid()}"


_TEMPORARY = re.compile(r"^\.(?P<base>.+)\.tmp-(?P<pid>\d+)$")


def temporary_of(name: str) -> tuple[str, int] | None:
    """``(base, pid)`` if ``name`` is named like :func:`temporary_name`'s temporary of file
    ``base`` written by process ``pid``, else None."""
    m = _TEMPORARY.match(name)
    return None if m is None else (m.group("base"), int(m.group("pid")))


def atomic_write_bytes(final: Path, data: bytes) -> None:
    """Write ``data`` to ``final`` through :func:`temporary_name` (flushed to disk) and
    ``os.replace``; the temporary is removed if anything (an interrupt too) stops it."""
    tmp = temporary_name(final)
    try:
        with open(tmp, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, final)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise

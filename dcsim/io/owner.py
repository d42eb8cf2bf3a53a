"""Who wrote a file: the identity of a dcsim process, and whether that process is still alive.

dcsim marks what it is writing (a results folder being built, a sweep folder's lock) with the
writer's identity: ``pid``, host name, the kernel's boot id and the process start time (Linux
``/proc``). A leftover whose owner is dead may be cleaned up or taken over; one whose owner is
alive (or unknown: another host) is never touched.

Imports: json, os, socket (standard library only).
"""

from __future__ import annotations

import json
import os
import socket
from pathlib import Path
from typing import Any

__all__ = ["owner_alive", "process_identity", "read_identity"]


def _boot_id() -> str | None:
    try:
        return Path("/proc/sys/kernel/random/boot_id").read_text("ascii").strip() or None
    except OSError:
        return None


def _start_ticks(pid: int) -> int | None:
    """Start time of ``pid`` in clock ticks since boot (Linux), or None where unknown."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text("ascii", errors="replace")
    except OSError:
        return None
    # the command name (field 2) is in parentheses and may hold spaces: split after it
    fields = stat.rpartition(")")[2].split()
    try:
        return int(fields[19])  # field 22 of proc(5), counting from 1 with pid and comm
    except (IndexError, ValueError):
        return None


def process_identity(pid: int | None = None) -> dict[str, Any]:
    """``{pid, host, boot_id, start}`` of ``pid`` (default: this process)."""
    pid = os.getpid() if pid is None else pid
    return {"pid": pid, "host": socket.gethostname(), "boot_id": _boot_id(),
            "start": _start_ticks(pid)}


def read_identity(path: Path) -> dict[str, Any] | None:
    """The identity stored as JSON in ``path``, or None if it is missing or unreadable."""
    try:
        data = json.loads(Path(path).read_text("utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(data, dict) or not isinstance(data.get("pid"), int):
        return None
    return data


def _pid_exists(pid: int) -> bool:
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # someone else's process
    except OSError:
        return True
    if Path(f"/proc/{pid}/stat").exists():
        state = Path(f"/proc/{pid}/stat").read_text("ascii", errors="replace")
        if state.rpartition(")")[2].split()[:1] == ["Z"]:
            return False  # a zombie has finished: it writes nothing any more
    return True


def owner_alive(ident: dict[str, Any] | None) -> bool:
    """Whether the process ``ident`` describes may still be running (unknown → True).

    Dead means: same host and a different boot, or same host and boot and the pid is gone, or
    the pid now belongs to a process started at another time (pid reuse).
    """
    if ident is None:
        return True
    if ident.get("host") != socket.gethostname():
        return True  # another machine sharing the folder: we cannot tell
    boot = _boot_id()
    if ident.get("boot_id") and boot and ident["boot_id"] != boot:
        return False
    pid = int(ident["pid"])
    if not _pid_exists(pid):
        return False
    start = ident.get("start")
    now = _start_ticks(pid)
    return not (start is not None and now is not None and start != now)

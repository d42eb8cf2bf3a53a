"""Shared by the benchmark scripts: run a command in fresh processes and keep the best CPU time.

The command prints one JSON object on its last line (the child's own figures); the parent
measures the child's CPU time (user + system, from ``RUSAGE_CHILDREN``), so start-up, imports
and set-up are counted.
"""

from __future__ import annotations

import json
import math
import resource
import subprocess
import time
from collections.abc import Sequence
from typing import Any


def best_of(cmd: list[str], repeat: int) -> tuple[float, dict[str, Any]]:
    """Run ``cmd`` ``repeat`` times (at least once); the least CPU seconds and that run's JSON,
    with ``process_wall_s`` added: the wall time of that whole process (start to exit), the span
    its CPU time covers."""
    best, row = math.inf, {}
    for _ in range(max(1, repeat)):
        cpu, wall, proc = run_child(cmd)
        if cpu < best:
            best, row = cpu, json.loads(proc.stdout.strip().splitlines()[-1])
            row["process_wall_s"] = wall
    return best, row


def interleaved(cmds: Sequence[list[str]],
                repeat: int) -> list[list[tuple[float, float, dict[str, Any]]]]:
    """Run every command ``repeat`` times (at least once) in rounds (A B C, A B C, ...), so that
    a machine whose speed drifts between minutes slows each command alike instead of whichever
    ran last; per command, its runs in order: (CPU s, wall s of the whole process, its JSON)."""
    runs: list[list[tuple[float, float, dict[str, Any]]]] = [[] for _ in cmds]
    for _ in range(max(1, repeat)):
        for i, cmd in enumerate(cmds):
            cpu, wall, proc = run_child(cmd)
            runs[i].append((cpu, wall, json.loads(proc.stdout.strip().splitlines()[-1])))
    return runs


def run_child(cmd: list[str],
              **kwargs: Any) -> tuple[float, float, subprocess.CompletedProcess[str]]:
    """Run ``cmd`` once: its CPU seconds (user + system), its wall seconds, the process."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, check=True, capture_output=True, text=True, **kwargs)
    wall = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return cpu, wall, proc

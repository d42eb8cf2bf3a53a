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
from typing import Any


def best_of(cmd: list[str], repeat: int) -> tuple[float, dict[str, Any]]:
    """Run ``cmd`` ``repeat`` times (at least once); the least CPU seconds and that run's JSON."""
    best, row = math.inf, {}
    for _ in range(max(1, repeat)):
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        proc = subprocess.run(cmd, check=True, capture_output=True, text=True)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
        if cpu < best:
            best, row = cpu, json.loads(proc.stdout.strip().splitlines()[-1])
    return best, row

"""The 11-point power table of a host power model, as configs and catalogs state it.

Every power model is an 11-point table of watts at 0 %, 10 %, …, 100 % CPU utilisation (the
SPECpower_ssj2008 format); a linear model (idle, max) is the exact table of its straight line.
The table is config data, so its construction and its checks live here; ``dcsim.model.power``
evaluates it.

Imports: numpy.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

F64 = NDArray[np.float64]

N_POINTS = 11

__all__ = ["N_POINTS", "linear_table", "validate_table"]


def linear_table(idle_w: float, max_w: float) -> F64:
    """Table of a linear model: ``P(u) = idle + (max - idle) * u``, at u = 0, 0.1, …, 1."""
    return idle_w + (max_w - idle_w) * np.linspace(0.0, 1.0, N_POINTS)


def validate_table(watts: list[float] | F64) -> list[str]:
    """Problems with a power table (empty list if it is usable)."""
    arr = np.asarray(watts, dtype=np.float64)
    problems: list[str] = []
    if arr.shape != (N_POINTS,):
        problems.append(f"expected {N_POINTS} values (0%, 10%, …, 100% load), got {arr.size}")
        return problems
    if not np.all(np.isfinite(arr)) or np.any(arr < 0):
        problems.append("power values must be finite and >= 0 W")
    if np.any(np.diff(arr) < 0):
        problems.append("power must not decrease with load")
    return problems

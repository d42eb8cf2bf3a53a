"""Host power models, vectorized over hosts.

Every model is stored as an 11-point table of watts at 0 %, 10 %, …, 100 % CPU utilisation, the
SPECpower_ssj2008 format. A linear model (idle, max) is the exact table of the straight line, so one
vectorized interpolation serves both. Between points power is interpolated linearly, as in
SPECpower-based models of CloudSim (``PowerModelSpecPower``) and CloudSim Plus.

Pure numpy: no simpy, no config imports.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

F64 = NDArray[np.float64]

N_POINTS = 11


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


def power_w(tables: F64, utilization: F64) -> F64:
    """Power of each host at its utilisation.

    Parameters
    ----------
    tables : (n_hosts, 11) watts at 0 %, 10 %, …, 100 % load.
    utilization : (n_hosts,) CPU utilisation in [0, 1]; values outside are clipped.

    Returns
    -------
    (n_hosts,) watts. O(n_hosts).
    """
    u = np.clip(utilization, 0.0, 1.0) * (N_POINTS - 1)
    lo = np.minimum(np.floor(u).astype(np.intp), N_POINTS - 2)
    frac = u - lo
    rows = np.arange(tables.shape[0])
    p_lo = tables[rows, lo]
    p_hi = tables[rows, lo + 1]
    out: F64 = p_lo + (p_hi - p_lo) * frac
    return out


def energy_j(power: F64, dt_s: float) -> float:
    """Energy in joules of hosts drawing ``power`` watts for ``dt_s`` seconds."""
    return float(power.sum() * dt_s)

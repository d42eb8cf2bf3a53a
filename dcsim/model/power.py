"""Host power models, vectorized over hosts.

Every model is stored as an 11-point table of watts at 0 %, 10 %, …, 100 % CPU utilisation, the
SPECpower_ssj2008 format. A linear model (idle, max) is the exact table of the straight line, so one
vectorized interpolation serves both. Between points power is interpolated linearly, as in
SPECpower-based models of CloudSim (``PowerModelSpecPower``) and CloudSim Plus.

The table itself (``linear_table``, ``validate_table``) is config data and lives in
``dcsim.config.power_table``; it is re-exported here.

Imports: numpy, dcsim.config.power_table.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from dcsim.config.power_table import N_POINTS, linear_table, validate_table

F64 = NDArray[np.float64]

__all__ = ["N_POINTS", "energy_j", "linear_table", "power_rows", "power_w", "validate_table"]


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
    return power_rows(tables, np.arange(tables.shape[0]), utilization)


def power_rows(tables: F64, rows: NDArray[np.intp], utilization: F64) -> F64:
    """``power_w(tables[rows], utilization)``, bit for bit, without copying the rows' tables.

    Parameters
    ----------
    tables : (n_hosts, 11) watts at 0 %, 10 %, …, 100 % load.
    rows : (n,) host indices.
    utilization : (n,) CPU utilisation of those hosts; values outside [0, 1] are clipped.

    Returns
    -------
    (n,) watts. O(n).
    """
    u = np.clip(utilization, 0.0, 1.0) * (N_POINTS - 1)
    lo = np.minimum(np.floor(u).astype(np.intp), N_POINTS - 2)
    frac = u - lo
    at = rows * N_POINTS + lo
    flat = tables.reshape(-1)  # a view of a C-contiguous table
    p_lo = flat[at]
    p_hi = flat[at + 1]
    out: F64 = p_lo + (p_hi - p_lo) * frac
    return out


def energy_j(power: F64, dt_s: float) -> float:
    """Energy in joules of hosts drawing ``power`` watts for ``dt_s`` seconds."""
    return float(power.sum() * dt_s)

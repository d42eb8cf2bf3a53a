"""CloudSim's power arithmetic for PABFD, host classes, and the compact search's power tables.

* :func:`specpower_w` — CloudSim's SPECpower interpolation with its exact operation order (the
  PABFD tie-breaking compares power differences bit for bit).
* :func:`host_classes` — hosts alike in capacity, per-core capacity and power table.
* :func:`class_tables` — one table per class with the search's precomputed terms (rows ``P_*``).

Re-exported by :mod:`dcsim.policies.pabfd`. Imports numpy only.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

F64 = NDArray[np.float64]
I64 = NDArray[np.int64]

#: rows of the power tables of the compact search (:attr:`dcsim.policies.pabfd._Work.ptab`):
#: watts, the segment's ``(p[i + 1] - p[i]) / 10``, ``(p[i] - p[i]) / 10`` (a point exactly on a
#: table value) and ``i / 10``, for ``i`` = 0..10 of each table
P_W, P_Q, P_Q0, P_TENTH = range(4)


def specpower_w(tables: F64, util: F64) -> F64:
    """Power (W) of hosts at ``util`` with CloudSim's ``PowerModelSpecPower`` arithmetic.

    Parameters
    ----------
    tables : (n, 11) watts at 0 %, 10 %, ..., 100 % load, one row per value of ``util``.
    util : (n,) utilisation fractions; values outside [0, 1] are clipped (CloudSim would stop).

    Notes
    -----
    ``P = p[i1] + (p[i2] - p[i1]) / 10 * (u - i1 / 10) * 100`` with ``i1 = floor(10 u)``,
    ``i2 = ceil(10 u)``, evaluated left to right as in Java; exact multiples of 0.1 return the
    table value, as CloudSim's special case does. Agrees with :func:`dcsim.model.power.power_w`
    to within a few ulps.
    """
    u = np.clip(util, 0.0, 1.0)
    t10 = u * 10.0
    i1 = np.floor(t10).astype(np.intp)
    i2 = np.ceil(t10).astype(np.intp)
    rows = np.arange(u.shape[0])
    p1 = tables[rows, i1]
    p2 = tables[rows, i2]
    return np.asarray(p1 + (p2 - p1) / 10.0 * (u - i1 / 10.0) * 100.0)


def host_classes(total_mips: F64, pe_mips: F64, tables: F64) -> I64:
    """(H,) class ids: equal ids iff equal capacity, per-core capacity and power table."""
    n_h = total_mips.shape[0]
    if n_h == 0:
        return np.zeros(0, dtype=np.int64)
    cols = np.column_stack([total_mips, pe_mips, tables])
    order = np.lexsort(cols.T[::-1])
    srt = cols[order]
    new = np.concatenate([[False], (srt[1:] != srt[:-1]).any(axis=1)])
    out = np.empty(n_h, dtype=np.int64)
    out[order] = np.cumsum(new)
    return out


def class_tables(tables: F64, hc: I64) -> tuple[F64, I64]:
    """The compact search's power tables (rows ``P_*``) and each host's offset in them: one
    table per host class ``hc`` (hosts of a class have equal tables, as the candidate pool's
    classes assume), or one per host if the ids are not within ``0..H-1``."""
    n_h, n_p = tables.shape
    hc = np.asarray(hc, dtype=np.int64)
    uniq, poff = tables, np.arange(n_h, dtype=np.int64) * n_p
    if n_h and hc.shape == (n_h,) and hc.min() >= 0 and hc.max() < n_h:
        rows = np.zeros(int(hc.max()) + 1, dtype=np.int64)
        rows[hc] = np.arange(n_h)  # a host of each class
        uniq, poff = tables[rows], hc * n_p
    p = uniq.ravel()
    i = np.tile(np.arange(n_p), uniq.shape[0])
    nxt = np.arange(p.size) + (i < n_p - 1)
    out = np.empty((4, p.size))
    out[P_W] = p
    with np.errstate(invalid="ignore"):  # (inf - inf in a table: NaN, as in the search)
        out[P_Q] = (p[nxt] - p) / 10.0  # p2 - p1 of a point inside segment i, / 10
        out[P_Q0] = (p - p) / 10.0  # p2 - p1 of a point exactly on p[i] (ceil == floor), / 10
    out[P_TENTH] = i / 10.0
    return out, poff



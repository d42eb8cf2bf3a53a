"""Small passes of CloudSim mode's datacenter update compiled with numba: the update's energy
step, the test of ``assumptions.drop_idle`` and the list order kept across a migration group's
completion (``CloudSimState.order_moved``) (``dcsim.engine.assumptions``).

Imported on first use only (``dcsim.kernels.jit.kernel``), in CloudSim mode; the machine code is
cached on disk and loaded without numba's compiler set-up. Why compiled: CloudSim mode runs a
datacenter update at each migration group's completion (~1,150 per PlanetLab day at any scale),
and these steps are a dozen numpy calls each over every host or guest, whose per-call overhead
is most of their cost.

Each value is computed by the same float64 operations in the same order as the numpy code (no
fastmath). ``tests/unit/engine/test_dcupdate_kernel.py`` compares both forms byte for byte.

Imports numpy, numba, dcsim.kernels.jit.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

from dcsim.kernels.jit import cache_depends_on


@njit(cache=True)
def specpower(tables, h, u):  # type: ignore[no-untyped-def]
    """``dcsim.policies.specpower.specpower_w`` of host ``h`` at utilisation ``u`` (not NaN):
    ``np.clip`` (numpy's: NaN-propagating max then min), then CloudSim's interpolation."""
    if u != u:
        return u
    x = u if u > 0.0 else 0.0  # np.clip(u, 0, 1): maximum(u, 0) then minimum(., 1)
    x = x if x < 1.0 else 1.0
    t10 = x * 10.0
    i1 = int(math.floor(t10))
    i2 = int(math.ceil(t10))
    p1 = tables[h, i1]
    p2 = tables[h, i2]
    return p1 + (p2 - p1) / 10.0 * (x - i1 / 10.0) * 100.0


@njit(cache=True)
def energy(tables, before, util, p_util, p_w, energy_j, dt):  # type: ignore[no-untyped-def]
    """CloudSim's trapezoid energy of every host over ``dt`` s, from the utilisations
    ``before`` to ``util``: ``CloudSimState.powers`` of both (the power kept in ``p_w`` for
    the utilisation ``p_util`` where it is unchanged), ``energy_j += 0 if before == 0 else
    (p0 + (p1 - p0) / 2) * dt``; then ``p_util``, ``p_w`` become ``util`` and its powers."""
    for h in range(util.shape[0]):
        b = before[h]
        u = util[h]
        pu = p_util[h]
        pw = p_w[h]
        p0 = specpower(tables, h, b) if b != pu else pw
        p1 = specpower(tables, h, u) if u != pu else pw
        energy_j[h] = energy_j[h] + (0.0 if b == 0.0 else (p0 + (p1 - p0) / 2.0) * dt)
        p_util[h] = u
        p_w[h] = p1


@njit(cache=True)
def any_idle(demand, mig_dst, status, running):  # type: ignore[no-untyped-def]
    """Whether any guest has demand exactly 0, no migration and status ``running``."""
    for g in range(demand.shape[0]):
        if demand[g] == 0.0 and mig_dst[g] < 0 and status[g] == running:
            return True
    return False


@njit(cache=True)
def order_moved(order, gs, dst, host_of, n_guests_total):  # type: ignore[no-untyped-def]
    """``CloudSimState.order_moved``'s new list order: ``order`` (host by host, ``host_of``
    non-decreasing along it once the moved guests are left out) without the guests ``gs``,
    each of them put at the end of its destination's block, in its given order
    (``np.insert(base, np.searchsorted(host_of[base], d, "right"), g)`` of ``gs`` stably
    sorted by destination ``dst``: a value goes before the first kept guest on a later host)."""
    moved = np.zeros(n_guests_total, dtype=np.bool_)
    for i in range(gs.shape[0]):
        moved[gs[i]] = True
    by = np.argsort(dst, kind="mergesort")  # (stable)
    out = np.empty(order.shape[0], dtype=order.dtype)
    k = 0
    j = 0
    m = by.shape[0]
    for i in range(order.shape[0]):
        g = order[i]
        if moved[g]:
            continue
        h = host_of[g]
        while j < m and dst[by[j]] < h:
            out[k] = gs[by[j]]
            k += 1
            j += 1
        out[k] = g
        k += 1
    while j < m:
        out[k] = gs[by[j]]
        k += 1
        j += 1
    return out[:k]


#: the modules this module's compiled code takes functions from (none but its own)
CACHE_DEPENDS_ON: tuple[str, ...] = ()
cache_depends_on(__name__, *CACHE_DEPENDS_ON)

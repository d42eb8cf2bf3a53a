"""Small passes of CloudSim mode's datacenter update compiled with numba: the update's energy
step, the test of ``assumptions.drop_idle``, the waiting demand of every guest
(``dcsim.engine.offered.settle``), and a migration group's completion
(``ClusterState.finish_migrations``, and the list order kept across it,
``CloudSimState.order_moved``).

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

from dcsim.kernels.floatops import maximum as _maximum
from dcsim.kernels.floatops import minimum as _minimum
from dcsim.kernels.jit import cache_depends_on


@njit(cache=True, nogil=True, error_model="numpy")
def specpower(tables, h, u):  # type: ignore[no-untyped-def]
    """``dcsim.policies.specpower.specpower_w`` of host ``h`` at utilisation ``u`` (not NaN):
    ``np.clip`` (numpy's: NaN-propagating max then min), then CloudSim's interpolation."""
    if u != u:
        return u
    x = u if u > 0.0 else 0.0  # np.clip(u, 0, 1): maximum(u, 0) then minimum(., 1)
    x = x if x < 1.0 else 1.0
    t10 = x * 10.0
    i1 = math.floor(t10)  # (ints in numba, as Python's)
    i2 = math.ceil(t10)
    p1 = tables[h, i1]
    p2 = tables[h, i2]
    return p1 + (p2 - p1) / 10.0 * (x - i1 / 10.0) * 100.0


@njit(cache=True, nogil=True, error_model="numpy")
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


@njit(cache=True, nogil=True, error_model="numpy")
def any_idle(demand, mig_dst, status, running):  # type: ignore[no-untyped-def]
    """Whether any guest has demand exactly 0, no migration and status ``running``."""
    for g in range(demand.shape[0]):
        if demand[g] == 0.0 and mig_dst[g] < 0 and status[g] == running:
            return True
    return False


@njit(cache=True, nogil=True, error_model="numpy")
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


@njit(cache=True, nogil=True, error_model="numpy")
def settle_waiting(now, status, paused, dropped, has_jobs, recovering, w_last, stop_at,  # type: ignore[no-untyped-def]
                   wake_until, u_last, vcpus, mips, wait_mi, booting_s, down_s, rejected_s,
                   running_s, departed_s):
    """``dcsim.engine.offered.settle`` of every guest up to ``now`` but its sums per cause:
    the waiting guests (booting, down, rejected, running and paused, or dropped; none running
    finite jobs) in index order, each one's ``mi = want * max(min(now, stop_at) - w_last, 0)``
    added to ``wait_mi``; every clock ``w_last`` moves to ``now``. Returns whether any waiting
    guest boots (not after a failure), then, in the waiting guests' order, the terms numpy
    sums: ``wake_mi`` of every waiting guest (0 unless booting), ``mi - wake_mi`` of the
    booting ones, ``mi`` of the rejected, of the down and of the dropped ones."""
    n = status.shape[0]
    k = 0
    idx = np.empty(n, dtype=np.intp)
    for g in range(n):
        s = status[g]
        if s == running_s:
            w = paused[g]
        elif s == departed_s:
            w = dropped[g]
        else:  # (not ``s in (...)``: loading that pulls in numba's list and string code)
            w = (s == booting_s) | (s == down_s) | (s == rejected_s)
        if w and not has_jobs[g]:
            idx[k] = g
            k += 1
    wake = np.empty(k)
    boot = np.empty(k)
    rej = np.empty(k)
    down = np.empty(k)
    drop = np.empty(k)
    n_boot = n_rej = n_down = n_drop = 0
    for i in range(k):
        g = idx[i]
        s = status[g]
        t0 = w_last[g]
        t1 = _minimum(now, stop_at[g])
        dt = _maximum(t1 - t0, 0.0)
        want = u_last[g] * vcpus[g] * mips[g]
        mi = want * dt
        if s == booting_s and not recovering[g]:
            x = _minimum(t1, wake_until[g]) - t0  # np.clip(x, 0, dt): max, then min
            x = x if x != x else (x if x > 0.0 else 0.0)
            x = x if x != x else (x if x < dt else dt)
            wake_mi = want * x
            boot[n_boot] = mi - wake_mi
            n_boot += 1
        else:
            wake_mi = want * 0.0
            if s == rejected_s:
                rej[n_rej] = mi
                n_rej += 1
            elif s == departed_s:
                drop[n_drop] = mi
                n_drop += 1
            else:
                down[n_down] = mi
                n_down += 1
        wake[i] = wake_mi
        wait_mi[g] = wait_mi[g] + mi
    for g in range(n):
        w_last[g] = now
    return n_boot > 0, wake, boot[:n_boot], rej[:n_rej], down[:n_down], drop[:n_drop]


@njit(cache=True, nogil=True, error_model="numpy")
def finish_moves(gs, host_of, mig_dst, charged_ram, charged_disk, dst_ram, dst_disk,  # type: ignore[no-untyped-def]
                 used_ram, used_storage, hold, reserved_mips, vcpus, mips, n_guests,
                 vcpus_placed, reserved_charge):
    """``ClusterState.finish_migrations``' array part for the guests ``gs`` (distinct): each
    source gives back the guest's charges element by element in order (``np.add.at`` of the
    negated terms), a source left empty gets its empty values, then each guest takes its
    destination's. Returns (sources, destinations, whether every guest was migrating: if
    not, nothing was changed)."""
    m = gs.shape[0]
    src = np.empty(m, dtype=host_of.dtype)
    dst = np.empty(m, dtype=mig_dst.dtype)
    ok = True
    for i in range(m):
        g = gs[i]
        src[i] = host_of[g]
        dst[i] = mig_dst[g]
        if src[i] < 0 or dst[i] < 0:
            ok = False
    if not ok:
        return src, dst, False
    for i in range(m):
        g = gs[i]
        h = src[i]
        v = vcpus[g]
        used_ram[h] = used_ram[h] + -charged_ram[g]
        used_storage[h] = used_storage[h] + -charged_disk[g]
        if hold:
            reserved_mips[h] = reserved_mips[h] + -(v * mips[g])
        n_guests[h] = n_guests[h] + -1.0
        vcpus_placed[h] = vcpus_placed[h] + -v
    for i in range(m):  # (ClusterState._clear_drift of the emptied sources)
        h = src[i]
        if n_guests[h] == 0:
            used_ram[h] = reserved_charge[h]
            used_storage[h] = 0.0
            reserved_mips[h] = 0.0
            vcpus_placed[h] = 0.0
    for i in range(m):
        g = gs[i]
        host_of[g] = dst[i]
        charged_ram[g] = dst_ram[g]
        charged_disk[g] = dst_disk[g]
        mig_dst[g] = -1
        dst_ram[g] = 0.0
        dst_disk[g] = 0.0
    return src, dst, True


#: the modules this module's compiled code takes functions from: their edits must invalidate
#: its disk cache too (``dcsim.kernels.jit.cache_depends_on``)
CACHE_DEPENDS_ON = ("dcsim.kernels.floatops",)
cache_depends_on(__name__, *CACHE_DEPENDS_ON)

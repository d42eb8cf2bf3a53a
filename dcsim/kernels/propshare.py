"""CloudSim's proportional CPU share compiled with numba: the guest part of
``dcsim.engine.hostrates.share`` with ``assumptions.proportional_share`` in one pass.

Imported on first use only (``dcsim.kernels.jit.kernel``), in runs with CloudSim's CPU sharing
(``cpu_sharing: proportional``); the machine code is cached on disk and loaded without numba's
compiler set-up.

Why compiled: CloudSim mode re-shares every host at every datacenter update (one per migration
group's completion: ~1,150 per PlanetLab day at any scale), ~30 numpy passes with gathers and
temporaries over every guest and host; one loop over the guests and one over the hosts do the
same work.

Only the case CloudSim mode runs: every guest's efficiency exactly 1, no CPU cap, no I/O scaling,
no paused guest, no memory accounting, no finite jobs, every guest running (``share`` keeps the
numpy code for every other case). Each value is computed by the same float64 operations in the
same order as the numpy code (no fastmath): products left to right as written there,
``np.bincount``'s sums as running sums in index order from 0.0 (a second ``bincount`` added to
the first as a separate sum), ``np.minimum`` as :mod:`dcsim.kernels.floatops`'s (NaN-propagating,
the first operand on ties), ``np.floor`` as ``math.floor`` on floats. ``tests/unit/engine/
test_propshare_kernel.py`` compares both forms call by call over CloudSim runs, byte for byte.

Imports numpy, numba, dcsim.kernels.floatops, dcsim.kernels.jit.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

from dcsim.kernels.floatops import maximum as _maximum
from dcsim.kernels.floatops import minimum as _minimum
from dcsim.kernels.jit import cache_depends_on

DESTINATION_SHARE = 0.1  # dcsim.engine.assumptions.DESTINATION_SHARE (checked by the tests)
N_POINTS = 11  # dcsim.model.power.N_POINTS (checked by the tests)


@njit(cache=True, nogil=True, error_model="numpy")
def share(g, full, local, host_of, hosts, u_last, vcpus, mips, mips_per_core, speed,  # type: ignore[no-untyped-def]
          room, inc, in_local, any_inc, extra_raw, cap_mips, awake, failed, power_table,
          sleep_power, raw_want_o, demand_o, useful_o, raw_o, in_alloc, util, power, rec,
          h_req, h_alloc):
    """Re-share the ``hosts`` (sorted) among their running guests ``g`` (list order) with
    CloudSim's proportional rule; ``full``: ``hosts`` are all hosts (a guest's position in them
    is its host), else ``local`` holds each guest's position.

    ``inc``/``in_local``: guests migrating in and their destination's position (those on
    ``hosts``), ``any_inc``: whether any migration is in flight at all; ``room``: each host's
    MIPS left after ``extra_raw``. Writes the guests' ``raw_want``, ``demand``, ``useful`` and
    ``raw``, the hosts' ``in_alloc``, ``util`` and ``power`` (the power model of awake hosts,
    :func:`dcsim.model.power.power_w`, else the sleep power; 0 if failed). ``rec``: also the
    hosts' ``assumptions.record`` terms, ``h_req`` (the requests of their own guests, plus, if
    any migration is in flight, those of the guests migrating in, each guest's full demand,
    summed apart in start order) and ``h_alloc`` (MIPS allocated, incl. in-flight and extra
    charges). Returns (each guest's demand, the MIPS allocated per host to its own guests, the
    MIPS requested per host by them).
    """
    n = hosts.shape[0]
    m = g.shape[0]
    k = inc.shape[0]
    want = np.empty(m)
    rw = np.empty(m)
    need = np.zeros(n)
    req = np.zeros(n)
    pos = np.empty(m, dtype=np.intp)
    for i in range(m):  # share: demand, per-core cap; proportional_share: need
        gi = g[i]
        h = host_of[gi]
        q = h if full else local[i]
        pos[i] = q
        v = vcpus[gi]
        mi = mips[gi]
        w = u_last[gi] * v * mi
        r = _minimum(w, v * _minimum(mi, mips_per_core[h]))
        want[i] = w
        rw[i] = r
        need[q] += r
        req[q] += w  # (record's requests)
    in_need = np.empty(k)
    in_req = np.zeros(n)
    if any_inc:
        in_sum = np.zeros(n)
        for j in range(k):
            gi = inc[j]
            x = DESTINATION_SHARE * _minimum(u_last[gi] * mips[gi],
                                             mips_per_core[hosts[in_local[j]]]) * vcpus[gi]
            in_need[j] = x
            in_sum[in_local[j]] += x
            if rec:  # (record: the full demand, np.bincount's sum in start order)
                in_req[in_local[j]] += u_last[gi] * vcpus[gi] * mips[gi]
        for q in range(n):
            need[q] = need[q] + in_sum[q]
    over = np.empty(n, dtype=np.bool_)
    scale = np.ones(n)
    for q in range(n):
        o = need[q] > room[q]
        over[q] = o
        if o:
            scale[q] = room[q] / need[q]
    used = np.zeros(n)
    for i in range(m):
        gi = g[i]
        q = pos[i]
        sp = speed[gi]
        r = rw[i]
        if over[q]:
            v = vcpus[gi]
            d = math.floor(r / v * scale[q] * sp) * v
        else:
            d = r * sp
        a = d / sp if sp > 0 else 0.0
        raw_want_o[gi] = r
        demand_o[gi] = want[i]
        useful_o[gi] = d
        raw_o[gi] = a
        used[q] += a
    got = np.zeros(n)
    for j in range(k):
        q = in_local[j]
        x = in_need[j]
        got[q] += math.floor(x * scale[q]) if over[q] else x
    for q in range(n):
        h = hosts[q]
        ia = 0.0 + got[q] if k else 0.0
        in_alloc[h] = ia
        alloc = used[q] + ia + extra_raw[h]
        if rec:
            h_req[h] = req[q] + in_req[q] if any_inc else req[q]
            h_alloc[h] = alloc
        u = _minimum(alloc, cap_mips[h])
        ut = u / cap_mips[h]
        util[h] = ut
        if failed[h]:
            power[h] = 0.0
        elif awake[h]:  # power_w: np.clip, then the table's segment and its interpolation
            x = _minimum(_maximum(ut, 0.0), 1.0) * (N_POINTS - 1)
            lo = math.floor(x)
            if lo > N_POINTS - 2:
                lo = N_POINTS - 2
            p_lo = power_table[h, lo]
            power[h] = p_lo + (power_table[h, lo + 1] - p_lo) * (x - lo)
        else:
            power[h] = sleep_power[h]
    return want, used, req


@njit(cache=True, nogil=True, error_model="numpy")
def share_hosts(g, hosts, host_of, u_last, vcpus, mips, mips_per_core, speed, inc, dst,  # type: ignore[no-untyped-def]
                extra_raw, cap_mips, awake, failed, power_table, sleep_power, raw_want_o,
                demand_o, useful_o, raw_o, in_alloc, util, power, rec, h_req, h_alloc,
                awake_seen):
    """``share`` with ``assumptions.compiled_share``'s preparation: ``hosts`` (sorted, all of
    them or some) and every migration in flight, ``inc`` to ``dst`` (start order). Each guest's
    position in ``hosts`` (``np.searchsorted``), each host's room
    ``np.maximum(0, cap_mips - extra_raw)``, the migrations into ``hosts`` and their
    destinations' positions, in start order; then ``share``. Returns ``share``'s values and
    whether any of the hosts' awake flag differs from ``awake_seen``."""
    n = hosts.shape[0]
    n_h = cap_mips.shape[0]
    full = n == n_h
    at = np.full(0 if full else n_h, -1, dtype=np.intp)  # host -> its position in hosts
    room = np.empty(n)
    changed = False
    for q in range(n):
        h = hosts[q]
        if not full:
            at[h] = q
        room[q] = _maximum(0.0, cap_mips[h] - extra_raw[h])
        if awake[h] != awake_seen[h]:
            changed = True
    m = g.shape[0]
    local = np.empty(0 if full else m, dtype=np.intp)
    if not full:
        for i in range(m):
            local[i] = at[host_of[g[i]]]
    any_inc = inc.shape[0] > 0
    if full or not any_inc:
        inc_k, in_local = inc, dst
    else:  # (the migrations into hosts, in order)
        keep = np.empty(inc.shape[0], dtype=np.intp)
        k = 0
        for j in range(inc.shape[0]):
            if at[dst[j]] >= 0:
                keep[k] = j
                k += 1
        inc_k = np.empty(k, dtype=inc.dtype)
        in_local = np.empty(k, dtype=np.intp)
        for j in range(k):
            inc_k[j] = inc[keep[j]]
            in_local[j] = at[dst[keep[j]]]
    want, used, req = share(g, full, local, host_of, hosts, u_last, vcpus, mips, mips_per_core,
                            speed, room, inc_k, in_local, any_inc, extra_raw, cap_mips, awake,
                            failed, power_table, sleep_power, raw_want_o, demand_o, useful_o,
                            raw_o, in_alloc, util, power, rec, h_req, h_alloc)
    return want, used, req, changed


#: the modules this module's compiled code takes functions from: their edits must invalidate
#: its disk cache too (``dcsim.kernels.jit.cache_depends_on``)
CACHE_DEPENDS_ON = ("dcsim.kernels.floatops",)
cache_depends_on(__name__, *CACHE_DEPENDS_ON)

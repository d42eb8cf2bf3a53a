"""The state-history entries compiled with numba: the per-guest pass of
:meth:`dcsim.metrics.consolidation.StateHistoryRecorder.vm_entries`, and ``host_entries``.

Imported on first use only (``dcsim.kernels.jit.kernel``), by a recorder built with
``compiled=True`` (CloudSim mode's, whose planner imports numba anyway); the machine code is
cached on disk and loaded without numba's compiler set-up. Why compiled: CloudSim mode records
every guest at every re-share (~2,600 times per PlanetLab day at any scale), ~20 numpy gathers,
masks and scatters over every guest each time.

One pass over the entries' guests in order: for each guest with an entry at an earlier time it
computes the terms the numpy form sums (``req·Δt``, ``alloc·Δt``, and where ``alloc < req``
the violation fraction and, in migration, ``(req - alloc)·Δt``) into compact arrays in the
same order, the same float64 operations (no fastmath), and the migration bookkeeping; then it
writes the new entry. The caller sums those arrays with numpy (the same arrays, so the same
pairwise sums). The guests are distinct, so reading a guest's old entry just before writing
its new one reads what the numpy form reads before its scatters.
``tests/property/test_vm_record.py`` compares both recorders byte for byte.

Imports numpy, numba.
"""

from __future__ import annotations

import numpy as np
from numba import njit


@njit(cache=True, nogil=True, error_model="numpy")
def vm_entries(t, ids, allocated, requested, in_migration, v_has, v_t, v_alloc, v_req,  # type: ignore[no-untyped-def]
               v_mig, v_prev_mig, v_mig_start):
    """Entries of guests ``ids`` (distinct) at ``t`` (s). Returns the terms of the guests whose
    previous entry is older: (``req·Δt``, ``alloc·Δt``, ``(req - alloc) / req`` where
    ``alloc < req``, ``(req - alloc)·Δt`` where also in migration, the migration times that
    ended), each in the guests' order."""
    return _entries(t, ids, False, allocated, requested, in_migration, ids, v_has, v_t,
                    v_alloc, v_req, v_mig, v_prev_mig, v_mig_start)


@njit(cache=True, nogil=True, error_model="numpy")
def vm_entries_of(t, ids, useful, requested, mig_dst, v_has, v_t, v_alloc, v_req,  # type: ignore[no-untyped-def]
                  v_mig, v_prev_mig, v_mig_start):
    """``vm_entries(t, ids, useful[ids], requested, mig_dst[ids] >= 0, ...)`` without the
    gathers: each guest's allocation and migration flag read from the whole arrays."""
    flags = np.empty(0, dtype=np.bool_)
    return _entries(t, ids, True, useful, requested, flags, mig_dst, v_has, v_t, v_alloc,
                    v_req, v_mig, v_prev_mig, v_mig_start)


@njit(cache=True, nogil=True, error_model="numpy")
def _entries(t, ids, of, allocated, requested, in_migration, mig_dst, v_has, v_t, v_alloc,  # type: ignore[no-untyped-def]
             v_req, v_mig, v_prev_mig, v_mig_start):
    """``vm_entries``; ``of``: ``allocated`` and ``mig_dst`` are whole per-guest arrays (the
    allocation ``allocated[g]``, in migration ``mig_dst[g] >= 0``), else ``allocated`` and
    ``in_migration`` are per entry."""
    m = ids.shape[0]
    req_dt = np.empty(m)
    alloc_dt = np.empty(m)
    frac = np.empty(m)
    under_mig = np.empty(m)
    ended = np.empty(m)
    k = 0
    n_under = 0
    n_um = 0
    n_end = 0
    for i in range(m):
        g = ids[i]
        t_old = v_t[g]
        if v_has[g] and t_old != t:
            dt = t - t_old
            req = v_req[g]
            alloc = v_alloc[g]
            mig = v_mig[g]
            req_dt[k] = req * dt
            alloc_dt[k] = alloc * dt
            k += 1
            if alloc < req:
                frac[n_under] = (req - alloc) / req
                n_under += 1
                if mig:
                    under_mig[n_um] = (req - alloc) * dt
                    n_um += 1
            prev = v_prev_mig[g]  # StateHistoryRecorder._finalize_vms
            if prev and not mig:
                ended[n_end] = t_old - v_mig_start[g]
                n_end += 1
            if mig and not prev:
                v_mig_start[g] = t_old
            v_prev_mig[g] = mig
        v_has[g] = True
        v_t[g] = t
        v_alloc[g] = allocated[g] if of else allocated[i]
        v_req[g] = requested[i]
        v_mig[g] = mig_dst[g] >= 0 if of else in_migration[i]
    return req_dt[:k], alloc_dt[:k], frac[:n_under], under_mig[:n_um], ended[:n_end]


@njit(cache=True, nogil=True, error_model="numpy")
def host_entries(tick, t_old, allocated, requested, h_alloc, h_req, h_act, h_prev_act,  # type: ignore[no-untyped-def]
                 h_last_on):
    """:meth:`StateHistoryRecorder.host_entries` of every host with ``active = allocated > 0``
    in place. ``tick``: the entries are at a new time and the pending ones (at ``t_old``) are
    final: counts the active hosts and those active with ``alloc < req`` among them, the
    hosts that went off (their time on until ``t_old``, in host order) and on (on since
    ``t_old``), then the pending flags become the previous ones. Returns (active count,
    violating count, the off hosts' times on)."""
    n = h_alloc.shape[0]
    n_act = 0
    n_viol = 0
    off = np.empty(n)
    n_off = 0
    if tick:
        for h in range(n):
            act = h_act[h]
            prev = h_prev_act[h]
            if act:
                n_act += 1
                if h_alloc[h] < h_req[h]:
                    n_viol += 1
            if prev and not act:
                off[n_off] = t_old - h_last_on[h]
                n_off += 1
            if act and not prev:
                h_last_on[h] = t_old
            h_prev_act[h] = act
    for h in range(n):
        a = allocated[h]
        h_alloc[h] = a
        h_req[h] = requested[h]
        h_act[h] = a > 0
    return n_act, n_viol, off[:n_off]

"""PABFD's candidate search compiled with numba: one pass over the candidate hosts of a placement.

Imported by :mod:`dcsim.policies.pabfd` on the first migration placement only (never by
``import dcsim``), because importing numba costs about half a second of CPU; the compiled code is
cached on disk (``cache=True``) so later processes skip the compilation.

Why compiled: at 10x the PlanetLab data center a placement has ~500 candidate hosts and ~28 of
them are trial-tested before one passes; in Python each test was ~1.5 us plus a sort of all
candidates, and their number grows with the data center (the planner was the part of a run whose
cost grew faster than linearly with scale).

:func:`pick` returns exactly the host that CloudSim's PABFD picks: the least power increase among
the suitable candidates that would not be overloaded (a host with nothing allocated is never
tested), the lowest id on ties, a NaN increase before any number, an infinite one never. It does
not sort: it keeps the best host that passed and tests a candidate only when it would beat it.
The scalar operations are those of :func:`dcsim.policies.pabfd.specpower_w` and of LR's
``screen_features``, in the same order, on float64 (no fastmath, no fused multiply-add), so every
comparison sees the same bits as numpy's vectorized form.

Imports numpy, numba and the mode constants of dcsim.policies.pabfd.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

from dcsim.policies.pabfd import LINEAR, THRESHOLD


@njit(cache=True, nogil=True, error_model="numpy")
def _before(d1: float, h1: int, d2: float, h2: int) -> bool:
    """Whether (increase d1, host h1) comes before (d2, h2): NaN first, then lowest, then id."""
    n1 = d1 != d1
    n2 = d2 != d2
    if n1 or n2:
        if n1 and n2:
            return h1 < h2
        return n1
    return d1 < d2 or (d1 == d2 and h1 < h2)


@njit(cache=True, nogil=True, error_model="numpy")
def pick(act, reps, skip, r, check_pe, mode, U, T, avail, pe, off, tflat, stale, reqsum,  # type: ignore[no-untyped-def]
         hlen, maxram, ttype, F, ftab, v, vl, rv, c):
    """Host for a guest of demand ``r`` among candidates ``act`` and ``reps`` (host ids).

    Parameters
    ----------
    act, reps
        int64 host ids (candidates; distinct across both).
    skip
        int64 hosts already decided overloaded by the caller (after an ``unsure`` answer).
    r
        Guest demand, MIPS; ``check_pe``: whether the per-core capacity must be checked.
    mode
        :data:`THRESHOLD`, :data:`LINEAR` or :data:`DEFER`.
    U, T, avail, pe, off, tflat, stale, reqsum, hlen, maxram, ttype, F
        The working state's per-host arrays (:class:`dcsim.policies.pabfd._Work`).
    ftab, v, vl, rv
        Feature table ``(types, guests, q)``, the guest, its history length and RAM (MB).
    c
        float64 ``[threshold, migration MB/s, interval s, safety, guard, fallback, points]``.

    Returns
    -------
    int
        The host (``>= 0``), ``-1`` if none, or ``-(h + 2)``: host ``h`` must be tested exactly by
        the caller (an ``unsure`` screen that would win); call again with ``h`` in ``skip`` if it
        is overloaded, else ``h`` is the answer.
    """
    thr, bw, interval, safety, guard, fallback, points = c[0], c[1], c[2], c[3], c[4], c[5], c[6]
    best = -1
    best_d = 0.0
    uns = -1
    uns_d = 0.0
    n_act = act.shape[0]
    for k in range(n_act + reps.shape[0]):
        h = act[k] if k < n_act else reps[k - n_act]
        if not avail[h] >= r:
            continue
        if check_pe and not pe[h] >= r:
            continue
        u_h = U[h]
        x = (u_h + r) / T[h]
        u = 1.0 if x > 1.0 else x  # np.minimum(x, 1.0), NaN kept
        t10 = u * 10.0
        if t10 != t10:
            d = t10
        else:
            i1 = np.floor(t10)
            base = off[h]
            p1 = tflat[base + np.intp(i1)]
            p2 = tflat[base + np.intp(np.ceil(t10))]
            d = p1 + (p2 - p1) / 10.0 * (u - i1 / 10.0) * 100.0 - stale[h]
        if d == np.inf:
            continue
        if best >= 0 and not _before(d, h, best_d, best):
            continue
        if u_h != 0.0:  # trial overload test
            bad = False
            unsure = False
            for s in range(skip.shape[0]):
                if skip[s] == h:
                    bad = True
            if bad:
                continue
            if mode == THRESHOLD:
                bad = (reqsum[h] + r) / T[h] > thr
            elif mode == LINEAR:
                util = (reqsum[h] + r) / T[h]
                mig = max(maxram[h], rv) / bw
                if not math.isfinite(mig / interval):
                    unsure = True
                elif max(hlen[h], vl) < points:
                    bad = util > fallback
                else:
                    tt = ttype[h]
                    horizon = points + np.ceil(mig / interval)
                    pred = safety * ((F[h, 0] + ftab[tt, v, 0])
                                     + (horizon - 5.5) * (F[h, 1] + ftab[tt, v, 1]))
                    bad = pred >= 1.0
                    unsure = abs(pred - 1.0) <= guard
            else:
                unsure = True
            if unsure:
                if uns < 0 or _before(d, h, uns_d, uns):
                    uns = h
                    uns_d = d
                continue
            if bad:
                continue
        best = h
        best_d = d
    if uns >= 0 and (best < 0 or _before(uns_d, uns, best_d, best)):
        return -(uns + 2)
    return best


@njit(cache=True, nogil=True, error_model="numpy")
def add_to(h, v, r, ramv, avail, U, reqsum, maxram, hist, ctab, ttype, hlen, vlen, F, ftab,  # type: ignore[no-untyped-def]
           need_hist, feats):
    """The array part of a trial placement of guest ``v`` (demand ``r``, RAM ``ramv``) on host
    ``h`` (:meth:`dcsim.policies.pabfd._Work.add`): free and allocated MIPS, requested sum,
    largest RAM, and with ``need_hist`` the host's history row and length (``feats``: its LR
    features), each element updated with one float64 addition as numpy's ``+=`` does."""
    avail[h] = avail[h] - r
    U[h] = U[h] + r
    reqsum[h] = reqsum[h] + r
    if need_hist:
        tt = ttype[h]
        for k in range(hist.shape[1]):
            hist[h, k] = hist[h, k] + ctab[tt, v, k]
        if vlen[v] > hlen[h]:
            hlen[h] = vlen[v]
        if feats:
            for q in range(F.shape[1]):
                F[h, q] = F[h, q] + ftab[tt, v, q]
    if ramv > maxram[h]:
        maxram[h] = ramv

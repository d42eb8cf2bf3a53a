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
def _search(act, reps, n_reps, skip, r, check_pe, mode, U, T, avail, pe, off, tflat, stale,  # type: ignore[no-untyped-def]
            reqsum, hlen, maxram, ttype, F, ftab, v, vl, rv, c):
    """:func:`pick` over ``act`` and the first ``n_reps`` entries of ``reps``."""
    thr, bw, interval, safety, guard, fallback, points = c[0], c[1], c[2], c[3], c[4], c[5], c[6]
    best = -1
    best_d = 0.0
    uns = -1
    uns_d = 0.0
    n_act = act.shape[0]
    for k in range(n_act + n_reps):
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
    return _search(act, reps, reps.shape[0], skip, r, check_pe, mode, U, T, avail, pe, off,
                   tflat, stale, reqsum, hlen, maxram, ttype, F, ftab, v, vl, rv, c)


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


# ------------------------------------------------------------------ fused placement and journal
# ``ist`` (int64): [journaling on, trial epoch, journal entries, clean host woken by the last
# commit]. Journal entry j: host ``jhost[j]``, its free MIPS, allocated MIPS, requested sum and
# largest RAM (``jsc[j]``), history length and guest count (``jint[j]``), history row and features
# as they were before the trial's first placement on it.


@njit(cache=True, nogil=True, error_model="numpy")
def commit(h, v, avail, U, reqsum, maxram, hist, ctab, ttype, hlen, vlen, F, ftab,  # type: ignore[no-untyped-def]
           need_hist, feats, rq, ram, nlist, ist, jmark, jhost, jsc, jint, jhist, jF):
    """Trial placement of guest ``v`` on host ``h`` (:meth:`dcsim.policies.pabfd._Work.add`):
    the host is journaled first if a trial is open and it is its first change in the trial; then
    :func:`add_to`, and the host's guest count grows by one. ``ist[3]`` tells whether ``h`` was
    clean (nothing allocated) and receives a non-zero demand."""
    r = rq[v]
    if ist[0] != 0 and jmark[h] != ist[1]:
        j = ist[2]
        ist[2] = j + 1
        jmark[h] = ist[1]
        jhost[j] = h
        jsc[j, 0] = avail[h]
        jsc[j, 1] = U[h]
        jsc[j, 2] = reqsum[h]
        jsc[j, 3] = maxram[h]
        jint[j, 0] = hlen[h]
        jint[j, 1] = nlist[h]
        if need_hist:
            for k in range(hist.shape[1]):
                jhist[j, k] = hist[h, k]
        if feats:
            for q in range(F.shape[1]):
                jF[j, q] = F[h, q]
    ist[3] = 1 if (r != 0.0 and U[h] == 0.0) else 0
    add_to(h, v, r, ram[v], avail, U, reqsum, maxram, hist, ctab, ttype, hlen, vlen, F, ftab,
           need_hist, feats)
    nlist[h] += 1


@njit(cache=True, nogil=True, error_model="numpy")
def undo(avail, U, reqsum, maxram, hist, hlen, F, need_hist, feats, nlist, ist, jhost, jsc,  # type: ignore[no-untyped-def]
         jint, jhist, jF):
    """Restore every host journaled in the open trial, newest entry first, and close the
    trial. Returns the restored hosts in that order (the caller trims their guest lists to
    ``nlist`` and returns clean ones to their class)."""
    n = ist[2]
    out = np.empty(n, dtype=np.int64)
    for i in range(n):
        j = n - 1 - i
        h = jhost[j]
        avail[h] = jsc[j, 0]
        U[h] = jsc[j, 1]
        reqsum[h] = jsc[j, 2]
        maxram[h] = jsc[j, 3]
        hlen[h] = jint[j, 0]
        nlist[h] = jint[j, 1]
        if need_hist:
            for k in range(hist.shape[1]):
                hist[h, k] = jhist[j, k]
        if feats:
            for q in range(F.shape[1]):
                F[h, q] = jF[j, q]
        out[i] = h
    ist[0] = 0
    ist[2] = 0
    return out


@njit(cache=True, nogil=True, error_model="numpy")
def place(act, skip, v, mode, U, T, avail, pe, off, tflat, stale, reqsum, hlen, maxram,  # type: ignore[no-untyped-def]
          ttype, F, ftab, c, hist, ctab, vlen, need_hist, feats, rq, ram, nlist, ist, jmark,
          jhost, jsc, jint, jhist, jF, allowed, members, cstart, cursor, avail_c, pe_c, buf):
    """One PABFD placement of guest ``v`` over a candidate pool, committed when decided.

    The pool (:class:`dcsim.policies.pabfd.CandidatePool`) as arrays: ``allowed`` hosts, its
    active hosts ``act``, and its classes of clean hosts (class ``k``: ``members[cstart[k]:
    cstart[k + 1]]`` ascending, scan position ``cursor[k]``, free and per-core MIPS
    ``avail_c[k]``, ``pe_c[k]``). Each class that can take the demand contributes its lowest
    allowed clean member (what ``CandidatePool.reps`` returns, cursor updated the same way),
    written to ``buf``; then :func:`pick`'s search (``c[7]``: the smallest per-core capacity).

    Returns what :func:`pick` returns; a host ``>= 0`` has received the guest (:func:`commit`).
    """
    r = rq[v]
    check_pe = r > c[7]
    n = 0
    for k in range(cstart.shape[0] - 1):
        if avail_c[k] < r or (check_pe and pe_c[k] < r):
            continue
        p = cursor[k]
        end = cstart[k + 1]
        while p < end:
            h = members[p]
            if allowed[h] and U[h] == 0.0:
                break
            p += 1
        cursor[k] = p
        if p < end:
            buf[n] = members[p]
            n += 1
    h = _search(act, buf, n, skip, r, check_pe, mode, U, T, avail, pe, off, tflat, stale,
                reqsum, hlen, maxram, ttype, F, ftab, v, vlen[v], ram[v], c)
    if h >= 0:
        commit(h, v, avail, U, reqsum, maxram, hist, ctab, ttype, hlen, vlen, F, ftab,
               need_hist, feats, rq, ram, nlist, ist, jmark, jhost, jsc, jint, jhist, jF)
    return h


# ------------------------------------------------------------------ selection loop (step 2)
@njit(cache=True, nogil=True, error_model="numpy")
def recompute(h, lst, mode, T, rq, ram, reqsum, maxram, hist, hlen, ctab, ttype, F,  # type: ignore[no-untyped-def]
              need_hist, feats, mean_w, slope_w, c):
    """Sums of host ``h`` from its guests ``lst`` (in list order), then its overload screen.

    Requested sum (``0.0 +`` each demand in turn), largest RAM (the first of equals), and with
    ``need_hist`` the history row (column by column, the first guest's value then ``+`` each
    next one: ``np.add.accumulate``'s order), its length (last non-zero + 1) and, with
    ``feats``, LR's features (sequential dot products; they may differ from
    ``LocalRegression.features`` in the last bits and are only read through the guarded screen).

    Returns 0 (not overloaded), 1 (overloaded) or 2 (decide exactly): :data:`THRESHOLD` compares
    ``reqsum / T`` with ``c[0]``; :data:`LINEAR` is LR's screen (as in :func:`pick`, for the
    host alone); any other mode returns 2.
    """
    n = lst.shape[0]
    s = 0.0
    for i in range(n):
        s += rq[lst[i]]
    reqsum[h] = s
    m = 0.0
    if n:
        m = ram[lst[0]]
        for i in range(1, n):
            x = ram[lst[i]]
            if x > m:
                m = x
    maxram[h] = m
    if need_hist:
        tt = ttype[h]
        last = 0
        for k in range(hist.shape[1]):
            x = 0.0
            if n:
                x = ctab[tt, lst[0], k]
                for i in range(1, n):
                    x = x + ctab[tt, lst[i], k]
            hist[h, k] = x
            if x != 0.0:
                last = k + 1
        hlen[h] = last
        if feats:
            kk = min(hist.shape[1], mean_w.shape[0])
            f0 = 0.0
            f1 = 0.0
            for k in range(kk):
                f0 += hist[h, k] * mean_w[k]
                f1 += hist[h, k] * slope_w[k]
            F[h, 0] = f0
            F[h, 1] = f1
    util = reqsum[h] / T[h]
    if mode == THRESHOLD:
        return 1 if util > c[0] else 0
    if mode == LINEAR:
        bw, interval, safety, guard, fallback, points = c[1], c[2], c[3], c[4], c[5], c[6]
        mig = maxram[h] / bw
        if not math.isfinite(mig / interval):
            return 2
        if hlen[h] < points:
            return 1 if util > fallback else 0
        horizon = points + np.ceil(mig / interval)
        pred = safety * (F[h, 0] + (horizon - 5.5) * F[h, 1])
        if abs(pred - 1.0) <= guard:
            return 2
        return 1 if pred >= 1.0 else 0
    return 2

"""PABFD's candidate search compiled with numba: one pass over the candidate hosts of a placement.

Imported by :mod:`dcsim.policies.pabfd` on the first planner step only (never by
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

The planner's placements run :func:`_csearch`, the same search over *compact* rows: the
candidate pool keeps its active hosts' allocation, capacity, free and per-core MIPS and stale
power contiguous, in any order (rows and upkeep: :mod:`dcsim.policies.pabfd_rows`), the class
representatives are written after them, and the power tables are one per host class with ``(p2 -
p1) / 10`` and ``i / 10`` precomputed from the same values (the same bits). Its answer does not
depend on the order of the candidates, so it need not evaluate them all: each row also keeps a
few terms derived from its values and its table (``pabfd_rows.derive``, again after each change
of its allocation) from which a branch-free pass (``pabfd_rows._bounds``) bounds every
candidate's increase from below without reading the table, and a candidate whose bound exceeds
the best increase found so far is skipped. The bound is exact up to a margin (1e-9 relative)
within the segment the host is in and the next one, so what is evaluated is essentially the
hosts cheaper than the answer that the overload test turns down, and near-ties (at 10x the
PlanetLab data center ~120 of ~515 candidates per placement; the pruned search costs ~11 % less
CPU at 20x). An evaluated candidate's increase is computed by ``pabfd_rows._increase``, the same
operations as the plain scan, so ties are broken by the same bits. :func:`pick` (per-host
arrays) stays as the plain scan that :meth:`~dcsim.policies.pabfd.PowerAwareBestFit.find_host`
and the tests use.

The planner's other per-placement and per-host work is here too, so that one placement is one
call: :func:`place` (class representatives + :func:`_csearch` + :func:`commit`, the trial
placement with its undo journal), :func:`undo`, :func:`recompute` (a host's sums after a guest
left, and its overload screen; the working state's start sums are
:func:`dcsim.policies.start_kernel.start`'s). Sums add in
the order the numpy / Python forms they replace add (list order), so they are bit-identical.
Each argument of a call costs ~0.25 us to pass, so the state comes packed in a few arrays.

Imports numpy, numba, dcsim.kernels.jit (cache dependencies), the mode and layout constants of
dcsim.policies.pabfd_layout and the compact rows' functions of dcsim.policies.pabfd_rows.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

from dcsim.kernels.jit import cache_depends_on
from dcsim.policies.pabfd_layout import (
    C_BL,
    C_D,
    C_T,
    C_U,
    G_RAM,
    G_RQ,
    H_AVAIL,
    H_HLEN,
    H_JMARK,
    H_MAXRAM,
    H_NLIST,
    H_REQ,
    H_T,
    H_TTYPE,
    H_U,
    IST_EPOCH,
    IST_FEATS,
    IST_HIST,
    IST_MODE,
    IST_N,
    IST_ON,
    IST_RMODE,
    IST_STOP,
    IST_UNSURE,
    IST_WOKE,
    LINEAR,
    THRESHOLD,
)
from dcsim.policies.pabfd_rows import _bounds, _increase, _put_row, derive, pool_sync


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
# The working state packed into few arrays (each argument of a compiled call costs ~0.25 us to
# pass): ``hf`` / ``hi`` per-host float / int rows and ``gf`` per-guest float rows (row indices
# in dcsim.policies.pabfd), ``ist`` the int state (see ``IST_*`` there), the journal ``jf`` /
# ``ji`` (entry j: free MIPS, allocated MIPS, requested sum, largest RAM, history row, features /
# history length, guest count, host; a host's values before the trial's first placement on it).


@njit(cache=True, nogil=True, error_model="numpy")
def commit(h, v, hf, hi, gf, vlen, hist, ctab, F, ftab, ist, jf, ji):  # type: ignore[no-untyped-def]
    """Trial placement of guest ``v`` on host ``h`` (:meth:`dcsim.policies.pabfd._Work.add`):
    the host is journaled first if a trial is open and it is its first change in the trial; then
    :func:`add_to`, and the host's guest count grows by one. ``ist[IST_WOKE]`` tells whether
    ``h`` was clean (nothing allocated) and receives a non-zero demand."""
    r = gf[G_RQ, v]
    need_hist = ist[IST_HIST] != 0
    feats = ist[IST_FEATS] != 0
    if ist[IST_ON] != 0 and hi[H_JMARK, h] != ist[IST_EPOCH]:
        j = ist[IST_N]
        ist[IST_N] = j + 1
        hi[H_JMARK, h] = ist[IST_EPOCH]
        jf[j, 0] = hf[H_AVAIL, h]
        jf[j, 1] = hf[H_U, h]
        jf[j, 2] = hf[H_REQ, h]
        jf[j, 3] = hf[H_MAXRAM, h]
        ji[j, 0] = hi[H_HLEN, h]
        ji[j, 1] = hi[H_NLIST, h]
        ji[j, 2] = h
        kk = hist.shape[1] if need_hist else 0
        for k in range(kk):
            jf[j, 4 + k] = hist[h, k]
        if feats:
            for q in range(F.shape[1]):
                jf[j, 4 + kk + q] = F[h, q]
    ist[IST_WOKE] = 1 if (r != 0.0 and hf[H_U, h] == 0.0) else 0
    add_to(h, v, r, gf[G_RAM, v], hf[H_AVAIL], hf[H_U], hf[H_REQ], hf[H_MAXRAM], hist, ctab,
           hi[H_TTYPE], hi[H_HLEN], vlen, F, ftab, need_hist, feats)
    hi[H_NLIST, h] += 1


@njit(cache=True, nogil=True, error_model="numpy")
def undo(hf, hi, hist, F, ist, jf, ji):  # type: ignore[no-untyped-def]
    """Restore every host journaled in the open trial, newest entry first, and close the
    trial. Returns the restored hosts in that order (the caller trims their guest lists to their
    guest counts and returns clean ones to their class)."""
    need_hist = ist[IST_HIST] != 0
    feats = ist[IST_FEATS] != 0
    kk = hist.shape[1] if need_hist else 0
    n = ist[IST_N]
    out = np.empty(n, dtype=np.int64)
    for i in range(n):
        j = n - 1 - i
        h = ji[j, 2]
        hf[H_AVAIL, h] = jf[j, 0]
        hf[H_U, h] = jf[j, 1]
        hf[H_REQ, h] = jf[j, 2]
        hf[H_MAXRAM, h] = jf[j, 3]
        hi[H_HLEN, h] = ji[j, 0]
        hi[H_NLIST, h] = ji[j, 1]
        for k in range(kk):
            hist[h, k] = jf[j, 4 + k]
        if feats:
            for q in range(F.shape[1]):
                F[h, q] = jf[j, 4 + kk + q]
        out[i] = h
    ist[IST_ON] = 0
    ist[IST_N] = 0
    return out


@njit(cache=True, nogil=True, error_model="numpy")
def _csearch(n, ids, poff, pc, ptab, skip, r, check_pe, mode, reqsum, hlen, maxram, ttype,  # type: ignore[no-untyped-def]
             F, ftab, v, vl, rv, c):
    """:func:`_search` over the first ``n`` compact candidates (host ``ids[k]``, values in the
    ``C_*`` rows of ``pc``): the same answer (see :func:`pick`) from fewer evaluations.

    The answer does not depend on the order in which candidates are considered (the best host
    that passes, or a better unsure one, by increase then id, NaN first), so a candidate whose
    lower bound (``pabfd_rows._bounds``) exceeds the best increase found so far (passed or unsure)
    cannot be it and is not evaluated. The candidate with the least bound goes first (its
    increase is usually close to the answer's), then the rest in row order; a NaN increase
    found lets only ``-inf`` bounds through. Increases are computed by
    ``pabfd_rows._increase``, so a host that is evaluated gets the same bits as in the plain scan.
    """
    thr, bw, interval, safety, guard, fallback, points = c[0], c[1], c[2], c[3], c[4], c[5], c[6]
    kmin = _bounds(n, r, check_pe, pc)
    cb, cu, ct, bl = pc[C_D], pc[C_U], pc[C_T], pc[C_BL]
    best = -1
    best_d = 0.0
    uns = -1
    uns_d = 0.0
    lim = np.inf
    for it in range(n + 1):
        if it == 0:
            if kmin < 0:
                continue
            k = kmin
        else:
            k = it - 1
            if k == kmin or cb[k] > lim:
                continue
        if cb[k] == np.inf:
            continue
        if bl[k] != bl[k]:
            derive(k, pc, ptab, poff)  # for the next searches
        d = _increase(k, r, pc, ptab, poff)
        if d == np.inf:
            continue
        h = ids[k]
        if best >= 0 and not _before(d, h, best_d, best):
            continue
        if cu[k] != 0.0:  # trial overload test
            bad = False
            unsure = False
            for s in range(skip.shape[0]):
                if skip[s] == h:
                    bad = True
            if bad:
                continue
            if mode == THRESHOLD:
                bad = (reqsum[h] + r) / ct[k] > thr
            elif mode == LINEAR:
                util = (reqsum[h] + r) / ct[k]
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
                    lim = -np.inf if d != d else min(lim, d)
                continue
            if bad:
                continue
        best = h
        best_d = d
        lim = -np.inf if d != d else min(lim, d)
    if uns >= 0 and (best < 0 or _before(uns_d, uns, best_d, best)):
        return -(uns + 2)
    return best


@njit(cache=True, nogil=True, error_model="numpy")
def place(pa, pc, skip, v, hf, hi, gf, vlen, ptab, c, hist, ctab, F, ftab, ist, jf, ji, pi, pf):  # type: ignore[no-untyped-def]
    """One PABFD placement of guest ``v`` over a candidate pool, committed when decided.

    The pool (:class:`dcsim.policies.pabfd.CandidatePool`) is its active hosts in ``pa`` /
    ``pc`` (compact rows, any order) and ``pi`` = [M, C, allowed (H), members (M), class
    starts (C + 1), scan positions (C), a buffer (C)], ``pf`` = [free MIPS (C), per-core MIPS
    (C)] of its C classes of clean hosts (class k: ``members[start[k]:start[k + 1]]``
    ascending). Each class that can take the demand contributes its lowest allowed clean member
    (what ``CandidatePool.reps`` returns, scan position updated the same way), written after the
    active hosts' rows; then :func:`_csearch` (mode ``ist[IST_MODE]``, ``c[7]``: the smallest
    per-core capacity), which answers as :func:`pick` over the same hosts.

    Returns what :func:`pick` returns; a host ``>= 0`` has received the guest (:func:`commit`)
    and the pool's rows follow (``pabfd_rows.pool_sync``).
    """
    n_h = hf.shape[1]
    m = pi[0]
    n_c = pi[1]
    a0 = 2
    m0 = a0 + n_h
    s0 = m0 + m
    c0 = s0 + n_c + 1
    U = hf[H_U]
    r = gf[G_RQ, v]
    check_pe = r > c[7]
    ids, poff = pa[1:1 + n_h], pa[1 + n_h:1 + 2 * n_h]
    n = pa[0]
    for k in range(n_c):
        if pf[k] < r or (check_pe and pf[n_c + k] < r):
            continue
        p = pi[c0 + k]
        end = pi[s0 + k + 1]
        while p < end:
            h = pi[m0 + p]
            if pi[a0 + h] != 0 and U[h] == 0.0:
                break
            p += 1
        pi[c0 + k] = p
        if p < end and n < n_h:  # (always: active hosts and representatives are distinct)
            _put_row(n, pi[m0 + p], hf, hi, ids, poff, pc)
            n += 1
    h = _csearch(n, ids, poff, pc, ptab, skip, r, check_pe, ist[IST_MODE], hf[H_REQ],
                 hi[H_HLEN], hf[H_MAXRAM], hi[H_TTYPE], F, ftab, v, vlen[v], gf[G_RAM, v], c)
    if h >= 0:
        commit(h, v, hf, hi, gf, vlen, hist, ctab, F, ftab, ist, jf, ji)
        pool_sync(h, ist[IST_WOKE] != 0, hf, hi, pa, pc, pi)
    return h


@njit(cache=True, nogil=True, error_model="numpy")
def place_seq(pa, pc, skip, vms, start, stop_on_fail, out, hf, hi, gf, vlen, ptab, c, hist,  # type: ignore[no-untyped-def]
              ctab, F, ftab, ist, jf, ji, pi, pf):
    """:func:`place` for ``vms[start:]`` in order, results in ``out`` (host or -1), until the
    caller has work to do; returns the index of the first guest not done.

    Stops after a failure when ``stop_on_fail``, at the end, or before a guest whose best
    candidate needs the caller's exact test (``ist[IST_STOP] = 1``, the host in
    ``ist[IST_UNSURE]``; ``skip`` applies to ``vms[start]`` only).
    """
    n = vms.shape[0]
    i = start
    ist[IST_STOP] = 0
    while i < n:
        sk = skip if i == start else skip[:0]
        h = place(pa, pc, sk, vms[i], hf, hi, gf, vlen, ptab, c, hist, ctab, F, ftab, ist, jf,
                  ji, pi, pf)
        if h < -1:
            ist[IST_STOP] = 1
            ist[IST_UNSURE] = -h - 2
            return i
        out[i] = h
        i += 1
        if h == -1 and stop_on_fail:
            return i
    return i


# ------------------------------------------------------------------ selection loop (step 2)
@njit(cache=True, nogil=True, error_model="numpy")
def recompute(h, lst, hf, hi, gf, hist, ctab, F, ist, mean_w, slope_w, c):  # type: ignore[no-untyped-def]
    """Sums of host ``h`` from its guests ``lst`` (in list order), then its overload screen.

    Requested sum (``0.0 +`` each demand in turn), largest RAM (the first of equals), and with
    history the row (column by column, the first guest's value then ``+`` each next one:
    ``np.add.accumulate``'s order), its length (last non-zero + 1) and, with features, LR's
    features (sequential dot products; they may differ from ``LocalRegression.features`` in the
    last bits and are only read through the guarded screen). The guest count is ``len(lst)``.

    Returns 0 (not overloaded), 1 (overloaded) or 2 (decide exactly), by ``ist[IST_RMODE]``:
    :data:`THRESHOLD` compares ``reqsum / T`` with ``c[0]``; :data:`LINEAR` is LR's screen (as
    in :func:`pick`, for the host alone); any other mode returns 2.
    """
    rq = gf[G_RQ]
    ram = gf[G_RAM]
    n = lst.shape[0]
    hi[H_NLIST, h] = n
    s = 0.0
    for i in range(n):
        s += rq[lst[i]]
    hf[H_REQ, h] = s
    m = 0.0
    if n:
        m = ram[lst[0]]
        for i in range(1, n):
            x = ram[lst[i]]
            if x > m:
                m = x
    hf[H_MAXRAM, h] = m
    if ist[IST_HIST] != 0:
        tt = hi[H_TTYPE, h]
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
        hi[H_HLEN, h] = last
        if ist[IST_FEATS] != 0:
            kk = min(hist.shape[1], mean_w.shape[0])
            f0 = 0.0
            f1 = 0.0
            for k in range(kk):
                f0 += hist[h, k] * mean_w[k]
                f1 += hist[h, k] * slope_w[k]
            F[h, 0] = f0
            F[h, 1] = f1
    util = hf[H_REQ, h] / hf[H_T, h]
    mode = ist[IST_RMODE]
    if mode == THRESHOLD:
        return 1 if util > c[0] else 0
    if mode == LINEAR:
        bw, interval, safety, guard, fallback, points = c[1], c[2], c[3], c[4], c[5], c[6]
        mig = hf[H_MAXRAM, h] / bw
        if not math.isfinite(mig / interval):
            return 2
        if hi[H_HLEN, h] < points:
            return 1 if util > fallback else 0
        horizon = points + np.ceil(mig / interval)
        pred = safety * (F[h, 0] + (horizon - 5.5) * F[h, 1])
        if abs(pred - 1.0) <= guard:
            return 2
        return 1 if pred >= 1.0 else 0
    return 2


#: the modules whose sources this module's compiled code depends on (constants, ``njit``
#: functions it calls): their edits must invalidate its disk cache too (numba tracks only this
#: file; ``dcsim.kernels.jit.cache_depends_on``; a test checks the list against the imports)
CACHE_DEPENDS_ON = ("dcsim.policies.pabfd_layout", "dcsim.policies.pabfd_rows")
cache_depends_on(__name__, *CACHE_DEPENDS_ON)

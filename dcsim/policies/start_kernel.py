"""The planner's working state at the start of a step, and step (1)'s screen, in one compiled pass.

Imported by :mod:`dcsim.policies.pabfd` at the first planner step only (numba). What
:class:`dcsim.policies.pabfd._Work` computes per step in numpy (stale power, requested sums,
largest RAM, the history tables and rows, their lengths, LR's features) and what the overload
detector then decides for every host, as one call: :func:`start`. The run's hardware (capacities,
power tables, classes) is derived once per run in Python and only compared here
(:func:`same_bits`), since it never changes between steps.

Sums add in the order of the numpy forms they replace (``np.bincount``: list order; the power
formula of :func:`dcsim.policies.specpower.specpower_w` left to right), so they are bit-identical;
LR's features are sequential dot products, which may differ from ``LocalRegression.features``
(a BLAS product) in the last bits: they are read only through LR's guarded screen (a row within
``1e-9`` of the boundary is decided by the exact test), as in :func:`dcsim.policies.pabfd_kernel.
recompute`.

Imports numpy, numba, dcsim.kernels.jit (cache dependencies) and the layout constants of
dcsim.policies.pabfd_layout.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

from dcsim.kernels.jit import cache_depends_on
from dcsim.policies.pabfd_layout import (
    C_AVAIL,
    C_BL,
    C_PE,
    C_STALE,
    C_T,
    C_U,
    G_RAM,
    G_RQ,
    H_AVAIL,
    H_HLEN,
    H_MAXRAM,
    H_NLIST,
    H_PE,
    H_POFF,
    H_REQ,
    H_STALE,
    H_T,
    H_TTYPE,
    H_U,
    IST_HIST,
    LINEAR,
    THRESHOLD,
)

#: :func:`start`'s status bits: the stale power is left to the caller (a non-finite stale
#: utilisation: numpy's form decides what happens), the detector must decide every host (a
#: non-finite migration time: LR's vectorized form decides)
ST_POWER, ST_DETECT = 1, 2


@njit(cache=True, nogil=True, error_model="numpy")
def same_bits(a, b):  # type: ignore[no-untyped-def]
    """Whether the int64 arrays ``a`` and ``b`` (float64 bits) are equal, element by element."""
    if a.shape[0] != b.shape[0]:
        return False
    for i in range(a.shape[0]):  # noqa: SIM110 - a loop numba compiles
        if a[i] != b[i]:
            return False
    return True


@njit(cache=True, nogil=True, error_model="numpy")
def _rows(v, vh, mips, caps, ctab, ftab, feats, kk, mean_w, slope_w):  # type: ignore[no-untyped-def]
    """Guest ``v``'s history terms on every capacity (``ctab``) and, with ``feats``, their LR
    features (``ftab``: sequential dot products of the first ``kk`` terms)."""
    m = mips[v]
    for cc in range(caps.shape[0]):
        cap = caps[cc]
        for k in range(vh.shape[1]):
            ctab[cc, v, k] = (vh[v, k] * m) / cap
        if feats:
            f0 = 0.0
            f1 = 0.0
            for k in range(kk):
                f0 += ctab[cc, v, k] * mean_w[k]
                f1 += ctab[cc, v, k] * slope_w[k]
            ftab[cc, v, 0] = f0
            ftab[cc, v, 1] = f1


@njit(cache=True, nogil=True, error_model="numpy")
def start(counts, flat, util, tables, alloc, avail, req, ram, vh, mips, caps, hf, hi, gf, ist,  # type: ignore[no-untyped-def]
          ctab, hist, F, ftab, feats, mean_w, slope_w, dmode, c, fstart, over):
    """Fill the working state's step-start values and screen every host for step (1).

    Parameters
    ----------
    counts, flat
        Guests per host and the guests host by host, each host's in list order.
    util, tables
        (H,) stale utilisations and (H, P) power tables: row ``H_STALE`` of ``hf`` gets
        ``specpower_w(tables, util)`` (not written if a utilisation is not finite).
    alloc, avail, req, ram
        (H,) allocated and free MIPS; (V,) demands (MIPS) and RAM (MB): rows ``H_U``,
        ``H_AVAIL`` of ``hf`` and ``G_RQ``, ``G_RAM`` of ``gf``.
    vh, mips, caps
        (V, K) guest histories (newest first), (V,) guest MIPS, the distinct host capacities
        (row ``H_TTYPE`` of ``hi``: each host's index in them).
    hf, hi, gf, ist
        The working state's packed arrays (rows ``H_T``, ``H_PE``, ``H_OFF``, ``H_TTYPE``,
        ``H_POFF`` already filled); ``H_REQ``, ``H_MAXRAM``, ``H_HLEN``, ``H_NLIST`` are written.
    ctab, hist, F, ftab
        Written with history (``ist[IST_HIST]``): ``ctab[c, v, k] = (vh[v, k] * mips[v]) /
        caps[c]``, each host's row (0.0 plus each guest's term in list order) and length (last
        non-zero + 1); with ``feats`` (LR's features, ``ist[IST_FEATS]``), ``F`` and ``ftab``
        from ``mean_w`` / ``slope_w``.
    dmode, c
        Step (1)'s screen: :data:`THRESHOLD` (``reqsum / T > c[0]``), :data:`LINEAR` (LR:
        ``c = [_, MB/s, interval, safety, guard, fallback, points]``) or any other value (none).
    fstart
        (H,) written: where each host's guests start in ``flat``.
    over
        (H,) uint8 written by the screen: 0 / 1 (not / overloaded), 2 (decide exactly).

    Returns
    -------
    int
        Status bits :data:`ST_POWER`, :data:`ST_DETECT`.
    """
    n_h = counts.shape[0]
    n_p = tables.shape[1]
    status = 0
    T = hf[H_T]
    stale = hf[H_STALE]
    for h in range(n_h):
        hf[H_U, h] = alloc[h]
        hf[H_AVAIL, h] = avail[h]
        x = util[h]
        if not math.isfinite(x):
            status |= ST_POWER
            continue
        u = x
        if u < 0.0:
            u = 0.0
        if u > 1.0:
            u = 1.0
        t10 = u * 10.0
        i1 = np.intp(np.floor(t10))
        i2 = np.intp(np.ceil(t10))
        if i2 >= n_p:
            status |= ST_POWER
            continue
        p1 = tables[h, i1]
        p2 = tables[h, i2]
        stale[h] = p1 + (p2 - p1) / 10.0 * (u - i1 / 10.0) * 100.0
    rq = gf[G_RQ]
    rm = gf[G_RAM]
    for v in range(req.shape[0]):
        rq[v] = req[v]
        rm[v] = ram[v]
    need_hist = ist[IST_HIST] != 0
    n_k = vh.shape[1]
    kk = min(n_k, mean_w.shape[0])
    if need_hist:
        for v in range(vh.shape[0]):
            _rows(v, vh, mips, caps, ctab, ftab, feats, kk, mean_w, slope_w)
    p = 0
    for h in range(n_h):
        n = counts[h]
        fstart[h] = p
        hi[H_NLIST, h] = n
        s = 0.0
        m = 0.0
        for i in range(p, p + n):
            v = flat[i]
            s += rq[v]
            x = rm[v]
            if not (m >= x or m != m):
                m = x
        hf[H_REQ, h] = s
        hf[H_MAXRAM, h] = m
        if need_hist:
            tt = hi[H_TTYPE, h]
            for k in range(n_k):
                hist[h, k] = 0.0
            for i in range(p, p + n):  # column by column in list order, a guest at a time
                v = flat[i]
                for k in range(n_k):
                    hist[h, k] += ctab[tt, v, k]
            last = 0
            for k in range(n_k):
                if hist[h, k] != 0.0:
                    last = k + 1
            hi[H_HLEN, h] = last
            if feats:
                f0 = 0.0
                f1 = 0.0
                for k in range(kk):
                    f0 += hist[h, k] * mean_w[k]
                    f1 += hist[h, k] * slope_w[k]
                F[h, 0] = f0
                F[h, 1] = f1
        p += n
        # step (1): the detector's screen of this host
        util_h = s / T[h]
        if dmode == THRESHOLD:
            over[h] = 1 if util_h > c[0] else 0
        elif dmode == LINEAR and status & ST_DETECT == 0:
            bw, interval, safety, guard, fallback, points = c[1], c[2], c[3], c[4], c[5], c[6]
            if hi[H_HLEN, h] < points:
                over[h] = 1 if util_h > fallback else 0
            else:
                q = (m / bw) / interval
                if not math.isfinite(q):
                    status |= ST_DETECT
                    continue
                horizon = points + np.ceil(q)
                pred = safety * (F[h, 0] + (horizon - 5.5) * F[h, 1])
                if abs(pred - 1.0) <= guard:
                    over[h] = 2
                else:
                    over[h] = 1 if pred >= 1.0 else 0
    if dmode != THRESHOLD and dmode != LINEAR:
        status |= ST_DETECT
    return status


@njit(cache=True, nogil=True, error_model="numpy")
def _flt(a, b):  # type: ignore[no-untyped-def]
    """numpy's sort order of floats: ``a`` before ``b`` (NaN last; -0.0 and 0.0 equal)."""
    return a < b or (b != b and a == a)


@njit(cache=True, nogil=True, error_model="numpy")
def _class_before(i, j, hc, sp, av):  # type: ignore[no-untyped-def]
    """Host ``i`` strictly before host ``j`` in ``np.lexsort((av, sp, hc))``'s order (equal
    keys: neither; the merge keeps them in id order, as the stable lexsort does)."""
    if hc[i] != hc[j]:
        return hc[i] < hc[j]
    if _flt(sp[i], sp[j]):
        return True
    if _flt(sp[j], sp[i]):
        return False
    return _flt(av[i], av[j])


@njit(cache=True, nogil=True, error_model="numpy")
def _new_class(x, y, hc, sp, av):  # type: ignore[no-untyped-def]
    """Whether sorted neighbours ``y``, ``x`` are in different classes (a key differs by
    ``!=``, as the numpy form tests: NaN keys are never equal)."""
    return hc[x] != hc[y] or sp[x] != sp[y] or av[x] != av[y]


@njit(cache=True, nogil=True, error_model="numpy")
def _merge_sort(ids, tmp, lo0, hi0, hc, sp, av):  # type: ignore[no-untyped-def]
    """Stable bottom-up merge sort of ``ids[lo0:hi0]`` by :func:`_class_before` (``tmp``: a
    buffer as long as ``ids``); nothing to do when no neighbours are out of order."""
    ordered = True
    for i in range(lo0 + 1, hi0):
        if _class_before(ids[i], ids[i - 1], hc, sp, av):
            ordered = False
            break
    if ordered:
        return
    src, dst = ids, tmp
    odd = False  # the sorted run is in tmp
    width = 1
    while width < hi0 - lo0:
        lo = lo0
        while lo < hi0:
            mid = min(lo + width, hi0)
            end = min(lo + 2 * width, hi0)
            a, b, o = lo, mid, lo
            while a < mid and b < end:
                if _class_before(src[b], src[a], hc, sp, av):
                    dst[o] = src[b]
                    b += 1
                else:
                    dst[o] = src[a]
                    a += 1
                o += 1
            while a < mid:
                dst[o] = src[a]
                a += 1
                o += 1
            while b < end:
                dst[o] = src[b]
                b += 1
                o += 1
            lo = end
        src, dst = dst, src
        odd = not odd
        width *= 2
    if odd:
        for i in range(lo0, hi0):
            ids[i] = tmp[i]


@njit(cache=True, nogil=True, error_model="numpy")
def pool_build(allowed, hf, hi, hc, pa, pc, cls_of, pos):  # type: ignore[no-untyped-def]
    """A candidate pool's arrays (:class:`dcsim.policies.pabfd.CandidatePool`, its numpy form's
    values): ``pa`` (active hosts, their table offsets, their positions), the rows ``C_U`` ..
    ``C_STALE`` of ``pc`` for them, and for the clean allowed hosts (nothing allocated) their
    class ``cls_of`` (-1: none) and position ``pos`` in the members sorted by class (host class,
    stale power, free MIPS, then id; a new class where a key differs). Returns ``(pi, pf)``."""
    n_h = allowed.shape[0]
    U = hf[H_U]
    sp = hf[H_STALE]
    av = hf[H_AVAIL]
    pa[:] = 0
    pa[1 + 2 * n_h:] = -1
    n = 0
    n_m = 0
    for h in range(n_h):
        cls_of[h] = -1
        pos[h] = 0
        if not allowed[h]:
            continue
        if U[h] == 0.0:
            n_m += 1
            continue
        pa[1 + n] = h
        pa[1 + n_h + n] = hi[H_POFF, h]
        pa[1 + 2 * n_h + h] = n
        pc[C_U, n] = U[h]
        pc[C_T, n] = hf[H_T, h]
        pc[C_AVAIL, n] = av[h]
        pc[C_PE, n] = hf[H_PE, h]
        pc[C_STALE, n] = sp[h]
        pc[C_BL, n] = np.nan  # bound terms derived at the first search
        n += 1
    pa[0] = n
    ids = np.empty(n_m, dtype=np.int64)
    k = 0
    for h in range(n_h):
        if allowed[h] and U[h] == 0.0:
            ids[k] = h
            k += 1
    # stable sort of the clean hosts by class key: by host class (counting sort, ids stay
    # ascending), then each run of one class merge-sorted by the other keys unless in order
    lo_c, hi_c = 0, -1
    for i in range(n_m):
        x = hc[ids[i]]
        if i == 0 or x < lo_c:
            lo_c = x
        if i == 0 or x > hi_c:
            hi_c = x
    tmp = np.empty(n_m, dtype=np.int64)
    if n_m and hi_c - lo_c < n_h:
        cnt = np.zeros(hi_c - lo_c + 2, dtype=np.int64)
        for i in range(n_m):
            cnt[hc[ids[i]] - lo_c + 1] += 1
        for j in range(1, cnt.shape[0]):
            cnt[j] += cnt[j - 1]
        for i in range(n_m):
            j = hc[ids[i]] - lo_c
            tmp[cnt[j]] = ids[i]
            cnt[j] += 1
        ids, tmp = tmp, ids
        a = 0
        while a < n_m:
            b = a + 1
            while b < n_m and hc[ids[b]] == hc[ids[a]]:
                b += 1
            _merge_sort(ids, tmp, a, b, hc, sp, av)
            a = b
    else:
        _merge_sort(ids, tmp, 0, n_m, hc, sp, av)
    n_c = 0
    for i in range(n_m):
        if i == 0 or _new_class(ids[i], ids[i - 1], hc, sp, av):
            n_c += 1
    pi = np.zeros(2 + n_h + n_m + 3 * n_c + 1, dtype=np.int64)
    pf = np.empty(2 * n_c)
    pi[0] = n_m
    pi[1] = n_c
    m0 = 2 + n_h
    s0 = m0 + n_m
    c0 = s0 + n_c + 1
    for h in range(n_h):
        pi[2 + h] = 1 if allowed[h] else 0
    c = -1
    for i in range(n_m):
        x = ids[i]
        if i == 0 or _new_class(x, ids[i - 1], hc, sp, av):
            c += 1
            pi[s0 + c] = i
            pi[c0 + c] = i
            pf[c] = av[x]
            pf[n_c + c] = hf[H_PE, x]
        pi[m0 + i] = x
        cls_of[x] = c
        pos[x] = i
    pi[s0 + n_c] = n_m
    return pi, pf


#: the modules whose sources this module's compiled code depends on (``dcsim.kernels.jit``)
CACHE_DEPENDS_ON = ("dcsim.policies.pabfd_layout",)
cache_depends_on(__name__, *CACHE_DEPENDS_ON)

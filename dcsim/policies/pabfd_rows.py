"""The candidate pool's compact rows (what :func:`dcsim.policies.pabfd_kernel._csearch` reads):
each candidate's power increase, the bound terms that let the search skip most candidates, and
the rows' upkeep when a host's allocation changes, wakes or leaves the pool.

* :func:`_increase`: a compact row's power increase for a demand, the
  operations of the plain scan (:func:`dcsim.policies.pabfd_kernel._search`) in its order, so
  an evaluated host gets the same bits.
* :func:`derive` / :func:`_bounds`: the row's bound terms (from its allocation, stale power and
  power table) and, from them, a branch-free lower bound of every candidate's increase that
  never reads the table (exact up to a 1e-9 relative margin over the current and the next
  SPECpower segment).
* :func:`_put_row`, :func:`pool_sync`, :func:`pool_drop`: a row written from the working
  state, refreshed after a change (its bound terms marked for :func:`derive`), appended when a
  host wakes, replaced by the last row when a host leaves (rows in any order).

Split from :mod:`dcsim.policies.pabfd_kernel`, which imports these (the planner's loops reach
them there). Imports numpy, numba, dcsim.kernels.jit (cache dependencies), the layout constants
of dcsim.policies.pabfd_layout and the table rows of dcsim.policies.specpower.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from dcsim.kernels.jit import cache_depends_on
from dcsim.policies.pabfd_layout import (
    C_AVAIL,
    C_BL,
    C_D,
    C_PE,
    C_REM,
    C_ROOM,
    C_SA,
    C_SN,
    C_SR,
    C_STALE,
    C_T,
    C_U,
    H_AVAIL,
    H_PE,
    H_POFF,
    H_STALE,
    H_T,
    H_U,
)
from dcsim.policies.specpower import P_Q, P_Q0, P_TENTH, P_W


@njit(cache=True, nogil=True, error_model="numpy")
def _increase(k, r, pc, ptab, poff):  # type: ignore[no-untyped-def]
    """Compact candidate ``k``'s power increase (W) for demand ``r`` (MIPS): the operations of
    ``pabfd_kernel._search`` in its order; ``(p2 - p1) / 10`` and ``i1 / 10`` are read from ``ptab``
    (computed once from the same values, so the same bits); a NaN utilisation reads segment 0
    and gives NaN as ``pabfd_kernel._search``'s ``d = t10`` does."""
    pw, pq, pq0, pt = ptab[P_W], ptab[P_Q], ptab[P_Q0], ptab[P_TENTH]
    x = (pc[C_U, k] + r) / pc[C_T, k]
    u = 1.0 if x > 1.0 else x  # np.minimum(x, 1.0), NaN kept
    t10 = u * 10.0
    i1 = np.floor(t10)
    j = poff[k] + (np.intp(i1) if (i1 >= 0.0 and i1 <= 10.0) else 0)
    q = pq[j] if i1 != t10 else pq0[j]
    return pw[j] + q * (u - pt[j]) * 100.0 - pc[C_STALE, k]


@njit(cache=True, nogil=True, error_model="numpy")
def derive(k, pc, ptab, poff):  # type: ignore[no-untyped-def]
    """Compact row ``k``'s bound terms (rows ``C_BL`` .. ``C_SR``) from its allocation, capacity
    and stale power and its power table, so that :func:`_bounds` can bound its power increase
    for any demand without reading the table.

    The table is piecewise linear in the utilisation, so from ``u0 = min(U / T, 1)`` a demand
    adding ``x = min(r / T, 1 - u0)`` raises the power by exactly ``s_a a + s_n b + (the
    integral beyond)`` with ``a = min(x, room)`` in the current segment (``room`` to its end),
    ``b = min(max(x - room, 0), 0.1)`` in the next and the rest beyond, which is at least
    ``s_r max(x - room - 0.1, 0)`` (``s_r``: the least slope further on). Slopes are in W per
    unit of utilisation (``C_SA``, ``C_SN``, ``C_SR``: 0 where there is no such segment);
    ``C_REM`` = ``1 - u0``, ``C_ROOM`` = ``room``. ``C_BL`` is the power at ``u0`` minus the
    stale power, lowered by ``1e-9 (1 + max |p| + |stale|)`` W: thousands of times more than
    the few ulps by which the rounded increase (:func:`_increase`) or these terms can differ
    from the exact values, so ``C_BL + ...`` never exceeds the increase the search computes
    (``tests/property/test_pabfd_compact.py`` holds it to that). A row whose values or table
    are not finite, or whose allocation is negative, gets ``C_BL = -inf``: always evaluated
    (its increase may be NaN, which comes first).
    """
    pw = ptab[P_W]
    o = poff[k]
    cu, ct, cs = pc[C_U, k], pc[C_T, k], pc[C_STALE, k]
    ok = ct > 0.0 and ct < np.inf and cu >= 0.0 and cu < np.inf and abs(cs) < np.inf
    top = 0.0
    for j in range(11):
        p = abs(pw[o + j])
        ok = ok and p < np.inf
        top = max(top, p)
    for row in (C_REM, C_ROOM, C_SA, C_SN, C_SR):
        pc[row, k] = 0.0
    if not ok:
        pc[C_BL, k] = -np.inf
        return
    x = cu / ct
    u0 = 1.0 if x > 1.0 else x
    i0 = np.floor(u0 * 10.0)
    j0 = np.intp(i0)
    p1 = pw[o + j0]
    p2 = pw[o + (j0 + 1 if j0 < 10 else 10)]
    base = p1 + (p2 - p1) / 10.0 * (u0 - i0 / 10.0) * 100.0 - cs
    pc[C_BL, k] = base - 1e-9 * (1.0 + top + abs(cs))
    pc[C_REM, k] = 1.0 - u0
    pc[C_ROOM, k] = (i0 + 1.0) / 10.0 - u0
    if j0 < 10:
        pc[C_SA, k] = (pw[o + j0 + 1] - pw[o + j0]) * 10.0
    if j0 + 1 < 10:
        pc[C_SN, k] = (pw[o + j0 + 2] - pw[o + j0 + 1]) * 10.0
    if j0 + 2 < 10:
        sr = np.inf
        for j in range(j0 + 2, 10):
            sr = min(sr, (pw[o + j + 1] - pw[o + j]) * 10.0)
        pc[C_SR, k] = sr


@njit(cache=True, nogil=True, error_model="numpy")
def _bounds(n, r, check_pe, pc):  # type: ignore[no-untyped-def]
    """Lower bounds of the first ``n`` candidates' increases for demand ``r`` (MIPS) into
    ``pc[C_D]`` (see :func:`derive`): ``+inf`` for a host without the free or per-core MIPS,
    NaN for a row whose terms are not derived yet, ``-inf`` everywhere if the demand is not a
    finite number ``>= 0``. Returns the row of the least bound (by the bits' total order; ``-1``
    if ``n`` is 0). No branches: the loops vectorise."""
    ca, cp, ct, bl, cb = pc[C_AVAIL], pc[C_PE], pc[C_T], pc[C_BL], pc[C_D]
    rem, room, sa, sn, sr = pc[C_REM], pc[C_ROOM], pc[C_SA], pc[C_SN], pc[C_SR]
    plain = not (r >= 0.0 and r < np.inf)
    for k in range(n):
        fits = (ca[k] >= r) & ((not check_pe) | (cp[k] >= r))
        du = r / ct[k]
        ro = room[k]
        rm = rem[k]
        x = du if du < rm else rm  # utilisation added (clipped at 100 %)
        a = x if x < ro else ro  # in the current segment
        y = x - ro
        b = 0.0 if y < 0.0 else (0.1 if y > 0.1 else y)  # in the next
        z = y - 0.1
        e = z if z > 0.0 else 0.0  # beyond
        lb = bl[k] + sa[k] * a + sn[k] * b + sr[k] * e
        lb = -np.inf if plain else lb
        cb[k] = lb if fits else np.inf
    # the least bound's row: minimum of the bits as ordered integers, then its first row
    key = cb.view(np.int64)
    low = np.int64(0x7FFFFFFFFFFFFFFF)
    for k in range(n):
        b = key[k]
        o = b ^ ((b >> 63) & np.int64(0x7FFFFFFFFFFFFFFF))
        low = o if o < low else low
    for k in range(n):
        b = key[k]
        if b ^ ((b >> 63) & np.int64(0x7FFFFFFFFFFFFFFF)) == low:
            return k
    return -1


@njit(cache=True, nogil=True, error_model="numpy")
def _put_row(k, h, hf, hi, ids, poff, pc):  # type: ignore[no-untyped-def]
    """Compact candidate ``k`` := host ``h`` (its id, table offset and search values)."""
    ids[k] = h
    poff[k] = hi[H_POFF, h]
    pc[C_U, k] = hf[H_U, h]
    pc[C_T, k] = hf[H_T, h]
    pc[C_AVAIL, k] = hf[H_AVAIL, h]
    pc[C_PE, k] = hf[H_PE, h]
    pc[C_STALE, k] = hf[H_STALE, h]
    pc[C_BL, k] = np.nan  # bound terms derived at the next search


@njit(cache=True, nogil=True, error_model="numpy")
def pool_sync(h, woke, hf, hi, pa, pc, pi):  # type: ignore[no-untyped-def]
    """After host ``h``'s allocation changed: refresh its compact row if it is an active host
    of the pool (``pa``, ``pc``: see :class:`dcsim.policies.pabfd.CandidatePool`), else, if it
    ``woke`` and the pool allows it (``pi``), add it as the last row."""
    n_h = hf.shape[1]
    ids, poff, apos = pa[1:1 + n_h], pa[1 + n_h:1 + 2 * n_h], pa[1 + 2 * n_h:]
    k = apos[h]
    if k >= 0:
        pc[C_U, k] = hf[H_U, h]
        pc[C_AVAIL, k] = hf[H_AVAIL, h]
        pc[C_BL, k] = np.nan
        return
    if not woke or pi[2 + h] == 0:
        return
    n = pa[0]
    _put_row(n, h, hf, hi, ids, poff, pc)
    apos[h] = n
    pa[0] = n + 1


@njit(cache=True, nogil=True, error_model="numpy")
def pool_drop(h, pa, pc):  # type: ignore[no-untyped-def]
    """Host ``h`` out of the pool's active hosts (if there): the last row takes its place."""
    n_h = pc.shape[1]
    ids, poff, apos = pa[1:1 + n_h], pa[1 + n_h:1 + 2 * n_h], pa[1 + 2 * n_h:]
    k0 = apos[h]
    if k0 < 0:
        return
    n = pa[0] - 1
    if k0 != n:
        g = ids[n]
        ids[k0] = g
        poff[k0] = poff[n]
        apos[g] = k0
        for row in range(C_D):
            pc[row, k0] = pc[row, n]
    apos[h] = -1
    pa[0] = n


CACHE_DEPENDS_ON = ("dcsim.policies.pabfd_layout", "dcsim.policies.specpower")
cache_depends_on(__name__, *CACHE_DEPENDS_ON)

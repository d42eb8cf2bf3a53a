"""The planner's selection loop (step 2) and underload loop (step 4) compiled with numba.

:func:`select_loop` runs what :func:`dcsim.policies.consolidation._select_plain` runs in Python
for the MMT and MU selectors: on each overloaded host, ascending, take the guest with the least
RAM (MMT) or the least ``requested / MIPS`` (MU) among those not migrating (numpy's ``argmin``:
the first of equals, a NaN before any number), remove it from the host's list, recompute the
host's sums (:func:`dcsim.policies.pabfd_kernel.recompute`) and stop when its screen says it is
no longer overloaded; it returns to Python when the screen asks for the detector's exact test.

:func:`underload` runs what :func:`dcsim.policies.consolidation._underload_plain` runs in Python,
source host after source host, without returning to Python per host or per guest: skip a host
already used (a source, a target or overloaded/off), a host without guests or whose first guest
migrates; mark it used and take it out of the candidate pool; sort its guests (those not
migrating) by decreasing demand, stably; open a trial and place them one by one
(:func:`dcsim.policies.pabfd_kernel.place`); if one fits nowhere, undo the trial (the restored
hosts go back to their pool classes as ``_Work.restore_all`` does), else keep the moves and mark
their targets used. The same kernels in the same order as the Python loop, so the same bits.

Like :func:`~dcsim.policies.pabfd_kernel.place_seq`, it returns early when a candidate needs the
detector's exact test (``ist[IST_MODE]`` DEFER, or LR's screen unsure): the caller decides in
Python and calls again with the host to skip for that guest or the host to commit it to.

Imported after :mod:`dcsim.policies.pabfd_kernel` (numba) on the first planner step. Imports numpy,
numba, dcsim.kernels.jit (cache dependencies), dcsim.policies.pabfd_layout (layout constants),
dcsim.policies.pabfd_kernel and dcsim.policies.pabfd_rows (the pool's row upkeep).
"""

from __future__ import annotations

import numpy as np
from numba import njit
from numpy.typing import NDArray

from dcsim.kernels.jit import cache_depends_on
from dcsim.policies.pabfd_kernel import commit, place, recompute, undo
from dcsim.policies.pabfd_layout import G_RQ, H_U, IST_EPOCH, IST_N, IST_ON, IST_WOKE
from dcsim.policies.pabfd_rows import pool_drop, pool_sync

#: fields of the loop's int state ``us``: next position in the source order, a source open
#: (its trial too), its guests in the buffer, guests placed so far, moves kept, stopped for an
#: exact test (and the host, and whether the guest is not the one the call resumed), sources
#: tried, hosts evacuated, placement decisions (``PlanStats.find_host_calls``)
(US_I, US_MID, US_NB, US_J, US_NMV, US_STOP, US_UNSURE, US_FRESH, US_SOURCES, US_EVAC,
 US_CALLS) = range(11)
US_SIZE = 11


#: fields of the selection loop's int state ``ss``: next overloaded host, its guests left in the
#: buffer (-1: not loaded yet), guests selected, stopped for the exact test of the current host
SS_I, SS_N, SS_NSEL, SS_STOP = range(4)
#: selectors :func:`select_loop` runs: least RAM, least requested / MIPS
SEL_MMT, SEL_MU = 0, 1


@njit(cache=True, nogil=True, error_model="numpy")
def _argmin_first(key, n):  # type: ignore[no-untyped-def]
    """``np.argmin(key[:n])``: the first NaN if any, else the first least value."""
    best = 0
    if key[0] != key[0]:
        return 0
    for k in range(1, n):
        x = key[k]
        if x != x:
            return k
        if x < key[best]:
            best = k
    return best


@njit(cache=True, nogil=True, error_model="numpy")
def select_loop(over, sel, flat, fstart, fcount, in_mig, any_mig, ss, lst, cand, key, out,  # type: ignore[no-untyped-def]
                ram, mips, cont, hf, hi, gf, hist, ctab, F, ist, mean_w, slope_w, c):
    """Step 2 for the overloaded hosts ``over[ss[SS_I]:]`` (ascending; see the module doc).

    ``flat, fstart, fcount``: each host's guests in list order; ``lst``, ``cand``, ``key``:
    buffers as long as the longest list (the current host's guests left, the candidates' list
    positions and keys); ``out``: the selected guests, ``out[:ss[SS_NSEL]]``. Returns with
    ``ss[SS_STOP] = 1`` when the host ``over[ss[SS_I]]`` needs the detector's exact test; the
    next call says with ``cont`` whether it is still overloaded (select again) or not.
    """
    rq = gf[G_RQ]
    n_o = over.shape[0]
    i = ss[SS_I]
    resumed = ss[SS_STOP] != 0
    ss[SS_STOP] = 0
    while i < n_o:
        h = over[i]
        n = ss[SS_N]
        if n < 0:  # load the host's list
            n = fcount[h]
            for k in range(n):
                lst[k] = flat[fstart[h] + k]
        if resumed:
            resumed = False
            if cont == 0:
                ss[SS_N] = -1
                i += 1
                continue
        while True:
            nc = 0
            for k in range(n):
                g = lst[k]
                if not (any_mig and in_mig[g] != 0):
                    cand[nc] = k
                    key[nc] = ram[g] if sel == SEL_MMT else rq[g] / mips[g]
                    nc += 1
            if nc == 0:
                break
            pos = cand[_argmin_first(key, nc)]
            out[ss[SS_NSEL]] = lst[pos]
            ss[SS_NSEL] += 1
            for k in range(pos, n - 1):  # list.remove
                lst[k] = lst[k + 1]
            n -= 1
            screen = recompute(h, lst[:n], hf, hi, gf, hist, ctab, F, ist, mean_w, slope_w, c)
            if screen == 0:
                break
            if screen == 2:
                ss[SS_I] = i
                ss[SS_N] = n
                ss[SS_STOP] = 1
                return
        ss[SS_N] = -1
        i += 1
    ss[SS_I] = i


@njit(cache=True, nogil=True, error_model="numpy")
def _key_lt(a: float, b: float) -> bool:
    """numpy's sort order of floats: ``a < b``, NaN after every number (equal to NaN)."""
    return a < b or (b != b and a == a)


@njit(cache=True, nogil=True, error_model="numpy")
def sort_by_demand(src, n, rq, buf, tmp):  # type: ignore[no-untyped-def]
    """``src[:n]`` into ``buf[:n]`` by decreasing demand ``rq``, stable: the order of numpy's
    stable sort of ``-rq`` (NaN last), which ``consolidation._sorted_by_demand`` returns. A
    bottom-up merge sort (``tmp``: scratch of ``n``); a right element goes first only if its
    key is strictly before the left one's."""
    for k in range(n):
        buf[k] = src[k]
    width = 1
    a, b = buf, tmp
    while width < n:
        lo = 0
        while lo < n:
            mid = min(lo + width, n)
            hi = min(lo + 2 * width, n)
            i, j, o = lo, mid, lo
            while i < mid and j < hi:
                if _key_lt(-rq[a[j]], -rq[a[i]]):
                    b[o] = a[j]
                    j += 1
                else:
                    b[o] = a[i]
                    i += 1
                o += 1
            while i < mid:
                b[o] = a[i]
                i += 1
                o += 1
            while j < hi:
                b[o] = a[j]
                j += 1
                o += 1
            lo = hi
        a, b = b, a
        width *= 2
    if a is not buf:
        for k in range(n):
            buf[k] = a[k]


@njit(cache=True, nogil=True, error_model="numpy")
def _cleaned(h, pa, pc, pi, cls_of, cpos):  # type: ignore[no-untyped-def]
    """``CandidatePool.cleaned``: host ``h`` (clean again) back to its class, if it has one."""
    c = cls_of[h]
    if c < 0:
        return
    n_h = pc.shape[1]
    m = pi[0]
    n_c = pi[1]
    pool_drop(h, pa, pc)
    at = 2 + n_h + m + n_c + 1 + c
    if cpos[h] < pi[at]:
        pi[at] = cpos[h]


@njit(cache=True, nogil=True, error_model="numpy")
def underload(order, done, flat, fstart, fcount, xv, xstart, in_mig, any_mig, us, scratch, buf, tmp,  # type: ignore[no-untyped-def]
              mv, skip, forced, allowed, cls_of, cpos, pa, pc, hf, hi, gf, vlen, ptab, c,
              hist, ctab, F, ftab, ist, jf, ji, pi, pf):
    """Underload consolidation over the sources ``order[us[US_I]:]`` (see the module doc).

    Parameters
    ----------
    order
        Candidate sources by increasing stale utilisation (stable).
    done
        uint8 per host: already a source, a target, overloaded or switched off.
    flat, fstart, fcount, xv, xstart
        Guests of host ``h`` in list order: ``flat[fstart[h]:fstart[h] + fcount[h]]`` then
        ``xv[xstart[h]:xstart[h + 1]]`` (guests it received earlier in the step).
    in_mig, any_mig
        uint8 per guest: migrating (never moved); whether any is.
    us, scratch, buf, tmp
        The loop's state (``US_*``), a guest buffer (unsorted), the open source's sorted
        guests and the sort's scratch (each as long as the longest list).
    mv
        (V, 2) moves ``(guest, host)``: ``mv[:us[US_NMV]]`` are kept, in order.
    skip, forced
        On a call that resumes after an exact test: hosts found overloaded for the waiting guest,
        or the host it goes to (``-1``: none).
    allowed, cls_of, cpos
        The pool's allowed hosts (bool), each clean host's class and position in its class.
    pa, pc, hf, hi, gf, vlen, ptab, c, hist, ctab, F, ftab, ist, jf, ji, pi, pf
        As for :func:`dcsim.policies.pabfd_kernel.place`.

    Returns with ``us[US_STOP] = 1`` when the guest ``buf[us[US_J]]`` needs an exact test of
    host ``us[US_UNSURE]`` (``us[US_FRESH] = 1``: it is not the guest the call resumed), else
    with every source done.
    """
    n_o = order.shape[0]
    us[US_STOP] = 0
    us[US_FRESH] = 0
    rq = gf[G_RQ]
    i = us[US_I]
    resumed = us[US_MID] != 0
    while i < n_o:
        if us[US_MID] == 0:
            s = order[i]
            if done[s] != 0:
                i += 1
                continue
            f0 = fstart[s]
            nf = fcount[s]
            x0 = xstart[s]
            nx = xstart[s + 1] - x0
            if nf + nx == 0:
                i += 1
                continue
            first = flat[f0] if nf > 0 else xv[x0]
            if any_mig and in_mig[first] != 0:
                i += 1
                continue
            done[s] = 1
            if allowed[s]:  # CandidatePool.exclude
                allowed[s] = False
                pi[2 + s] = 0
                pool_drop(s, pa, pc)
            us[US_SOURCES] += 1
            n = 0
            for k in range(nf + nx):
                g = flat[f0 + k] if k < nf else xv[x0 + k - nf]
                if not (any_mig and in_mig[g] != 0):
                    scratch[n] = g
                    n += 1
            sort_by_demand(scratch, n, rq, buf, tmp)
            us[US_NB] = n
            us[US_J] = 0
            us[US_MID] = 1
            ist[IST_ON] = 1  # _Work.save_all
            ist[IST_EPOCH] += 1
            ist[IST_N] = 0
        nb = us[US_NB]
        j = us[US_J]
        base = us[US_NMV]
        if resumed and forced >= 0:  # the caller's exact test passed: commit as _Work.add
            v = buf[j]
            commit(forced, v, hf, hi, gf, vlen, hist, ctab, F, ftab, ist, jf, ji)
            pool_sync(forced, ist[IST_WOKE] != 0, hf, hi, pa, pc, pi)
            mv[base + j, 0] = v
            mv[base + j, 1] = forced
            us[US_CALLS] += 1
            j += 1
            resumed = False
        failed = False
        while j < nb:
            v = buf[j]
            sk = skip if resumed else skip[:0]
            h = place(pa, pc, sk, v, hf, hi, gf, vlen, ptab, c, hist, ctab, F, ftab, ist, jf,
                      ji, pi, pf)
            if h < -1:
                us[US_I] = i
                us[US_J] = j
                us[US_STOP] = 1
                us[US_UNSURE] = -h - 2
                us[US_FRESH] = 0 if resumed else 1
                return
            resumed = False
            us[US_CALLS] += 1
            if h == -1:
                failed = True
                break
            mv[base + j, 0] = v
            mv[base + j, 1] = h
            j += 1
        resumed = False
        if failed:  # _Work.restore_all
            hosts = undo(hf, hi, hist, F, ist, jf, ji)
            for k in range(hosts.shape[0]):
                h = hosts[k]
                if hf[H_U, h] == 0.0:
                    _cleaned(h, pa, pc, pi, cls_of, cpos)
                pool_sync(h, False, hf, hi, pa, pc, pi)
        else:
            ist[IST_ON] = 0  # _Work.end_trial
            ist[IST_N] = 0
            if nb > 0:
                us[US_EVAC] += 1
                us[US_NMV] = base + nb
                for k in range(nb):
                    done[mv[base + k, 1]] = 1
        us[US_MID] = 0
        i += 1
    us[US_I] = i


def new_state() -> NDArray[np.int64]:
    """A zeroed loop state ``us``."""
    return np.zeros(US_SIZE, dtype=np.int64)


def new_select_state() -> NDArray[np.int64]:
    """A selection loop state ``ss`` before the first host."""
    ss = np.zeros(4, dtype=np.int64)
    ss[SS_N] = -1
    return ss


# ------------------------------------------------------------------ t = 0 placement
@njit(cache=True, nogil=True, error_model="numpy")
def initial_pick(cand, m, rv, bv, sv, st, pe, T, tflat, npts, idle, tidx, badrow, test):  # type: ignore[no-untyped-def]
    """PABFD's t = 0 choice for a guest of ``m`` MIPS (RAM ``rv``, bandwidth ``bv``, storage
    ``sv``) among hosts ``cand`` (ascending), committed to the host state ``st`` (rows:
    allocated MIPS, free MIPS, RAM, bandwidth, storage), as ``consolidation.initial_placement``
    does it in numpy: the suitable hosts, their power increase ``specpower_w((alloc + m) / T) -
    idle`` (the same operations in the same order, finite inputs), ``+inf`` for a host with an
    allocation whose test ``badrow[tidx[h]]`` says overloaded (when ``test``), the first least
    increase; none (-1) if there is no suitable host or the least is ``+inf``."""
    alloc, avail, ram, bw, sto = st[0], st[1], st[2], st[3], st[4]
    best = -1
    best_d = 0.0
    for k in range(cand.shape[0]):
        h = cand[k]
        if not (ram[h] >= rv and bw[h] >= bv and sto[h] >= sv and pe[h] >= m
                and avail[h] >= m):
            continue
        x = (alloc[h] + m) / T[h]
        u = 0.0 if x < 0.0 else (1.0 if x > 1.0 else x)  # np.clip(x, 0, 1), x finite
        t10 = u * 10.0
        i1 = np.floor(t10)
        i2 = np.ceil(t10)
        p1 = tflat[h * npts + np.intp(i1)]
        p2 = tflat[h * npts + np.intp(i2)]
        d = p1 + (p2 - p1) / 10.0 * (u - i1 / 10.0) * 100.0 - idle[h]
        if test and alloc[h] != 0.0 and badrow[tidx[h]] != 0:
            d = np.inf
        if best < 0 or d < best_d:
            best = h
            best_d = d
    if best < 0 or best_d == np.inf:
        return -1
    capped = min(m, pe[best])
    avail[best] = max(avail[best] - capped, 0.0)
    alloc[best] += capped
    ram[best] -= rv
    bw[best] -= bv
    sto[best] -= sv
    return best


#: the modules whose sources this module's compiled code depends on (constants, ``njit``
#: functions it calls): their edits must invalidate its disk cache too (numba tracks only this
#: file; ``dcsim.kernels.jit.cache_depends_on``; a test checks the list against the imports)
CACHE_DEPENDS_ON = ("dcsim.policies.pabfd_kernel", "dcsim.policies.pabfd_layout",
                    "dcsim.policies.pabfd_rows")
cache_depends_on(__name__, *CACHE_DEPENDS_ON)

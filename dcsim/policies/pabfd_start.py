"""The planner's working state at a step's start: the hosts' hardware derived once per run, the
step's values in one compiled pass, and the numpy form of a candidate pool's arrays.

A :class:`dcsim.policies.pabfd._Work` built with ``compiled=True`` (the planner's) takes its
hardware-only values (capacities, per-core MIPS, power tables, host classes, the compact search's
tables, the distinct capacities and each host's index in them) from :func:`hardware`, which
derives them again only when the snapshot's hardware arrays differ, bit for bit, from the last
ones (:func:`dcsim.policies.start_kernel.same_bits`); within a run they never change, so a step
pays a comparison instead of ``host_classes``, ``class_tables`` and ``np.unique``. The values
are those the numpy form derives, by the same functions. :func:`start_state` fills a working
state (:func:`dcsim.policies.start_kernel.start`); :func:`pool_numpy` is the reference of the
compiled candidate pool (:func:`dcsim.policies.start_kernel.pool_build`).

Imports numpy, dcsim.kernels.jit, dcsim.policies.{overload, pabfd_layout, specpower};
dcsim.policies.start_kernel (numba) when called.
"""

from __future__ import annotations

import sys
from typing import Any

import numpy as np
from numpy.typing import NDArray

from dcsim.kernels.jit import load
from dcsim.policies.overload import _LR_MEAN_W, _LR_SLOPE_W, LocalRegression, StaticThreshold
from dcsim.policies.pabfd_layout import (
    C_AVAIL,
    C_BL,
    C_PE,
    C_STALE,
    C_T,
    C_U,
    DEFER,
    H_JMARK,
    H_OFF,
    H_PE,
    H_POFF,
    H_T,
    H_TTYPE,
    LINEAR,
    THRESHOLD,
)
from dcsim.policies.specpower import class_tables, host_classes, specpower_w

F64 = NDArray[np.float64]
I64 = NDArray[np.int64]


def start_kernel() -> Any:
    """:mod:`dcsim.policies.start_kernel`, imported on first use (numba)."""
    return load("dcsim.policies.start_kernel")


class Hardware:
    """Hardware-only values of a working state (read-only: shared by the steps of a run).

    ``hf0`` / ``hi0``: the packed per-host arrays with their hardware rows filled (``H_T``,
    ``H_PE``; ``H_OFF``, ``H_TTYPE``, ``H_POFF``, and ``H_JMARK`` = -1), copied per step.
    """

    def __init__(self, T: F64, pe: F64, tables: F64, hc: I64 | None) -> None:
        n_h, n_p = tables.shape
        self.T, self.pe, self.tables = T.copy(), pe.copy(), tables.copy()
        self.hc_given = None if hc is None else np.array(hc, dtype=np.int64)
        self.hc = host_classes(self.T, self.pe, self.tables) if hc is None else hc.copy()
        self.ptab, poff = class_tables(self.tables, self.hc)
        self.tflat = self.tables.ravel()
        self.n_points = int(n_p)
        self.pe_min = float(self.pe.min()) if n_h else 0.0
        self.caps, ttype = np.unique(self.T, return_inverse=True)
        self.hf0 = np.empty((7, n_h))
        self.hf0[H_T] = self.T
        self.hf0[H_PE] = self.pe
        self.hi0 = np.zeros((6, n_h), dtype=np.int64)
        self.hi0[H_OFF] = np.arange(n_h) * n_p
        self.hi0[H_JMARK] = -1
        self.hi0[H_TTYPE] = ttype
        self.hi0[H_POFF] = poff
        self._bits = (self.T.view(np.int64), self.pe.view(np.int64),
                      self.tables.reshape(-1).view(np.int64))
        self._bufs: dict[str, F64] = {}
        self._free = -1  # sys.getrefcount of a buffer no working state holds (see buffer)

    def buffer(self, name: str, shape: tuple[int, ...]) -> F64:
        """A float64 array of ``shape`` for one working state, its contents undefined (the
        caller writes every element): the one handed out for ``name`` at an earlier step if
        nothing refers to it any more, else a new one, kept for the next step. Large arrays
        come from fresh pages, which the kernel faults in one by one (~1 us each, ~150 per step
        for the history tables); a buffer used again has its pages mapped already."""
        buf = self._bufs.get(name)
        # no working state holds it: as many references as just after it was made here (the
        # dict's and this frame's; measured, not assumed: what getrefcount counts for its
        # argument and locals differs between Python versions)
        if buf is not None and buf.shape == shape and sys.getrefcount(buf) == self._free:
            return buf
        buf = self._bufs[name] = np.empty(shape)
        self._free = sys.getrefcount(buf)
        return buf

    def matches(self, T: F64, pe: F64, tables: F64, hc: I64 | None) -> bool:
        """Whether these values are those of the hardware ``T, pe, tables, hc`` (contiguous
        float64 arrays; ``hc`` as in ``ClusterSnapshot.host_class``)."""
        if (hc is None) != (self.hc_given is None) or tables.shape != self.tables.shape:
            return False
        same = start_kernel().same_bits
        a, b, t = self._bits
        if not (same(T.view(np.int64), a) and same(pe.view(np.int64), b)
                and same(tables.reshape(-1).view(np.int64), t)):
            return False
        if hc is not None and self.hc_given is not None:
            h = np.asarray(hc)
            if h.dtype != np.int64 or h.ndim != 1 or not same(h, self.hc_given):
                return False
        return True


_LAST: list[Hardware] = []


def hardware(T: F64, pe: F64, tables: F64, hc: I64 | None) -> Hardware:
    """The :class:`Hardware` of these arrays: the last one if it matches, else a new one."""
    if _LAST and _LAST[0].matches(T, pe, tables, hc):
        return _LAST[0]
    hw = Hardware(T, pe, tables, hc)
    _LAST[:] = [hw]
    return hw


def start_state(w: Any, hw: Hardware, snap: Any, tables: F64, counts: NDArray[np.intp],
                flat: NDArray[np.intp], detector: Any, placer: Any) -> None:
    """Working state ``w``'s step-start values in one compiled pass
    (:func:`dcsim.policies.start_kernel.start`: the numpy form's values, LR's features up to
    the guarded last bits; the history tables in :meth:`Hardware.buffer` arrays) and, with
    ``placer``, step (1)'s decisions in ``w.over0`` (the threshold, or LR's screen with the
    exact test near its boundary; other detectors decide in numpy)."""
    n_h, n_v, k = counts.shape[0], w.rq.shape[0], w.K
    lr_feats = (w.feat_fn is not None and isinstance(detector, LocalRegression)
                and type(detector).features is LocalRegression.features)
    if w.need_hist:
        caps = hw.caps
        w.ctab = hw.buffer("ctab", (caps.shape[0], n_v, k))  # (all written below)
        w.hist = hw.buffer("hist", (n_h, k))
        vh = np.ascontiguousarray(w.vh, dtype=np.float64)
        mips = np.ascontiguousarray(w.mips, dtype=np.float64)
    else:
        caps, vh, mips = np.zeros(0), np.zeros((0, 0)), np.zeros(0)
        w.ctab = np.zeros((0, 0, 0))
        w.hist = np.zeros((n_h, 0))
    if lr_feats:
        w.F = np.empty((n_h, 2))
        w.ftab = np.empty((caps.shape[0], n_v, 2))
    F = w.F if lr_feats else np.zeros((0, 2))
    ftab = w.ftab if lr_feats else np.zeros((0, 0, 2))
    dmode = DEFER
    if placer is not None:
        dmode, c = placer.kernel_mode(w)
        w.kconst[:] = c
        # the screen only for the detectors' own decisions (LRR's robust check, a subclass's
        # own ``overloaded`` and the other detectors: numpy's)
        own = type(detector).overloaded
        if not ((dmode == THRESHOLD and own is StaticThreshold.overloaded)
                or (dmode == LINEAR and lr_feats and own is LocalRegression.overloaded)):
            dmode = DEFER
    over = np.empty(n_h, dtype=np.uint8)
    fstart = np.empty(n_h, dtype=np.intp)
    sk = start_kernel()
    status = int(sk.start(counts, flat, np.ascontiguousarray(snap.host_util, dtype=np.float64),
                          tables, np.ascontiguousarray(snap.host_alloc_mips, dtype=np.float64),
                          np.ascontiguousarray(snap.host_avail_mips, dtype=np.float64),
                          np.ascontiguousarray(w.r, dtype=np.float64),
                          np.ascontiguousarray(snap.vm_ram_mb, dtype=np.float64), vh, mips,
                          caps, w.hf, w.hi, w.gf, w.ist, w.ctab, w.hist, F,
                          ftab, lr_feats, _LR_MEAN_W, _LR_SLOPE_W, dmode, w.kconst,
                          fstart, over))
    w.fstart0 = fstart
    if status & sk.ST_POWER:
        w.stale_power[:] = specpower_w(tables, snap.host_util)
    if w.feat_fn is not None and not lr_feats:
        w.F = np.asarray(w.feat_fn(w.hist))
        w.ftab = np.asarray(w.feat_fn(w.ctab.reshape(-1, k))).reshape(
            w.ctab.shape[0], w.ctab.shape[1], w.F.shape[1])
    if placer is None or status & sk.ST_DETECT:
        return
    res = over == 1
    for h in np.flatnonzero(over == 2).tolist():
        res[h] = w.overloaded_one(detector, h)
    w.over0 = res


def pool_numpy(pool: Any, w: Any, n_h: int) -> tuple[int, int]:
    """A candidate pool's arrays (:class:`dcsim.policies.pabfd.CandidatePool`) in numpy: the
    reference of :func:`dcsim.policies.start_kernel.pool_build`; returns the numbers of clean
    members and classes."""
    clean = (w.U == 0.0) & pool.allowed
    act = np.flatnonzero(pool.allowed & ~clean)
    ids = np.flatnonzero(clean)
    pool.pa = np.zeros(1 + 3 * n_h, dtype=np.int64)
    pool.pa[0] = n = act.size
    pool.pa[1:1 + n] = act
    pool.pa[1 + n_h:1 + n_h + n] = w.poff[act]
    pool.pa[1 + 2 * n_h:] = -1
    pool.pa[1 + 2 * n_h + act] = np.arange(n)
    for row, src in ((C_U, w.U), (C_T, w.T), (C_AVAIL, w.avail), (C_PE, w.pe),
                     (C_STALE, w.stale_power)):
        pool.pc[row, :n] = src[act]
    pool.pc[C_BL, :n] = np.nan  # bound terms derived at the first search
    pool.cls_of = np.full(n_h, -1, dtype=np.intp)
    pool.pos = np.zeros(n_h, dtype=np.int64)
    members = np.zeros(0, dtype=np.int64)
    cstart = np.zeros(1, dtype=np.int64)
    if ids.size:
        hc, sp, av = w.hc[ids], w.stale_power[ids], w.avail[ids]
        order = np.lexsort((av, sp, hc))  # stable: ids ascending within a class
        hc, sp, av, ids = hc[order], sp[order], av[order], ids[order]
        new = (hc[1:] != hc[:-1]) | (sp[1:] != sp[:-1]) | (av[1:] != av[:-1])
        members = ids.astype(np.int64)
        cstart = np.concatenate(([0], np.flatnonzero(new) + 1, [ids.size])).astype(np.int64)
        k = np.repeat(np.arange(cstart.size - 1), np.diff(cstart))
        pool.cls_of[ids] = k
        pool.pos[ids] = np.arange(ids.size)
    n_m, n_c = members.size, cstart.size - 1
    pool.pi = np.zeros(2 + n_h + n_m + 3 * n_c + 1, dtype=np.int64)
    pool.pi[0], pool.pi[1] = n_m, n_c
    m0 = 2 + n_h
    pool.pi[2:2 + n_h] = pool.allowed
    pool.pi[m0:m0 + n_m] = members
    pool.pi[m0 + n_m:m0 + n_m + n_c + 1] = cstart
    pool.pi[m0 + n_m + n_c + 1:m0 + n_m + 2 * n_c + 1] = cstart[:-1]
    first = members[cstart[:-1]]
    pool.pf = np.empty(2 * n_c)
    pool.pf[:n_c] = w.avail[first]
    pool.pf[n_c:] = w.pe[first]
    return int(n_m), int(n_c)

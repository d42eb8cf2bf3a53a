"""The hosts' hardware as the planner's working state reads it, derived once per run.

A :class:`dcsim.policies.pabfd._Work` built with ``compiled=True`` (the planner's) takes its
hardware-only values (capacities, per-core MIPS, power tables, host classes, the compact search's
tables, the distinct capacities and each host's index in them) from :func:`hardware`, which
derives them again only when the snapshot's hardware arrays differ, bit for bit, from the last
ones (:func:`dcsim.policies.start_kernel.same_bits`); within a run they never change, so a step
pays a comparison instead of ``host_classes``, ``class_tables`` and ``np.unique``. The values
are those the numpy form derives, by the same functions.

Imports numpy, dcsim.kernels.jit, dcsim.policies.{pabfd_layout, specpower};
dcsim.policies.start_kernel (numba) when called.
"""

from __future__ import annotations

import sys
from typing import Any

import numpy as np
from numpy.typing import NDArray

from dcsim.kernels.jit import load
from dcsim.policies.pabfd_layout import H_JMARK, H_OFF, H_PE, H_POFF, H_T, H_TTYPE
from dcsim.policies.specpower import class_tables, host_classes

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

    def buffer(self, name: str, shape: tuple[int, ...]) -> F64:
        """A float64 array of ``shape`` for one working state, its contents undefined (the
        caller writes every element): the one handed out for ``name`` at an earlier step if
        nothing refers to it any more, else a new one, kept for the next step. Large arrays
        come from fresh pages, which the kernel faults in one by one (~1 us each, ~150 per step
        for the history tables); a buffer used again has its pages mapped already."""
        buf = self._bufs.get(name)
        # references: the dict, ``buf`` and getrefcount's argument (3: no working state holds it)
        if buf is not None and buf.shape == shape and sys.getrefcount(buf) == 3:
            return buf
        buf = self._bufs[name] = np.empty(shape)
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

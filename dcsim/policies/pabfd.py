"""PABFD's per-guest step over the planner's working state, and its candidate pool.

* :func:`specpower_w`, :func:`host_classes`, :func:`class_tables` — re-exported from
  :mod:`dcsim.policies.specpower` (CloudSim's power arithmetic, host classes, search tables).
* :class:`_Work` — the planner's scratch copy of host state (sums in CloudSim's order, trial
  placements that can be undone: a journal in arrays, written by the compiled commit).
* :class:`PowerAwareBestFit` — among suitable hosts (per-core capacity and free MIPS), skip
  non-empty hosts that would be overloaded after receiving the guest, pick the least power
  increase (lowest id on ties). :meth:`~PowerAwareBestFit.find_host` scans every allowed host;
  :meth:`~PowerAwareBestFit.find_host_in` scans a :class:`CandidatePool`. Both run one compiled
  pass over the candidates (:mod:`dcsim.policies.pabfd_kernel`, numba), which trial-tests a
  host only when it would beat the best one so far.
* :class:`CandidatePool` — the hosts one placement phase may use, with *clean* hosts (nothing
  allocated: ``U == 0``) grouped into classes of identical capacity, per-core capacity, power
  table, stale power and free MIPS. Such hosts are never overload-tested and their power increase
  depends only on the class, so within a class only the lowest allowed id can win (PABFD breaks
  ties by lowest id): a search evaluates the active hosts plus one representative per class, and
  costs O(active hosts), not O(hosts). It picks exactly the host the full scan picks.
  :meth:`~PowerAwareBestFit.place_in` (what the planner calls) does the same search and the trial
  placement in one compiled call (the pool's classes are arrays the kernel reads, and its
  active hosts' search values are kept in compact rows, see :mod:`dcsim.policies.pabfd_kernel`).

A working state built for the planner (``compiled=True``) takes the run's hardware values from
:mod:`dcsim.policies.pabfd_start` (derived once per run) and its step-start values, and with a
placer step (1)'s decisions, from one compiled pass (:mod:`dcsim.policies.start_kernel`).

Imports numpy, dcsim.kernels.jit, dcsim.policies.{overload, pabfd_layout, pabfd_start, registry,
specpower}; dcsim.policies.pabfd_kernel and start_kernel (numba) at the first use only.
"""

from __future__ import annotations

from functools import cached_property
from itertools import chain
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import NDArray

from dcsim.kernels.jit import load
from dcsim.policies.overload import HostLoad, StaticThreshold
from dcsim.policies.pabfd_layout import C_AVAIL as C_AVAIL
from dcsim.policies.pabfd_layout import C_BL as C_BL
from dcsim.policies.pabfd_layout import C_D as C_D
from dcsim.policies.pabfd_layout import C_PE as C_PE
from dcsim.policies.pabfd_layout import C_ROWS as C_ROWS
from dcsim.policies.pabfd_layout import C_STALE as C_STALE
from dcsim.policies.pabfd_layout import C_T as C_T
from dcsim.policies.pabfd_layout import C_U as C_U
from dcsim.policies.pabfd_layout import DEFER as DEFER
from dcsim.policies.pabfd_layout import G_RAM as G_RAM
from dcsim.policies.pabfd_layout import G_RQ as G_RQ
from dcsim.policies.pabfd_layout import H_AVAIL as H_AVAIL
from dcsim.policies.pabfd_layout import H_HLEN as H_HLEN
from dcsim.policies.pabfd_layout import H_JMARK as H_JMARK
from dcsim.policies.pabfd_layout import H_MAXRAM as H_MAXRAM
from dcsim.policies.pabfd_layout import H_NLIST as H_NLIST
from dcsim.policies.pabfd_layout import H_OFF as H_OFF
from dcsim.policies.pabfd_layout import H_PE as H_PE
from dcsim.policies.pabfd_layout import H_POFF as H_POFF
from dcsim.policies.pabfd_layout import H_REQ as H_REQ
from dcsim.policies.pabfd_layout import H_STALE as H_STALE
from dcsim.policies.pabfd_layout import H_T as H_T
from dcsim.policies.pabfd_layout import H_TTYPE as H_TTYPE
from dcsim.policies.pabfd_layout import H_U as H_U
from dcsim.policies.pabfd_layout import IST_EPOCH as IST_EPOCH
from dcsim.policies.pabfd_layout import IST_FEATS as IST_FEATS
from dcsim.policies.pabfd_layout import IST_HIST as IST_HIST
from dcsim.policies.pabfd_layout import IST_MODE as IST_MODE
from dcsim.policies.pabfd_layout import IST_N as IST_N
from dcsim.policies.pabfd_layout import IST_ON as IST_ON
from dcsim.policies.pabfd_layout import IST_RMODE as IST_RMODE
from dcsim.policies.pabfd_layout import IST_STOP as IST_STOP
from dcsim.policies.pabfd_layout import IST_UNSURE as IST_UNSURE
from dcsim.policies.pabfd_layout import IST_WOKE as IST_WOKE
from dcsim.policies.pabfd_layout import LINEAR as LINEAR
from dcsim.policies.pabfd_layout import THRESHOLD as THRESHOLD
from dcsim.policies.pabfd_start import Hardware, hardware, pool_numpy, start_kernel, start_state
from dcsim.policies.registry import Registry
from dcsim.policies.specpower import P_Q as P_Q
from dcsim.policies.specpower import P_Q0 as P_Q0
from dcsim.policies.specpower import P_TENTH as P_TENTH
from dcsim.policies.specpower import P_W as P_W
from dcsim.policies.specpower import class_tables as class_tables
from dcsim.policies.specpower import host_classes as host_classes
from dcsim.policies.specpower import specpower_w as specpower_w

if TYPE_CHECKING:
    from dcsim.policies.consolidation import ClusterSnapshot

F64 = NDArray[np.float64]
I64 = NDArray[np.int64]
B = NDArray[np.bool_]

PLACEMENT_MIGRATION: Registry[type[Any]] = Registry("migration placement policy")

_NO_HOSTS = np.zeros(0, dtype=np.intp)


def _kernel() -> Any:
    """:mod:`dcsim.policies.pabfd_kernel`, imported on first use (numba costs ~0.5 s to import),
    its cached machine code loaded without numba's compiler set-up (:mod:`dcsim.kernels.jit`)."""
    return load("dcsim.policies.pabfd_kernel")


def _rows() -> Any:
    """:mod:`dcsim.policies.pabfd_rows` (the candidate pool's row upkeep), loaded as
    :func:`_kernel`."""
    return load("dcsim.policies.pabfd_rows")


# --------------------------------------------------------------------------- working state
class _Work:
    """The planner's scratch copy of host state, with CloudSim's sequential sums.

    ``hist`` (host utilisation history, newest first) is kept only when the detector reads
    history. Guests' history contributions ``u · MIPS / host MIPS`` are tabulated once per
    distinct host capacity. Per-host values live in two packed arrays (``hf`` floats, ``hi``
    ints; ``U``, ``reqsum``, ``hlen``, ... are their rows) so that the compiled kernels take few
    arguments; ``compiled`` builds the start sums with the kernel (the planner, which loads it
    anyway), else with numpy (the same bits).
    """

    def __init__(self, snap: ClusterSnapshot, need_hist: bool, detector: Any = None,
                 compiled: bool = False, placer: PowerAwareBestFit | None = None) -> None:
        self.snap = snap
        self.need_hist = need_hist
        n_h = snap.host_total_mips.shape[0]
        n_v = snap.vm_requested_mips.shape[0]
        T = np.ascontiguousarray(snap.host_total_mips, dtype=np.float64)
        pe = np.ascontiguousarray(snap.host_pe_mips, dtype=np.float64)
        tables = np.ascontiguousarray(snap.host_power_table, dtype=np.float64)
        hw = hardware(T, pe, tables, snap.host_class) if compiled else None
        # per-host state packed in two arrays (one argument each for the compiled kernels); the
        # named attributes are their rows
        if hw is not None:
            self.hf, self.hi = hw.hf0.copy(), hw.hi0.copy()
        else:
            self.hf = np.empty((7, n_h))
            self.hi = np.zeros((6, n_h), dtype=np.int64)
        self.gf = np.empty((2, n_v))
        (self.U, self.T, self.avail, self.pe, self.stale_power, self.reqsum,
         self.maxram) = self.hf
        self.off, self.hlen, self.nlist, self.jmark, self.ttype, self.poff = self.hi
        self.rq, self.ramf = self.gf
        if hw is not None:  # the run's hardware values (pabfd_start: the same as below)
            self.pe_min, self.tflat, self.n_points = hw.pe_min, hw.tflat, hw.n_points
            self.hc, self.ptab = hw.hc, hw.ptab
        else:
            self.T[:] = T
            self.pe[:] = pe
            self.pe_min = float(self.pe.min()) if self.pe.size else 0.0
            self.tflat = tables.ravel()
            self.n_points = int(tables.shape[1])
            self.off[:] = np.arange(n_h) * self.n_points
            self.stale_power[:] = specpower_w(tables, snap.host_util)
            hc = snap.host_class
            self.hc = host_classes(self.T, self.pe, tables) if hc is None else hc
            self.ptab, self.poff[:] = class_tables(tables, self.hc)
        self.pool: CandidatePool | None = None
        self._kargs: tuple[Any, tuple[Any, ...]] | None = None
        self._addargs: tuple[Any, ...] | None = None
        self._pargs: tuple[Any, ...] | None = None
        self._rargs: tuple[Any, ...] | None = None
        self.kconst = np.zeros(8)
        # the snapshot's lists, each copied on its first change (:meth:`own`): a step changes few
        self.lists: list[list[int]] = list(snap.host_vms)
        self._own: set[int] = set()
        self.r = snap.vm_requested_mips
        self.vh = snap.vm_history
        self.vlen = np.ascontiguousarray(snap.vm_history_len, dtype=np.int64)
        self.ram = snap.vm_ram_mb
        self.mips = snap.vm_mips
        self.bw = snap.migration_mbps
        self.interval = snap.interval_s
        k = snap.vm_history.shape[1]
        self.K = k
        if snap.host_vms_flat is not None and snap.host_vms_count is not None:
            counts = np.asarray(snap.host_vms_count, dtype=np.intp)  # (kept by the caller)
            flat = np.asarray(snap.host_vms_flat, dtype=np.intp)
        else:
            counts = np.fromiter(map(len, self.lists), dtype=np.intp, count=n_h)
            flat = np.fromiter(chain.from_iterable(self.lists), dtype=np.intp,
                               count=int(counts.sum()))
        self.flat0, self.count0 = flat, counts  # the lists at the start, as arrays
        self.fstart0: NDArray[np.intp] | None = None  # where each host's guests start in flat0
        self.feat_fn = getattr(detector, "features", None) if need_hist else None
        #: see the ``IST_*`` constants
        self.ist = np.zeros(10, dtype=np.int64)
        self.ist[IST_MODE] = self.ist[IST_RMODE] = DEFER
        self.ist[IST_HIST] = need_hist
        self.ist[IST_FEATS] = self.feat_fn is not None
        self.hist: F64
        #: step (1)'s decisions, when the compiled start took them (``placer`` given)
        self.over0: B | None = None
        if hw is not None:
            self._start(hw, snap, tables, counts, flat, detector, placer)
        else:
            self.avail[:] = snap.host_avail_mips
            self.U[:] = snap.host_alloc_mips
            self.rq[:] = self.r
            self.ramf[:] = snap.vm_ram_mb
            #: guests per host (kept equal to the lists' lengths; the compiled commit and undo
            #: use it)
            self.nlist[:] = counts
            self._build_numpy(counts, flat)
            if self.feat_fn is not None:
                self.F = np.asarray(self.feat_fn(self.hist))
                q = self.F.shape[1]
                self.ftab = np.asarray(self.feat_fn(self.ctab.reshape(-1, k))).reshape(
                    self.ctab.shape[0], self.ctab.shape[1], q)
            if not need_hist:
                self.hist = np.zeros((n_h, 0))
            # the trial journal (see dcsim.policies.pabfd_kernel.commit): one entry per host
            self.jmark[:] = -1
        width = 4 + (k if need_hist else 0) + (self.F.shape[1] if self.feat_fn is not None else 0)
        # (an entry is written before it is read: a reused buffer serves)
        self.jf = np.empty((n_h, width)) if hw is None else hw.buffer("jf", (n_h, width))
        self.ji = np.empty((n_h, 3), dtype=np.int64)

    def list_starts(self) -> NDArray[np.intp]:
        """Where each host's guests start in ``flat0``: the compiled start's, else the running
        sum of the lists' lengths."""
        if self.fstart0 is not None:
            return self.fstart0
        return np.cumsum(self.count0) - self.count0

    def _start(self, hw: Hardware, snap: ClusterSnapshot, tables: F64, counts: NDArray[np.intp],
               flat: NDArray[np.intp], detector: Any, placer: PowerAwareBestFit | None) -> None:
        """The step-start values in one compiled pass (:func:`dcsim.policies.pabfd_start.
        start_state`) and, with ``placer``, step (1)'s decisions in :attr:`over0`."""
        start_state(self, hw, snap, tables, counts, flat, detector, placer)

    @cached_property
    def r_list(self) -> list[float]:
        """Demands as Python floats (built on first use: the compiled loops need none)."""
        out: list[float] = self.r.tolist()
        return out

    @cached_property
    def ram_list(self) -> list[float]:
        """RAM sizes as Python floats (built on first use)."""
        out: list[float] = self.ram.tolist()
        return out

    @property
    def rmode(self) -> int:
        """The screen of :meth:`recompute_host` (set by :meth:`use_detector`)."""
        return int(self.ist[IST_RMODE])

    def _build_numpy(self, counts: NDArray[np.intp], flat: NDArray[np.intp]) -> None:
        """Requested sums, largest RAM and (with history) ``ctab``, ``ttype``, ``hist`` and
        ``hlen`` of every host, in numpy."""
        n_h, k = counts.shape[0], self.K
        host = np.repeat(np.arange(n_h), counts)
        # bincount adds in input order: the per-host sums are sequential in list order.
        self.reqsum[:] = np.bincount(host, weights=self.r[flat], minlength=n_h)
        maxram = np.zeros(n_h)
        if flat.size:
            np.maximum.at(maxram, host, self.ram[flat])
        self.maxram[:] = maxram
        if self.need_hist:
            caps, ttype = np.unique(self.T, return_inverse=True)
            self.ttype[:] = ttype
            self.ctab = (self.vh * self.mips[:, None])[None, :, :] / caps[:, None, None]
            contrib = self.ctab[self.ttype[host], flat]
            idx = (host[:, None] * k + np.arange(k)[None, :]).ravel()
            self.hist = np.asarray(np.bincount(idx, weights=contrib.ravel(), minlength=n_h * k),
                                   dtype=np.float64).reshape(n_h, k)
            self.hlen[:] = self._trimmed_len(self.hist)

    def own(self, h: int) -> list[int]:
        """Host ``h``'s guest list, copied from the snapshot's first if needed (to change it)."""
        if h in self._own:
            return self.lists[h]
        self._own.add(h)
        lst = self.lists[h] = list(self.lists[h])
        return lst

    def kernel_args(self, placer: PowerAwareBestFit) -> tuple[Any, ...]:
        """The per-host arrays :func:`~dcsim.policies.pabfd_kernel.pick` reads (updated in place
        by :meth:`add` / :meth:`restore_all`), with ``placer``'s screening mode first."""
        if self._kargs is None or self._kargs[0] is not placer:
            mode, c = placer.kernel_mode(self)
            self.kconst[:] = c
            self.ist[IST_MODE] = mode
            lin = mode == LINEAR
            self._kargs = (placer, (
                mode, self.U, self.T, self.avail, self.pe, self.off, self.tflat,
                self.stale_power, self.reqsum, self.hlen, self.maxram,
                self.ttype if lin else _NO_HOSTS, self.F if lin else np.zeros((0, 2)),
                self.ftab if lin else np.zeros((0, 0, 2))))
        return self._kargs[1]

    def use_detector(self, placer: PowerAwareBestFit) -> None:
        """Screen :meth:`recompute_host`'s hosts as ``placer`` screens trial hosts (the static
        threshold, or LR's linear screen with its exact test near the boundary); a robust LR
        (whose exact test may re-weight) and other detectors are always tested exactly."""
        self.kernel_args(placer)
        mode = int(self.ist[IST_MODE])
        robust = bool(getattr(placer.detector, "robust", False))
        self.ist[IST_RMODE] = DEFER if (mode == LINEAR and robust) else mode

    def _hist_args(self) -> tuple[Any, Any, Any]:
        """``(ctab, F, ftab)``, placeholders where the state has none."""
        none = np.zeros((0, 0, 0))
        hist, feats = self.need_hist, self.feat_fn is not None
        return (self.ctab if hist else none, self.F if feats else np.zeros((0, 2)),
                self.ftab if feats else none)

    def _commit_args(self) -> tuple[Any, ...]:
        """What :func:`~dcsim.policies.pabfd_kernel.commit` reads after ``(h, v)``."""
        if self._addargs is None:
            ctab, F, ftab = self._hist_args()
            self._addargs = (self.hf, self.hi, self.gf, self.vlen, self.hist, ctab, F, ftab,
                             self.ist, self.jf, self.ji)
        return self._addargs

    def place_args(self, placer: PowerAwareBestFit, pool: CandidatePool) -> tuple[Any, ...]:
        """What :func:`~dcsim.policies.pabfd_kernel.place` reads after ``(act, skip, v)``."""
        if self._pargs is None or self._pargs[0] is not placer or self._pargs[1] is not pool:
            self.kernel_args(placer)
            ctab, F, ftab = self._hist_args()
            self._pargs = (placer, pool, (
                self.hf, self.hi, self.gf, self.vlen, self.ptab, self.kconst, self.hist, ctab,
                F, ftab, self.ist, self.jf, self.ji, pool.pi, pool.pf))
        args: tuple[Any, ...] = self._pargs[2]
        return args

    @staticmethod
    def _trimmed_len(hist: F64) -> I64:
        if hist.shape[1] == 0:
            return np.zeros(hist.shape[0], dtype=np.int64)
        nz = hist != 0.0
        last = hist.shape[1] - np.argmax(nz[:, ::-1], axis=1)
        return np.where(nz.any(axis=1), last, 0).astype(np.int64)

    def load_all(self) -> HostLoad:
        return HostLoad(self.reqsum / self.T, self.hist, self.hlen, self.maxram / self.bw,
                        self.interval)

    def recompute_host(self, h: int) -> int:
        """Sums of host ``h`` from scratch, in list order (after a guest left), and its quick
        overload screen: 0 / 1 (not / overloaded) or 2 (ask :meth:`overloaded_one`); see
        :func:`dcsim.policies.pabfd_kernel.recompute`."""
        return int(_kernel().recompute(h, np.array(self.lists[h], dtype=np.intp),
                                       *self.recompute_args()))

    def recompute_args(self) -> tuple[Any, ...]:
        """What :func:`~dcsim.policies.pabfd_kernel.recompute` reads after ``(h, lst)``."""
        if self._rargs is None:
            ctab, F, _ = self._hist_args()
            from dcsim.policies.overload import _LR_MEAN_W, _LR_SLOPE_W

            self._rargs = (self.hf, self.hi, self.gf, self.hist, ctab, F, self.ist, _LR_MEAN_W,
                           _LR_SLOPE_W, self.kconst)
        return self._rargs

    def save_all(self) -> int:
        """Open a trial: hosts changed by :meth:`add` from now on can be rolled back."""
        ist = self.ist
        ist[IST_ON] = 1
        ist[IST_EPOCH] += 1
        ist[IST_N] = 0
        return int(ist[IST_EPOCH])

    def end_trial(self) -> None:
        """Close the open trial (its placements stay)."""
        self.ist[IST_ON] = 0
        self.ist[IST_N] = 0

    def restore_all(self, journal: int) -> None:
        """Undo the trial placements journaled since :meth:`save_all` (which returned
        ``journal``) and close the trial. Only placements are journaled: a trial must not
        remove guests or recompute hosts (the planner's trials only place; its selection loop
        runs between them)."""
        if journal != self.ist[IST_EPOCH] or not self.ist[IST_ON]:
            raise ValueError("no such open trial")
        hosts = _kernel().undo(self.hf, self.hi, self.hist, self._hist_args()[1], self.ist,
                               self.jf, self.ji)
        pool = self.pool
        for h in hosts.tolist():
            del self.own(h)[self.nlist.item(h):]
            if pool is not None:
                if self.U.item(h) == 0.0:
                    pool.cleaned(h)
                pool.sync(h, False)

    def add(self, v: int, h: int) -> None:
        """Trial placement of ``v`` on ``h`` (appended to its list; journaled in a trial)."""
        _kernel().commit(h, v, *self._commit_args())
        if self.pool is not None:
            self.pool.sync(h, bool(self.ist.item(IST_WOKE)))
        self.own(h).append(v)

    def overloaded_one(self, detector: Any, h: int) -> bool:
        util = float(self.reqsum[h] / self.T[h])
        mig = float(self.maxram[h] / self.bw)
        row = self.hist[h] if self.need_hist else np.zeros(0)
        return _decide_one(detector, util, row, int(self.hlen[h]), mig, self.interval)


def _decide_one(detector: Any, util: float, row: F64, n: int, mig: float,
                interval: float) -> bool:
    """``detector``'s exact decision for one host: utilisation ``util``, history ``row``
    (newest first) of which ``n`` values count, longest migration ``mig`` s."""
    one = getattr(detector, "overloaded_one", None)
    if one is not None:
        return bool(one(util, row[:n].tolist(), mig, interval))
    load = HostLoad(np.array([util]), row[None, :], np.array([n]), np.array([mig]), interval)
    return bool(detector.overloaded(load)[0])


# --------------------------------------------------------------------------- PABFD
@PLACEMENT_MIGRATION.register("pabfd")
class PowerAwareBestFit:
    """Power-aware best fit (the per-guest step of PABFD) over a planner's working state.

    The detector's optional ``history_depth`` (newest history values it reads; 0 = none) limits
    what is built for the trial overload tests.
    """

    def __init__(self, detector: Any) -> None:
        self.detector = detector
        self.depth: int | None = getattr(detector, "history_depth", None)
        self.cheap = bool(getattr(detector, "cheap_vectorized", False))
        self.thr = detector.threshold if isinstance(detector, StaticThreshold) else None

    def find_host(self, w: _Work, v: int, allowed: B) -> int:
        """Host for guest ``v`` among ``allowed`` hosts (``-1`` if none): the full scan."""
        return self._choose(w, v, allowed.nonzero()[0], _NO_HOSTS)

    def find_host_in(self, w: _Work, v: int, pool: CandidatePool) -> int:
        """As :meth:`find_host` over the pool's allowed hosts, evaluating only its active hosts
        and one representative per class of clean hosts (the same choice, see the module)."""
        reps = pool.reps(w.r_list[v], w)
        return self._choose(w, v, pool.act, np.array(reps, dtype=np.intp) if reps else _NO_HOSTS)

    def _choose(self, w: _Work, v: int, act: NDArray[np.intp], reps: NDArray[np.intp]) -> int:
        """Best host for ``v`` among candidates ``act`` and ``reps`` (distinct host ids).

        Notes
        -----
        One compiled pass (:func:`dcsim.policies.pabfd_kernel.pick`): the power increase with
        CloudSim's exact arithmetic, lowest id on ties; a non-empty host is trial-tested only
        when it would beat the best host so far. The static threshold and LR's linear screen are
        evaluated in the pass; other detectors' tests (and LR rows too close to its boundary)
        come back here one host at a time, best first.
        """
        args = w.kernel_args(self)
        r = w.r_list[v]
        pick = _kernel().pick
        skip = _NO_HOSTS
        while True:
            h = int(pick(act, reps, skip, r, r > w.pe_min, *args, v, w.vlen.item(v),
                         w.ram_list[v], w.kconst))
            if h >= -1:
                return h
            h = -h - 2
            if not self._bad(w, v, r, h):
                return h
            skip = np.append(skip, h)

    def place_in(self, w: _Work, v: int, pool: CandidatePool) -> int:
        """:meth:`find_host_in` then :meth:`_Work.add` to the host found (if any), in one
        compiled call (:func:`dcsim.policies.pabfd_kernel.place`); ``pool`` must be ``w.pool``.
        Returns the host or ``-1``."""
        args = w.place_args(self, pool)
        place = _kernel().place
        skip = _NO_HOSTS
        while True:
            h = int(place(pool.pa, pool.pc, skip, v, *args))
            if h >= 0:
                w.own(h).append(v)  # the kernel kept the pool's candidates up to date
                return h
            if h == -1:
                return h
            h = -h - 2
            if not self._bad(w, v, w.r_list[v], h):
                w.add(v, h)
                return h
            skip = np.append(skip, h)

    def place_sequence(self, w: _Work, vms: list[int], pool: CandidatePool,
                       stop_on_fail: bool, lists: bool = True) -> list[tuple[int, int]]:
        """:meth:`place_in` for ``vms`` in order: ``(guest, host)`` for each placed guest;
        unplaced guests are skipped, or end the sequence with ``(guest, -1)`` when
        ``stop_on_fail``. Runs in compiled calls (:func:`dcsim.policies.pabfd_kernel.place_seq`)
        that return only when a guest fits nowhere (``stop_on_fail``) or an exact test needs
        Python. ``lists=False``: the guests are not appended to ``w.lists`` (for a caller that
        reads the lists no more)."""
        n = len(vms)
        arr = np.array(vms, dtype=np.int64)
        out = np.empty(n, dtype=np.int64)
        args = w.place_args(self, pool)
        seq = _kernel().place_seq
        ist = w.ist
        res: list[tuple[int, int]] = []
        i = 0
        skip = _NO_HOSTS
        while i < n:
            j = int(seq(pool.pa, pool.pc, skip, arr, i, stop_on_fail, out, *args))
            got = out[i:j].tolist()
            for v, h in zip(vms[i:j], got, strict=True):
                if h >= 0:
                    if lists:
                        w.own(h).append(v)
                    res.append((v, h))
                elif stop_on_fail:
                    res.append((v, -1))
                    return res
            if ist.item(IST_STOP):
                v, h = vms[j], ist.item(IST_UNSURE)
                if j != i:
                    skip = _NO_HOSTS  # the hosts skipped were another guest's
                if self._bad(w, v, w.r_list[v], h):
                    skip = np.append(skip, h)
                    i = j
                    continue
                w.add(v, h)  # journaled, pool updated, list appended as a placement does
                res.append((v, h))
                j += 1
            i = j
            skip = _NO_HOSTS
        return res

    def _bad(self, w: _Work, v: int, r: float, h: int) -> bool:
        """Trial test the compiled search handed back: is ``h`` overloaded with ``v`` added?"""
        if self.cheap:
            return bool(self._tests(w, v, r, np.asarray([h], dtype=np.intp))[0])
        return self._exact(w, v, r, h)

    def kernel_mode(self, w: _Work) -> tuple[int, list[float]]:
        """The kernel's screening mode for this working state and its constants."""
        det = self.detector
        c = [0.0, w.bw, w.interval, 0.0, 0.0, 0.0, 0.0, w.pe_min]
        if self.thr is not None:
            c[0] = float(self.thr)
            return THRESHOLD, c
        lin = getattr(det, "linear_screen", None)
        if (self.cheap and lin is not None and w.feat_fn is not None and w.bw > 0.0
                and w.interval > 0.0):
            c[3:7] = [float(x) for x in lin()]
            return LINEAR, c
        return DEFER, c

    def _tests(self, w: _Work, v: int, r: float, hosts: NDArray[np.intp]) -> B:
        """Trial overload decisions of ``hosts`` receiving ``v`` (cheap detectors)."""
        det = self.detector
        util = (w.reqsum.take(hosts) + r) / w.T.take(hosts)
        hl = np.maximum(w.hlen.take(hosts), w.vlen[v])
        mig = np.maximum(w.maxram.take(hosts), w.ram[v]) / w.bw
        if w.feat_fn is not None and hasattr(det, "screen_features"):
            f = w.F.take(hosts, axis=0) + w.ftab[w.ttype.take(hosts), v]
            bad, unsure = det.screen_features(f, util, hl, mig, w.interval)
            for k in unsure.nonzero()[0].tolist():
                bad[k] = self._exact(w, v, r, int(hosts[k]))
            return np.asarray(bad)
        d = w.K if self.depth is None else min(self.depth, w.K)
        if w.need_hist:
            hist = w.hist[hosts, :d] + w.ctab[w.ttype.take(hosts), v, :d]
        else:
            hist = np.zeros((hosts.size, 0))
        return np.asarray(det.overloaded(HostLoad(util, hist, hl, mig, w.interval)))

    def _exact(self, w: _Work, v: int, r: float, h: int) -> bool:
        """Exact trial test: is host ``h`` overloaded once guest ``v`` is added?"""
        n = max(int(w.hlen[h]), int(w.vlen[v]))
        util = float((w.reqsum[h] + r) / w.T[h])
        mig = max(float(w.maxram[h]), float(w.ram[v])) / w.bw
        row = w.hist[h] + w.ctab[w.ttype[h], v] if w.need_hist else np.zeros(0)
        return _decide_one(self.detector, util, row, n, mig, w.interval)


class CandidatePool:
    """The hosts one placement phase may use (see the module docstring).

    ``allowed`` is copied and may only shrink (:meth:`exclude`) while the pool lives; the pool
    follows the working state's trial placements through :meth:`_Work.add` / ``restore_all``
    (``w.pool``). Invariant: every allowed host is either in ``act`` (evaluated) or a clean member
    of a class whose representative (its lowest allowed clean member) is evaluated. ``pa`` /
    ``pc`` hold ``act`` with each host's current search values (rows ``C_*``), kept equal to the
    working state's by :meth:`sync` (after a placement or an undo) and the compiled placement
    (which also marks the row's bound terms for :func:`~dcsim.policies.pabfd_kernel.derive`).
    """

    def __init__(self, w: _Work, allowed: B, compiled: bool = False) -> None:
        self.allowed = np.array(allowed, dtype=bool)
        n_h = w.T.shape[0]
        self._hf, self._hi = w.hf, w.hi  # (not ``w``: no reference cycle, freed at once)
        # the active hosts (ascending when built; later in any order) and their search values
        # and bound terms in the same order (the compiled placement reads them contiguously):
        # pa = [n, ids (H), table offsets (H), position of each host in ids or -1 (H)], pc =
        # rows C_* (H each; after n: scratch)
        self.pc = np.empty((C_ROWS, n_h))
        if compiled:  # the same arrays in one compiled pass (start_kernel.pool_build)
            self.pa = np.empty(1 + 3 * n_h, dtype=np.int64)
            self.cls_of = np.empty(n_h, dtype=np.intp)
            self.pos = np.empty(n_h, dtype=np.int64)
            self.pi, self.pf = start_kernel().pool_build(
                self.allowed, w.hf, w.hi, np.asarray(w.hc, dtype=np.int64), self.pa, self.pc,
                self.cls_of, self.pos)
            n_m, n_c = int(self.pi[0]), int(self.pi[1])
        else:
            n_m, n_c = pool_numpy(self, w, n_h)
        # packed for the compiled placement (dcsim.policies.pabfd_kernel.place): [M, C, allowed
        # (H), members (M), class starts (C + 1), scan positions (C), buffer (C)]; the named
        # attributes are views (``allowed`` is kept as a bool array and mirrored here); pf =
        # [free MIPS (C), per-core MIPS (C)] of each class
        self._allowed_i = self.pi[2:2 + n_h]
        m0 = 2 + n_h
        self.members_flat = self.pi[m0:m0 + n_m]
        self.cstart = self.pi[m0 + n_m:m0 + n_m + n_c + 1]
        #: scan position per class: members before it are excluded or active
        self.cursor = self.pi[m0 + n_m + n_c + 1:m0 + n_m + 2 * n_c + 1]
        self.avail_c, self.pe_c = self.pf[:n_c], self.pf[n_c:]
        w.pool = self

    @property
    def act(self) -> I64:
        """The active hosts, in the rows' order (ascending when the pool was built; a view:
        valid until the pool changes)."""
        return self.pa[1:1 + int(self.pa[0])]

    def reps(self, r: float, w: _Work) -> list[int]:
        """Representative of every class that can take demand ``r`` (MIPS)."""
        out: list[int] = []
        allowed, U, mem, end = self.allowed, w.U, self.members_flat, self.cstart
        check_pe = r > w.pe_min
        for c in range(self.cursor.size):
            if self.avail_c[c] < r or (check_pe and self.pe_c[c] < r):
                continue
            k = int(self.cursor[c])
            while k < end[c + 1]:
                h = int(mem[k])
                if allowed[h] and U[h] == 0.0:
                    break
                k += 1  # excluded (for good) or active (it comes back through cleaned())
            self.cursor[c] = k
            if k < end[c + 1]:
                out.append(int(mem[k]))
        return out

    def exclude(self, h: int) -> None:
        """Host ``h`` may no longer receive guests in this phase."""
        if self.allowed[h]:
            self.allowed[h] = False
            self._allowed_i[h] = 0
            self._drop(h)

    def woke(self, h: int) -> None:
        """Host ``h`` got its first allocation (``U`` 0 -> > 0): evaluate it in full."""
        self.sync(h, True)

    def sync(self, h: int, woke: bool) -> None:
        """After host ``h``'s allocation changed: its values in the active hosts' rows, or,
        if it ``woke`` (a clean host's first allocation) and is allowed, it joins them."""
        _rows().pool_sync(h, woke, self._hf, self._hi, self.pa, self.pc, self.pi)

    def cleaned(self, h: int) -> None:
        """Host ``h`` is clean again (a trial undone): back to its class if it has one."""
        c = int(self.cls_of[h])
        if c < 0:
            return  # not clean when the pool was built: stays evaluated in full (still exact)
        self._drop(h)
        self.cursor[c] = min(self.cursor[c], int(self.pos[h]))

    def _drop(self, h: int) -> None:
        """Host ``h`` out of ``act`` (if there)."""
        if self.pa.item(1 + 2 * self.allowed.size + h) >= 0:
            _rows().pool_drop(h, self.pa, self.pc)

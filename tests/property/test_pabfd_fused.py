"""The fused compiled PABFD step equals the plain one, state for state.

``PowerAwareBestFit.place_in`` (class representatives, search and trial placement with its journal
in one compiled call) against ``find_host_in`` + ``_Work.add`` on two working states built from the
same random snapshot, through random sequences of placements, exclusions, trials, undos and
removals (between trials, as the planner's selection loop); after every operation the chosen hosts
and every array, guest list and pool field must be equal bit for bit, and an undone trial must
leave the state as a plain copy taken when it opened; the pools' compact rows (what the compiled
placements read) must hold the working state's values. ``_Work.recompute_host`` (compiled sums and
screen) against the plain numpy sums it replaced: equal sums, and a screen that agrees with the
detector's exact test whenever it decides. The compiled start of a working state against its numpy
form (equal bytes; LR's features, sequential dot products read only through the guarded screen,
equal to within 1e-12), and the planner's Python sort of guests by demand against its numpy sort.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from dcsim.policies.consolidation import ClusterSnapshot, _sorted_by_demand
from dcsim.policies.overload import make_detector
from dcsim.policies.pabfd import (
    C_AVAIL,
    C_BL,
    C_D,
    C_PE,
    C_STALE,
    C_T,
    C_U,
    CandidatePool,
    PowerAwareBestFit,
    _Work,
)
from dcsim.policies.pabfd_rows import derive
from tests.property.test_pabfd_candidates import cases

STATE = ("avail", "U", "reqsum", "maxram", "hist", "hlen", "nlist")


def _same(a: _Work, b: _Work, pa: CandidatePool, pb: CandidatePool) -> None:
    for k in STATE:
        np.testing.assert_array_equal(getattr(a, k), getattr(b, k), err_msg=k)
    if a.feat_fn is not None:  # (a compiled start's are sequential dot products: last bits)
        np.testing.assert_allclose(b.F, a.F, rtol=1e-12, atol=1e-15, err_msg="F")
    assert a.lists == b.lists
    assert [len(x) for x in a.lists] == a.nlist.tolist()
    np.testing.assert_array_equal(pa.act, pb.act)
    np.testing.assert_array_equal(pa.cursor, pb.cursor)
    np.testing.assert_array_equal(pa.allowed, pb.allowed)
    _rows_ok(a, pa)
    _rows_ok(b, pb)


def _rows_ok(w: _Work, pool: CandidatePool) -> None:
    """The pool's compact rows are its active hosts (each once, in any order, every allowed
    host with an allocation among them) with the working state's current values, and the
    bound terms of every row that has them are those of its current values."""
    n_h, ids = w.T.size, pool.act
    assert np.unique(ids).size == ids.size
    assert set(np.flatnonzero(pool.allowed & (w.U != 0.0)).tolist()) <= set(ids.tolist())
    apos = pool.pa[1 + 2 * n_h:]
    assert (apos[ids] == np.arange(ids.size)).all()
    assert int((apos >= 0).sum()) == ids.size
    np.testing.assert_array_equal(pool.pa[1 + n_h:1 + n_h + ids.size], w.poff[ids])
    for row, val in ((C_U, w.U), (C_T, w.T), (C_AVAIL, w.avail), (C_PE, w.pe),
                     (C_STALE, w.stale_power)):
        np.testing.assert_array_equal(pool.pc[row, :ids.size], val[ids])
    poff = pool.pa[1 + n_h:1 + n_h + ids.size]
    fresh = pool.pc.copy()
    for k in range(ids.size):
        if pool.pc[C_BL, k] == pool.pc[C_BL, k]:  # derived (NaN: at the next search)
            derive(k, fresh, w.ptab, poff)
    np.testing.assert_array_equal(pool.pc[C_BL:C_D, :ids.size], fresh[C_BL:C_D, :ids.size])


def _copy(w: _Work, pool: CandidatePool) -> dict[str, object]:
    """A plain copy of what a trial may change (the reference for its undo)."""
    out: dict[str, object] = {k: getattr(w, k).copy() for k in STATE}
    out["F"] = w.F.copy() if w.feat_fn is not None else None
    out["lists"] = [list(x) for x in w.lists]
    out["act"] = pool.act.copy()
    return out


def _restored(w: _Work, pool: CandidatePool, saved: dict[str, object]) -> None:
    for k in STATE:
        np.testing.assert_array_equal(getattr(w, k), saved[k], err_msg=k)
    if w.feat_fn is not None:
        np.testing.assert_array_equal(w.F, saved["F"])
    assert w.lists == saved["lists"]
    np.testing.assert_array_equal(np.sort(pool.act), np.sort(saved["act"]))  # (rows: any order)


def _plain_sums(w: _Work, h: int) -> tuple[float, float, np.ndarray, int]:
    """Host ``h``'s requested sum, largest RAM, history row and length as the planner computed
    them before the compiled recompute: Python sums in list order, ``np.add.accumulate``."""
    lst = w.lists[h]
    s = 0.0
    for v in lst:
        s += w.r_list[v]
    m = max((w.ram_list[v] for v in lst), default=0.0)
    if not w.need_hist:
        return s, m, np.zeros(0), 0
    if lst:
        hist = np.add.accumulate(w.ctab[w.ttype[h], lst], axis=0)[-1]
        nz = hist.nonzero()[0]
        n = int(nz[-1]) + 1 if nz.size else 0
    else:
        hist, n = np.zeros(w.K), 0
    return s, m, hist, n


def _twins(case: tuple[ClusterSnapshot, tuple[str, float], list[tuple[str, int]]],
           data: st.DataObject, *, compiled: bool
           ) -> tuple[PowerAwareBestFit, _Work, _Work, CandidatePool, CandidatePool]:
    """The placer, a plain and a fused working state of the case's snapshot, and their pools
    over one drawn set of allowed hosts."""
    snap, (name, param), _ = case
    n_h = snap.host_total_mips.shape[0]
    det = make_detector(name, param)
    placer = PowerAwareBestFit(det)
    allowed = np.asarray(data.draw(st.lists(st.booleans(), min_size=n_h, max_size=n_h)),
                         dtype=bool)
    plain = _Work(snap, need_hist=placer.depth != 0, detector=det)
    fused = _Work(snap, need_hist=placer.depth != 0, detector=det, compiled=compiled)
    fused.use_detector(placer)
    return placer, plain, fused, CandidatePool(plain, allowed), CandidatePool(fused, allowed)


@settings(max_examples=300, deadline=None)
@given(cases(), st.data())
def test_fused_placement_equals_search_then_add(
        case: tuple[ClusterSnapshot, tuple[str, float], list[tuple[str, int]]],
        data: st.DataObject) -> None:
    snap, _, ops = case
    n_h, n_v = snap.host_total_mips.shape[0], snap.vm_requested_mips.shape[0]
    placer, plain, fused, pp, pf = _twins(case, data, compiled=False)
    jp = jf = None
    before: dict[str, object] = {}
    pure = False  # the open trial has only placed guests (as the planner's trials do)
    for op, k in ops + [("place", v) for v in range(n_v)]:
        if op == "exclude":
            pure = False
            pp.exclude(k % n_h)
            pf.exclude(k % n_h)
        elif op == "trial" and jp is None:
            jp, jf = plain.save_all(), fused.save_all()
            before = _copy(plain, pp)
            pure = True
        elif op == "undo" and jp is not None and jf is not None:
            if data.draw(st.booleans()):
                plain.restore_all(jp)
                fused.restore_all(jf)
                if pure:
                    _restored(plain, pp, before)
            else:  # the trial's placements stay
                plain.end_trial()
                fused.end_trial()
            jp = jf = None
        elif op == "trial" and plain.lists[k % n_h]:
            h = k % n_h  # a guest leaves (the selection loop): both recompute the host
            # the planner's selection loop runs between trials, never inside one (an undo
            # restores what the trial journaled, its placements): the open trial ends first
            plain.end_trial()
            fused.end_trial()
            jp = jf = None
            v = plain.lists[h][data.draw(st.integers(0, len(plain.lists[h]) - 1))]
            plain.own(h).remove(v)
            fused.own(h).remove(v)
            plain.recompute_host(h)
            fused.recompute_host(h)
        else:
            v = k % n_v
            a = placer.find_host_in(plain, v, pp)
            if a >= 0:
                plain.add(v, a)
            assert placer.place_in(fused, v, pf) == a
        _same(plain, fused, pp, pf)


@settings(max_examples=300, deadline=None)
@given(cases(), st.data())
def test_compiled_recompute_equals_the_plain_sums_and_the_exact_test(
        case: tuple[ClusterSnapshot, tuple[str, float], list[tuple[str, int]]],
        data: st.DataObject) -> None:
    snap, (name, param), _ = case
    n_h, n_v = snap.host_total_mips.shape[0], snap.vm_requested_mips.shape[0]
    # demands whose sums depend on the order of the additions (the grid's sums are exact)
    snap.vm_requested_mips = np.array(data.draw(st.lists(
        st.floats(0.0, 2500.0, allow_nan=False, allow_subnormal=False), min_size=n_v,
        max_size=n_v)))
    det = make_detector(name, param)
    placer = PowerAwareBestFit(det)
    w = _Work(snap, need_hist=placer.depth != 0, detector=det)
    w.use_detector(placer)
    for h in range(n_h):
        lst = w.own(h)
        if lst and data.draw(st.booleans()):
            lst.pop(data.draw(st.integers(0, len(lst) - 1)))
        screen = w.recompute_host(h)
        s, m, hist, n = _plain_sums(w, h)
        assert (w.reqsum[h], w.maxram[h], w.hlen[h], w.nlist[h]) == (s, m, n, len(lst))
        if w.need_hist:
            np.testing.assert_array_equal(w.hist[h], hist)
        if w.feat_fn is not None:  # sequential dot products: equal up to rounding
            np.testing.assert_allclose(w.F[h], w.feat_fn(hist[None, :])[0], rtol=1e-12,
                                       atol=1e-15)
        assert screen in (0, 1, 2)
        if screen != 2:
            assert bool(screen) == w.overloaded_one(det, h)


@settings(max_examples=200, deadline=None)
@given(cases(), st.data())
def test_compiled_build_equals_the_numpy_build(
        case: tuple[ClusterSnapshot, tuple[str, float], list[tuple[str, int]]],
        data: st.DataObject) -> None:
    snap, (name, param), _ = case
    n_v = snap.vm_requested_mips.shape[0]
    # demands and histories whose sums depend on the order of the additions
    snap.vm_requested_mips = np.array(data.draw(st.lists(
        st.floats(0.0, 2500.0, allow_nan=False, allow_subnormal=False), min_size=n_v,
        max_size=n_v)))
    snap.vm_history = snap.vm_history * np.array(data.draw(st.lists(
        st.floats(0.1, 1.0, allow_nan=False), min_size=n_v, max_size=n_v)))[:, None]
    det = make_detector(name, param)
    placer = PowerAwareBestFit(det)
    a = _Work(snap, need_hist=placer.depth != 0, detector=det, compiled=False)
    b = _Work(snap, need_hist=placer.depth != 0, detector=det, compiled=True)
    keys = ["reqsum", "maxram", "hist", "hlen"]
    if a.need_hist:
        keys += ["ctab", "ttype"]
    keys += ["stale_power", "U", "avail", "nlist", "jmark", "off", "poff", "rq", "ramf", "T", "pe",
             "ptab", "tflat", "hc"]
    for k in keys:
        x, y = getattr(a, k), getattr(b, k)
        assert (x.dtype, x.shape) == (y.dtype, y.shape), k
        assert x.tobytes() == y.tobytes(), k
    if a.feat_fn is not None:  # sequential dot products: equal up to the last bits (guarded)
        for k in ("F", "ftab"):
            x, y = getattr(a, k), getattr(b, k)
            assert (x.dtype, x.shape) == (y.dtype, y.shape), k
            np.testing.assert_allclose(y, x, rtol=1e-12, atol=1e-15, err_msg=k)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from([0.0, -0.0, 1.0, 2.5, 2.5, 1e308, np.inf, 0.1, 0.3]),
                min_size=0, max_size=12), st.randoms())
def test_python_sort_by_demand_equals_the_numpy_sort(demands: list[float], rnd: Any) -> None:
    # ties (equal demands, 0.0 / -0.0) keep the guests' order in both sorts
    r = np.array(demands)
    vms = list(range(len(demands)))
    rnd.shuffle(vms)
    assert _sorted_by_demand(vms, r, r.tolist()) == _sorted_by_demand(vms, r)


def _plain_sequence(placer: PowerAwareBestFit, w: _Work, vms: list[int], pool: CandidatePool,
                    stop_on_fail: bool) -> list[tuple[int, int]]:
    """The planner's placement sequence written with the plain search (the reference)."""
    out: list[tuple[int, int]] = []
    for v in vms:
        t = placer.find_host_in(w, v, pool)
        if t < 0:
            if stop_on_fail:
                out.append((v, -1))
                return out
            continue
        w.add(v, t)
        out.append((v, t))
    return out


@settings(max_examples=300, deadline=None)
@given(cases(), st.data())
def test_compiled_sequences_equal_the_plain_placements(
        case: tuple[ClusterSnapshot, tuple[str, float], list[tuple[str, int]]],
        data: st.DataObject) -> None:
    # as the planner's steps (3) and (4): sequences of guests, some as trials that are undone
    # when a guest fits nowhere, with sources excluded between them
    snap = case[0]
    n_h, n_v = snap.host_total_mips.shape[0], snap.vm_requested_mips.shape[0]
    placer, plain, fused, pp, pf = _twins(case, data, compiled=True)
    for _ in range(data.draw(st.integers(1, 6))):
        vms = data.draw(st.lists(st.integers(0, n_v - 1), max_size=8))
        stop = data.draw(st.booleans())
        if data.draw(st.booleans()):
            h = data.draw(st.integers(0, n_h - 1))
            pp.exclude(h)
            pf.exclude(h)
        jp, jf = plain.save_all(), fused.save_all()
        a = _plain_sequence(placer, plain, vms, pp, stop)
        b = placer.place_sequence(fused, vms, pf, stop)
        assert a == b
        _same(plain, fused, pp, pf)
        if a and a[-1][1] < 0:
            plain.restore_all(jp)
            fused.restore_all(jf)
        else:
            plain.end_trial()
            fused.end_trial()
        _same(plain, fused, pp, pf)

"""The planner's compiled step start decides step (1) as the detector does, and the run's
hardware values it reuses are those of the hardware it is given.

``_detect(..., compiled=True)`` (working state and the overload screen in one compiled pass,
LR's exact test near its boundary) against the detector's vectorized decisions on the numpy
working state, on random snapshots and on LR rows exactly on the boundary; a working state built
after the hardware arrays changed in place carries the new values (the per-run cache is checked
bit for bit, not by identity).
"""

from __future__ import annotations

from typing import Any

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from dcsim.policies.consolidation import ClusterSnapshot, _detect
from dcsim.policies.overload import HostLoad, StaticThreshold, make_detector
from dcsim.policies.pabfd import CandidatePool, PowerAwareBestFit, _Work, host_classes
from tests.property.test_pabfd_candidates import G4, G5, cases

DETECTORS = [("thr", 0.8), ("lr", 1.2), ("lr", 2.0), ("lrr", 1.2), ("iqr", 1.5), ("mad", 2.5)]


def _plain(snap: ClusterSnapshot, det: Any) -> np.ndarray:
    w = _Work(snap, need_hist=PowerAwareBestFit(det).depth != 0, detector=det)
    return np.asarray(det.overloaded(w.load_all()), dtype=bool)


@settings(max_examples=300, deadline=None)
@given(cases(), st.sampled_from(DETECTORS), st.data())
def test_compiled_step_one_decides_as_the_detector(case: Any, spec: tuple[str, float],
                                                    data: st.DataObject) -> None:
    snap = case[0]
    n_v = snap.vm_requested_mips.shape[0]
    # histories long enough for LR / the spread detectors, demands on a fine grid
    snap.vm_history_len = np.full(n_v, data.draw(st.sampled_from([0, 9, 10, 12])),
                                  dtype=np.int64)
    snap.vm_requested_mips = np.array(data.draw(st.lists(
        st.floats(0.0, 2500.0, allow_nan=False), min_size=n_v, max_size=n_v)))
    # histories that end early (host rows shorter than LR's 10 points: its 0.7 fallback)
    snap.vm_history = snap.vm_history.copy()
    snap.vm_history[:, data.draw(st.sampled_from([12, 9, 5, 0])):] = 0.0
    det = make_detector(*spec)
    over = _detect(snap, det, compiled=True)[2]
    np.testing.assert_array_equal(over, _plain(snap, det))
    assert over.dtype == bool


def _boundary_snapshot(n_h: int) -> ClusterSnapshot:
    """Hosts whose LR prediction at safety 2.0 is 1.0 exactly (a flat history of 0.5: one guest
    of the host's capacity, so its history terms are its utilisations), or just off it."""
    T = np.array([3720.0, 5320.0] * n_h)[:n_h]
    lvl = np.array([0.5, 0.25, 0.5 + 2e-16, 0.75, 0.5 - 1e-16][:n_h] + [0.5] * max(0, n_h - 5))
    vh = np.repeat(lvl[:, None], 12, axis=1)
    return ClusterSnapshot(
        host_total_mips=T, host_pe_mips=T / 2,
        host_power_table=np.array([G4 if t == 3720.0 else G5 for t in T]),
        host_util=np.full(n_h, 0.5), host_alloc_mips=T * 0.5, host_avail_mips=T * 0.5,
        host_vms=[[h] for h in range(n_h)], vm_requested_mips=T * lvl, vm_mips=T.copy(),
        vm_ram_mb=np.full(n_h, 1740.0), vm_history=vh,
        vm_history_len=np.full(n_h, 12, dtype=np.int64), vm_in_migration=np.zeros(n_h, bool))


def test_rows_on_the_boundary_are_decided_exactly() -> None:
    snap = _boundary_snapshot(7)
    det = make_detector("lr", 2.0)
    _, w, over = _detect(snap, det, compiled=True)
    assert w.over0 is not None  # the compiled screen decided (LR, finite migration times)
    plain = _plain(snap, det)
    np.testing.assert_array_equal(over, plain)
    assert plain[[0, 1, 3]].tolist() == [True, False, True]  # pred 1.0 >= 1: overloaded
    # the static threshold at and just above 0.8, and LR's 0.7 fallback (short histories)
    snap.vm_requested_mips = snap.host_total_mips * np.array(
        [0.8, 0.8 + 1e-15, 0.805, 0.7, 0.7 + 1e-15, 0.75, 0.5])
    for spec in (("thr", 0.8), ("lr", 2.0)):
        if spec[0] == "lr":
            snap.vm_history[:, 8:] = 0.0
        det = make_detector(*spec)
        _, w, over = _detect(snap, det, compiled=True)
        assert w.over0 is not None
        plain = _plain(snap, det)
        np.testing.assert_array_equal(over, plain)
        assert plain.tolist() == ([False, True, True, False, False, False, False]
                                  if spec[0] == "thr" else
                                  [True, True, True, False, True, True, False])


def test_hardware_values_follow_in_place_changes() -> None:
    snap = _boundary_snapshot(4)
    det = make_detector("lr", 1.2)
    a = _Work(snap, need_hist=True, detector=det, compiled=True)
    snap.host_power_table[1, :] = np.array(G4)  # same array objects, new values
    snap.host_total_mips[2] = 5320.0
    b = _Work(snap, need_hist=True, detector=det, compiled=True)
    c = _Work(snap, need_hist=True, detector=det, compiled=False)
    for k in ("ptab", "tflat", "T", "hc", "ttype", "poff", "stale_power", "ctab", "hist"):
        assert getattr(b, k).tobytes() == getattr(c, k).tobytes(), k
    assert a.ptab.tobytes() != b.ptab.tobytes()


@settings(max_examples=300, deadline=None)
@given(cases(), st.data())
def test_compiled_pool_holds_the_numpy_pool_arrays(case: Any, data: st.DataObject) -> None:
    snap = case[0]
    n_h = snap.host_total_mips.shape[0]
    # free MIPS and stale utilisations that split or merge classes (ties, -0.0, NaN)
    snap.host_avail_mips = np.array(data.draw(st.lists(st.sampled_from(
        [0.0, -0.0, 100.0, 3720.0, 5320.0, float("nan")]), min_size=n_h, max_size=n_h)))
    snap.host_util = np.array(data.draw(st.lists(st.sampled_from([0.0, -0.0, 0.3, 1.0]),
                                                 min_size=n_h, max_size=n_h)))
    allowed = np.asarray(data.draw(st.lists(st.booleans(), min_size=n_h, max_size=n_h)))
    # class ids as given by a caller: any integers (beyond the hosts' range: no counting sort)
    hc = host_classes(snap.host_total_mips, snap.host_pe_mips, snap.host_power_table)
    snap.host_class = hc * data.draw(st.sampled_from([1, -1, 1000]))
    w = _Work(snap, need_hist=False, compiled=True)
    a = CandidatePool(w, allowed)
    b = CandidatePool(w, allowed, compiled=True)
    n = int(a.pa[0])
    for k in ("pa", "cls_of", "pos", "pi", "pf", "allowed", "members_flat", "cstart", "cursor",
              "avail_c", "pe_c", "_allowed_i"):
        x, y = getattr(a, k), getattr(b, k)
        assert (x.dtype, x.shape) == (y.dtype, y.shape), k
        assert x.tobytes() == y.tobytes(), k
    assert a.pc[:5, :n].tobytes() == b.pc[:5, :n].tobytes()


def test_live_working_states_never_share_buffers() -> None:
    # the run's hardware keeps the history tables of a finished step for the next one; a
    # working state still referred to keeps its own
    snap = _boundary_snapshot(5)
    det = make_detector("lr", 1.2)
    a = _Work(snap, need_hist=True, detector=det, compiled=True)
    ctab, hist = a.ctab.copy(), a.hist.copy()
    other = _boundary_snapshot(5)
    other.vm_history = other.vm_history * 0.5
    b = _Work(other, need_hist=True, detector=det, compiled=True)
    assert a.ctab is not b.ctab
    assert a.hist is not b.hist
    assert a.ctab.tobytes() == ctab.tobytes()
    assert a.hist.tobytes() == hist.tobytes()
    reused = id(b.ctab)
    del b
    c = _Work(snap, need_hist=True, detector=det, compiled=True)
    assert id(c.ctab) == reused  # (no one held it)
    assert c.ctab.tobytes() == ctab.tobytes()
    assert c.hist.tobytes() == hist.tobytes()


class _Eager(StaticThreshold):
    """A threshold detector that finds every host with guests overloaded (its own rule)."""

    def overloaded(self, load: HostLoad) -> np.ndarray:
        return np.asarray(load.util > 0.0)


def test_a_subclass_with_its_own_rule_is_asked() -> None:
    snap = _boundary_snapshot(5)
    det = _Eager.from_parameter(0.8)
    _, w, over = _detect(snap, det, compiled=True)
    assert w.over0 is None  # not screened in the compiled pass
    assert over.tolist() == [True] * 5

"""A state-history recorder built with ``compiled=True`` (CloudSim mode's: guest entries through
``dcsim.kernels.vmrecord``) ends in exactly the state of the numpy one fed the same entries:
every array and accumulated sum byte for byte, the same summary."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from dcsim.metrics.consolidation import StateHistoryRecorder

_STATE = ("_v_has", "_v_t", "_v_alloc", "_v_req", "_v_mig", "_v_prev_mig", "_v_mig_start")
_SUMS = ("_req_s", "_alloc_s", "_under_mig_s", "_viol_frac_sum", "_viol_count")


def _same(a: StateHistoryRecorder, b: StateHistoryRecorder) -> None:
    for name in _STATE:
        assert getattr(a, name).tobytes() == getattr(b, name).tobytes(), name
    for name in _SUMS:
        assert repr(getattr(a, name)) == repr(getattr(b, name)), name
    assert len(a._mig_times) == len(b._mig_times)
    for x, y in zip(a._mig_times, b._mig_times, strict=True):
        assert x.tobytes() == y.tobytes()


@settings(max_examples=200, deadline=None)
@given(st.data())
def test_compiled_guest_entries_equal_numpy(data: st.DataObject) -> None:
    n = data.draw(st.integers(1, 12))
    a, b = StateHistoryRecorder(2, n), StateHistoryRecorder(2, n, compiled=True)
    t = 0.0
    for _ in range(data.draw(st.integers(1, 8))):
        # the same instant again (entries replaced) or later ones, odd gaps
        t += data.draw(st.sampled_from([0.0, 300.0, 1.0 / 3.0, 7.7]))
        ids = np.asarray(data.draw(st.permutations(range(n)))[:data.draw(st.integers(0, n))],
                         dtype=np.intp)
        k = ids.shape[0]
        # requests and allocations with ties, alloc < req and odd values (sums whose rounding
        # depends on their order)
        vals = st.sampled_from([0.0, 1.0, 250.5, 1000.0 / 3.0, 2500.0])
        req = np.asarray(data.draw(st.lists(vals, min_size=k, max_size=k)), dtype=np.float64)
        alloc = np.asarray(data.draw(st.lists(vals, min_size=k, max_size=k)),
                           dtype=np.float64)
        mig = np.asarray(data.draw(st.lists(st.booleans(), min_size=k, max_size=k)),
                         dtype=np.bool_)
        a.vm_entries(t, ids, alloc, req, mig)
        b.vm_entries(t, ids, alloc, req, mig)
        _same(a, b)
    sa, sb = a.summary(), b.summary()
    for field in ("pdm", "overall_sla_violation", "average_sla_violation",
                  "time_before_migration_mean_s", "time_before_migration_sd_s"):
        assert repr(getattr(sa, field)) == repr(getattr(sb, field)), field
    assert sa.migration_times_s.tobytes() == sb.migration_times_s.tobytes()


def test_entries_of_many_guests_sum_in_numpy_s_order() -> None:
    # 1,000 guests: numpy's pairwise sums (blocks of 8, then halves) differ from a running sum
    # in the last bits, so the compiled pass must hand numpy the same arrays to sum
    rng = np.random.default_rng(3)
    n = 1000
    a, b = StateHistoryRecorder(2, n), StateHistoryRecorder(2, n, compiled=True)
    ids = rng.permutation(n).astype(np.intp)
    for t in (0.0, 300.0, 600.0):
        req, alloc = rng.uniform(0, 2500, n), rng.uniform(0, 2500, n)
        mig = rng.random(n) < 0.3
        a.vm_entries(t, ids, alloc, req, mig)
        b.vm_entries(t, ids, alloc, req, mig)
    _same(a, b)

"""Trace replay: CloudSim-style linear interpolation, worked out by hand."""

from __future__ import annotations

import numpy as np
import pytest

from dcsim.config.workloads import TraceWorkload
from dcsim.errors import ConfigError
from dcsim.rng import RandomStreams
from dcsim.workload.models import TraceReplay, build_workload, has_memory
from dcsim.workload.traces import TraceData, load_trace


def _trace(mem: bool = False) -> TraceData:
    util = np.array([[0.1, 0.3, 0.5], [1.0, 0.0, 0.2]], dtype=np.float32)
    return TraceData(
        name="hand", util=util, interval_s=300.0, guest_names=["a", "b"],
        mem_util=np.array([[0.5, 0.5, 0.7], [0.2, 0.4, 0.6]], dtype=np.float32) if mem else None,
    )


@pytest.mark.parametrize(
    ("t", "expected"),
    [
        (0.0, [0.1, 1.0]),
        (150.0, [0.2, 0.5]),      # halfway between samples 0 and 1
        (300.0, [0.3, 0.0]),      # on a sample: the sample itself
        (375.0, [0.35, 0.05]),    # a quarter of the way from sample 1 to 2
        (600.0, [0.5, 0.2]),      # the last sample
        (7200.0, [0.5, 0.2]),     # past the end: the last sample holds
    ],
)
def test_linear_interpolation_and_hold(t: float, expected: list[float]) -> None:
    m = TraceReplay(_trace(), np.array([0, 1]))
    assert m.values(t) == pytest.approx(expected, abs=1e-12)


def test_loop_wraps_from_last_sample_to_first() -> None:
    m = TraceReplay(_trace(), np.array([0, 1]), loop=True)
    # t = 750 s: halfway from sample 2 (0.5, 0.2) to sample 0 of the next lap (0.1, 1.0)
    assert m.values(750.0) == pytest.approx([0.3, 0.6])
    assert m.values(900.0 + 150.0) == pytest.approx([0.2, 0.5])


def test_offset_and_repeated_rows() -> None:
    m = TraceReplay(_trace(), np.array([1, 0, 1]), offset_s=300.0)
    assert m.values(0.0) == pytest.approx([0.0, 0.3, 0.0])
    assert m.values(150.0) == pytest.approx([0.1, 0.4, 0.1])
    assert m.n == 3
    assert m.guest_names == ["b", "a", "b"]


def test_memory_series_and_column_choice() -> None:
    m = TraceReplay(_trace(mem=True), np.array([0, 1]))
    assert has_memory(m)
    assert m.mem_values(150.0) == pytest.approx([0.5, 0.3])
    mm = TraceReplay(_trace(mem=True), np.array([0, 1]), column="memory")
    assert mm.values(450.0) == pytest.approx([0.6, 0.5])
    with pytest.raises(ConfigError, match="no memory"):
        TraceReplay(_trace(), np.array([0]), column="memory")
    assert not has_memory(TraceReplay(_trace(), np.array([0])))


def test_planetlab_values_equal_cloudsim_doubles() -> None:
    """CloudSim reads an integer percent p as p / 100.0 and interpolates as
    u0 + (u1 - u0) / 300 * (t - i0 * 300); the replay reproduces those doubles exactly."""
    trace = load_trace("planetlab", "20110303")
    m = TraceReplay(trace, np.arange(trace.n_guests))
    pct = np.rint(trace.util.astype(np.float64) * 100)
    assert np.array_equal(m.values(600.0), pct[:, 2] / 100.0)
    u0, u1 = pct[:, 3] / 100.0, pct[:, 4] / 100.0
    assert np.array_equal(m.values(1000.0), u0 + (u1 - u0) / 300.0 * (1000.0 - 900.0))


def test_build_from_spec_with_selection() -> None:
    streams = RandomStreams(7)
    spec = TraceWorkload(name="planetlab", day="20110306", selection={"sample": 50})
    a = build_workload(spec, 50, streams, "workload.pl", 300.0)
    b = build_workload(spec, 50, RandomStreams(7), "workload.pl", 300.0)
    assert isinstance(a, TraceReplay)
    assert isinstance(b, TraceReplay)
    assert a.guest_names == b.guest_names
    names = load_trace("planetlab", "20110306").guest_names
    assert a.guest_names == sorted(a.guest_names, key=names.index)  # kept in trace order
    first = build_workload(TraceWorkload(day="20110306", selection={"first": 3}), 3, streams,
                           "w", 300.0)
    assert isinstance(first, TraceReplay)
    assert first.guest_names == names[:3]


def test_more_guests_than_series() -> None:
    spec = TraceWorkload(name="google", day="2")
    with pytest.raises(ConfigError, match="repeat"):
        build_workload(spec, 1000, RandomStreams(0), "w", 300.0)
    m = build_workload(spec.model_copy(update={"repeat": True}), 1000, RandomStreams(0), "w",
                       300.0)
    assert isinstance(m, TraceReplay)
    assert m.values(0.0).shape == (1000,)
    assert m.guest_names[148] == m.guest_names[0]

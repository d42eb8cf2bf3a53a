"""Pure migration planners: expected values worked out by hand and the geometric closed form."""

from __future__ import annotations

import math

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from dcsim.config.migration import MigrationSpec
from dcsim.model.migration import (
    CheckpointPlanner,
    CloudsimPlanner,
    ColdPlanner,
    PostcopyPlanner,
    PrecopyPlanner,
    cloudsim_migration_time,
    dirty_rate_function,
    effective_dirty_rate,
    make_planner,
    precopy_closed_form,
    simulate,
    simulate_on_link,
)

MB = 1e6
# A precopy spec without early bounds: only the downtime test stops it.
FREE = MigrationSpec(
    max_downtime=0.3, max_rounds=0, max_traffic_factor=1e9, working_set=1.0, resume_time=0.0
)


def test_precopy_by_hand() -> None:
    # M = 1000 MB, b = 800 Mbit/s = 100 MB/s, d = 50 MB/s (rho = 1/2), threshold b*0.3 s = 30 MB.
    # Remainders after rounds 0..5: 500, 250, 125, 62.5, 31.25 (> 30, go on), 15.625 (<= 30, stop).
    res = simulate_on_link(
        PrecopyPlanner(1000 * MB, 50 * MB, FREE.model_copy(update={"resume_time": 0.01})), 800e6
    )
    sizes = [r.bytes / MB for r in res.per_round]
    assert sizes == [1000, 500, 250, 125, 62.5, 31.25, 15.625]
    assert [r.phase for r in res.per_round] == ["live"] * 6 + ["stop"]
    assert res.rounds == 7  # 6 live rounds + stop-and-copy
    assert res.bytes_sent == pytest.approx(1984.375 * MB)
    assert res.total_time_s == pytest.approx(19.84375 + 0.01)
    assert res.downtime_s == pytest.approx(0.15625 + 0.01)
    assert res.switch_s == pytest.approx(res.total_time_s)
    assert res.degraded_s == pytest.approx(19.6875)
    assert res.stop_reason == "converged"
    cf = precopy_closed_form(1000 * MB, 50 * MB, 800e6, 0.3, resume_s=0.01)
    assert cf.live_rounds == 6
    assert cf.bytes_sent == pytest.approx(res.bytes_sent)
    assert cf.total_time_s == pytest.approx(res.total_time_s)
    assert cf.downtime_s == pytest.approx(res.downtime_s)


def test_idle_guest_needs_one_round_and_an_empty_stop_copy() -> None:
    res = simulate_on_link(PrecopyPlanner(4 * 2**30, 0.0, MigrationSpec()), 10e9)
    assert res.rounds == 2
    assert res.bytes_sent == 4 * 2**30
    assert res.downtime_s == pytest.approx(0.009)  # resume only
    assert res.total_time_s == pytest.approx(4 * 2**30 * 8 / 10e9 + 0.009)


@settings(max_examples=200, deadline=None)
@given(
    ram=st.floats(64 * MB, 64e9),
    rho=st.floats(0.0, 0.95),
    bw=st.floats(1e8, 1e11),
    downtime=st.floats(0.001, 2.0),
    resume=st.floats(0.0, 0.1),
)
def test_precopy_matches_geometric_closed_form(
    ram: float, rho: float, bw: float, downtime: float, resume: float
) -> None:
    d = rho * bw / 8
    if rho > 0 and ram * rho > bw / 8 * downtime:
        # Stay away from the knife edge where rounding decides one round more or less.
        x = math.log(bw / 8 * downtime / ram) / math.log(rho)
        assume(abs(x - round(x)) > 1e-6)
    spec = FREE.model_copy(update={"max_downtime": downtime, "resume_time": resume})
    res = simulate_on_link(PrecopyPlanner(ram, d, spec), bw)
    cf = precopy_closed_form(ram, d, bw, downtime, resume_s=resume)
    assert res.rounds == cf.live_rounds + 1
    assert res.bytes_sent == pytest.approx(cf.bytes_sent, rel=1e-9)
    assert res.total_time_s == pytest.approx(cf.total_time_s, rel=1e-9)
    assert res.downtime_s == pytest.approx(cf.downtime_s, rel=1e-9, abs=1e-12)


def test_closed_form_honours_max_rounds() -> None:
    cf = precopy_closed_form(1000 * MB, 50 * MB, 800e6, 0.3, max_rounds=3)
    assert cf.live_rounds == 3
    spec = FREE.model_copy(update={"max_rounds": 3})
    res = simulate_on_link(PrecopyPlanner(1000 * MB, 50 * MB, spec), 800e6)
    assert res.stop_reason == "max_rounds"
    assert [r.bytes / MB for r in res.per_round] == [1000, 500, 250, 125]
    assert res.downtime_s == pytest.approx(cf.downtime_s) == pytest.approx(1.25)


def test_closed_form_refuses_dirty_rate_at_or_above_bandwidth() -> None:
    with pytest.raises(ValueError, match="dirty rate"):
        precopy_closed_form(1e9, 100 * MB, 800e6, 0.3)


def test_dirty_rate_above_bandwidth_stops_at_round_limit() -> None:
    # d = 200 MB/s > b = 100 MB/s: every round re-sends the whole (capped) working set of 1 GB.
    spec = MigrationSpec(max_rounds=5, max_traffic_factor=None, working_set=1.0, resume_time=0.0)
    res = simulate_on_link(PrecopyPlanner(1000 * MB, 200 * MB, spec), 800e6)
    assert res.stop_reason == "max_rounds"
    assert res.rounds == 6
    assert res.bytes_sent == pytest.approx(6000 * MB)
    assert res.downtime_s == pytest.approx(10.0)
    assert res.total_time_s == pytest.approx(60.0)


def test_dirty_rate_above_bandwidth_stops_at_traffic_limit() -> None:
    # Sent after live rounds: 1, 2, 3 (not > 3 x RAM), 4 GB (> 3 GB): stop-and-copy 1 GB more.
    spec = MigrationSpec(max_rounds=30, max_traffic_factor=3.0, working_set=1.0, resume_time=0.0)
    res = simulate_on_link(PrecopyPlanner(1000 * MB, 200 * MB, spec), 800e6)
    assert res.stop_reason == "max_traffic"
    assert res.rounds == 5
    assert res.bytes_sent == pytest.approx(5000 * MB)
    assert res.downtime_s == pytest.approx(10.0)


def test_working_set_caps_each_round() -> None:
    # WSS = 25 % of 1000 MB: after the full copy every round sends 250 MB (2.5 s), never < 30 MB.
    spec = MigrationSpec(max_rounds=4, max_traffic_factor=None, working_set=0.25, resume_time=0.0)
    res = simulate_on_link(PrecopyPlanner(1000 * MB, 200 * MB, spec), 800e6)
    assert [r.bytes / MB for r in res.per_round] == [1000, 250, 250, 250, 250]
    assert res.downtime_s == pytest.approx(2.5)


def test_stop_test_uses_the_rate_just_observed() -> None:
    # Round 0 at 100 MB/s, later rounds at 10 MB/s: after round 0 the 1 MB remainder fits in
    # 0.3 s at 100 MB/s (threshold 30 MB) -> converged, sent at the slow rate in 0.1 s.
    rates = [800e6, 80e6]

    def rate(step: object, records: object) -> float:
        return rates[0] if step.index == 0 else rates[1]  # type: ignore[attr-defined]

    spec = FREE.model_copy(update={"max_downtime": 0.3})
    res = simulate(PrecopyPlanner(1000 * MB, 0.1 * MB, spec), rate)
    assert res.rounds == 2
    assert res.downtime_s == pytest.approx(1.0 * MB / (10 * MB))


def test_bandwidth_cap_and_latency() -> None:
    spec = MigrationSpec(bandwidth_cap="400Mbps", resume_time=0.0)
    res = simulate_on_link(PrecopyPlanner(1000 * MB, 0.0, spec), 10e9, latency_s=0.001)
    # full copy at the cap + latency, then an empty stop-and-copy that still costs one latency
    assert res.total_time_s == pytest.approx(20.0 + 0.002)
    assert res.downtime_s == pytest.approx(0.001)


def test_postcopy_by_hand() -> None:
    spec = MigrationSpec(model="postcopy", resume_time=0.02)
    res = simulate_on_link(PostcopyPlanner(2000 * MB, spec), 1e9)  # 125 MB/s
    assert res.downtime_s == pytest.approx(0.02)
    assert res.switch_s == pytest.approx(0.02)
    assert res.total_time_s == pytest.approx(16.02)
    assert res.degraded_s == pytest.approx(16.0)
    assert res.bytes_sent == 2000 * MB
    assert res.rounds == 1
    assert [r.phase for r in res.per_round] == ["stop", "post"]


def test_cold_by_hand() -> None:
    spec = MigrationSpec(model="cold", resume_time=10.0)  # a boot
    res = simulate_on_link(ColdPlanner(2000 * MB, spec, disk_bytes=8000 * MB), 1e9)
    assert res.total_time_s == pytest.approx(80.0 + 10.0)
    assert res.downtime_s == pytest.approx(res.total_time_s)
    assert res.bytes_sent == 10_000 * MB
    assert res.rounds == 1
    assert res.degraded_s == 0.0


def test_checkpoint_by_hand() -> None:
    spec = MigrationSpec(model="checkpoint", checkpoint_rate="500MB/s", resume_time=0.3)
    res = simulate_on_link(CheckpointPlanner(1000 * MB, spec), 1e9)
    # dump 2 s + transfer 8 s + restore 2 s + resume 0.3 s, all of it downtime
    assert res.total_time_s == pytest.approx(12.3)
    assert res.downtime_s == pytest.approx(12.3)
    assert res.rounds == 1
    streamed = simulate_on_link(
        CheckpointPlanner(1000 * MB, MigrationSpec(model="checkpoint", resume_time=0.3)), 1e9
    )
    assert streamed.downtime_s == pytest.approx(8.3)


def test_cloudsim_reference_values() -> None:
    # CloudSim: "around 16 seconds for 1024 MB using 1 Gbit/s"; VM types 870/1740/613 MB.
    assert cloudsim_migration_time(1024 * MB, 1e9) == pytest.approx(16.384)
    assert cloudsim_migration_time(870 * MB, 1e9) == pytest.approx(13.92)
    assert cloudsim_migration_time(1740 * MB, 1e9) == pytest.approx(27.84)
    assert cloudsim_migration_time(613 * MB, 1e9) == pytest.approx(9.808)
    res = simulate_on_link(CloudsimPlanner(1024 * MB, 1e9, MigrationSpec(model="cloudsim")), 1e6)
    assert res.total_time_s == pytest.approx(16.384)  # the link rate plays no part
    assert res.downtime_s == 0.0
    assert res.bytes_sent == 0.0
    assert res.rounds == 0


def test_make_planner_dispatches_on_model() -> None:
    for name, cls in [
        ("precopy", PrecopyPlanner),
        ("postcopy", PostcopyPlanner),
        ("cold", ColdPlanner),
        ("checkpoint", CheckpointPlanner),
        ("cloudsim", CloudsimPlanner),
    ]:
        planner = make_planner(MigrationSpec(model=name), 1e9, host_bandwidth_bps=1e9)
        assert isinstance(planner, cls)
    with pytest.raises(ValueError, match="host_bandwidth_bps"):
        make_planner(MigrationSpec(model="cloudsim"), 1e9)


def test_planner_protocol_misuse_is_refused() -> None:
    planner = PrecopyPlanner(1e9, 0.0, MigrationSpec())
    with pytest.raises(RuntimeError):
        planner.observe(1.0)
    planner.next_round()
    with pytest.raises(RuntimeError):
        planner.next_round()
    with pytest.raises(ValueError, match="duration_s"):
        planner.observe(-1.0)


def test_dirty_rate_scales_with_cpu_activity() -> None:
    spec = MigrationSpec(dirty_rate="100MB/s")
    assert effective_dirty_rate(spec, 0.5) == pytest.approx(50 * MB)
    assert effective_dirty_rate(spec, 0.0) == 0.0
    assert effective_dirty_rate(spec, 2.0) == pytest.approx(100 * MB)
    flat = spec.model_copy(update={"dirty_scales_with_cpu": False})
    assert effective_dirty_rate(flat, 0.0) == pytest.approx(100 * MB)
    fn = dirty_rate_function(spec, lambda t: 0.25 if t < 10 else 1.0)
    assert fn(0.0) == pytest.approx(25 * MB)
    assert fn(10.0) == pytest.approx(100 * MB)

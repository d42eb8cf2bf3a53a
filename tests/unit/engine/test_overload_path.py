"""The default engine's overload path (``dcsim.engine.consolidation``), worked out by hand.

One scheduling interval (t = 0) of a 4-host cluster with underload consolidation off, so every
move comes from an overloaded host. Each test asserts exactly which guest the engine asks
``Simulation.migrate`` to move to which host.

Cluster (all hosts alike): 2 cores x 1000 MIPS = 2000 MIPS, 8 GiB, CPU overcommit 2, no
virtualization overhead, the HP ML110 G4 SPECpower table
``P = [86, 89.4, 92.6, 96, 99.5, 102, 106, 108, 112, 114, 117]`` W at 0 %, 10 %, ... 100 %
(linear in between). Guests have 1 vCPU x 1000 MIPS, so a guest at utilisation u adds u / 2 to
its host. Placement is fixed by the test (host 0: g0 1.5 GiB, g1 1 GiB, g2 2 GiB; host 1: g3
at 0.4; host 2: g4 at 0.8 and g5 at 0.4; host 3: g6 at 0.2), i.e. hosts 1-3 at 0.2, 0.6, 0.1.
Power values used below: P(.1) = 89.4, P(.2) = 92.6, P(.3) = 96, P(.4) = 99.5,
P(.45) = 100.75, P(.5) = 102, P(.55) = 104, P(.6) = 106, P(.8) = 112, P(.9) = 114,
P(.95) = 115.5.

History-based cases fill the detector's history as if the run had been going for an hour (the
guests' raw MIPS; a host's history is the sum of its guests' / 2000), then the t = 0 sample is
pushed on top by the engine itself.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

import dcsim
from dcsim.engine.simulation import Simulation
from dcsim.rng import RandomStreams

G4 = [86.0, 89.4, 92.6, 96.0, 99.5, 102.0, 106.0, 108.0, 112.0, 114.0, 117.0]
HOST_OF = [0, 0, 0, 1, 2, 2, 3]
RAM_GIB = [1.5, 1, 2, 1, 1, 1, 1]
OTHERS = [0.4, 0.8, 0.4, 0.2]  # g3..g6


class _Fixed:
    """Placement double: guest g goes to ``hosts[g]`` (the engine still checks capacity)."""

    def __init__(self, hosts: list[int]) -> None:
        self.hosts = np.asarray(hosts, dtype=np.intp)

    def place(self, view: Any, guests: Any) -> Any:
        for g in guests.tolist():
            view.place(g, int(self.hosts[g]))
        return self.hosts[guests]


class _Held:
    """Workload double: one guest at a fixed utilisation (exact float, no trace quantisation)."""

    def __init__(self, u: float) -> None:
        self.u = np.asarray([u])
        self.n = 1

    def values(self, t_s: float) -> Any:
        return self.u.copy()


def _sim(policy: str, util: list[float], *, seed: int = 1, bandwidth: str = "1Gbps",
         underload: bool = False, hosts_of: list[int] = HOST_OF,
         others: list[float] = OTHERS,
         sleep: bool = False) -> tuple[Simulation, Any, list[tuple[int, int, int]]]:
    cfg = {
        "name": "overload", "seed": seed, "duration": "5m", "interval": "5m",
        "datacenters": [{"hosts": [{
            "count": 4, "cores": 2, "mips_per_core": 1000, "ram": "8GiB", "storage": "100GB",
            "bandwidth": bandwidth, "cpu_overcommit": 2.0, "virtualization": "plain",
            "power": {"kind": "spec", "watts": G4}}]}],
        "virtualization_profiles": {"plain": {"kind": "type1", "live_migration": True}},
        "guests": [{"count": 1, "mips": 1000, "ram": f"{r}GiB", "disk": "1GB", "boot": False,
                    "workload": {"kind": "constant", "utilization": 0.5}} for r in RAM_GIB],
        "placement": {"name": "first_fit"},
        "power_management": {"sleep_idle_hosts": sleep},
        "consolidation": {"policy": policy, "underload": underload},
    }
    sim = Simulation(dcsim.api._scenario(cfg, None), check_invariants=True)
    sim.policy = _Fixed(hosts_of)
    sim.models = [_Held(u) for u in [*util, *others]]
    cons = next(e for e in sim.extensions if type(e).__name__ == "Consolidation")
    asked: list[tuple[int, int, int]] = []
    real = sim.migrate

    def spy(g: int, dst: int, spec: Any) -> Any:
        asked.append((g, int(sim.state.host_of[g]), dst))
        return real(g, dst, spec)

    sim.migrate = spy  # type: ignore[method-assign]
    return sim, cons, asked


def _history(sim: Simulation, cons: Any, older: dict[int, list[float]]) -> None:
    """Fill guests' past utilisation (oldest first, before t = 0) and their hosts' histories.

    Guests missing from ``older`` keep their t = 0 utilisation as their whole past.
    """
    n = len(next(iter(older.values())))
    for g in range(len(HOST_OF)):
        past = older.get(g, [float(sim.models[g].values(0.0)[0])] * n)
        newest_first = np.asarray(past[::-1])
        cons.ghist[g, :n] = newest_first
        cons.graw[g, :n] = newest_first * 1000.0
        cons.glen[g] = n
    for h in range(4):
        members = [g for g, x in enumerate(HOST_OF) if x == h]
        cons.hist[h, :n] = cons.graw[members, :n].sum(axis=0) / 2000.0
        cons.hlen[h] = n


def _run(sim: Simulation, asked: list[tuple[int, int, int]]) -> list[tuple[int, int, int]]:
    r = sim.run()
    assert r.summary["migrations_planned"] == len(asked)
    return asked


# Host 0 at t = 0 in the selection cases: g0 0.4, g1 0.7, g2 0.6 -> (400+700+600)/2000 = 0.85.
SEL_UTIL = [0.4, 0.7, 0.6]


def test_thr_mmt_moves_the_smallest_ram_to_the_least_power_increase() -> None:
    sim, _, asked = _sim("thr-mmt-0.8", SEL_UTIL)
    # host 0: 0.85 > 0.8 -> overloaded; MMT: least RAM = g1 (1 GiB); without it 0.5 <= 0.8.
    # g1 adds 0.35: host 1 0.2->0.55: 104 - 92.6 = 11.4 W; host 2 0.6->0.95 > 0.8: excluded;
    # host 3 0.1->0.45: 100.75 - 89.4 = 11.35 W -> host 3.
    assert _run(sim, asked) == [(1, 0, 3)]
    assert sim.state.host_of.tolist() == [0, 3, 0, 1, 2, 2, 3]  # the move finished (9 s)


def test_thr_mu_moves_the_least_utilised_and_accepts_exactly_the_threshold() -> None:
    sim, _, asked = _sim("thr-mu-0.8", SEL_UTIL)
    # MU: least requested/MIPS = g0 (0.4); without it 0.65 <= 0.8. g0 adds 0.2:
    # host 1 0.2->0.4: 99.5 - 92.6 = 6.9 W; host 2 0.6->0.8 (= threshold, allowed):
    # 112 - 106 = 6 W; host 3 0.1->0.3: 96 - 89.4 = 6.6 W -> host 2.
    assert _run(sim, asked) == [(0, 0, 2)]


def test_thr_rs_draws_from_the_selection_stream() -> None:
    # seed 3: the first draw of stream "consolidation.selection" over 3 candidates is 0 -> g0,
    # which then goes to host 2 exactly as in the MU case.
    assert RandomStreams(3)["consolidation.selection"].integers(3) == 0
    sim, _, asked = _sim("thr-rs-0.8", SEL_UTIL, seed=3)
    assert _run(sim, asked) == [(0, 0, 2)]
    # seed 1 draws 1 -> g1, placed as in the MMT case
    assert RandomStreams(1)["consolidation.selection"].integers(3) == 1
    sim, _, asked = _sim("thr-rs-0.8", SEL_UTIL, seed=1)
    assert _run(sim, asked) == [(1, 0, 3)]


def _r2(y: Any, x: Any) -> float:
    """R^2 of an OLS fit of y on the columns of x with intercept (least squares oracle)."""
    a = np.column_stack([np.ones(len(y)), x])
    beta = np.linalg.lstsq(a, y, rcond=None)[0]
    res = y - a @ beta
    return float(1.0 - res @ res / ((y - y.mean()) @ (y - y.mean())))


def test_thr_mc_moves_the_guest_best_explained_by_the_others() -> None:
    sim, cons, asked = _sim("thr-mc-0.8", SEL_UTIL)
    older = {0: [0.5, 0.9, 0.4, 0.2], 1: [0.8, 0.4, 0.5, 0.5], 2: [0.1, 0.9, 0.5, 0.3]}
    _history(sim, cons, older)
    series = np.asarray([[*older[g], SEL_UTIL[g]] for g in range(3)])
    r2 = [_r2(series[i], np.delete(series, i, axis=0).T) for i in range(3)]
    # R^2 of each guest on the other two: 0.470, 0.470, 0.672 -> g2 (not MMT's g1, MU's g0)
    np.testing.assert_allclose(r2, [0.47012251, 0.46986727, 0.67175901], atol=1e-8)
    # without g2 host 0 is at 0.55; g2 adds 0.3: host 1 0.2->0.5: 102 - 92.6 = 9.4 W;
    # host 2 0.9 > 0.8 excluded; host 3 0.1->0.4: 99.5 - 89.4 = 10.1 W -> host 1.
    assert _run(sim, asked) == [(2, 0, 1)]


@pytest.mark.parametrize(("policy", "older_g0"), [
    # IQR, 12 values: host 0 = (g0 + 700 + 600) / 2000 with g0 = 100 (x3) then 300 (x8),
    # then 0.85 at t = 0: sorted 0.7 x3, 0.8 x8, 0.85; quartiles at indices
    # round(0.25 * 13) - 1 = 2 and round(0.75 * 13) - 1 = 9 -> IQR = 0.8 - 0.7 = 0.1;
    # threshold 1 - 2 x 0.1 = 0.8 < 0.85 -> overloaded (with the multiplier ignored: 0.9, not).
    ("iqr-mmt-2", [0.1] * 3 + [0.3] * 8),
    # MAD, 12 values: g0 = 100 (x4), 300 (x4), 500 (x3) -> host 0.7 x4, 0.8 x4, 0.9 x3, 0.85;
    # median 0.8; deviations 0 x4, 0.05, 0.1 x7 -> MAD 0.1; threshold 1 - 2.5 x 0.1 = 0.75 <
    # 0.85 -> overloaded (with the multiplier ignored: 0.9, not).
    ("mad-mmt-2.5", [0.1] * 4 + [0.3] * 4 + [0.5] * 3),
])
def test_spread_detectors_use_their_safety_multiplier(policy: str, older_g0: list[float]) -> None:
    sim, cons, asked = _sim(policy, SEL_UTIL)
    _history(sim, cons, {0: older_g0})
    # MMT: g1 (flat 0.7 -> 0.35 of host 0). Host 0 without g1: every sample 0.35 lower, so the
    # spread and the threshold stay (IQR 0.1 -> 0.8; MAD 0.1 -> 0.75) and 0.5 is below: stop.
    # Targets with g1's history added stay flat (spread 0, threshold 1): host 1 0.55: 11.4 W;
    # host 2 0.95 <= 1: 115.5 - 106 = 9.5 W; host 3 0.45: 11.35 W -> host 2.
    assert _run(sim, asked) == [(1, 0, 2)]


# LR: host 0 = g0 + g1 + g2 with g0 = 40 x MIPS at sample x = 1..10 (400 at t = 0), g1 flat 700,
# g2 flat 500 -> host 0 = 0.6 + 0.02 x, 0.8 at t = 0, an exact line: OLS b0 = 0.6, b1 = 0.02.
# The prediction looks m = ceil(longest migration / 300 s) intervals ahead of x = 10: the largest
# guest (g2, 2 GiB = 17.18e9 bit) takes 17.2 s at 1 Gbit/s (m = 1) and 859 s at 20 Mbit/s
# (m = 3). Overloaded iff 1.2 x (0.6 + 0.02 (10 + m)) >= 1:
#   m = 1: 1.2 x 0.82 = 0.984 -> no;  m = 3: 1.2 x 0.86 = 1.032 -> yes.
LR_UTIL = [0.4, 0.7, 0.5]
LR_OLDER = {0: [0.04 * x for x in range(1, 10)]}


@pytest.mark.parametrize("policy", ["lr-mmt-1.2", "lrr-mmt-1.2"])
def test_local_regression_looks_one_migration_time_ahead(policy: str) -> None:
    sim, cons, asked = _sim(policy, LR_UTIL, bandwidth="1Gbps")
    _history(sim, cons, LR_OLDER)
    assert _run(sim, asked) == []  # m = 1: not overloaded

    sim, cons, asked = _sim(policy, LR_UTIL, bandwidth="20Mbps")
    _history(sim, cons, LR_OLDER)
    # m = 3: overloaded. MMT: g1 (1 GiB). Host 0 without g1's flat 0.35: 0.25 + 0.02 x, and g2
    # still sets m = 3: 1.2 x (0.25 + 0.26) = 0.612 < 1 -> stop after one guest.
    # Targets (flat histories, so m does not matter): host 1 0.55 -> 1.2 x 0.55 = 0.66: 11.4 W;
    # host 2 0.95 -> 1.14 >= 1: excluded; host 3 0.45 -> 0.54: 11.35 W -> host 3.
    assert _run(sim, asked) == [(1, 0, 3)]
    assert sim.state.mig_dst[1] == 3  # still copying at the end of the 5 min run (about 430 s)


@pytest.mark.parametrize("policy", ["iqr-mmt-1.5", "mad-mmt-2.5", "lr-mmt-1.2", "lrr-mmt-1.2"])
def test_short_history_falls_back_to_0_7(policy: str) -> None:
    # Only the t = 0 sample (1 < 10 or 12 values): static threshold 0.7, strict.
    # Host 0 = (400 + 700 + 300) / 2000 = 0.7 exactly -> not overloaded.
    sim, _, asked = _sim(policy, [0.4, 0.7, 0.3])
    assert _run(sim, asked) == []
    # g2 at 0.31: host 0 = 1410 / 2000 = 0.705 > 0.7. MMT: g1 (0.35); 0.355 left <= 0.7.
    # Targets must stay <= 0.7 (their fallback): host 1 0.55: 11.4 W; host 2 0.95: excluded;
    # host 3 0.45: 11.35 W -> host 3.
    sim, _, asked = _sim(policy, [0.4, 0.7, 0.31])
    assert _run(sim, asked) == [(1, 0, 3)]


def test_underload_evacuates_least_loaded_hosts_onto_the_cheapest_receivers() -> None:
    # With the underload step on and nothing overloaded: host 0 = (400+300+200)/2000 = 0.45,
    # hosts 1-3 at 0.2, 0.6, 0.1. Sources by increasing load: host 3, host 1, host 0, host 2.
    sim, _, asked = _sim("thr-mmt-0.8", [0.4, 0.3, 0.2], underload=True)
    # host 3: g6 adds 0.1: host 0 0.45->0.55: 104 - 100.75 = 3.25 W; host 1 0.2->0.3:
    #   96 - 92.6 = 3.4 W; host 2 0.6->0.7: 108 - 106 = 2 W -> host 2 (0.7 <= 0.8).
    # host 1: g3 adds 0.2: host 0 0.45->0.65: P(.65) = 107, 107 - 100.75 = 6.25 W; host 2
    #   0.7->0.9 > 0.8: excluded; host 3 is a source -> host 0.
    # host 0 and host 2 now receive guests: never evacuated in the same step.
    assert _run(sim, asked) == [(6, 3, 2), (3, 1, 0)]
    assert sim.state.host_of.tolist() == [0, 0, 0, 0, 2, 2, 2]
    assert sim.state.n_guests.tolist() == [4, 0, 3, 0]  # hosts 1 and 3 emptied


@pytest.mark.parametrize(("policy", "g3", "move"), [
    ("thr-mu-0.8", 0.4, (0, 0, 1)), ("thr-mmt-0.8", 1.0, (1, 0, 3))])
def test_an_awake_host_is_preferred_and_a_sleeping_one_woken_only_if_needed(
        policy: str, g3: float, move: tuple[int, int, int]) -> None:
    # Hosts sleep when empty (sleep power 0 W). g6 joins host 2: host 2 = (800+400+200)/2000
    # = 0.7; host 3 holds nothing and sleeps. Host 0 at 0.85.
    # MU moves g0 (adds 0.2), g3 at 0.4: host 1 0.2 -> 0.4: 99.5 - 92.6 = 6.9 W; host 2 0.9 >
    #   0.8: excluded; host 3 from sleep: P(.2) - 0 = 92.6 W (from idle it would be 92.6 - 86 =
    #   6.6 W, cheaper than host 1) -> host 1.
    # MMT moves g1 (adds 0.35), g3 at 1.0: host 1 0.5 -> 0.85 and host 2 -> 1.05 exceed 0.8 ->
    #   host 3 is woken for it.
    sim, _, asked = _sim(policy, SEL_UTIL, hosts_of=[0, 0, 0, 1, 2, 2, 2],
                         others=[g3, 0.8, 0.4, 0.2], sleep=True)
    assert _run(sim, asked) == [move]
    assert bool(sim.state.awake[3]) is (move[2] == 3)


def test_an_empty_hosts_history_ends() -> None:
    # Host 3 holds no guest at t = 0 but kept 9 intervals at 0.9 from guests that left. A host's
    # history is its guests' (as CloudSim builds it), so the engine's push at t = 0 clears it:
    # its next guests start a new one (LR would otherwise extrapolate the old tenants' load).
    # Host 0, which holds guests, gets the t = 0 sample on top of its 9: 10 values.
    sim, cons, asked = _sim("lr-mmt-1.2", LR_UTIL, hosts_of=[0, 0, 0, 1, 2, 2, 2])
    _history(sim, cons, LR_OLDER)
    cons.hist[3, :9] = 0.9
    cons.hlen[3] = 9
    _run(sim, asked)
    assert cons.hlen[3] == 0
    assert not cons.hist[3].any()
    assert cons.hlen[0] == 10

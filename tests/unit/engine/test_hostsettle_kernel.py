"""CloudSim mode's compiled settle (``dcsim.kernels.hostsettle``) leaves exactly the state that
the numpy form of ``hostrates.settle`` leaves: every settle of a CloudSim cut run, and at some
of them states perturbed at random, run both ways from the same state, byte for byte."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from dcsim.api import _scenario
from dcsim.engine import hostrates
from dcsim.engine.simulation import Simulation
from dcsim.kernels import hostsettle
from tests.conftest import cloudsim_cut, same_both_ways

_SIM = ("last_t", "energy_j", "active_s", "busy_mi", "avail_mi", "guest_s", "full_s",
        "ready_s", "demand_mi", "useful_mi", "raw_mi", "mig_loss_mi", "w_last", "wait_mi",
        "unserved_by_cause")
# what the random states change (restored after)
_INPUTS = ("last_t", "power", "util", "ready_at", "demand", "useful", "raw", "speed")


def test_kernel_constant_is_the_engine_s() -> None:
    assert hostsettle.FULL == hostrates._FULL


def _arrays(sim: Simulation) -> dict[str, Any]:
    return {n: getattr(sim, n).copy() for n in _SIM}


def _restore(sim: Simulation, saved: dict[str, Any]) -> None:
    for n, a in saved.items():
        getattr(sim, n)[:] = a


def _both(sim: Simulation, settle: Any, hosts: Any, guests: Any,
          monkeypatch: pytest.MonkeyPatch) -> None:
    same_both_ways(monkeypatch, hostrates, "COMPILED", lambda: _arrays(sim),
                   lambda saved: _restore(sim, saved), lambda: settle(sim, hosts, guests))


def test_compiled_settle_equals_numpy(monkeypatch: pytest.MonkeyPatch) -> None:
    sim = Simulation(_scenario(cloudsim_cut("6h"), None))
    settle = hostrates.settle
    rng = np.random.default_rng(11)
    seen = {"calls": 0, "full": 0, "partial": 0, "trials": 0, "migrating": 0}

    def both(sim: Simulation, hosts: Any, guests: Any) -> None:
        seen["calls"] += 1
        n_h, n_g = sim.state.n_hosts, sim.state.n_guests_total
        seen["full" if hosts.shape[0] == n_h else "partial"] += 1
        seen["migrating"] += bool((sim.speed[guests] < 1.0).any())
        _both(sim, settle, hosts, guests, monkeypatch)
        if seen["calls"] % 25 or not guests.shape[0]:
            return
        st, now = sim.state, float(sim.env.now)
        saved = {n: getattr(sim, n).copy() for n in _INPUTS}
        saved_awake, saved_rule = st.awake.copy(), sim.energy_rule
        for _ in range(8):  # random states at this instant (clocks up to 10 min back)
            sim.last_t[:] = now - rng.uniform(0.0, 600.0, n_h) * (rng.random(n_h) < 0.9)
            sim.ready_at[:] = sim.last_t + rng.uniform(-300.0, 900.0, n_h)
            sim.power[:] = rng.uniform(50.0, 150.0, n_h)
            sim.util[:] = rng.choice([0.0, 0.3, 1.0 - 1e-9, 1.0 - 2e-9, 1.0], n_h)
            st.awake[:] = rng.random(n_h) < 0.8
            for n in ("demand", "useful", "raw"):
                getattr(sim, n)[:] = rng.uniform(0.0, 2500.0, n_g)
            sim.speed[:] = rng.choice([1.0, 0.9, 0.0], n_g, p=[0.6, 0.3, 0.1])
            sim.energy_rule = bool(rng.random() < 0.5)
            if seen["trials"] % 2:  # some of the hosts and their guests
                sub = np.sort(rng.choice(n_h, 20, replace=False))
                assert sim.cs is not None
                _both(sim, settle, sub, sim.cs.members_in_order(st, sub), monkeypatch)
                seen["partial"] += 1
            else:
                _both(sim, settle, hosts, guests, monkeypatch)
            seen["trials"] += 1
        # the run goes on from where it was (nothing above moved a clock past now)
        for n, a in saved.items():
            getattr(sim, n)[:] = a
        st.awake[:], sim.energy_rule = saved_awake, saved_rule

    monkeypatch.setattr(hostrates, "settle", both)
    res = sim.run()
    # not vacuous: full settles (CloudSim mode settles every host), migrating guests, random
    # states of every host or of some
    assert seen["full"] >= 50
    assert seen["partial"] >= 8
    assert seen["migrating"] >= 20
    assert seen["trials"] >= 16
    assert res.summary["migrations"] >= 50

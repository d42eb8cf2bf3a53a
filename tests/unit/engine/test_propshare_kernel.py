"""CloudSim's proportional share in its compiled pass (``assumptions.compiled_share``,
``dcsim.kernels.propshare``) leaves exactly the state that the numpy form of
``hostrates.share`` + ``assumptions.proportional_share`` leaves, call by call.

Every ``share`` of a CloudSim-mode run (a cut of the packaged PlanetLab day: full updates,
partial re-shares after starts, completions and drops, oversubscribed hosts, migrations in
flight) is run twice from the same state: numpy form, then compiled; every array either writes
(guest rates, host utilisation, power, in-flight allocations, the state-history entries) must be
equal byte for byte.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from dcsim.api import _scenario
from dcsim.engine import assumptions, hostrates
from dcsim.engine.simulation import Simulation
from dcsim.kernels import propshare
from dcsim.model import power
from tests.conftest import cloudsim_cut, same_both_ways

_GUEST = ("demand", "useful", "raw", "raw_want")
_HOST = ("util", "power", "awake_seen")
_CS = ("in_alloc", "h_req", "h_alloc")
_REC = ("_v_alloc", "_v_req", "_v_mig", "_v_t", "_v_has", "_h_alloc", "_h_req", "_h_act")


def test_kernel_constants_are_the_engine_s() -> None:
    assert propshare.DESTINATION_SHARE == assumptions.DESTINATION_SHARE
    assert propshare.N_POINTS == power.N_POINTS


def _arrays(sim: Simulation) -> dict[str, Any]:
    cs = sim.cs
    assert cs is not None
    assert cs.recorder is not None
    out = {n: getattr(sim, n).copy() for n in _GUEST + _HOST}
    out.update({n: getattr(cs, n).copy() for n in _CS})
    out.update({n: getattr(cs.recorder, n).copy() for n in _REC})
    out["counts"] = np.array([sim.awake_n, sim.awake_ru, sim.peak_awake_n, sim.peak_awake_ru,
                              cs.recorder._req_s, cs.recorder._alloc_s])
    return out


def _restore(sim: Simulation, saved: dict[str, Any]) -> None:
    cs = sim.cs
    assert cs is not None
    for n in _GUEST + _HOST:
        getattr(sim, n)[:] = saved[n]
    for n in _CS:
        getattr(cs, n)[:] = saved[n]
    sim.awake_n, sim.awake_ru = int(saved["counts"][0]), float(saved["counts"][1])
    sim.peak_awake_n, sim.peak_awake_ru = int(saved["counts"][2]), float(saved["counts"][3])
    # (the state-history recorder is not restored: entries at an already recorded instant
    # replace the earlier ones, so the second call's arrays are its own)


@pytest.mark.parametrize("policy", ["lr-mmt-1.2", "thr-mmt-0.8"])
def test_compiled_share_equals_numpy_call_by_call(policy: str,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    cfg = cloudsim_cut("6h")
    cfg["consolidation"]["policy"] = policy
    sim = Simulation(_scenario(cfg, None))
    share = hostrates.share
    seen = {"full": 0, "partial": 0, "over": 0, "inflight": 0, "recorded": 0}

    def both(sim: Simulation, hosts: Any, guests: Any) -> None:
        one = hostrates._one(sim)
        if not (one.propshare and guests.shape[0]):
            share(sim, hosts, guests)
            return
        same_both_ways(monkeypatch, hostrates, "COMPILED", lambda: _arrays(sim),
                       lambda saved: _restore(sim, saved), lambda: share(sim, hosts, guests))
        cs = sim.cs
        assert cs is not None
        seen["full" if hosts.shape[0] == sim.state.n_hosts else "partial"] += 1
        seen["over"] += bool((cs.h_alloc < cs.h_req).any())
        seen["inflight"] += bool(cs.incoming)
        seen["recorded"] += cs.started

    monkeypatch.setattr(hostrates, "share", both)
    res = sim.run()
    # not vacuous: full updates and partial re-shares, hosts that cannot serve all they are
    # asked, migrations in flight, state-history entries written
    assert seen["full"] >= 50
    assert seen["partial"] >= 50
    assert seen["over"] >= 20
    assert seen["inflight"] >= 20
    assert seen["recorded"] >= 50
    assert res.summary["migrations"] >= 50


def test_compiled_share_equals_numpy_on_random_states(monkeypatch: pytest.MonkeyPatch) -> None:
    """At a few re-shares of a run (full and partial), the state is perturbed at random before
    both forms run: demands up to 3x a vCPU's MIPS (capped per core, hosts oversubscribed),
    migration speeds 0.9 or 0, extra charges, random in-flight migrations (oversubscribed
    destinations), awake and failed flags, cores slower than some guests' vCPUs."""
    cfg = cloudsim_cut("6h")
    sim = Simulation(_scenario(cfg, None))
    share = hostrates.share
    rng = np.random.default_rng(7)
    seen = {"calls": 0, "trials": 0, "partial": 0, "capped": 0, "over_in": 0}

    def both(sim: Simulation, hosts: Any, guests: Any) -> None:
        seen["calls"] += 1
        cs, st = sim.cs, sim.state
        assert cs is not None
        if seen["calls"] % 40 or not (hostrates._one(sim).propshare and guests.shape[0]):
            share(sim, hosts, guests)
            return
        saved = {n: getattr(sim, n).copy() for n in ("u_last", "speed", "extra_raw")}
        saved.update(awake=st.awake.copy(), failed=st.failed.copy(),
                     mpc=st.mips_per_core.copy())
        incoming = dict(cs.incoming)
        n_g, n_h = st.n_guests_total, st.n_hosts
        for _ in range(10):
            sim.u_last[:] = rng.uniform(0.0, 3.0, n_g) * (rng.random(n_g) < 0.9)
            sim.speed[:] = rng.choice([1.0, 0.9, 0.0], n_g, p=[0.7, 0.25, 0.05])
            sim.extra_raw[:] = rng.uniform(0.0, 500.0, n_h) * (rng.random(n_h) < 0.3)
            st.awake[:] = rng.random(n_h) < 0.8
            st.failed[:] = rng.random(n_h) < 0.05
            st.mips_per_core[:] = rng.choice([saved["mpc"][0], 400.0, 1500.0], n_h)
            cs.incoming = dict.fromkeys(zip(rng.integers(0, n_g, 40).tolist(),
                                            rng.integers(0, n_h, 40).tolist(), strict=True))
            cs._inc = None
            same_both_ways(monkeypatch, hostrates, "COMPILED", lambda: _arrays(sim),
                           lambda saved: _restore(sim, saved),
                           lambda: share(sim, hosts, guests))
            seen["trials"] += 1
            seen["partial"] += hosts.shape[0] < n_h
            seen["capped"] += bool((sim.raw_want[guests] < sim.demand[guests]).any())
            _, dst = cs.incoming_arrays()
            seen["over_in"] += bool((cs.in_alloc[dst] != np.floor(cs.in_alloc[dst])).any())
        for n in ("u_last", "speed", "extra_raw"):
            getattr(sim, n)[:] = saved[n]
        st.awake[:], st.failed[:] = saved["awake"], saved["failed"]
        st.mips_per_core[:] = saved["mpc"]
        cs.incoming = incoming
        cs._inc = None
        share(sim, hosts, guests)

    monkeypatch.setattr(hostrates, "share", both)
    sim.run()
    assert seen["trials"] >= 100
    assert seen["partial"] >= 30
    assert seen["capped"] >= 50

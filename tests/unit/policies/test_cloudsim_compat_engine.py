"""The CloudSim-compatible engine on small, hand-checkable workloads."""

from __future__ import annotations

import numpy as np
import pytest

from dcsim.engine.cloudsim import CloudSimEngine, run_cloudsim_planetlab

G5 = [93.7, 97.0, 101.0, 105.0, 110.0, 116.0, 121.0, 125.0, 129.0, 133.0, 135.0]


def _p5(u: float) -> float:
    i = int(u * 10)
    return G5[i] + (G5[i + 1] - G5[i]) / 10 * (u - i / 10) * 100


def test_single_vm_energy_and_instants() -> None:
    # One 2500-MIPS VM at 40 %: DVFS puts it on host 1 (G5; a G4 core is too small).
    util = np.full((1, 288), 0.4)
    res, table = run_cloudsim_planetlab(util, "dvfs", n_hosts=2, intervals=True)
    u = 1000.0 / 5320.0
    # the first interval [0, 300.1] counts 0; then P(u) until 86100.1
    assert res["energy_kwh"] == pytest.approx(_p5(u) * (86100.1 - 300.1) / 3.6e6, rel=1e-12)
    assert res["host_shutdowns"] == 1  # host 0 is never active: "switched off" at 300.1
    assert res["time_before_shutdown_mean_s"] == pytest.approx(300.1)
    t = table["time_s"].to_numpy()
    assert len(t) == 287
    assert t[0] == pytest.approx(300.1)
    assert t[-1] == pytest.approx(86100.1)
    assert res["slatah"] == 0.0
    assert res["migrations"] == 0


def test_vm_dropped_after_two_zero_samples() -> None:
    util = np.full((1, 288), 0.4)
    util[0, 100:102] = 0.0  # u(30000.1) = 0 exactly -> dropped for good
    res, table = run_cloudsim_planetlab(util, "dvfs", n_hosts=2, intervals=True)
    p = _p5(1000.0 / 5320.0)
    # trapezoid to zero on [t99, t100]; before that, intervals from 600.1 to 29700.1
    u_t99 = (0.4 + (0.0 - 0.4) / 300.0 * (29700.1 - 99 * 300.0))
    p99 = _p5(u_t99 * 2500.0 / 5320.0)
    energy = p * (29400.1 - 300.1) + (p + (p99 - p) / 2) * 300.0 + (p99 + (93.7 - p99) / 2) * 300.0
    assert res["energy_kwh"] == pytest.approx(energy / 3.6e6, rel=1e-6)
    assert table["vms"].iloc[-1] == 0
    assert res["host_shutdowns"] == 2


@pytest.mark.parametrize("policy", ["npa", "dvfs", "thr-mmt-0.8", "iqr-mmt-1.5", "mad-mmt-2.5",
                                    "lr-mmt-1.2", "lrr-mmt-1.2", "lr-mc-1.2", "lr-rs-1.2",
                                    "lr-mu-1.2"])
def test_all_policies_run_and_are_deterministic(policy: str) -> None:
    rng = np.random.default_rng(12)
    util = np.clip(rng.normal(0.3, 0.2, (40, 288)), 0, 1).round(2)
    a = run_cloudsim_planetlab(util, policy, n_hosts=30, seed=3)
    b = run_cloudsim_planetlab(util, policy, n_hosts=30, seed=3)
    assert isinstance(a, dict)
    assert isinstance(b, dict)
    for k in ("energy_kwh", "migrations", "slatah", "pdm", "host_shutdowns"):
        assert a[k] == b[k]
    assert 0.0 <= a["slatah"] <= 1.0
    assert 0.0 <= a["pdm"] <= 1.0
    if policy == "npa":
        assert a["migrations"] == 0
        return
    # Every other policy draws less than NPA (all 30 hosts at full power all the time)
    npa = run_cloudsim_planetlab(util, "npa", n_hosts=30)
    assert isinstance(npa, dict)
    assert 0 < a["energy_kwh"] < npa["energy_kwh"]
    if policy == "dvfs":
        assert a["migrations"] == 0
    else:  # and the dynamic ones migrate and switch hosts off
        assert a["migrations"] > 0
        assert a["host_shutdowns"] > 0


def test_rejects_bad_input() -> None:
    with pytest.raises(ValueError, match="fractions"):
        CloudSimEngine(np.full((3, 288), 1.5), "dvfs")
    with pytest.raises(ValueError, match="unknown detector"):
        CloudSimEngine(np.full((3, 288), 0.5), "nope-mmt-1")

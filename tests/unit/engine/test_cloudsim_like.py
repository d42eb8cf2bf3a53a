"""The default engine with ``assumptions: cloudsim-3.0.3`` reproduces the compat engine.

A slice of the PlanetLab experiment (day 20110303: 15 VMs of each CloudSim type, 20 + 20 HP
ML110 G4/G5 hosts, 24 h) run twice: by ``dcsim.engine.cloudsim`` (``compat: cloudsim``) and by the
default engine as ``experiments/planetlab_consolidation/run.py --mode cloudsim-like`` configures
it. Both must agree to rounding: energy, SLATAH and PDM within 1e-9, migrations exactly. NPA
places 2,500-MIPS VMs on 1,860-MIPS G4 cores (``slow_cores: cap``) and charges every host its
maximum power (``energy: cloudsim-npa``); LR-RS draws from the same random stream in both.
"""

from __future__ import annotations

import copy
import importlib.util
from typing import Any

import pytest
import yaml

import dcsim
from tests.conftest import REPO


def _runner() -> Any:
    spec = importlib.util.spec_from_file_location(
        "planetlab_run", REPO / "experiments" / "planetlab_consolidation" / "run.py")
    assert spec is not None
    assert spec.loader is not None
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def _compat(policy: str) -> dict[str, Any]:
    cfg = yaml.safe_load((REPO / "configs" / "planetlab-cloudsim.yaml").read_text())
    for h in cfg["datacenters"][0]["hosts"]:
        h["count"] = 20
    for k, g in enumerate(cfg["guests"]):
        g["count"] = 15
        g["workload"]["selection"] = {"first": 15, "skip": 263 * k}
    cfg["consolidation"]["policy"] = policy
    return cfg


@pytest.mark.parametrize("policy", ["npa", "dvfs", "thr-mmt-0.8", "lr-rs-1.2"])
def test_cloudsim_like_reproduces_compat(policy: str) -> None:
    compat = _compat(policy)
    like = copy.deepcopy(compat)
    _runner()._cloudsim_like(like, policy)
    a, b = dcsim.run(compat).summary, dcsim.run(like).summary
    assert b["migrations"] == a["migrations"]
    for key in ("energy_it_kwh", "slatah", "pdm"):
        assert b[key] == pytest.approx(a[key], rel=1e-9, abs=1e-15), key
    if policy == "npa":  # CloudSim's NPA caps 2,500-MIPS VMs on G4 cores: SLA violations
        assert a["slatah"] > 0

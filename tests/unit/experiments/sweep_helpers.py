"""Small sweep configs shared by the experiments tests (imported by their modules)."""

from __future__ import annotations

import copy
from typing import Any

import pytest

BASE: dict[str, Any] = {
    "name": "tiny_sweep",
    "seed": 7,
    "duration": "2h",
    "interval": "5m",
    "datacenters": [{
        "pue": 1.5,
        "hosts": [{
            "count": 2, "cores": 2, "mips_per_core": 1000, "ram": "8GiB", "storage": "100GB",
            "power": {"kind": "linear", "idle": 100, "max": 200}, "virtualization": "kvm",
            "cpu_overcommit": 2.0,
        }],
    }],
    "guests": [{"count": 2, "mips": 1000, "ram": "1GiB", "disk": "1GB", "boot": False,
                "workload": {"kind": "uniform", "low": 0.1, "high": 0.9}}],
    "placement": {"name": "first_fit"},
}


def tiny(sweep: dict[str, Any] | None = None, **over: Any) -> dict[str, Any]:
    """The tiny base config (2 hosts, a few guests, 2 h) with an optional sweep section."""
    cfg = copy.deepcopy(BASE)
    cfg.update(over)
    if sweep is not None:
        cfg["sweep"] = sweep
    return cfg


SMALL_SWEEP: dict[str, Any] = {
    "grid": {"ratio": [1, 2], "datacenters[0].hosts[0].virtualization": ["kvm", "docker"]},
    "derived": {"guests[0].count": "ratio * 2"},
    "replications": 2,
}


def fail_runs_with_count(monkeypatch: pytest.MonkeyPatch, count: int) -> Any:
    """Make every run whose first guest group has ``count`` guests raise (``dcsim.api.run``
    patched in this process; serial sweeps run it here). Returns the real ``run`` (to put it
    back)."""
    import dcsim.api

    real = dcsim.api.run

    def broken(sc: Any, **kw: Any) -> Any:
        if sc.config.guests[0].count == count:
            raise RuntimeError("boom")
        return real(sc, **kw)

    monkeypatch.setattr(dcsim.api, "run", broken)
    return real

"""Shared fixtures and the hypothesis profile used in CI."""

from __future__ import annotations

import importlib.util
import os
from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, Any

import pytest
from hypothesis import HealthCheck, settings

if TYPE_CHECKING:
    from dcsim.model.cluster import ClusterState

settings.register_profile(
    "ci", derandomize=True, deadline=None, max_examples=40,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.register_profile("dev", deadline=None, max_examples=40)
settings.load_profile("ci" if os.environ.get("CI") else "dev")

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--update-golden", action="store_true", default=False,
        help="rewrite the pinned golden files (tests/golden/*.json) from the current code "
             "instead of comparing; review the diff before committing it",
    )


@pytest.fixture
def update_golden(request: pytest.FixtureRequest) -> bool:
    """True when pytest runs with ``--update-golden`` (golden tests rewrite their file)."""
    return bool(request.config.getoption("--update-golden"))


@pytest.fixture
def repo() -> Path:
    return REPO


@pytest.fixture
def shared() -> Path:
    if not SHARED.exists():
        pytest.skip("../shared is not available on this machine")
    return SHARED


def tiny_config(**over: object) -> dict:
    """Two 1-core hosts (linear 100→200 W) and one guest at 50 % of 1000 MIPS, 1 h at 5 min."""
    cfg: dict = {
        "name": "tiny",
        "seed": 1,
        "duration": "1h",
        "interval": "5m",
        "datacenters": [{
            "pue": 1.5,
            "hosts": [{
                "count": 2, "cores": 1, "mips_per_core": 1000, "ram": "4GiB",
                "storage": "100GB", "power": {"kind": "linear", "idle": 100, "max": 200},
                "virtualization": "nolayer",
            }],
        }],
        "virtualization_profiles": {"nolayer": {"kind": "type1"}},
        "guests": [{"count": 1, "mips": 1000, "ram": "1GiB", "disk": "1GB", "boot": False,
                    "workload": {"kind": "constant", "utilization": 0.5}}],
        "placement": {"name": "first_fit"},
        "power_management": {"sleep_idle_hosts": False},
    }
    cfg.update(over)
    return cfg


def tiny_state(n_hosts: int, n_guests: int, *, hold: bool, cores: int, ram: str,
               cpu_overcommit: float) -> ClusterState:
    """:func:`tiny_config`'s cluster as a ``ClusterState``: ``n_hosts`` hosts of ``cores`` cores
    and ``ram``, ``n_guests`` copies of its guest, none placed; ``hold``: placements reserve."""
    import dcsim.api
    from dcsim.model.cluster import ClusterState

    cfg = tiny_config()
    cfg["datacenters"][0]["hosts"][0].update(count=n_hosts, cores=cores, ram=ram,
                                             cpu_overcommit=cpu_overcommit)
    cfg["guests"][0].update(count=n_guests)
    state = ClusterState.build(dcsim.api._scenario(cfg, None))
    state.hold = hold
    return state


def cloudsim_cut(duration: str, hosts: int = 60, guests: int = 40) -> dict:
    """``configs/planetlab-cloudsim.yaml`` cut to ``duration``, ``hosts`` hosts of each of its
    host groups and the first ``guests`` traces of each guest group."""
    import yaml

    cfg: dict = yaml.safe_load((REPO / "configs" / "planetlab-cloudsim.yaml").read_text())
    cfg["duration"] = duration
    for h in cfg["datacenters"][0]["hosts"]:
        h["count"] = hosts
    for g in cfg["guests"]:
        g["count"] = g["workload"]["selection"]["first"] = guests
    return cfg


def result_digest(res: Any) -> tuple[dict[str, str], dict[str, str]]:
    """A run's result as text to compare two runs bit for bit: every summary value's repr
    (``wall_s`` left out) and the SHA-256 of every table's content."""
    import hashlib

    import pandas as pd

    tabs = {**res.tables, "timeseries": res.timeseries, "guests": res.guests, "hosts": res.hosts}
    digests = {}
    for name, t in sorted(tabs.items()):
        df = t if isinstance(t, pd.DataFrame) else pd.DataFrame(t)
        digests[name] = hashlib.sha256(
            pd.util.hash_pandas_object(df, index=True).values.tobytes()).hexdigest()
    return {k: repr(v) for k, v in res.summary.items() if k != "wall_s"}, digests


def load_script(path: Path, name: str) -> ModuleType:
    """Import a script that is not part of a package (an experiment, a docs hook) as module
    ``name``."""
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def same_both_ways(monkeypatch: pytest.MonkeyPatch, module: object, flag: str,
                   arrays: Callable[[], dict[str, Any]],
                   restore: Callable[[dict[str, Any]], None], call: Callable[[], None]) -> None:
    """Run ``call`` with ``module.flag`` False (the numpy form), put the state back, run it
    again with the flag True (the compiled form): every array ``arrays()`` returns must come
    out byte for byte the same."""
    before = arrays()
    monkeypatch.setattr(module, flag, False)
    call()
    want = arrays()
    restore(before)
    monkeypatch.setattr(module, flag, True)
    call()
    got = arrays()
    for name in want:
        assert want[name].tobytes() == got[name].tobytes(), name

"""Capacity is law under any agent: random actions from the whole action space (masks ignored)
never overfill a host, in the placement and the consolidation environment.

The environments run with ``check_invariants`` (``ClusterState.check`` after every placement,
departure, migration start and interval), so a violation raises inside the episode.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

gym = pytest.importorskip("gymnasium")

import dcsim  # noqa: E402
import dcsim.rl  # noqa: E402


@st.composite
def configs(draw: st.DrawFn) -> dict[str, Any]:
    hosts = [{
        "count": draw(st.integers(1, 4)),
        "cores": draw(st.integers(2, 16)),
        "mips_per_core": 2000,
        "ram": f"{draw(st.integers(4, 32))}GiB",
        "storage": f"{draw(st.integers(50, 500))}GB",
        "power": {"kind": "linear", "idle": 50, "max": 150},
        "virtualization": draw(st.sampled_from(["kvm", "xen", "esxi", "virtualbox"])),
        "cpu_overcommit": draw(st.sampled_from([1.0, 2.0])),
    } for _ in range(draw(st.integers(1, 2)))]
    guests = [{
        "count": draw(st.integers(1, 20)),
        "vcpus": draw(st.integers(1, 4)),
        "mips": 1000,
        "ram": f"{draw(st.integers(256, 8192))}MiB",
        "disk": f"{draw(st.integers(1, 40))}GB",
        "workload": {"kind": "uniform", "low": 0.0, "high": 1.0},
        "arrival": draw(st.sampled_from([
            {"kind": "at_start"}, {"kind": "poisson", "rate": "20/h", "mean_lifetime": "30m"}])),
    } for _ in range(draw(st.integers(1, 2)))]
    return {"name": "rl-prop", "seed": draw(st.integers(0, 2**16)), "duration": "2h",
            "interval": "10m", "datacenters": [{"hosts": hosts}], "guests": guests,
            "consolidation": {"policy": draw(st.sampled_from(["thr-mmt-0.8", "lr-mmt-1.2"]))}}


def _env(cls: Any, cfg: dict[str, Any], **kw: Any) -> Any:
    try:
        return cls(cfg, check_invariants=True, **kw)
    except dcsim.ConfigError as exc:  # e.g. a guest bigger than every host
        err = exc
    assert any("fits on no host" in i.message or "reserves" in i.message for i in err.issues)
    return None


@settings(max_examples=25, deadline=None)
@given(configs(), st.integers(0, 2**16))
def test_random_placement_actions_never_overfill(cfg: dict[str, Any], seed: int) -> None:
    env = _env(dcsim.rl.PlacementEnv, cfg)
    if env is None:
        return
    env.action_space.seed(seed)
    env.reset()
    done = env.done
    while not done:
        _, _, done, _, _ = env.step(env.action_space.sample())
    s = env.result.summary
    assert s["guests_arrived"] == s["guests_placed"] + s["guests_rejected"]


@settings(max_examples=25, deadline=None)
@given(configs(), st.integers(0, 2**16))
def test_random_moves_never_overfill(cfg: dict[str, Any], seed: int) -> None:
    env = _env(dcsim.rl.ConsolidationEnv, cfg, max_moves=8)
    if env is None:
        return
    rng = np.random.default_rng(seed)
    env.reset()
    done = env.done
    while not done:
        # mostly guests that are placed (random ids would mostly be refused at once)
        obs = env._obs()
        placed = np.flatnonzero(obs["guests"][:, 0] > 0)
        pool = placed if placed.shape[0] else np.arange(env.n_guests + 1)
        moves = np.stack([rng.choice(pool, 8), rng.integers(0, env.n_hosts, 8)], axis=1)
        _, _, done, _, _ = env.step(moves.astype(np.int64))
    st_ = env.sim.state
    assert np.all(st_.used_ram <= st_.ram * (1 + 1e-9))

"""The Gymnasium environments are the simulator: built-in agents reproduce `dcsim run` bit for
bit, rewards add up to the summary's weighted metrics, bad actions and configs are refused."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

gym = pytest.importorskip("gymnasium")

import dcsim  # noqa: E402
import dcsim.rl  # noqa: E402
from dcsim.rl import NoOpAgent, PolicyAgent, RandomMaskedAgent  # noqa: E402

ROOT = Path(__file__).resolve().parents[3]
DEFAULT = str(ROOT / "configs" / "default.yaml")
FAULTS = str(ROOT / "configs" / "examples" / "faults.yaml")
PLANETLAB = str(ROOT / "configs" / "planetlab.yaml")
CLOUDSIM = str(ROOT / "configs" / "planetlab-cloudsim.yaml")


def episode(env: Any, agent: Any, seed: int | None = None) -> tuple[dict[str, Any], float, int]:
    """Run one episode; returns the final summary, the summed reward and the steps taken."""
    obs, info = env.reset(seed=seed)
    total, n = 0.0, 0
    while True:
        obs, r, term, trunc, info = env.step(agent(obs, info))
        total += r
        n += 1
        assert not trunc
        if term:
            return info["summary"], total, n


def same_summary(a: dict[str, Any], b: dict[str, Any]) -> list[str]:
    """Keys whose values differ (repr: bit for bit, NaN equal to NaN), wall time aside."""
    return [k for k in b if k != "wall_s" and repr(a[k]) != repr(b[k])]


# ------------------------------------------------------------------------------ exactness
@pytest.mark.parametrize(("config", "overrides"), [
    (DEFAULT, ["placement.name=pabfd"]),
    (DEFAULT, ["placement.name=random"]),  # draws from the policy's own stream in order
    (DEFAULT, ["placement.name=best_fit"]),
    (FAULTS, ["duration=1d"]),  # first_fit; 44 guests re-placed after host failures
])
def test_policy_agent_reproduces_dcsim_run_placement(config: str, overrides: list[str]) -> None:
    env = gym.make("dcsim/Placement-v0", config=config, overrides=overrides)
    summary, _, steps = episode(env, PolicyAgent(env))
    ref = dcsim.run(config, overrides=overrides).summary
    assert same_summary(summary, ref) == []
    # one step per arrival and one per re-placement after a failure (the step answering the
    # last decision runs the rest of the episode)
    restarts = ref["guest_restarts"] if config == FAULTS else 0
    assert steps == ref["guests_arrived"] + restarts
    assert restarts == (44 if config == FAULTS else 0)


@pytest.mark.parametrize(("config", "overrides"), [
    (PLANETLAB, ["duration=6h"]),
    (CLOUDSIM, ["duration=6h"]),  # CloudSim's planner and migrations (compat: cloudsim)
])
def test_policy_agent_reproduces_dcsim_run_consolidation(config: str,
                                                         overrides: list[str]) -> None:
    env = gym.make("dcsim/Consolidation-v0", config=config, overrides=overrides,
                   max_moves=1500)
    summary, _, steps = episode(env, PolicyAgent(env))
    ref = dcsim.run(config, overrides=overrides).summary
    assert ref["migrations"] > 50  # the agent's moves are really carried out
    assert same_summary(summary, ref) == []
    assert steps == ref["consolidation_steps"]


def test_no_op_agent_migrates_nothing_and_differs() -> None:
    env = gym.make("dcsim/Consolidation-v0", config=PLANETLAB, overrides=["duration=6h"])
    summary, _, _ = episode(env, NoOpAgent(env))
    ref = dcsim.run(PLANETLAB, overrides=["duration=6h"]).summary
    assert summary["migrations"] == 0
    assert summary["migrations_planned"] == 0
    assert summary["energy_it_kwh"] != ref["energy_it_kwh"]


# ------------------------------------------------------------------------------ reward
def test_episode_reward_is_the_weighted_summary() -> None:
    w = {"energy_it_kwh": -2.0, "unserved_mi": -3e-8, "guests_rejected": -5.0,
         "overhead_mi": 1e-9}
    env = gym.make("dcsim/Placement-v0", config=DEFAULT,
                   overrides=["guests[0].count=300"], reward=w)
    summary, total, _ = episode(env, RandomMaskedAgent(seed=4), seed=11)
    expected = sum(v * summary[k] for k, v in w.items())
    assert total == pytest.approx(expected, rel=1e-12)
    assert summary["energy_it_kwh"] > 0
    assert summary["unserved_mi"] > 0


def test_consolidation_reward_counts_migrations() -> None:
    w = {"migrations": -1.0}  # the rewards sum to minus the migrations of the run
    env = gym.make("dcsim/Consolidation-v0", config=PLANETLAB, overrides=["duration=3h"],
                   reward=w, max_moves=1500)
    summary, total, _ = episode(env, PolicyAgent(env))
    assert summary["migrations"] > 0
    assert total == -summary["migrations"]


def test_unknown_reward_metric_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown metric 'slav'"):
        dcsim.rl.PlacementEnv(DEFAULT, reward={"slav": -1.0})


# ------------------------------------------------------------------------------ by hand
def _three_guests() -> dict[str, Any]:
    """Two hosts of 16 GiB, three 10 GiB guests arriving at t = 0: a host holds one guest."""
    return {
        "name": "hand", "seed": 1, "duration": "1h", "interval": "10m",
        "datacenters": [{"hosts": [{
            "count": 2, "cores": 8, "mips_per_core": 2000, "ram": "16GiB", "storage": "1TB",
            "power": {"kind": "linear", "idle": 50, "max": 150}, "virtualization": "kvm"}]}],
        "guests": [{"count": 3, "vcpus": 1, "mips": 1000, "ram": "10GiB", "disk": "10GB",
                    "workload": {"kind": "constant", "utilization": 0.5},
                    "arrival": {"kind": "at_start"}}],
        "placement": {"name": "first_fit"},
    }


def test_infeasible_action_leaves_the_guest_unplaced() -> None:
    env = dcsim.rl.PlacementEnv(_three_guests(), check_invariants=True)
    obs, info = env.reset()
    # guest 0: both hosts free -> mask [1, 1, unplaced 1]
    assert obs["action_mask"].tolist() == [1, 1, 1]
    assert obs["guest"][1] == pytest.approx(10 / 16)  # RAM / the largest host's RAM
    obs, *_ = env.step(0)
    # guest 1: host 0 holds 10 of 16 GiB -> fits only on host 1
    assert obs["action_mask"].tolist() == [0, 1, 1]
    assert obs["hosts"][0, 5] == 1
    assert obs["hosts"][1, 5] == 0
    obs, _, _, _, info = env.step(0)  # host 0: infeasible -> guest 1 left unplaced
    assert info["refused"] == 1
    assert obs["action_mask"].tolist() == [0, 1, 1]  # guest 2: host 1 is still free
    obs, _, term, _, info = env.step(1)
    assert term
    s = info["summary"]
    assert (s["guests_placed"], s["guests_rejected"]) == (2, 1)
    assert env.sim.state.host_of.tolist() == [0, -1, 1]


def test_action_outside_the_space_raises() -> None:
    env = dcsim.rl.PlacementEnv(_three_guests())
    env.reset()
    for bad in (3, -1, 1.5, "a"):
        with pytest.raises(ValueError, match=r"outside the action space Discrete\(3\)"):
            env.step(bad)
    cenv = dcsim.rl.ConsolidationEnv(PLANETLAB, overrides=["duration=1h"], max_moves=2)
    cenv.reset()
    bad_rows = np.asarray([[1052, 0], [0, 800]])  # host 800 does not exist
    with pytest.raises(ValueError, match="outside the action space MultiDiscrete"):
        cenv.step(bad_rows)
    with pytest.raises(ValueError, match="outside the action space"):
        cenv.step(np.zeros((3, 2), dtype=np.int64))  # three rows, max_moves 2


def test_bad_config_raises_the_config_error_of_dcsim_run() -> None:
    with pytest.raises(dcsim.ConfigError) as env_err:
        dcsim.rl.PlacementEnv(DEFAULT, overrides=["interval=-5m"])
    with pytest.raises(dcsim.ConfigError) as run_err:
        dcsim.run(DEFAULT, overrides=["interval=-5m"])
    assert [i.path for i in env_err.value.issues] == [i.path for i in run_err.value.issues]
    with pytest.raises(ValueError, match="consolidation: section"):
        dcsim.rl.ConsolidationEnv(DEFAULT)


# ------------------------------------------------------------------------------ gymnasium
def test_check_env_passes_for_both() -> None:
    from gymnasium.utils.env_checker import check_env

    check_env(dcsim.rl.PlacementEnv(_three_guests()), skip_render_check=True)
    check_env(dcsim.rl.ConsolidationEnv(PLANETLAB, overrides=["duration=1h"]),
              skip_render_check=True)


def test_reset_with_a_seed_is_reproducible() -> None:
    env = gym.make("dcsim/Placement-v0", config=DEFAULT, overrides=["guests[0].count=100"])
    a, ra, _ = episode(env, RandomMaskedAgent(seed=1), seed=5)
    b, rb, _ = episode(env, RandomMaskedAgent(seed=1), seed=5)
    c, _, _ = episode(env, RandomMaskedAgent(seed=1), seed=6)
    assert same_summary(a, b) == []
    assert ra == rb
    assert a["energy_it_kwh"] != c["energy_it_kwh"]
    # the seed is the config's seed: as `dcsim run --seed 5` with the policy's choices
    ov = ["guests[0].count=100", "placement.name=pabfd"]
    penv = gym.make("dcsim/Placement-v0", config=DEFAULT, overrides=ov)
    d, _, _ = episode(penv, PolicyAgent(penv), seed=5)
    assert same_summary(d, dcsim.run(DEFAULT, overrides=ov, seed=5).summary) == []


@pytest.mark.parametrize("kind", ["sync", "async"])
def test_vector_envs(kind: str) -> None:
    cfg = _three_guests()
    # "module:id" imports dcsim.rl (which registers the ids) in each worker process
    fns = [lambda: gym.make("dcsim.rl:dcsim/Placement-v0", config=cfg) for _ in range(2)]
    vec = (gym.vector.SyncVectorEnv(fns) if kind == "sync"
           else gym.vector.AsyncVectorEnv(fns, context="spawn"))
    try:
        obs, _ = vec.reset(seed=[1, 2])
        assert obs["hosts"].shape == (2, 2, len(dcsim.rl.HOST_FEATURES))
        # place guest 0 on host 0, guest 1 on host 1, leave guest 2 unplaced: then it ends
        for a in ([0, 0], [1, 1], [2, 2]):
            obs, r, term, _trunc, _info = vec.step(np.asarray(a))
        assert term.tolist() == [True, True]
        assert np.isfinite(r).all()
    finally:
        vec.close()


class _OnlyPlace:
    """A placement policy with only the protocol's ``place`` (as a plugin's may be)."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner

    def place(self, view: Any, guests: Any) -> Any:
        return self.inner.place(view, guests)


def test_policy_agent_with_a_policy_that_only_places() -> None:
    # the same run as dcsim's own first_fit placement, through place() of one guest at a time
    env = gym.make("dcsim/Placement-v0", config=FAULTS, overrides=["duration=6h"])
    obs, info = env.reset()
    sim = env.unwrapped.sim
    sim.policy = _OnlyPlace(sim.policy)
    assert not hasattr(sim.policy, "choose")
    agent = PolicyAgent(env)
    while True:
        obs, _, term, _, info = env.step(agent(obs, info))
        if term:
            break
    ref = dcsim.run(FAULTS, overrides=["duration=6h"]).summary
    assert ref["guests_arrived"] > 0
    assert same_summary(info["summary"], ref) == []

"""RL environments benchmark: steps per second of ``dcsim/Placement-v0`` and
``dcsim/Consolidation-v0`` (issue 16's targets), and where the time goes.

* Placement: 100 hosts, 10,000 guests arriving as a Poisson stream over a day (each for about an
  hour), a random masked agent; target >= 10,000 steps/s.
* Consolidation: the PlanetLab day (``configs/planetlab.yaml``: 800 hosts, 1,052 VMs, 288
  intervals), a no-op agent; target: the whole episode (reset included) <= 2 s.

Each is timed in-process after a warm-up episode (imports and the config's parsing excluded,
since an agent trains over many episodes): wall and CPU of the episode, then split into the
agent, the engine (``Simulation.advance``: everything the simulator does between decisions),
the observation and the reward.

    python experiments/benchmarks/rl.py [--arrivals 10000] [--hosts 100] [--repeat 3]
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path
from typing import Any

import _checkout  # noqa: F401  (this checkout's dcsim, not an installed one)

REPO = Path(__file__).resolve().parents[2]


def placement_config(hosts: int, arrivals: int) -> dict[str, Any]:
    return {
        "name": "bench-rl-placement", "seed": 5, "duration": "1d", "interval": "5m",
        "datacenters": [{"hosts": [{
            "model": "ibm_x3550_x5675", "count": hosts, "ram": "128GiB", "storage": "2TB",
            "virtualization": "kvm", "cpu_overcommit": 2.0}]}],
        "guests": [{
            "count": arrivals, "type": "small",
            "workload": {"kind": "uniform", "low": 0.1, "high": 0.5},
            "arrival": {"kind": "poisson", "rate": f"{arrivals}/d", "mean_lifetime": "1h"}}],
        "placement": {"name": "first_fit"},
        "output": {"guest_records": False},
    }


class Timed:
    """Wraps the simulation's ``advance`` and the env's observation and reward with timers."""

    def __init__(self, env: Any) -> None:
        self.env = env
        self.t = {"engine": 0.0, "observation": 0.0, "reward": 0.0}
        for name, attr in (("observation", "_obs"), ("reward", "_reward")):
            setattr(env, attr, self._wrap(getattr(env, attr), name))
        run_on = env._run_on

        def timed_run_on() -> bool:
            sim = env.sim
            if not getattr(sim, "_timed", False):
                sim.advance = self._wrap(sim.advance, "engine")
                sim._timed = True
            return bool(run_on())

        env._run_on = timed_run_on

    def _wrap(self, fn: Any, key: str) -> Any:
        def inner(*a: Any, **k: Any) -> Any:
            t0 = time.perf_counter()
            try:
                return fn(*a, **k)
            finally:
                self.t[key] += time.perf_counter() - t0
        return inner


def episode(env: Any, agent: Any) -> tuple[int, float, float, float]:
    """One episode: steps, wall s, CPU s, agent s."""
    t0, c0 = time.perf_counter(), time.process_time()
    obs, info = env.reset()
    n, t_agent = 0, 0.0
    done = env.done
    while not done:
        ta = time.perf_counter()
        a = agent(obs, info)
        t_agent += time.perf_counter() - ta
        obs, _, done, _, info = env.step(a)
        n += 1
    return n, time.perf_counter() - t0, time.process_time() - c0, t_agent


def report(name: str, env: Any, agent: Any, repeat: int) -> tuple[int, float, float]:
    episode(env, agent)  # warm-up: caches, first-call costs
    best: tuple[int, float, float, float, dict[str, float]] | None = None
    for _ in range(max(1, repeat)):
        timed = Timed(env)
        n, wall, cpu, t_agent = episode(env, agent)
        for attr in ("_obs", "_reward", "_run_on"):  # drop the wrappers
            env.__dict__.pop(attr, None)
        if best is None or cpu < best[2]:
            best = (n, wall, cpu, t_agent, dict(timed.t))
    assert best is not None
    n, wall, cpu, t_agent, t = best
    other = wall - t_agent - sum(t.values())
    print(f"{name}: {n} steps, wall {wall:.3f} s, cpu {cpu:.3f} s (best of {repeat}): "
          f"{n / cpu:,.0f} steps/s of CPU, {n / wall:,.0f} steps/s wall")
    for k, v in (("engine", t["engine"]), ("observation", t["observation"]),
                 ("reward", t["reward"]), ("agent", t_agent), ("env step, other", other)):
        print(f"  {k:<16} {v:7.3f} s  {v / wall:6.1%}  {1e6 * v / max(n, 1):6.1f} us/step")
    return n, wall, cpu


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--hosts", type=int, default=100)
    ap.add_argument("--arrivals", type=int, default=10_000)
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    import dcsim.rl

    env = dcsim.rl.PlacementEnv(placement_config(args.hosts, args.arrivals))
    n, wall, cpu = report("Placement-v0", env, dcsim.rl.RandomMaskedAgent(seed=1), args.repeat)
    print(f"  target (issue 16): >= 10,000 steps/s -> {n / cpu:,.0f} steps/s of CPU")

    cenv = dcsim.rl.ConsolidationEnv(REPO / "configs" / "planetlab.yaml")
    n, wall, cpu = report("Consolidation-v0 (PlanetLab day)", cenv, dcsim.rl.NoOpAgent(cenv),
                          args.repeat)
    print(f"  target (issue 16): a {n}-step episode <= 2 s -> {cpu:.2f} s CPU, {wall:.2f} s wall")


if __name__ == "__main__":
    main()

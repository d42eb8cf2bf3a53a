"""Benchmark: the per-event cost of the engine on a pre-copy-heavy PlanetLab run (issue 15).

``configs/planetlab-cpu.yaml`` (800 hosts, 1,052 VMs, dcsim's own semantics) for 6 h under
THR-MMT 0.8 plans about 13,500 pre-copy migrations over the network: each costs about eleven
single-host CPU updates and four max-min rate recomputations (a third of them reuse the rates of
an earlier identical set of sending flows), which is what this measures. Prints CPU time (user +
sys of this process, simulation only, best of ``--repeat``), wall time, migrations, CPU µs per
migration, single-host updates and flow-rate recomputations, next to the target: at least 3x
below the 67.4 CPU s of simulation that commit 2a745c7 took on a quiet 2-core machine.

    python experiments/benchmarks/migrations.py [--duration 6h] [--policy thr-mmt-0.8] [--repeat 3]
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import _checkout  # noqa: F401  (this checkout's dcsim, not an installed one)

REPO = Path(__file__).resolve().parents[2]
BEFORE_CPU_S = 67.4  # 6 h, thr-mmt-0.8 at commit 2a745c7: simulation CPU s, quiet machine
# (load ~1.7 on 2 cores); the 104.7 s first quoted here was measured under cProfile
TARGET_CPU_S = BEFORE_CPU_S / 3


def one(duration: str, policy: str) -> dict[str, float]:
    from dcsim.api import _scenario
    from dcsim.engine.simulation import Simulation

    sc = _scenario(REPO / "configs" / "planetlab-cpu.yaml",
                             [f"duration={duration}", f"consolidation.policy={policy}"])
    sim = Simulation(sc)
    updates = [0]
    plain = sim.update_host

    def counted(h: int, change: object = None) -> None:
        updates[0] += 1
        plain(h, change)  # type: ignore[arg-type]

    sim.update_host = counted  # type: ignore[method-assign]
    c0, t0 = time.process_time(), time.perf_counter()
    r = sim.run()
    cpu, wall = time.process_time() - c0, time.perf_counter() - t0
    flows = sim._network.flows if sim._network is not None else None
    return {"cpu": cpu, "wall": wall, "migrations": float(r.summary["migrations"]),
            "planned": float(r.summary["migrations_planned"] or 0),
            "updates": float(updates[0]),
            "recomputations": float(flows.n_recomputations if flows is not None else 0),
            "reused": float(getattr(flows, "n_reused", 0) if flows is not None else 0),
            "energy": float(r.summary["energy_it_kwh"])}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description="pre-copy-heavy PlanetLab benchmark (issue 15)")
    ap.add_argument("--duration", default="6h")
    ap.add_argument("--policy", default="thr-mmt-0.8")
    ap.add_argument("--repeat", type=int, default=1, help="runs; the lowest CPU time is kept")
    args = ap.parse_args(argv)
    best: dict[str, float] | None = None
    for _ in range(max(1, args.repeat)):
        res = one(args.duration, args.policy)
        if best is None or res["cpu"] < best["cpu"]:
            best = res
    assert best is not None
    m = max(best["planned"], 1.0)
    print(f"planetlab-cpu, {args.duration}, {args.policy}: {best['migrations']:.0f} migrations "
          f"({best['planned']:.0f} planned), energy {best['energy']:.4f} kWh")
    print(f"  simulation cpu {best['cpu']:8.2f} s (best of {max(1, args.repeat)}), "
          f"wall {best['wall']:.2f} s")
    print(f"  per planned migration {best['cpu'] / m * 1e6:8.0f} µs cpu; "
          f"{best['updates'] / m:.1f} single-host updates, "
          f"{best['recomputations'] / m:.1f} flow-rate recomputations "
          f"({best['reused'] / max(best['recomputations'], 1.0):.0%} reused)")
    if args.duration == "6h" and args.policy == "thr-mmt-0.8":
        print(f"  target: <= {TARGET_CPU_S:.1f} s cpu (3x below {BEFORE_CPU_S} s at 2a745c7); "
              f"{'met' if best['cpu'] <= TARGET_CPU_S else 'NOT met'} "
              f"({BEFORE_CPU_S / best['cpu']:.2f}x)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

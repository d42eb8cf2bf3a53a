"""Benchmark: one PlanetLab day (20110303: 800 hosts, 1,052 VMs, 288 intervals) in compat mode.

Prints the wall time of loading the trace and of the simulation, CPU time, and the peak resident
memory of the process (``resource.getrusage``; ``--tracemalloc`` adds the peak of Python
allocations, which slows the run). Target on the 2-core development machine: LR-MMT 1.2 in
<= 3.5 s and <= 300 MB (CloudSim 3.0.3 takes about 35 s).

    python experiments/benchmarks/planetlab.py [--policy lr-mmt-1.2] [--day 20110303] [--repeat 3]
"""

from __future__ import annotations

import argparse
import resource
import time
import tracemalloc
from pathlib import Path

import numpy as np

from dcsim.engine.cloudsim import run_cloudsim_planetlab

REPO = Path(__file__).resolve().parents[2]


def load_day(day: str) -> np.ndarray:
    """Utilisation fractions (n_vms, 288) of one shipped PlanetLab day, sorted-name order."""
    from dcsim.workload.traces import load_trace

    return np.asarray(load_trace("planetlab", day).util, dtype=np.float64)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description="PlanetLab compat-mode benchmark")
    ap.add_argument("--policy", default="lr-mmt-1.2")
    ap.add_argument("--day", default="20110303")
    ap.add_argument("--repeat", type=int, default=1, help="runs; the best wall time is kept")
    ap.add_argument("--tracemalloc", action="store_true")
    args = ap.parse_args(argv)
    if args.tracemalloc:
        tracemalloc.start()
    t0 = time.perf_counter()
    util = load_day(args.day)
    load_s = time.perf_counter() - t0
    best = float("inf")
    cpu = 0.0
    res: dict[str, object] = {}
    for _ in range(max(1, args.repeat)):
        c0 = time.process_time()
        t1 = time.perf_counter()
        out = run_cloudsim_planetlab(util, args.policy)
        assert isinstance(out, dict)
        res = out
        wall = time.perf_counter() - t1
        if wall < best:
            best, cpu = wall, time.process_time() - c0
    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0
    print(f"day {args.day}, policy {args.policy}: {res['vms']} VMs, {res['hosts']} hosts")
    print(f"  energy {res['energy_kwh']:.5f} kWh, migrations {res['migrations']}, "
          f"SLATAH {res['slatah']:.6f}, PDM {res['pdm']:.8f}, shutdowns {res['host_shutdowns']}")
    print(f"  trace load      {load_s:7.3f} s")
    print(f"  simulation wall {best:7.3f} s (best of {max(1, args.repeat)}), cpu {cpu:.3f} s")
    print(f"  total wall      {load_s + best:7.3f} s")
    print(f"  peak RSS        {rss_mb:7.1f} MB")
    if args.tracemalloc:
        _, peak = tracemalloc.get_traced_memory()
        print(f"  peak traced     {peak / 2**20:7.1f} MB (Python allocations)")
    if args.day == "20110303":  # the same run through the config layer, as `dcsim run` does
        import dcsim

        t2 = time.perf_counter()
        r = dcsim.run(REPO / "configs" / "planetlab-cloudsim.yaml",
                      overrides=[f"consolidation.policy={args.policy}"])
        print(f"  via config      {time.perf_counter() - t2:7.3f} s "
              f"(dcsim.run of configs/planetlab-cloudsim.yaml; energy "
              f"{r.summary['energy_it_kwh']:.5f} kWh)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

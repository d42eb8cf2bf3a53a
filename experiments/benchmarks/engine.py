"""Engine benchmark: a synthetic simulated day at 1,000, 10,000 and 100,000 guests.

Prints wall time (simulation only, and including config load and model set-up; the one-time
imports of dcsim and scipy.stats are timed apart), peak resident memory of a fresh process per
size, and guest-intervals per second. Targets on the 2-core development machine:
1,000 guests x 288 intervals <= 1 s; 100,000 guests x 288 intervals <= 60 s and <= 1 GB.

    python experiments/benchmarks/engine.py [--sizes 1000,10000,100000]
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time


def config(n_guests: int) -> dict:
    n_hosts = max(1, n_guests // 10)
    return {
        "name": f"bench-{n_guests}",
        "seed": 7,
        "duration": "24h",
        "interval": "5m",
        "datacenters": [{"hosts": [
            {"model": "dell_r740_8280", "count": n_hosts - n_hosts // 2, "virtualization": "kvm",
             "storage": "4TB", "cpu_overcommit": 1.5},
            {"model": "ibm_x3550_x5675", "count": max(1, n_hosts // 2), "virtualization": "kvm",
             "storage": "2TB", "cpu_overcommit": 1.5},
        ]}],
        "guests": [
            {"type": "small", "count": n_guests // 2,
             "workload": {"kind": "uniform", "low": 0.05, "high": 0.6}},
            {"type": "medium", "count": n_guests - n_guests // 2,
             "workload": {"kind": "uniform", "low": 0.2, "high": 0.9}},
        ],
        "placement": {"name": "first_fit"},
        "output": {"guest_records": True},
    }


def one(n: int) -> dict:
    t_imp = time.perf_counter()
    import scipy.stats  # noqa: F401  (one-time import the stochastic workloads use; timed apart)

    import dcsim

    imports_s = time.perf_counter() - t_imp
    t0 = time.perf_counter()
    sc = dcsim.api._scenario(config(n), None)
    t1 = time.perf_counter()
    r = dcsim.run(sc)
    t2 = time.perf_counter()
    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    intervals = len(r.timeseries)
    return {
        "guests": n, "hosts": sc.n_hosts, "intervals": intervals, "imports_s": imports_s,
        "load_s": t1 - t0, "run_s": t2 - t1, "sim_wall_s": r.summary["wall_s"],
        "peak_rss_mb": rss_mb, "guest_intervals_per_s": n * intervals / (t2 - t1),
        "events": r.summary["events"], "placed": r.summary["guests_placed"],
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--sizes", default="1000,10000,100000")
    ap.add_argument("--child", type=int, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        print(json.dumps(one(args.child)))
        return
    print(f"{'guests':>8} {'hosts':>6} {'run s':>8} {'sim s':>8} {'peak MB':>8} "
          f"{'guest-int/s':>12} {'events':>8} {'imports s':>10}")
    for n in (int(s) for s in args.sizes.split(",")):
        proc = subprocess.run([sys.executable, __file__, "--child", str(n)], check=True,
                              capture_output=True, text=True)
        row = json.loads(proc.stdout.strip().splitlines()[-1])
        print(f"{row['guests']:>8} {row['hosts']:>6} {row['run_s']:>8.2f} "
              f"{row['sim_wall_s']:>8.2f} {row['peak_rss_mb']:>8.0f} "
              f"{row['guest_intervals_per_s']:>12,.0f} {row['events']:>8} "
              f"{row['imports_s']:>10.2f}")


if __name__ == "__main__":
    main()

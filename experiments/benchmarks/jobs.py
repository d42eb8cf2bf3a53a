"""Finite-jobs benchmark: processor sharing of 1,000,000 jobs.

1,000 hosts of one 1000-MIPS core, 10 guests per host (CPU overcommit 10), each guest running 100
jobs back to back with lengths uniform in 0.5-1.5 x 1000 MI (seeded), shared max-min fairly on
each host. Prints wall and CPU time of ``dcsim.run`` and jobs per second of each (target >= 250,000
jobs/s on the 2-core development machine, issue 15; SimGrid 4.1's C++ core does about 205,000/s on
this shape). On a shared machine the CPU figure is the one to compare.

    python experiments/benchmarks/jobs.py [--hosts 1000] [--guests-per-host 10] [--jobs 100]
"""

from __future__ import annotations

import argparse
import resource
import time

import _checkout  # noqa: F401  (this checkout's dcsim, not an installed one)


def config(hosts: int, per_host: int, jobs: int) -> dict:
    return {
        "name": "bench-jobs",
        "seed": 11,
        "duration": "2h",
        "interval": "5m",
        "virtualization_profiles": {"plain": {"kind": "type1"}},
        "datacenters": [{"hosts": [{
            "count": hosts, "cores": 1, "mips_per_core": 1000, "ram": "64GiB", "storage": "1TB",
            "power": {"kind": "linear", "idle": 100, "max": 200}, "virtualization": "plain",
            "cpu_overcommit": float(per_host),
        }]}],
        "guests": [{
            "count": hosts * per_host, "mips": 1000, "ram": "1GiB", "boot": False,
            "workload": {"kind": "jobs", "count": jobs, "length": 1000, "spread": 0.5},
        }],
        "placement": {"name": "first_fit"},
        "power_management": {"sleep_idle_hosts": False},
        "output": {"guest_records": False},
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--hosts", type=int, default=1000)
    ap.add_argument("--guests-per-host", type=int, default=10)
    ap.add_argument("--jobs", type=int, default=100)
    args = ap.parse_args()
    import dcsim

    sc = dcsim.api._scenario(config(args.hosts, args.guests_per_host, args.jobs), None)
    t0, c0 = time.perf_counter(), time.process_time()
    r = dcsim.run(sc)
    wall, cpu = time.perf_counter() - t0, time.process_time() - c0
    done = r.summary["jobs_completed"]
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"jobs completed    {done:,} of {r.summary['jobs_total']:,}")
    print(f"makespan          {r.summary['makespan_s']:,.1f} s simulated")
    print(f"mean slowdown     {r.summary['mean_job_slowdown']:.3f}")
    print(f"wall time         {wall:.2f} s (simulation {r.summary['wall_s']:.2f} s), "
          f"CPU {cpu:.2f} s")
    print(f"throughput        {done / wall:,.0f} jobs/s of wall, {done / cpu:,.0f} jobs/s of CPU "
          "(target >= 250,000 jobs/s)")
    print(f"events            {r.summary['events']:,}")
    print(f"peak RSS          {rss:.0f} MB")


if __name__ == "__main__":
    main()

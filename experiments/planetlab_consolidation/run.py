"""PlanetLab consolidation experiments (Beloglazov & Buyya, CCPE 2012) in dcsim.

    python experiments/planetlab_consolidation/run.py --mode compat \
        --days 20110303,20110306 --policies thr-mmt-0.8,lr-mmt-1.2 --out results/planetlab

Writes ``OUT/results.csv``: one row per (mode, day, policy) with columns mode, day, policy, vms,
energy_kwh, migrations, slatah, pdm, slav, esv, host_shutdowns, wall_s (SLA figures as
fractions), plus the time-before-shutdown / time-before-migration statistics. ``--intervals``
also writes ``OUT/intervals/<mode>_<day>_<policy>.csv`` (active hosts per interval).

``--mode compat`` is dcsim's CloudSim-compatible engine (:mod:`dcsim.engine.cloudsim`), which
reproduces CloudSim 3.0.3's numbers. ``--mode default`` (dcsim's own semantics) is not wired yet.

Days default to all ten PlanetLab days; policies to npa, dvfs, thr-mmt-0.8, iqr-mmt-1.5,
mad-mmt-2.5, lr-mmt-1.2, lrr-mmt-1.2, lr-mc-1.2, lr-rs-1.2, lr-mu-1.2 (any
``<detector>-<selection>-<parameter>`` is accepted). Traces come from dcsim's trace store
(``load_trace("planetlab", day)``), else from ``../shared/data/planetlab`` next to the repo.
"""

from __future__ import annotations

import argparse
import csv
import os
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np

REPO = Path(__file__).resolve().parents[2]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from dcsim.engine.cloudsim import run_cloudsim_planetlab  # noqa: E402
from dcsim.policies.consolidation import parse_policy  # noqa: E402

DAYS = ["20110303", "20110306", "20110309", "20110322", "20110325", "20110403", "20110409",
        "20110411", "20110412", "20110420"]
POLICIES = ["npa", "dvfs", "thr-mmt-0.8", "iqr-mmt-1.5", "mad-mmt-2.5", "lr-mmt-1.2",
            "lrr-mmt-1.2", "lr-mc-1.2", "lr-rs-1.2", "lr-mu-1.2"]
COLUMNS = ["mode", "day", "policy", "vms", "energy_kwh", "migrations", "slatah", "pdm", "slav",
           "esv", "host_shutdowns", "wall_s", "time_before_shutdown_mean_s",
           "time_before_shutdown_sd_s", "time_before_migration_mean_s",
           "time_before_migration_sd_s", "overall_sla_violation", "average_sla_violation"]


def load_day(day: str) -> np.ndarray:
    """(n_vms, 288) utilisation fractions of one PlanetLab day, sorted file-name order."""
    try:
        from dcsim.workload.traces import load_trace

        return np.asarray(load_trace("planetlab", day=day).util, dtype=np.float64)
    except Exception:  # store missing or older package: read the raw files
        folder = REPO.parent / "shared" / "data" / "planetlab" / day
        if not folder.is_dir():
            raise SystemExit(f"no PlanetLab trace for day {day} (store or {folder})") from None
        names = sorted(os.listdir(folder))
        rows = [[int(x) for x in (folder / n).read_text().split()] for n in names]
        return np.asarray(rows, dtype=np.float64) / 100.0


def run_one(mode: str, day: str, policy: str, hosts: int, seed: int,
            intervals_dir: str | None) -> dict[str, Any]:
    """One (mode, day, policy) run -> a results row."""
    util = load_day(day)
    t0 = time.perf_counter()
    res, table = run_cloudsim_planetlab(util, policy, n_hosts=hosts, seed=seed, intervals=True)
    wall = time.perf_counter() - t0
    if intervals_dir:
        path = Path(intervals_dir) / f"{mode}_{day}_{policy}.csv"
        tmp = path.with_suffix(".tmp")
        table.to_csv(tmp, index=False)
        tmp.replace(path)
    row = {c: res.get(c) for c in COLUMNS}
    row.update(mode=mode, day=day, policy=policy, wall_s=round(wall, 3))
    return row


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--mode", choices=["compat", "default"], default="compat")
    ap.add_argument("--days", default=",".join(DAYS))
    ap.add_argument("--policies", default=",".join(POLICIES))
    ap.add_argument("--out", required=True, help="output folder")
    ap.add_argument("--hosts", type=int, default=800)
    ap.add_argument("--seed", type=int, default=0, help="seed of random selection (rs)")
    ap.add_argument("--jobs", type=int, default=1, help="parallel processes")
    ap.add_argument("--intervals", action="store_true", help="also write per-interval tables")
    args = ap.parse_args(argv)
    if args.mode == "default":
        print("--mode default is not available yet: dcsim's default engine does not run the "
              "PlanetLab consolidation experiments; use --mode compat.", file=sys.stderr)
        return 2
    days = [d.strip() for d in args.days.split(",") if d.strip()]
    policies = [p.strip().lower() for p in args.policies.split(",") if p.strip()]
    for p in policies:
        try:
            parse_policy(p)
        except ValueError as e:
            print(f"error: {e}", file=sys.stderr)
            return 2
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    idir = None
    if args.intervals:
        (out / "intervals").mkdir(exist_ok=True)
        idir = str(out / "intervals")
    tasks = [(args.mode, d, p, args.hosts, args.seed, idir) for d in days for p in policies]
    rows: list[dict[str, Any]] = []
    if args.jobs > 1:
        with ProcessPoolExecutor(args.jobs) as ex:
            for row in ex.map(run_one, *zip(*tasks, strict=True)):
                rows.append(row)
                print(f"{row['day']} {row['policy']}: {row['energy_kwh']:.2f} kWh, "
                      f"{row['migrations']} migrations ({row['wall_s']:.1f} s)", flush=True)
    else:
        for t in tasks:
            row = run_one(*t)
            rows.append(row)
            print(f"{row['day']} {row['policy']}: {row['energy_kwh']:.2f} kWh, "
                  f"{row['migrations']} migrations ({row['wall_s']:.1f} s)", flush=True)
    tmp = out / "results.csv.tmp"
    with tmp.open("w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=COLUMNS)
        w.writeheader()
        w.writerows(rows)
    tmp.replace(out / "results.csv")
    print(f"wrote {out / 'results.csv'} ({len(rows)} rows)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

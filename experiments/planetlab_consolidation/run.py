"""PlanetLab consolidation experiments (Beloglazov & Buyya, CCPE 2012) in dcsim.

    python experiments/planetlab_consolidation/run.py --mode compat \
        --days 20110303,20110306 --policies thr-mmt-0.8,lr-mmt-1.2 --out results/planetlab

Every run goes through the config layer: the script loads ``configs/planetlab-cloudsim.yaml``
(``--mode compat``: CloudSim 3.0.3's semantics, reproduces its numbers; ``--mode cloudsim-like``:
the plain config dcsim rewrites ``compat: cloudsim`` into, with the ``cloudsim-3.0.3`` assumption
preset written out: identical rows) or ``configs/planetlab.yaml`` (``--mode default``: dcsim's own
semantics) or ``configs/planetlab-cpu.yaml`` (``--mode default-cpu``: the same in default
semantics on hosts where CPU, not memory, binds; policies as in ``default``), sets the day and the
policy in the config dict and calls ``dcsim.run``. ``--mode compat,default`` runs both.

Writes ``OUT/results.csv``: one row per (mode, day, policy) with columns mode, day, policy, vms,
energy_kwh, migrations, slatah, pdm, slav, esv, host_shutdowns, wall_s (SLA figures as
fractions), then the time-before-shutdown / time-before-migration statistics and a few extra
figures (see ``COLUMNS``). Rows already in ``OUT/results.csv`` for other (mode, day, policy) keys
are kept (so a long sweep can be run in pieces; ``--fresh`` starts over); the file is rewritten
after every run. ``--intervals`` also writes ``OUT/intervals/<mode>_<day>_<policy>.csv`` (the
run's per-interval time series).

Days default to all ten PlanetLab days; policies to npa, dvfs, thr-mmt-0.8, iqr-mmt-1.5,
mad-mmt-2.5, lr-mmt-1.2, lrr-mmt-1.2, lr-mc-1.2, lr-rs-1.2, lr-mu-1.2 (any
``<detector>-<selection>-<parameter>`` is accepted).
"""

from __future__ import annotations

import argparse
import copy
import csv
import math
import sys
import time
from functools import cache
from pathlib import Path
from typing import Any

import yaml

REPO = Path(__file__).resolve().parents[2]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

import dcsim  # noqa: E402
from dcsim.policies.consolidation import parse_policy  # noqa: E402
from dcsim.workload.traces import load_trace  # noqa: E402
from experiments.tools.pool import run_tasks  # noqa: E402

DAYS = ["20110303", "20110306", "20110309", "20110322", "20110325", "20110403", "20110409",
        "20110411", "20110412", "20110420"]
POLICIES = ["npa", "dvfs", "thr-mmt-0.8", "iqr-mmt-1.5", "mad-mmt-2.5", "lr-mmt-1.2",
            "lrr-mmt-1.2", "lr-mc-1.2", "lr-rs-1.2", "lr-mu-1.2"]
MODES = {"compat": "planetlab-cloudsim.yaml", "default": "planetlab.yaml",
         "cloudsim-like": "planetlab-cloudsim.yaml", "default-cpu": "planetlab-cpu.yaml"}
BASELINES = ("npa", "dvfs")
COLUMNS = ["mode", "day", "policy", "vms", "energy_kwh", "migrations", "slatah", "pdm", "slav",
           "esv", "host_shutdowns", "wall_s", "time_before_shutdown_mean_s",
           "time_before_shutdown_sd_s", "time_before_migration_mean_s",
           "time_before_migration_sd_s", "overall_sla_violation", "average_sla_violation",
           "mean_active_hosts", "unmet_fraction", "guests_rejected", "mean_migration_s",
           "unserved_fraction", "unserved_downtime_mi", "demand_mi"]
# summary key -> column, where the names differ
RENAME = {"energy_it_kwh": "energy_kwh", "guests_arrived": "vms"}


@cache
def n_vms(day: str) -> int:
    """Number of VMs (trace files) of one PlanetLab day."""
    return int(load_trace("planetlab", day=day).n_guests)


def vm_blocks(n: int, n_types: int = 4) -> list[tuple[int, int]]:
    """``(first, skip)`` of each VM type's block: CloudSim's type of VM i is ``i // ceil(n/4)``,
    so the first blocks hold ``ceil(n/4)`` VMs and the last one the rest (possibly empty)."""
    c = math.ceil(n / n_types)
    return [(max(0, min(c, n - k * c)), k * c) for k in range(n_types)]


def build_config(mode: str, day: str, policy: str, hosts: int = 800,
                 seed: int = 0) -> dict[str, Any]:
    """The config dict of one (mode, day, policy) run, from the shipped YAML of the mode.

    The day goes on every guest group's trace, with each group's ``count`` and
    ``selection: {first, skip}`` recomputed from the day's VM count. Policies: compat mode hands
    every name (``npa`` and ``dvfs`` included) to ``consolidation.policy``; default mode runs
    ``npa`` without a consolidation section and with idle hosts kept awake, ``dvfs`` without a
    consolidation section (idle hosts sleep), anything else as ``consolidation.policy``.
    """
    base = _base_config(mode)
    cfg = copy.deepcopy(base)
    cfg["seed"] = int(seed)
    if hosts % 2:
        raise ValueError(f"--hosts must be even (two alternating host models): {hosts}")
    for hg in cfg["datacenters"][0]["hosts"]:
        hg["count"] = hosts // 2
    blocks = vm_blocks(n_vms(day), len(cfg["guests"]))
    guests = []
    for g, (count, skip) in zip(cfg["guests"], blocks, strict=True):
        if count == 0:
            continue
        g["count"] = count
        g["workload"]["day"] = day
        g["workload"]["selection"] = {"first": count, "skip": skip}
        guests.append(g)
    cfg["guests"] = guests
    if mode == "compat":
        cfg["consolidation"]["policy"] = policy
    elif mode == "cloudsim-like":
        _cloudsim_like(cfg, policy)
    elif policy in BASELINES:
        cfg.pop("consolidation", None)
        if policy == "npa":
            cfg.setdefault("power_management", {})["sleep_idle_hosts"] = False
    else:
        cfg["consolidation"]["policy"] = policy
    return cfg


def _cloudsim_like(cfg: dict[str, Any], policy: str) -> None:
    """Replace the compat config ``cfg`` by the plain config dcsim runs for it.

    ``compat: cloudsim`` is a shorthand (``dcsim.config.compat``): the default engine runs the
    config with ``assumptions: cloudsim-3.0.3``, hosts interleaved host by host, no boot, and the
    baselines' placement and energy rule. This mode writes that config out, so that every switch
    is visible and can be changed (``experiments/cloudsim_ladder`` starts from it).
    """
    from dcsim.validate import parse_config

    cfg["consolidation"]["policy"] = policy
    plain = parse_config(copy.deepcopy(cfg)).config.model_dump(mode="json", exclude_unset=False)
    cfg.clear()
    cfg.update(plain)


@cache
def _base_config(mode: str) -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load((REPO / "configs" / MODES[mode]).read_text())
    return data


def run_one(mode: str, day: str, policy: str, hosts: int, seed: int,
            intervals_dir: str | None) -> dict[str, Any]:
    """One (mode, day, policy) run -> a results row."""
    cfg = build_config(mode, day, policy, hosts, seed)
    t0 = time.perf_counter()
    res = dcsim.run(cfg)
    wall = time.perf_counter() - t0
    if intervals_dir:
        path = Path(intervals_dir) / f"{mode}_{day}_{policy}.csv"
        tmp = path.with_suffix(".tmp")
        res.timeseries.to_csv(tmp, index=False)
        tmp.replace(path)
    s = {RENAME.get(k, k): v for k, v in res.summary.items()}
    row = {c: s.get(c) for c in COLUMNS}
    row.update(mode=mode, day=day, policy=policy, wall_s=round(wall, 3))
    return row


def _key(row: dict[str, Any]) -> tuple[str, str, str]:
    return (str(row["mode"]), str(row["day"]), str(row["policy"]))


def _write(path: Path, rows: list[dict[str, Any]]) -> None:
    tmp = path.with_suffix(".csv.tmp")
    with tmp.open("w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=COLUMNS, extrasaction="ignore")
        w.writeheader()
        w.writerows(rows)
    tmp.replace(path)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--mode", default="compat",
                    help=f"{', '.join(MODES)}, or several as a comma list (compat,default)")
    ap.add_argument("--days", default=",".join(DAYS))
    ap.add_argument("--policies", default=",".join(POLICIES))
    ap.add_argument("--out", required=True, help="output folder")
    ap.add_argument("--hosts", type=int, default=800)
    ap.add_argument("--seed", type=int, default=0, help="seed of random selection (rs)")
    ap.add_argument("--jobs", type=int, default=1, help="parallel processes")
    ap.add_argument("--intervals", action="store_true", help="also write per-interval tables")
    ap.add_argument("--fresh", action="store_true",
                    help="drop the rows already in OUT/results.csv")
    args = ap.parse_args(argv)
    modes = [m.strip() for m in args.mode.split(",") if m.strip()]
    days = [d.strip() for d in args.days.split(",") if d.strip()]
    policies = [p.strip().lower() for p in args.policies.split(",") if p.strip()]
    for m in modes:
        if m not in MODES:
            print(f"error: unknown mode {m!r} (known: {', '.join(MODES)})", file=sys.stderr)
            return 2
    for p in policies:
        try:
            parse_policy(p)
        except ValueError as e:
            print(f"error: {e}", file=sys.stderr)
            return 2
    if args.hosts < 2 or args.hosts % 2:
        print(f"error: --hosts must be even and positive (two alternating host models): "
              f"{args.hosts}", file=sys.stderr)
        return 2
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    idir = None
    if args.intervals:
        (out / "intervals").mkdir(exist_ok=True)
        idir = str(out / "intervals")
    tasks = [(m, d, p, args.hosts, args.seed, idir) for m in modes for d in days for p in policies]
    keys = {t[:3] for t in tasks}
    path = out / "results.csv"
    old: list[dict[str, Any]] = []
    if path.exists() and not args.fresh:
        with path.open(newline="") as f:
            old = [r for r in csv.DictReader(f) if _key(r) not in keys]
    rows: list[dict[str, Any]] = []

    def done(row: dict[str, Any]) -> None:
        rows.append(row)
        _write(path, old + rows)
        print(f"{row['mode']} {row['day']} {row['policy']}: {row['energy_kwh']:.2f} kWh, "
              f"{row['migrations']} migrations ({row['wall_s']:.1f} s)", flush=True)

    for row in run_tasks(run_one, tasks, args.jobs):
        done(row)
    print(f"wrote {path} ({len(old) + len(rows)} rows, {len(rows)} new)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

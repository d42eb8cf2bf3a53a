"""The assumption ladder: from CloudSim 3.0.3 to dcsim's semantics, one switch at a time.

    python experiments/cloudsim_ladder/run.py --out experiments/cloudsim_ladder --jobs 2

Every run is the default engine on one PlanetLab day (``configs/planetlab.yaml``: 800 HP ML110
G4/G5 hosts under Xen, the four CloudSim VM types, pre-copy migration over each host's 1 Gbit/s
NIC) with ``assumptions:`` set by the rung. Rung 0 is ``cloudsim-3.0.3`` (it reproduces CloudSim:
see ``experiments/planetlab_consolidation``); each later rung switches one more assumption (two
for the timing rung, which is one assumption: when CloudSim's updates happen) back to dcsim's
default, cumulatively, in the order of ``LADDER``; the last rung is dcsim's default semantics. Two
things are kept as CloudSim has them on every rung, because they are descriptions of the
experiment, not modelling assumptions: host RAM is 4096 MB (CloudSim's "4096"; the catalog says
4 GiB) and the two host models alternate host by host (CloudSim's ``i % 2``). DVFS is first fit
without consolidation on every rung.

Writes ``OUT/results.csv``: one row per (rung, day, policy) with ``COLUMNS``; rows already there
are kept and not run again (``--fresh`` starts over).
"""

from __future__ import annotations

import argparse
import csv
import importlib.util
import sys
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

import dcsim  # noqa: E402
from experiments.tools.pool import run_tasks  # noqa: E402


def _planetlab() -> Any:
    spec = importlib.util.spec_from_file_location(
        "planetlab_run", REPO / "experiments" / "planetlab_consolidation" / "run.py")
    assert spec is not None
    assert spec.loader is not None
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


PL = _planetlab()
DAYS: list[str] = PL.DAYS
POLICIES = ["dvfs", "thr-mmt-0.8", "lr-mmt-1.2", "lr-mc-1.2"]
# (rung name, switches set back to dcsim's default at this rung), cumulative
LADDER: list[tuple[str, dict[str, Any]]] = [
    ("cloudsim-3.0.3", {}),
    ("energy", {"energy": "integral"}),
    ("sla", {"sla": "dcsim"}),
    ("timing", {"update_offset": 0.0, "first_decision": "start"}),
    ("updates", {"updates": "local"}),
    ("cpu_sharing", {"cpu_sharing": "maxmin"}),
    ("zero_demand", {"zero_demand": "keep"}),
    ("slow_cores", {"slow_cores": "refuse"}),
    ("planner", {"planner": "dcsim"}),
    ("initial_placement", {"initial_placement": "policy"}),
    ("reservation", {"reservation": "configured"}),
    ("migration", {"migration": "configured"}),
    ("footprint", {"footprint": "profile"}),
]
COLUMNS = ["rung", "step", "day", "policy", "energy_kwh", "migrations", "slatah", "pdm", "slav",
           "esv", "mean_active_hosts", "unserved_fraction", "unserved_mi", "unserved_dropped_mi",
           "demand_mi",
           "guests_departed", "guests_dropped", "wall_s"]


def switches(rung: int) -> dict[str, Any]:
    """The ``assumptions`` section of a rung."""
    out: dict[str, Any] = {"preset": "cloudsim-3.0.3"}
    for _, flips in LADDER[1:rung + 1]:
        out.update(flips)
    return out


def build_config(rung: int, day: str, policy: str) -> dict[str, Any]:
    """The config of one run: configs/planetlab.yaml for ``day`` and ``policy`` at ``rung``."""
    cfg: dict[str, Any] = PL.build_config("default", day, policy)
    groups = cfg["datacenters"][0]["hosts"]
    for g in groups:
        g["ram"] = "4096MB"
    n = groups[0]["count"]
    cfg["datacenters"][0]["hosts"] = [{**groups[k % len(groups)], "count": 1}
                                      for k in range(n * len(groups))]
    if policy == "dvfs":
        cfg["placement"] = {"name": "first_fit"}
    cfg["assumptions"] = switches(rung)
    return cfg


def run_one(rung: int, day: str, policy: str) -> dict[str, Any]:
    """One run -> a results row."""
    t0 = time.perf_counter()
    s = dcsim.run(build_config(rung, day, policy)).summary
    row = {c: s.get(c) for c in COLUMNS}
    row.update(rung=rung, step=LADDER[rung][0], day=day, policy=policy,
               energy_kwh=s["energy_it_kwh"], wall_s=round(time.perf_counter() - t0, 3))
    return row


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", required=True)
    ap.add_argument("--days", default=",".join(DAYS))
    ap.add_argument("--policies", default=",".join(POLICIES))
    ap.add_argument("--rungs", default=",".join(str(i) for i in range(len(LADDER))))
    ap.add_argument("--jobs", type=int, default=1)
    ap.add_argument("--fresh", action="store_true")
    a = ap.parse_args(argv)
    out = Path(a.out)
    out.mkdir(parents=True, exist_ok=True)
    path = out / "results.csv"
    rows: list[dict[str, Any]] = []
    if path.exists() and not a.fresh:
        with path.open(newline="") as f:
            rows = list(csv.DictReader(f))
    # rows of another ladder (a rung inserted or renamed since they were written) are dropped
    current = {str(k): name for k, (name, _) in enumerate(LADDER)}
    stale = [r for r in rows if current.get(str(r["rung"])) != r["step"]]
    if stale:
        print(f"dropping {len(stale)} rows whose rung no longer has that step", flush=True)
        rows = [r for r in rows if current.get(str(r["rung"])) == r["step"]]
    done = {(int(r["rung"]), r["day"], r["policy"]) for r in rows}
    # day by day, so that an interrupted sweep leaves whole ladders
    tasks = [(int(k), d, p) for d in a.days.split(",") for k in a.rungs.split(",")
             for p in a.policies.split(",") if (int(k), d, p) not in done]

    def write(row: dict[str, Any]) -> None:
        rows.append(row)
        rows.sort(key=lambda r: (int(r["rung"]), r["policy"], r["day"]))
        tmp = path.with_suffix(".tmp")
        with tmp.open("w", newline="") as f:
            w = csv.DictWriter(f, fieldnames=COLUMNS, extrasaction="ignore")
            w.writeheader()
            w.writerows(rows)
        tmp.replace(path)
        print(f"{row['rung']} {row['step']} {row['day']} {row['policy']}: "
              f"{float(row['energy_kwh']):.1f} kWh {row['migrations']} mig "
              f"({row['wall_s']} s)", flush=True)

    for row in run_tasks(run_one, tasks, a.jobs):
        write(row)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

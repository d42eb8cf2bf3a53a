"""Carbon-aware study: placement, follow-the-renewables migration and temporal shifting on three
data centers (German, British and French grids, 2020), one week in each season.

Scenario (``base_config``): three data centers of 8 Dell R740 hosts under KVM (PUE 1.4, no CPU
overcommit: 30 such guests per host),
joined by a 10 Gbit/s WAN (20 ms), on the shipped intensity excerpts; 300 long-running VMs
(2 vCPU, 4 GiB, diurnal load) from the start and batch guests arriving at 40 per hour, each
one job of two hours at full speed on 2 vCPUs that leaves when done. Each week starts on the
Tuesday of the season's excerpt, 00:00 UTC (so that a persistence forecast has the Monday
before) and lasts seven days.

Variants: ``unaware`` (PABFD placement), ``placement`` (carbon_aware, then PABFD), ``follow``
(PABFD + follow_renewables, perfect forecast), ``shift`` (PABFD + batch guests deferrable by
8 h, perfect forecast), ``all`` (all three, perfect), ``all-persistence`` (all three with
yesterday's curve as the forecast); ``placement+follow`` and ``placement+shift`` separate
what each adds to carbon-aware placement.

Writes to ``--out``: ``results.csv`` (one row per season and variant), ``summary.md`` (means
with 95 % t intervals over the four weeks, and each variant's paired change against
``unaware``) and ``carbon_study.png``.

    python experiments/carbon_aware/study.py --out experiments/carbon_aware
"""

from __future__ import annotations

import argparse
import copy
import csv
import math
import time
from pathlib import Path
from typing import Any

import numpy as np

SEASONS = {"winter": "2020-01-07", "spring": "2020-04-07", "summer": "2020-07-07",
           "autumn": "2020-10-06"}  # Tuesdays
REGIONS = ("de", "gb", "fr")
VARIANTS = ("unaware", "placement", "follow", "shift", "placement+follow", "placement+shift",
            "all", "all-persistence")
METRICS = ("emissions_operational_kg", "energy_facility_kwh", "carbon_intensity_mean_g_per_kwh",
           "unserved_fraction", "migrations", "migration_bytes", "mean_job_time_s",
           "mean_deferral_s")


def base_config(season: str, days: int = 7) -> dict[str, Any]:
    host = {"model": "dell_r740_8280", "count": 8, "virtualization": "kvm", "storage": "4TB",
            "cpu_overcommit": 1.0}
    return {
        "name": f"carbon-{season}", "seed": 11, "duration": f"{days}d", "interval": "5m",
        "clock": {"start": f"{SEASONS[season]} 00:00", "timezone": "UTC"},
        "datacenters": [
            {"name": name, "pue": 1.4, "carbon": {"series": f"{r}-2020-{season}"},
             "hosts": [dict(host)]}
            for name, r in zip(("frankfurt", "london", "paris"), REGIONS, strict=True)],
        "network": {"per_datacenter": [{"kind": "star"}] * 3,
                    "wan": {"bandwidth": "10Gbps", "latency": "20ms"}},
        "guests": [
            {"name": "service", "type": "medium", "count": 300,
             "workload": {"kind": "diurnal", "mean": 0.3, "amplitude": 0.2, "noise_sd": 0.05}},
            {"name": "batch", "type": "medium", "count": 40 * 24 * days,
             "arrival": {"kind": "poisson", "rate": "40/h"},
             # one job of 2 vCPU x 2,500 MIPS x 7,200 s at full speed, then it leaves
             "workload": {"kind": "jobs", "count": 1, "length": 3.6e7, "spread": 0.0}},
        ],
        "placement": {"name": "pabfd"},
        "power_management": {"sleep_idle_hosts": True},
        "output": {"guest_records": False},
    }


def variant(cfg: dict[str, Any], name: str) -> dict[str, Any]:
    c = copy.deepcopy(cfg)
    c["name"] = f"{cfg['name']}-{name.replace('+', '_')}"
    forecast = "persistence" if name == "all-persistence" else "perfect"
    if name.startswith("placement") or name.startswith("all"):
        c["placement"] = {"name": "carbon_aware", "params": {"then": "pabfd"}}
    if name.endswith("follow") or name.startswith("all"):
        c["follow_renewables"] = {"every": "1h", "horizon": "6h", "hysteresis": 0.2,
                                  "forecast": forecast, "max_moves": 50}
    if name.endswith("shift") or name.startswith("all"):
        c["guests"][1]["deferrable"] = {"slack": "8h", "forecast": forecast}
    return c


def mean_ci(x: list[float]) -> tuple[float, float]:
    """Mean and the half-width of its 95 % t interval (nan for fewer than two values)."""
    from scipy import stats

    a = np.asarray(x, dtype=np.float64)
    if a.shape[0] < 2:
        return float(a.mean()), math.nan
    return float(a.mean()), float(stats.t.ppf(0.975, a.shape[0] - 1) * a.std(ddof=1)
                                  / math.sqrt(a.shape[0]))


def summary_table(rows: list[dict[str, Any]]) -> str:
    cols = ("emissions_operational_kg", "energy_facility_kwh", "unserved_fraction",
            "migrations", "migration_bytes", "mean_job_time_s")
    out = ["| variant | " + " | ".join(cols) + " | emissions vs unaware (paired) |",
           "|---|" + "---|" * (len(cols) + 1)]
    by = {(r["season"], r["variant"]): r for r in rows}
    seasons = list(dict.fromkeys(r["season"] for r in rows))
    for v in dict.fromkeys(r["variant"] for r in rows):
        cells = []
        for c in cols:
            m, h = mean_ci([float(by[(s, v)][c]) for s in seasons])
            cells.append(f"{m:.4g} ± {h:.2g}")
        rel = [float(by[(s, v)]["emissions_operational_kg"])
               / float(by[(s, "unaware")]["emissions_operational_kg"]) - 1.0 for s in seasons]
        m, h = mean_ci(rel)
        out.append(f"| {v} | " + " | ".join(cells) + f" | {100 * m:+.1f} % ± {100 * h:.1f} |")
    return "\n".join(out) + "\n"


def plot(rows: list[dict[str, Any]], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    seasons = list(dict.fromkeys(r["season"] for r in rows))
    variants = list(dict.fromkeys(r["variant"] for r in rows))
    by = {(r["season"], r["variant"]): r for r in rows}
    fig, axes = plt.subplots(1, 2, figsize=(11, 4))
    w = 0.8 / len(variants)
    x = np.arange(len(seasons))
    for k, v in enumerate(variants):
        axes[0].bar(x + k * w, [by[(s, v)]["emissions_operational_kg"] for s in seasons], w,
                    label=v)
        axes[1].bar(x + k * w, [by[(s, v)]["energy_facility_kwh"] for s in seasons], w,
                    label=v)
    for ax, title in zip(axes, ("operational emissions, kg CO2-eq", "facility energy, kWh"),
                         strict=True):
        ax.set_xticks(x + 0.4 - w / 2, seasons)
        ax.set_title(title)
    fig.legend(*axes[0].get_legend_handles_labels(), loc="lower center", ncol=len(variants),
               fontsize=8)
    fig.suptitle("One week per season, 2020: DE / GB / FR data centers")
    fig.tight_layout(rect=(0, 0.07, 1, 1))
    fig.savefig(path, dpi=120)
    plt.close(fig)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--days", type=int, default=7)
    ap.add_argument("--seasons", default=",".join(SEASONS))
    ap.add_argument("--variants", default=",".join(VARIANTS))
    ap.add_argument("--plot-only", action="store_true",
                    help="redraw the figure and summary from OUT/results.csv")
    args = ap.parse_args()
    if args.plot_only:
        with (args.out / "results.csv").open() as f:
            old = [{k: (v if k in ("season", "variant") else float(v or "nan"))
                    for k, v in r.items()} for r in csv.DictReader(f)]
        (args.out / "summary.md").write_text(summary_table(old))
        plot(old, args.out / "carbon_study.png")
        return
    import dcsim

    args.out.mkdir(parents=True, exist_ok=True)
    rows: list[dict[str, Any]] = []
    for season in args.seasons.split(","):
        base = base_config(season, args.days)
        for v in args.variants.split(","):
            t0 = time.perf_counter()
            s = dcsim.run(variant(base, v)).summary
            row = {"season": season, "variant": v, **{m: s[m] for m in METRICS},
                   "wall_s": round(time.perf_counter() - t0, 1)}
            rows.append(row)
            print(f"{season} {v:<16} {s['emissions_operational_kg']:9.1f} kg "
                  f"{s['energy_facility_kwh']:9.1f} kWh unserved {s['unserved_fraction']:.4f} "
                  f"migrations {s['migrations']} ({row['wall_s']} s)", flush=True)
    with (args.out / "results.csv").open("w", newline="") as f:
        wr = csv.DictWriter(f, fieldnames=list(rows[0]))
        wr.writeheader()
        wr.writerows(rows)
    (args.out / "summary.md").write_text(summary_table(rows))
    plot(rows, args.out / "carbon_study.png")
    print((args.out / "summary.md").read_text())


if __name__ == "__main__":
    main()

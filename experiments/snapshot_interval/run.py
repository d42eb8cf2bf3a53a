"""Snapshot interval vs lost work, snapshot traffic and energy under host failures.

    python experiments/snapshot_interval/run.py [--out DIR] [--seeds 1,2,3] [--workers N]

Runs ``config.yaml`` (next to this file: 40 KVM hosts, 600 guests, a week, host MTBF 30 d)
with periodic snapshots every 5 min … 24 h, ``full`` (RAM + disk delta every time) or
``incremental`` (dirtied pages; one full snapshot a day: ``full_every`` = 1 d / interval), plus
a ``none`` baseline (no snapshots, cold restarts), each for every seed. The failure processes
draw from their own streams, so for a given seed every variant sees the same host failures
(common random numbers): differences between points come from the snapshots alone.

Writes to ``--out`` (default: this folder): ``results.csv`` (one row per kind × interval ×
seed), ``results.md`` (means and 95 % confidence intervals over seeds) and
``snapshot_interval.png``.
"""

from __future__ import annotations

import argparse
import copy
import math
import os
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import yaml
from scipy import stats

import dcsim
from dcsim.units import parse_duration

HERE = Path(__file__).resolve().parent
CONFIG = HERE / "config.yaml"
INTERVALS = ("5m", "15m", "30m", "1h", "2h", "4h", "8h", "12h", "24h")
KINDS = ("full", "incremental")
CORE_MIPS = 2700.0  # one core of the hosts: lost MI → core-hours
KEYS = ("lost_work_mi", "demand_mi", "unmet_mi", "snapshot_traffic_bytes",
        "restore_traffic_bytes", "snapshot_energy_kwh", "energy_it_kwh", "snapshots_taken",
        "snapshots_skipped", "snapshots_aborted", "snapshot_storage_peak_bytes",
        "mean_recovery_s", "p95_recovery_s", "availability", "downtime_s", "host_failures",
        "guest_failures", "guest_restarts", "wall_s")


def config_for(kind: str, interval: str | None, seed: int) -> dict[str, Any]:
    """The base config with one snapshot setting and seed."""
    cfg: dict[str, Any] = yaml.safe_load(CONFIG.read_text())
    cfg = copy.deepcopy(cfg)
    cfg["seed"] = seed
    if kind == "none":
        cfg["faults"]["snapshots"] = None
        cfg["faults"]["recovery"]["restart"] = "cold"
        return cfg
    assert interval is not None
    snap = cfg["faults"]["snapshots"]
    snap["interval"] = interval
    snap["kind"] = kind
    snap["full_every"] = max(1, round(86400.0 / parse_duration(interval)))
    return cfg


def run_point(point: tuple[str, str | None, int]) -> dict[str, Any]:
    """Run one (kind, interval, seed) and return its row."""
    kind, interval, seed = point
    res = dcsim.run(config_for(kind, interval, seed))
    row: dict[str, Any] = {"kind": kind, "interval": interval or "",
                           "interval_s": parse_duration(interval) if interval else math.nan,
                           "seed": seed}
    row.update({k: res.summary[k] for k in KEYS})
    row["delivered_mi"] = row["demand_mi"] - row["unmet_mi"]
    row["lost_core_h"] = row["lost_work_mi"] / CORE_MIPS / 3600.0
    row["lost_fraction"] = row["lost_work_mi"] / row["delivered_mi"]
    days = float(res.summary["simulated_s"]) / 86400.0
    row["traffic_tb_per_day"] = row["snapshot_traffic_bytes"] / 1e12 / days
    row["snapshot_energy_share"] = row["snapshot_energy_kwh"] / row["energy_it_kwh"]
    n_guests = int(res.summary["guests_arrived"])
    row["snapshots_per_guest_day"] = row["snapshots_taken"] / n_guests / days
    return row


def ci95(x: pd.Series) -> float:
    """Half-width of the 95 % t confidence interval of the mean."""
    n = x.count()
    return float(stats.t.ppf(0.975, n - 1) * x.std(ddof=1) / math.sqrt(n)) if n > 1 else 0.0


def plot(df: pd.DataFrame, path: Path) -> None:
    """Four panels against the snapshot interval (log axis), mean ± 95 % CI over seeds."""
    fig, axes = plt.subplots(2, 2, figsize=(10, 7.5), constrained_layout=True)
    base = df[df["kind"] == "none"]
    panels = [
        ("lost_core_h", "work lost per week (core-hours)", axes[0, 0]),
        ("traffic_tb_per_day", "snapshot traffic (TB/day)", axes[0, 1]),
        ("snapshot_energy_kwh", "storage energy of snapshots (kWh/week)", axes[1, 0]),
        ("snapshots_per_guest_day", "snapshots completed per guest per day", axes[1, 1]),
    ]
    styles = {"full": ("tab:blue", "o"), "incremental": ("tab:orange", "s")}
    for col, label, ax in panels:
        for kind in KINDS:
            d = df[df["kind"] == kind].groupby("interval_s")[col]
            m, e = d.mean(), d.apply(ci95)
            color, marker = styles[kind]
            ax.errorbar(m.index / 3600.0, m.to_numpy(), yerr=e.to_numpy(), color=color,
                        marker=marker, capsize=3, label=kind)
        if col == "lost_core_h":
            if len(base):
                ax.axhline(base[col].mean(), color="grey", ls="--",
                           label="no snapshots (cold restart)")
            ax.set_yscale("log")
        if col == "snapshots_per_guest_day":
            x = np.asarray(sorted(df["interval_s"].dropna().unique()))
            ax.plot(x / 3600.0, 86400.0 / x, color="grey", ls=":", label="as scheduled")
            ax.set_yscale("log")
        ax.set_xscale("log")
        ax.set_xlabel("snapshot interval (h)")
        ax.set_ylabel(label)
        ax.set_xticks([1 / 12, 0.25, 0.5, 1, 2, 4, 8, 12, 24],
                      ["5m", "15m", "30m", "1h", "2h", "4h", "8h", "12h", "24h"])
        ax.minorticks_off()
        ax.grid(True, which="major", alpha=0.3)
        ax.legend(fontsize=8)
    n_seeds = df["seed"].nunique()
    fig.suptitle("Snapshot interval trade-off: 40 hosts (MTBF 30 d), 600 guests, one week, "
                 f"storage 2 GB/s; mean ± 95 % CI over {n_seeds} seeds", fontsize=10)
    fig.savefig(path, dpi=130)
    plt.close(fig)


def table(df: pd.DataFrame) -> str:
    """Markdown table of the means (± 95 % CI) per kind and interval."""
    cols = [("lost_core_h", "lost work (core-h/week)", "{:.1f}"),
            ("lost_fraction", "lost / delivered", "{:.2e}"),
            ("traffic_tb_per_day", "traffic (TB/day)", "{:.2f}"),
            ("snapshot_energy_kwh", "snapshot energy (kWh/week)", "{:.1f}"),
            ("snapshot_energy_share", "of IT energy", "{:.2%}"),
            ("snapshots_per_guest_day", "snapshots/guest/day", "{:.2f}"),
            ("snapshot_storage_peak_bytes", "peak storage (TB)", "{:.2f}"),
            ("mean_recovery_s", "mean recovery (s)", "{:.0f}"),
            ("availability", "availability", "{:.6f}")]
    lines = ["| kind | interval | " + " | ".join(c[1] for c in cols) + " |",
             "|---|---|" + "---|" * len(cols)]
    order = [("none", "")] + [(k, i) for k in KINDS for i in INTERVALS]
    for kind, iv in order:
        d = df[(df["kind"] == kind) & (df["interval"].fillna("") == iv)]
        if not len(d):
            continue
        cells = []
        for col, _, fmt in cols:
            x = d[col]
            if col == "snapshot_storage_peak_bytes":
                x = x / 1e12
            m, e = x.mean(), ci95(x)
            cells.append(fmt.format(m) + (f" ± {fmt.format(e)}" if col in (
                "lost_core_h", "traffic_tb_per_day", "snapshot_energy_kwh") else ""))
        lines.append(f"| {kind} | {iv or '–'} | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, default=HERE)
    ap.add_argument("--seeds", default="1,2,3")
    ap.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    ap.add_argument("--plot-only", action="store_true",
                    help="redraw the table and figure from OUT/results.csv")
    args = ap.parse_args()
    if args.plot_only:
        df = pd.read_csv(args.out / "results.csv", keep_default_na=False,
                         na_values={"interval_s": ["", "nan"]})
        (args.out / "results.md").write_text(table(df))
        plot(df, args.out / "snapshot_interval.png")
        return
    seeds = [int(s) for s in args.seeds.split(",")]
    points: list[tuple[str, str | None, int]] = [("none", None, s) for s in seeds]
    points += [(k, i, s) for k in KINDS for i in INTERVALS for s in seeds]
    with ProcessPoolExecutor(max_workers=args.workers) as pool:
        rows = list(pool.map(run_point, points))
    df = pd.DataFrame(rows)
    args.out.mkdir(parents=True, exist_ok=True)
    df.to_csv(args.out / "results.csv", index=False)
    (args.out / "results.md").write_text(table(df))
    plot(df, args.out / "snapshot_interval.png")


if __name__ == "__main__":
    main()

"""Memory overcommit study: consolidation ratio and its cost against the overcommit ratio.

Question: how many guests per active host does memory overcommit buy (1.0 to 2.0), with page
sharing on or off and guests of one OS image or of four, and what does it cost in memory-induced
unmet demand (balloons, host swapping)?

Scenario (``base_config``): each day of the shipped Google 2011 trace (``google``, days 1-10,
148-189 series a day, CPU and memory utilisation of the same job) is one replication. Every
series is a ``small`` guest (1 vCPU of 2,500 MIPS, 2 GiB) whose CPU demand is the series' CPU
column and whose working set is its memory column (``memory: trace``). ``homogeneous``: all
guests run one ``os_image``; ``mixed``: series k runs image k mod 4. 40 IBM x3550 (12 cores,
16 GiB) under KVM, CPU overcommit 2, ``mem_overcommit`` = the ratio; ``pabfd_mem``
placement; THR-MMT 0.8 dynamic consolidation; one day at 5-minute intervals.

Variants (``VARIANTS``): ``kvm`` (the KVM profile as shipped: sharing fraction 0.366,
ballooning with a 2.9 % cost, swap penalty 10), and three that test the causes the ``kvm``
results suggest: ``no-balloon`` (no balloon driver: the host swaps what sharing does not
cover), ``free-balloon`` (balloon cost 0: what is left of the memory loss is swapping and
balloons sized on an older working set) and ``pabfd`` (plain PABFD, no sharing affinity; run
with sharing on and mixed images only, the one case where affinity could change anything).
``pressure`` and ``pressure-no-balloon`` add memory-aware consolidation
(``consolidation.memory_pressure``: swapping hosts shed guests to hosts that hold them without
swapping), with and without balloons, on the same one line (``ONE_LINE``). ``--add`` runs
variants into an existing ``results.csv``.

Writes to ``--out``: ``results.csv`` (one row per day and point), ``summary.md`` (means with
95 % t intervals over the days; per ratio step the hosts saved and the memory loss added,
paired by day; where overcommit stops paying) and ``memory_study.png``.

    python experiments/memory_overcommit/study.py --out experiments/memory_overcommit
"""

from __future__ import annotations

import argparse
import csv
import math
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

RATIOS = (1.0, 1.25, 1.5, 1.75, 2.0)
DAYS = tuple(str(d) for d in range(1, 11))
SHARING = ("on", "off")
IMAGES = ("homogeneous", "mixed")
N_IMAGES = 4
N_HOSTS = 40
VARIANTS: dict[str, dict[str, Any]] = {
    "kvm": {},
    "no-balloon": {"profile": {"ballooning": False}},
    "free-balloon": {"profile": {"balloon_cost": 0.0}},
    "pabfd": {"placement": "pabfd"},
    # memory-aware consolidation (consolidation.memory_pressure): swapping hosts shed guests
    "pressure": {"memory_pressure": True},
    "pressure-no-balloon": {"memory_pressure": True, "profile": {"ballooning": False}},
}
#: variants run on one line only (sharing on, mixed images)
ONE_LINE = ("pabfd", "pressure", "pressure-no-balloon")
KEYS = ("variant", "sharing", "images", "ratio", "day")
METRICS = ("mean_guests_per_active_host", "mean_active_hosts", "max_active_hosts",
           "energy_hosts_kwh", "unmet_memory_fraction", "unserved_fraction", "unmet_fraction",
           "migrations", "mem_allocated_gb_mean", "mem_active_gb_mean", "mem_physical_gb_mean",
           "mem_shared_gb_mean", "mem_ballooned_gb_mean", "mem_swapped_gb_mean",
           "mem_physical_peak_fraction", "mean_cpu_utilization", "guests_placed",
           "guests_rejected")


def n_series(day: str) -> int:
    """Series (guests) the shipped Google trace has on ``day``."""
    from dcsim.workload.traces import load_trace

    return int(load_trace("google", day).util.shape[0])


def base_config(day: str, ratio: float, sharing: str, images: str, variant: str = "kvm",
                n: int | None = None) -> dict[str, Any]:
    """The config of one point (see the module docstring); ``n`` series of the day (all)."""
    n = n_series(day) if n is None else n
    # one group per series, in the trace's order, so that the images interleave as guests
    # arrive (series k has image k mod 4 when mixed); a group per image would place each
    # image's guests side by side, which PABFD's stable order by size would keep
    groups = [{"name": f"vm{k}", "type": "small", "count": 1,
               "os_image": f"image-{k % N_IMAGES}" if images == "mixed" else "image-0",
               "workload": {"kind": "trace", "name": "google", "day": day,
                            "selection": {"first": 1, "skip": k}},
               "memory": "trace"} for k in range(n)]
    v = VARIANTS[variant]
    profile = {"page_sharing": sharing == "on", **v.get("profile", {})}
    return {
        "name": f"memory-{variant}-{sharing}-{images}-{ratio:g}-day{day}", "seed": 1,
        "duration": "1d", "interval": "5m",
        "datacenters": [{"hosts": [{"model": "ibm_x3550_x5675", "count": N_HOSTS,
                                    "virtualization": "kvm", "cpu_overcommit": 2.0,
                                    "mem_overcommit": ratio}]}],
        "virtualization_profiles": {"kvm": profile},
        "guests": groups,
        "placement": {"name": v.get("placement", "pabfd_mem")},
        "consolidation": {"policy": "thr-mmt-0.8",
                          "memory_pressure": bool(v.get("memory_pressure", False))},
        "output": {"guest_records": False},
    }


# --------------------------------------------------------------------------- aggregation


def mean_ci(x: Any) -> tuple[float, float]:
    """Mean and the half-width of its 95 % t interval (nan for fewer than two values)."""
    from scipy import stats

    a = np.asarray(x, dtype=np.float64)
    if a.shape[0] < 2:
        return (float(a.mean()) if a.shape[0] else math.nan), math.nan
    return float(a.mean()), float(stats.t.ppf(0.975, a.shape[0] - 1) * a.std(ddof=1)
                                  / math.sqrt(a.shape[0]))


def aggregate(rows: pd.DataFrame) -> pd.DataFrame:
    """One row per (variant, sharing, images, ratio): ``<metric>_mean`` and ``<metric>_ci``
    over the days, and, paired by day against the same line:

    - ``hosts_saved``: 1 − hosts / hosts at the line's lowest ratio;
    - ``step_saved``: (hosts at the previous ratio − hosts) / hosts at the lowest ratio, the
      share of the baseline hosts this ratio step saves;
    - ``step_cost``: unmet_memory_fraction − that at the previous ratio, the share of offered
      load this step adds to the memory loss;
    - ``step_net`` = step_saved − step_cost (NaN at the lowest ratio).

    Only days present at every ratio of a line count in the paired columns."""
    out = []
    for line, g in rows.groupby(["variant", "sharing", "images"], sort=False):
        piv_h = g.pivot_table(index="day", columns="ratio", values="mean_active_hosts")
        piv_u = g.pivot_table(index="day", columns="ratio", values="unmet_memory_fraction")
        piv_h, piv_u = piv_h.dropna(), piv_u.loc[piv_h.dropna().index].dropna()
        piv_h = piv_h.loc[piv_u.index]
        ratios = sorted(g["ratio"].unique())
        base = piv_h[ratios[0]]
        for k, r in enumerate(ratios):
            sub = g[g["ratio"] == r]
            rec: dict[str, Any] = dict(zip(("variant", "sharing", "images"), line, strict=True))
            rec["ratio"] = r
            rec["days"] = int(sub.shape[0])
            for m in METRICS:
                rec[f"{m}_mean"], rec[f"{m}_ci"] = mean_ci(sub[m])
            rec["hosts_saved_mean"], rec["hosts_saved_ci"] = mean_ci(1.0 - piv_h[r] / base)
            if k == 0:
                for c in ("step_saved", "step_cost", "step_net"):
                    rec[f"{c}_mean"] = rec[f"{c}_ci"] = math.nan
            else:
                prev = ratios[k - 1]
                saved = (piv_h[prev] - piv_h[r]) / base
                cost = piv_u[r] - piv_u[prev]
                rec["step_saved_mean"], rec["step_saved_ci"] = mean_ci(saved)
                rec["step_cost_mean"], rec["step_cost_ci"] = mean_ci(cost)
                rec["step_net_mean"], rec["step_net_ci"] = mean_ci(saved - cost)
            out.append(rec)
    return pd.DataFrame(out)


def stops_paying(agg: pd.DataFrame) -> dict[tuple[str, str, str], float]:
    """Per line, the ratio beyond which overcommit stops paying: the start of the first ratio
    step whose added memory loss (share of offered load) exceeds the hosts it saves (share of
    the baseline hosts), i.e. whose ``step_net_mean`` < 0; NaN if every step pays."""
    out: dict[tuple[str, str, str], float] = {}
    for line, g in agg.groupby(["variant", "sharing", "images"], sort=False):
        g = g.sort_values("ratio")
        ratios = g["ratio"].tolist()
        net = g["step_net_mean"].tolist()
        key = (str(line[0]), str(line[1]), str(line[2]))
        out[key] = math.nan
        for k in range(1, len(ratios)):
            if net[k] < 0:
                out[key] = ratios[k - 1]
                break
    return out


def _pct(m: float, h: float, digits: int = 1) -> str:
    if math.isnan(m):
        return "—"
    return f"{100 * m:.{digits}f}" + ("" if math.isnan(h) else f" ± {100 * h:.{digits}f}")


def summary_table(agg: pd.DataFrame) -> str:
    """Markdown: one table per variant, and the ratio where overcommit stops paying."""
    out: list[str] = []
    stop = stops_paying(agg)
    for variant in dict.fromkeys(agg["variant"]):
        out += [f"### {variant}", "",
                "| sharing | images | ratio | guests/active host | active hosts | hosts saved % "
                "| host energy kWh | unmet memory % | unserved % | migrations | shared GB "
                "| ballooned GB | swapped GB | step: hosts saved % | step: memory loss % |",
                "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|"]
        for _, r in agg[agg["variant"] == variant].iterrows():
            out.append(
                f"| {r['sharing']} | {r['images']} | {r['ratio']:g} "
                f"| {r['mean_guests_per_active_host_mean']:.2f} "
                f"| {r['mean_active_hosts_mean']:.1f} ± {r['mean_active_hosts_ci']:.1f} "
                f"| {_pct(r['hosts_saved_mean'], r['hosts_saved_ci'])} "
                f"| {r['energy_hosts_kwh_mean']:.1f} ± {r['energy_hosts_kwh_ci']:.1f} "
                f"| {_pct(r['unmet_memory_fraction_mean'], r['unmet_memory_fraction_ci'], 2)} "
                f"| {_pct(r['unserved_fraction_mean'], r['unserved_fraction_ci'], 2)} "
                f"| {r['migrations_mean']:.1f} "
                f"| {r['mem_shared_gb_mean_mean']:.1f} | {r['mem_ballooned_gb_mean_mean']:.1f} "
                f"| {r['mem_swapped_gb_mean_mean']:.2f} "
                f"| {_pct(r['step_saved_mean'], r['step_saved_ci'])} "
                f"| {_pct(r['step_cost_mean'], r['step_cost_ci'], 2)} |")
        out += ["", "Overcommit stops paying (first step whose added memory loss exceeds the "
                "hosts it saves) beyond:", ""]
        for (v, sh, im), r in stop.items():
            if v == variant:
                out.append(f"- sharing {sh}, {im}: "
                           + ("every step pays up to 2.0" if math.isnan(r) else f"{r:g}"))
        out.append("")
    return "\n".join(out)


# --------------------------------------------------------------------------- figure


def plot(agg: pd.DataFrame, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 3, figsize=(14, 4.2))
    styles = {("on", "homogeneous"): ("C0", "-", "o"), ("on", "mixed"): ("C1", "-", "x"),
              ("off", "homogeneous"): ("C0", ":", "o"), ("off", "mixed"): ("C1", ":", "x")}
    panels = ((axes[0], "kvm", "mean_guests_per_active_host", 1.0,
               "guests per active host (KVM)"),
              (axes[1], "kvm", "unmet_memory_fraction", 100.0,
               "unmet demand from memory, % (KVM)"),
              (axes[2], "no-balloon", "unmet_memory_fraction", 100.0,
               "unmet demand from memory, % (no balloon)"))
    for ax, variant, metric, scale, title in panels:
        for (sh, im), (color, ls, mk) in styles.items():
            g = agg[(agg["variant"] == variant) & (agg["sharing"] == sh)
                    & (agg["images"] == im)].sort_values("ratio")
            if g.empty:
                continue
            ax.errorbar(g["ratio"], scale * g[f"{metric}_mean"],
                        yerr=scale * g[f"{metric}_ci"].fillna(0.0), color=color, ls=ls,
                        marker=mk, ms=6 if mk == "o" else 7, capsize=3,
                        label=f"sharing {sh}, {im}")
        ax.set_xlabel("memory overcommit ratio")
        ax.set_title(title, fontsize=10)
        ax.grid(alpha=0.3)
    axes[0].legend(fontsize=8)
    axes[0].text(0.97, 0.03, "all four lines coincide:\nplacement is by allocation",
                 transform=axes[0].transAxes, ha="right", va="bottom", fontsize=8)
    axes[1].text(0.03, 0.97, "sharing off: both\nimage mixes coincide", va="top",
                 transform=axes[1].transAxes, fontsize=8)
    fig.suptitle("Google 2011 working sets, 10 days, 40 x IBM x3550 (16 GiB) under KVM; "
                 "bars: 95 % t intervals over days", fontsize=10)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


# --------------------------------------------------------------------------- main


def load(path: Path) -> pd.DataFrame:
    """``results.csv`` with its key columns typed (day as a string)."""
    return pd.read_csv(path, dtype={"day": str})


def write_outputs(rows: pd.DataFrame, out: Path) -> None:
    agg = aggregate(rows)
    (out / "summary.md").write_text(summary_table(agg))
    plot(agg, out / "memory_study.png")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--days", default=",".join(DAYS))
    ap.add_argument("--variants", default=",".join(VARIANTS))
    ap.add_argument("--ratios", default=",".join(f"{r:g}" for r in RATIOS))
    ap.add_argument("--plot-only", action="store_true",
                    help="redraw the figure and summary from OUT/results.csv")
    ap.add_argument("--add", action="store_true",
                    help="add the runs to OUT/results.csv (replacing rows of the same points)")
    args = ap.parse_args()
    if args.plot_only:
        write_outputs(load(args.out / "results.csv"), args.out)
        return
    import dcsim

    args.out.mkdir(parents=True, exist_ok=True)
    rows: list[dict[str, Any]] = []
    ratios = [float(r) for r in args.ratios.split(",")]
    for day in args.days.split(","):
        n = n_series(day)
        for variant in args.variants.split(","):
            for sharing in SHARING:
                for images in IMAGES:
                    if variant in ONE_LINE and (sharing, images) != ("on", "mixed"):
                        continue
                    for ratio in ratios:
                        t0 = time.process_time()
                        s = dcsim.run(base_config(day, ratio, sharing, images, variant,
                                                  n)).summary
                        rows.append({"variant": variant, "sharing": sharing, "images": images,
                                     "ratio": ratio, "day": day,
                                     **{m: s[m] for m in METRICS},
                                     "cpu_s": round(time.process_time() - t0, 2)})
        print(f"day {day}: {len(rows)} runs", flush=True)
    if args.add and (args.out / "results.csv").exists():
        old = load(args.out / "results.csv")
        new = pd.DataFrame(rows)
        keep = ~old.set_index(list(KEYS)).index.isin(new.set_index(list(KEYS)).index)
        rows = [*old[keep].to_dict("records"), *new.to_dict("records")]
    with (args.out / "results.csv").open("w", newline="") as f:
        wr = csv.DictWriter(f, fieldnames=list(rows[0]))
        wr.writeheader()
        wr.writerows(rows)
    write_outputs(load(args.out / "results.csv"), args.out)
    print((args.out / "summary.md").read_text())


if __name__ == "__main__":
    main()

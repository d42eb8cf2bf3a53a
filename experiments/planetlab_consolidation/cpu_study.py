"""The CPU-bound default-mode study: medians and spread over days, ranking against CloudSim's.

    python experiments/planetlab_consolidation/cpu_study.py \
        experiments/planetlab_consolidation/results-cpu.csv \
        experiments/planetlab_consolidation/results.csv

Reads the ``default-cpu`` rows (``run.py --mode default-cpu``) and the ``compat`` rows of the
same days, and writes next to the first file ``cpu_study.md`` (per policy: days, median and
min–max over days of energy, migrations, SLAV, ESV, mean active hosts and the share of the
offered load left unserved (``unserved_fraction``: contention, migration downtime, dropped VMs);
the ranks of the migrating policies by median energy, median ESV and median unserved share in
both modes, and on how many days each policy ranked first by energy; the baselines npa and dvfs
are not ranked: they do not migrate, so their PDM, SLAV and ESV are 0 whatever they leave
unserved) and ``cpu_study.png``.
Only days present in both files are compared.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

POLICIES = ["npa", "dvfs", "thr-mmt-0.8", "iqr-mmt-1.5", "mad-mmt-2.5", "lr-mmt-1.2",
            "lrr-mmt-1.2", "lr-mc-1.2", "lr-rs-1.2", "lr-mu-1.2"]
METRICS = [("energy_kwh", "energy kWh", 1.0, ".1f"), ("migrations", "migrations", 1.0, ",.0f"),
           ("slav", "SLAV ×10⁻⁵", 1e5, ".2f"), ("esv", "ESV ×10⁻³", 1e3, ".2f"),
           ("mean_active_hosts", "active hosts", 1.0, ".0f"),
           ("unserved_fraction", "unserved %", 100.0, ".2f")]
RANKS = [("energy_kwh", "rank_energy", "rank energy"), ("esv", "rank_esv", "rank ESV"),
         ("unserved_fraction", "rank_unserved", "rank unserved")]
BASELINES = ["npa", "dvfs"]


def load(cpu_csv: Path, compat_csv: Path) -> pd.DataFrame:
    """``default-cpu`` rows and the ``compat`` rows of the same days."""
    cpu = pd.read_csv(cpu_csv, dtype={"day": str})
    cpu = cpu[cpu["mode"] == "default-cpu"]
    ref = pd.read_csv(compat_csv, dtype={"day": str})
    ref = ref[(ref["mode"] == "compat") & ref["day"].isin(set(cpu["day"]))]
    return pd.concat([cpu, ref], ignore_index=True)


def spread(df: pd.DataFrame) -> pd.DataFrame:
    """Per (mode, policy): days, and median / min / max over days of every metric."""
    g = df.groupby(["mode", "policy"])
    out = g.size().rename("days").to_frame()
    for col, *_ in METRICS:
        out[f"{col}_median"] = g[col].median()
        out[f"{col}_min"] = g[col].min()
        out[f"{col}_max"] = g[col].max()
    out = out.reset_index()
    for mode in out["mode"].unique():
        m = out["mode"] == mode
        dyn = m & ~out["policy"].isin(BASELINES)  # ranks among migrating policies
        for col, key, _ in RANKS:
            out.loc[dyn, key] = out.loc[dyn, f"{col}_median"].rank(method="min")
    # on how many days each migrating policy used the least energy (ties count for each)
    mig = df[~df["policy"].isin(BASELINES)]
    best = mig.groupby(["mode", "day"])["energy_kwh"].transform("min")
    wins = mig[mig["energy_kwh"] == best].groupby(["mode", "policy"]).size()
    out["days_first_energy"] = [
        np.nan if p in BASELINES else float(wins.get((m, p), 0))
        for m, p in zip(out["mode"], out["policy"], strict=True)]
    return out


def _cell(r: pd.Series, col: str, scale: float, spec: str) -> str:
    med, lo, hi = (r[f"{col}_{k}"] * scale for k in ("median", "min", "max"))
    if np.isnan(med):
        return "–"
    if r["days"] == 1 or lo == hi:
        return format(med, spec)
    return f"{format(med, spec)} ({format(lo, spec)}–{format(hi, spec)})"


def markdown(t: pd.DataFrame) -> str:
    head = ("| mode | policy | days | " + " | ".join(lbl for _, lbl, _, _ in METRICS)
            + " | " + " | ".join(lbl for *_, lbl in RANKS) + " | days first by energy |")
    rows = [head, "|" + "---|" * (len(METRICS) + len(RANKS) + 4)]
    order = {p: i for i, p in enumerate(POLICIES)}
    t = t.assign(_p=t["policy"].map(order)).sort_values(["mode", "_p"], ascending=[False, True])
    for _, r in t.iterrows():
        ranks = [("–" if np.isnan(r[k]) else str(int(r[k])))
                 for k in [key for _, key, _ in RANKS] + ["days_first_energy"]]
        rows.append("| " + " | ".join([r["mode"], f"`{r['policy']}`", str(int(r["days"]))]
                                       + [_cell(r, c, s, f) for c, _, s, f in METRICS]
                                       + ranks) + " |")
    return "\n".join(rows) + "\n"


def figure(t: pd.DataFrame, path: Path) -> None:
    """Median energy, ESV and unserved share per policy, both modes, whiskers min–max over days."""
    pols = [p for p in POLICIES if p in set(t["policy"])]
    fig, axes = plt.subplots(1, 3, figsize=(16, 4.2))
    x = np.arange(len(pols))
    panels = [("energy_kwh", "energy (kWh)", 1.0), ("esv", "ESV (×10⁻³)", 1e3),
              ("unserved_fraction", "offered load unserved (%)", 100.0)]
    for ax, (col, label, scale) in zip(axes, panels, strict=True):
        for k, mode in enumerate(["compat", "default-cpu"]):
            sub = t[t["mode"] == mode].set_index("policy")
            if sub.empty:
                continue
            med = np.array([sub[f"{col}_median"].get(p, np.nan) for p in pols]) * scale
            lo = np.array([sub[f"{col}_min"].get(p, np.nan) for p in pols]) * scale
            hi = np.array([sub[f"{col}_max"].get(p, np.nan) for p in pols]) * scale
            ax.bar(x + (k - 0.5) * 0.4, med, 0.4, label=mode,
                   yerr=[med - lo, hi - med], capsize=2)
        ax.set_xticks(x, pols, rotation=40, ha="right")
        ax.set_ylabel(label)
        ax.grid(axis="y", alpha=0.3)
    axes[0].legend(frameon=False)
    fig.suptitle("PlanetLab: CloudSim 3.0.3 (compat) vs dcsim semantics on CPU-bound hosts "
                 "(median over days, bars min–max)")
    fig.tight_layout()
    fig.savefig(path, dpi=130)
    plt.close(fig)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("cpu_csv", type=Path)
    ap.add_argument("compat_csv", type=Path)
    args = ap.parse_args(argv)
    t = spread(load(args.cpu_csv, args.compat_csv))
    out = args.cpu_csv.parent
    (out / "cpu_study.md").write_text(markdown(t), encoding="utf-8")
    figure(t, out / "cpu_study.png")
    print(markdown(t))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""Figures and tables of the assumption ladder from ``results.csv``.

    python experiments/cloudsim_ladder/make_figures.py experiments/cloudsim_ladder

Per metric: ``ladder_<metric>.png`` / ``.pdf``, a waterfall per policy: for each rung a floating
bar from the previous rung's median over days to this rung's (green: the metric falls, red: it
rises), whiskers = min-max over days. Writes ``summary.csv`` (median, min, max and day count per
rung, policy and metric) and ``summary.md`` (median tables, the step each rung causes, and the
policy ranking per rung by median energy and by median ESV). Only days that have every rung of a
policy are used, so that each policy's ladder is over the same days.
"""

from __future__ import annotations

import sys
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import pandas as pd

METRICS = {
    "energy_kwh": ("energy (kWh)", 1.0),
    "migrations": ("migrations", 1.0),
    "slatah": ("SLATAH (%)", 100.0),
    "pdm": ("PDM (%)", 100.0),
    "slav": ("SLAV (x 1e-5)", 1e5),
    "esv": ("ESV (x 1e-3)", 1e3),
    "mean_active_hosts": ("mean active hosts", 1.0),
    "unserved_fraction": ("unserved demand (% of offered)", 100.0),
}


def complete(df: pd.DataFrame) -> pd.DataFrame:
    """The (policy, day) pairs that have rung 0, over the longest prefix of rungs they all have.

    A sweep still running (or cut short) thus gives a shorter ladder over the same runs, never a
    ladder whose rungs cover different days.
    """
    pairs = set(map(tuple, df[df["rung"] == 0][["policy", "day"]].to_numpy().tolist()))
    keep = []
    for rung in sorted(df["rung"].unique()):
        have = set(map(tuple, df[df["rung"] == rung][["policy", "day"]].to_numpy().tolist()))
        if not pairs <= have:
            break
        keep.append(rung)
    key = list(zip(df["policy"], df["day"], strict=True))
    mask = df["rung"].isin(keep) & pd.Series([k in pairs for k in key], index=df.index)
    return df[mask]


def summarize(df: pd.DataFrame) -> pd.DataFrame:
    g = df.groupby(["rung", "step", "policy"])
    out = []
    for m in METRICS:
        s = g[m].agg(["median", "min", "max", "count"]).reset_index()
        s.insert(3, "metric", m)
        out.append(s)
    return pd.concat(out, ignore_index=True)


def waterfall(s: pd.DataFrame, metric: str, out: Path) -> None:
    label, scale = METRICS[metric]
    pols = sorted(s["policy"].unique())
    fig, axes = plt.subplots(len(pols), 1, figsize=(9, 2.3 * len(pols)), sharex=True,
                             squeeze=False)
    for ax, pol in zip(axes[:, 0], pols, strict=True):
        d = s[(s["metric"] == metric) & (s["policy"] == pol)].sort_values("rung")
        med = d["median"].to_numpy() * scale
        lo = d["min"].to_numpy() * scale
        hi = d["max"].to_numpy() * scale
        x = range(len(d))
        prev = [med[0], *med[:-1]]
        for i in x:
            if i == 0:
                ax.bar(i, med[0], color="0.55", width=0.7)
            else:
                b, t = sorted((prev[i], med[i]))
                ax.bar(i, max(t - b, 1e-12), bottom=b, width=0.7,
                       color="tab:green" if med[i] < prev[i] else "tab:red")
        ax.errorbar(list(x), med, yerr=[med - lo, hi - med], fmt="k.", ms=3, lw=0.8, capsize=2)
        ax.set_ylabel(label, fontsize=8)
        ax.set_title(pol, fontsize=9, loc="left")
        ax.grid(axis="y", alpha=0.3)
    steps = s[s["metric"] == metric].drop_duplicates("rung").sort_values("rung")["step"]
    axes[-1, 0].set_xticks(range(len(steps)))
    axes[-1, 0].set_xticklabels(steps, rotation=35, ha="right", fontsize=8)
    fig.suptitle(f"{label}: CloudSim 3.0.3 -> dcsim, one assumption at a time "
                 "(median over days, whiskers min-max)", fontsize=9)
    fig.tight_layout()
    for ext in ("png", "pdf"):
        fig.savefig(out / f"ladder_{metric}.{ext}", dpi=130)
    plt.close(fig)


def tables(s: pd.DataFrame, days: int) -> str:
    lines = [f"Medians over {days} days (min-max in `summary.csv`).", ""]
    for m, (label, scale) in METRICS.items():
        d = s[s["metric"] == m].pivot(index=["rung", "step"], columns="policy", values="median")
        lines += [f"**{label}**", "", "| rung | step | " + " | ".join(d.columns) + " |",
                  "|---|---|" + "---|" * len(d.columns)]
        prev = None
        for (rung, step), row in d.iterrows():
            cells = []
            for c in d.columns:
                v = row[c] * scale
                if prev is None:
                    cells.append(f"{v:.4g}")
                else:
                    p = prev[c] * scale
                    rel = f" ({(v / p - 1) * 100:+.0f} %)" if p else ""
                    cells.append(f"{v:.4g}{rel}")
            lines.append(f"| {rung} | {step} | " + " | ".join(cells) + " |")
            prev = row
        lines.append("")
    lines += ["**Ranking by median energy / by median ESV (best first)**", "",
              "| rung | step | by energy | by ESV |", "|---|---|---|---|"]
    e = s[s["metric"] == "energy_kwh"].pivot(index=["rung", "step"], columns="policy",
                                             values="median")
    v = s[s["metric"] == "esv"].pivot(index=["rung", "step"], columns="policy", values="median")
    for key in e.index:
        by_e = " < ".join(e.loc[key].sort_values().index)
        mig = [p for p in v.columns if p != "dvfs"]
        by_v = " < ".join(v.loc[key, mig].sort_values().index)
        lines.append(f"| {key[0]} | {key[1]} | {by_e} | {by_v} |")
    return "\n".join(lines) + "\n"


def main(folder: str) -> int:
    out = Path(folder)
    df = complete(pd.read_csv(out / "results.csv", dtype={"day": str}))
    s = summarize(df)
    s.to_csv(out / "summary.csv", index=False)
    for m in METRICS:
        waterfall(s, m, out)
    (out / "summary.md").write_text(tables(s, int(df["day"].nunique())))
    print(f"{len(df)} runs, {df['day'].nunique()} days, {df['policy'].nunique()} policies")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1] if len(sys.argv) > 1 else "experiments/cloudsim_ladder"))

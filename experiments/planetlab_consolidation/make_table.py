"""Medians over the PlanetLab days per (mode, policy), as CSV and Markdown, and a figure.

    python experiments/planetlab_consolidation/make_table.py \
        experiments/planetlab_consolidation/results/results.csv

Reads one or more ``results.csv`` files written by ``run.py`` and writes, next to the first one,
``medians.csv``, ``medians.md`` and ``medians.png`` (grouped bars of median energy, migrations,
SLAV and mean active hosts per policy, one bar per mode). ``--out DIR`` writes them elsewhere;
``--modes`` picks the modes (default compat and default).
"""

from __future__ import annotations

import argparse
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

MODES = ["compat", "default"]
POLICIES = ["npa", "dvfs", "thr-mmt-0.8", "iqr-mmt-1.5", "mad-mmt-2.5", "lr-mmt-1.2",
            "lrr-mmt-1.2", "lr-mc-1.2", "lr-rs-1.2", "lr-mu-1.2"]
MEDIAN_OF = ["energy_kwh", "migrations", "slatah", "pdm", "slav", "esv", "host_shutdowns",
             "mean_active_hosts", "unmet_fraction", "unserved_fraction", "wall_s"]


def medians(df: pd.DataFrame) -> pd.DataFrame:
    """One row per (mode, policy): number of days, medians, and the guests rejected in all."""
    df = df.copy()
    order = {p: i for i, p in enumerate(POLICIES)}
    g = df.groupby(["mode", "policy"], sort=False)
    out = g[MEDIAN_OF].median()
    out.insert(0, "days", g.size())
    out["rejected_total"] = g["guests_rejected"].sum(min_count=1)
    out["wall_s_total"] = g["wall_s"].sum()
    out = out.reset_index()
    out["_m"] = out["mode"].map({m: i for i, m in enumerate(MODES)}).fillna(len(MODES))
    out["_p"] = out["policy"].map(order).fillna(len(order))
    return out.sort_values(["_m", "_p", "policy"]).drop(columns=["_m", "_p"]).reset_index(drop=True)


def _fmt(x: float, spec: str) -> str:
    return "–" if x is None or (isinstance(x, float) and np.isnan(x)) else format(x, spec)


def markdown(t: pd.DataFrame) -> str:
    """The medians as a Markdown table (SLA figures in %, SLAV in units of 10^-5)."""
    head = ("| mode | policy | days | energy kWh | migrations | SLATAH % | PDM % | SLAV ×10⁻⁵ "
            "| ESV ×10⁻³ | host shutdowns | mean active hosts | unmet % | unserved % "
            "| rejected (all days) |")
    rows = [head, "|" + "---|" * 14]
    rows += ["| " + " | ".join([
        r.mode, f"`{r.policy}`", str(int(r.days)), _fmt(r.energy_kwh, ".1f"),
        _fmt(r.migrations, ",.0f"), _fmt(100 * r.slatah, ".2f"), _fmt(100 * r.pdm, ".4f"),
        _fmt(1e5 * r.slav, ".2f"), _fmt(1e3 * r.esv, ".2f"), _fmt(r.host_shutdowns, ",.0f"),
        _fmt(r.mean_active_hosts, ".0f"), _fmt(100 * r.unmet_fraction, ".4f"),
        _fmt(100 * r.unserved_fraction, ".4f"),
        _fmt(r.rejected_total, ".0f"),
    ]) + " |" for r in t.itertuples(index=False)]
    return "\n".join(rows) + "\n"


def figure(t: pd.DataFrame, path: Path) -> None:
    """Grouped bars per policy: energy, migrations (symlog), SLAV, mean active hosts."""
    pols = [p for p in POLICIES if p in set(t["policy"])]
    pols += sorted(set(t["policy"]) - set(pols))
    modes = [m for m in MODES if m in set(t["mode"])]
    panels = [("energy_kwh", "energy (kWh)", 1.0), ("migrations", "migrations", 1.0),
              ("slav", "SLAV (×10⁻⁵)", 1e5), ("mean_active_hosts", "mean active hosts", 1.0)]
    fig, axes = plt.subplots(2, 2, figsize=(12, 7.5), sharex=True)
    x = np.arange(len(pols))
    w = 0.8 / max(1, len(modes))
    for ax, (col, label, scale) in zip(axes.flat, panels, strict=True):
        for k, m in enumerate(modes):
            sub = t[t["mode"] == m].set_index("policy")
            y = [float(sub[col].get(p, np.nan)) * scale for p in pols]
            ax.bar(x + (k - (len(modes) - 1) / 2) * w, y, w, label=m)
        ax.set_ylabel(label)
        dflt = t[t["mode"] == "default"]
        if col == "slav" and len(dflt) and not dflt["slav"].any():
            ax.text(0.02, 0.95, "default mode: 0 for every policy (no host reaches 100 % CPU)",
                    transform=ax.transAxes, va="top", fontsize=9)
        if col == "migrations":
            ax.set_yscale("symlog", linthresh=10)
        ax.grid(axis="y", alpha=0.3)
    for ax in axes[1]:
        ax.set_xticks(x, pols, rotation=45, ha="right")
    axes[0, 0].legend(title="mode")
    fig.suptitle("PlanetLab consolidation, 800 hosts: medians over the days "
                 "(compat = CloudSim 3.0.3 semantics, default = dcsim)")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("results", nargs="+", help="results.csv file(s) written by run.py")
    ap.add_argument("--out", help="output folder (default: the first file's folder)")
    ap.add_argument("--modes", default=",".join(MODES),
                    help="modes to tabulate, comma list (cloudsim-like rows equal compat's)")
    args = ap.parse_args(argv)
    df = pd.concat([pd.read_csv(p, dtype={"day": str}) for p in args.results], ignore_index=True)
    df = df[df["mode"].isin([m.strip() for m in args.modes.split(",") if m.strip()])]
    df = df.drop_duplicates(["mode", "day", "policy"], keep="last")
    out = Path(args.out) if args.out else Path(args.results[0]).parent
    out.mkdir(parents=True, exist_ok=True)
    t = medians(df)
    t.to_csv(out / "medians.csv", index=False, float_format="%.6g")
    (out / "medians.md").write_text(markdown(t))
    figure(t, out / "medians.png")
    print(markdown(t))
    print(f"wrote {out / 'medians.csv'}, {out / 'medians.md'}, {out / 'medians.png'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

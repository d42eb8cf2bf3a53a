"""Compare ``cloudsim-like`` (default engine + ``assumptions: cloudsim-3.0.3``) with ``compat``.

    python experiments/planetlab_consolidation/compare_modes.py \
        experiments/planetlab_consolidation/results.csv > comparison.md

Prints a Markdown table with one row per (day, policy) present in both modes: energy,
migrations, SLATAH and PDM of both and their relative errors (cloudsim-like / compat - 1; 0 when
both are 0), then how many pairs meet the tolerances of issue 14 (energy within 2 %, migrations
within 5 %, SLATAH and PDM within 10 %).
"""

from __future__ import annotations

import sys

import pandas as pd

TOL = {"energy_kwh": 0.02, "migrations": 0.05, "slatah": 0.10, "pdm": 0.10}


def rel(a: float, b: float) -> float:
    """Relative error of ``a`` against reference ``b`` (0 when both are 0)."""
    if b == 0:
        return 0.0 if a == 0 else float("inf")
    return a / b - 1.0


def main(path: str) -> int:
    df = pd.read_csv(path, dtype={"day": str})
    ref = df[df["mode"] == "compat"].set_index(["day", "policy"])
    new = df[df["mode"] == "cloudsim-like"].set_index(["day", "policy"])
    keys = [k for k in new.index if k in ref.index]
    print("| day | policy | energy kWh (compat) | rel. err. | migrations (compat) | rel. err. "
          "| SLATAH % (compat) | rel. err. | PDM % (compat) | rel. err. |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    ok = 0
    worst = dict.fromkeys(TOL, 0.0)
    for k in keys:
        a, b = new.loc[k], ref.loc[k]
        errs = {m: rel(float(a[m]), float(b[m])) for m in TOL}
        for m, e in errs.items():
            worst[m] = max(worst[m], abs(e))
        ok += all(abs(errs[m]) <= t for m, t in TOL.items())
        print(f"| {k[0]} | {k[1]} | {b['energy_kwh']:.2f} | {errs['energy_kwh']:+.1e} "
              f"| {int(b['migrations'])} | {errs['migrations']:+.1e} "
              f"| {100 * b['slatah']:.3f} | {errs['slatah']:+.1e} "
              f"| {100 * b['pdm']:.4f} | {errs['pdm']:+.1e} |")
    print()
    print(f"{ok} of {len(keys)} pairs within the tolerances; largest |relative error|: "
          + ", ".join(f"{m} {w:.1e}" for m, w in worst.items()))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1] if len(sys.argv) > 1 else
                          "experiments/planetlab_consolidation/results.csv"))

"""``experiments/planetlab_consolidation/cpu_study.py``: medians, ranks and days-first, by hand."""

from __future__ import annotations

from pathlib import Path
from types import ModuleType

import numpy as np
import pandas as pd

from tests.conftest import load_script

SCRIPT = (Path(__file__).resolve().parents[3] / "experiments" / "planetlab_consolidation"
          / "cpu_study.py")


def _module() -> ModuleType:
    return load_script(SCRIPT, "cpu_study")


def _rows(mode: str, day: str, values: dict[str, tuple[float, float, float]]) -> list[dict]:
    # (energy kWh, ESV, unserved fraction) per policy; the other metrics constant
    return [{"mode": mode, "day": day, "policy": p, "energy_kwh": e, "esv": esv,
             "unserved_fraction": u, "migrations": 10.0, "slav": 0.0, "mean_active_hosts": 5.0}
            for p, (e, esv, u) in values.items()]


def test_spread_medians_ranks_and_days_first(tmp_path: Path) -> None:
    cs = _module()
    rows = (_rows("default-cpu", "d1", {"npa": (1.0, 0.0, 0.5), "thr-mmt-0.8": (10.0, 1.0, 0.1),
                                        "lr-rs-1.2": (8.0, 3.0, 0.2),
                                        "lr-mmt-1.2": (9.0, 2.0, 0.3)})
            + _rows("default-cpu", "d2", {"npa": (1.0, 0.0, 0.5), "thr-mmt-0.8": (12.0, 1.0, 0.1),
                                          "lr-rs-1.2": (7.0, 5.0, 0.4),
                                          "lr-mmt-1.2": (7.0, 4.0, 0.2)})
            + _rows("compat", "d1", {"thr-mmt-0.8": (5.0, 1.0, 0.2),
                                     "lr-rs-1.2": (4.0, 2.0, 0.2)})
            + _rows("compat", "d9", {"thr-mmt-0.8": (1.0, 1.0, 0.2)}))  # a day not in the study
    cpu, ref = tmp_path / "cpu.csv", tmp_path / "ref.csv"
    pd.DataFrame([r for r in rows if r["mode"] == "default-cpu"]).to_csv(cpu, index=False)
    pd.DataFrame([r for r in rows if r["mode"] == "compat"]).to_csv(ref, index=False)
    t = cs.spread(cs.load(cpu, ref)).set_index(["mode", "policy"])
    d = t.loc["default-cpu"]
    # medians over d1, d2: thr (10+12)/2 = 11, lr-rs (8+7)/2 = 7.5, lr-mmt (9+7)/2 = 8
    assert d.loc["thr-mmt-0.8", "energy_kwh_median"] == 11.0
    assert (d.loc["lr-rs-1.2", "energy_kwh_min"], d.loc["lr-rs-1.2", "energy_kwh_max"]) == (7, 8)
    # energy ranks among migrating policies: lr-rs 7.5 < lr-mmt 8 < thr 11; npa unranked
    assert d.loc[["lr-rs-1.2", "lr-mmt-1.2", "thr-mmt-0.8"], "rank_energy"].tolist() == [1, 2, 3]
    assert np.isnan(d.loc["npa", "rank_energy"])
    # ESV medians: thr 1, lr-mmt 3, lr-rs 4 -> ranks 1, 2, 3
    assert d.loc[["thr-mmt-0.8", "lr-mmt-1.2", "lr-rs-1.2"], "rank_esv"].tolist() == [1, 2, 3]
    # unserved medians: thr 0.1, lr-mmt 0.25, lr-rs 0.3
    assert d.loc[["thr-mmt-0.8", "lr-mmt-1.2", "lr-rs-1.2"], "rank_unserved"].tolist() == [1, 2, 3]
    # least energy: d1 lr-rs (8); d2 lr-rs and lr-mmt tie at 7 (each counts); npa never counts
    assert d.loc["lr-rs-1.2", "days_first_energy"] == 2
    assert d.loc["lr-mmt-1.2", "days_first_energy"] == 1
    assert d.loc["thr-mmt-0.8", "days_first_energy"] == 0
    assert np.isnan(d.loc["npa", "days_first_energy"])
    # compat: only d1 (d9 is not a study day)
    assert t.loc[("compat", "thr-mmt-0.8"), "days"] == 1
    assert t.loc[("compat", "thr-mmt-0.8"), "energy_kwh_median"] == 5.0

"""``experiments/memory_overcommit/study.py``: aggregation by hand, and the committed results."""

from __future__ import annotations

import math
from pathlib import Path
from types import ModuleType

import pandas as pd
import pytest

from tests.conftest import load_script

STUDY = Path(__file__).resolve().parents[3] / "experiments" / "memory_overcommit"


def _module() -> ModuleType:
    return load_script(STUDY / "study.py", "memory_study")


def _rows(ms: ModuleType, variant: str, table: dict[str, dict[float, tuple[float, float]]]
          ) -> list[dict]:
    # (mean_active_hosts, unmet_memory_fraction) per day and ratio; other metrics 1.0
    return [{"variant": variant, "sharing": "on", "images": "homogeneous", "ratio": r,
             "day": day, **{m: 1.0 for m in ms.METRICS}, "mean_active_hosts": h,
             "unmet_memory_fraction": u}
            for day, by_ratio in table.items() for r, (h, u) in by_ratio.items()]


def test_aggregation_pairs_steps_by_day_and_finds_where_overcommit_stops_paying() -> None:
    ms = _module()
    rows = pd.DataFrame(
        _rows(ms, "kvm", {"1": {1.0: (10, 0.0), 1.5: (8, 0.01), 2.0: (7, 0.2)},
                          "2": {1.0: (20, 0.0), 1.5: (14, 0.03), 2.0: (13, 0.1)},
                          "3": {1.0: (30, 0.0), 1.5: (30, 0.0)}})  # no 2.0: not paired
        + _rows(ms, "no-balloon", {"1": {1.0: (10, 0.0), 1.5: (5, 0.0), 2.0: (4, 0.0)},
                                   "2": {1.0: (10, 0.0), 1.5: (6, 0.0), 2.0: (4, 0.0)}}))
    agg = ms.aggregate(rows).set_index(["variant", "ratio"])
    k = agg.loc["kvm"]
    # plain means use every day: hosts at 1.0 (10 + 20 + 30) / 3 = 20 over 3 days
    assert k.loc[1.0, "mean_active_hosts_mean"] == 20.0
    assert k.loc[1.0, "days"] == 3
    # paired columns use days 1 and 2 only; 1.5: saved 1 - 8/10 = 0.2 and 1 - 14/20 = 0.3
    assert k.loc[1.5, "hosts_saved_mean"] == pytest.approx(0.25)
    # half-width t(0.975, 1) × sd(0.2, 0.3) / sqrt(2) = 12.7062 × 0.070711 / 1.41421 = 0.63531
    assert k.loc[1.5, "hosts_saved_ci"] == pytest.approx(0.63531, abs=1e-4)
    # step 1.5 -> 2.0: saved (8 - 7) / 10 = 0.1 and (14 - 13) / 20 = 0.05, mean 0.075;
    # cost 0.2 - 0.01 = 0.19 and 0.1 - 0.03 = 0.07, mean 0.13; net -0.055
    assert k.loc[2.0, "step_saved_mean"] == pytest.approx(0.075)
    assert k.loc[2.0, "step_cost_mean"] == pytest.approx(0.13)
    assert k.loc[2.0, "step_net_mean"] == pytest.approx(-0.055)
    # step 1.0 -> 1.5: net (0.2 - 0.01 + 0.3 - 0.03) / 2 = 0.23
    assert k.loc[1.5, "step_net_mean"] == pytest.approx(0.23)
    assert math.isnan(k.loc[1.0, "step_net_mean"])
    stop = ms.stops_paying(ms.aggregate(rows))
    assert stop[("kvm", "on", "homogeneous")] == 1.5
    assert math.isnan(stop[("no-balloon", "on", "homogeneous")])  # every step pays
    text = ms.summary_table(ms.aggregate(rows))
    assert "- sharing on, homogeneous: 1.5" in text
    assert "every step pays up to 2.0" in text


def test_committed_results_have_the_expected_columns() -> None:
    ms = _module()
    df = ms.load(STUDY / "results.csv")
    assert list(df.columns) == [*ms.KEYS, *ms.METRICS, "cpu_s"]
    assert set(df["ratio"]) == set(ms.RATIOS)
    assert set(df["day"]) == set(ms.DAYS)
    assert df["guests_rejected"].eq(0).all()  # every guest of every day was placed
    # a full grid: kvm, no-balloon and free-balloon on 4 lines; pabfd and the two memory
    # pressure variants on one (ONE_LINE); all days
    lines = df.groupby(["variant", "sharing", "images"]).size()
    assert lines.shape[0] == 3 * 4 + len(ms.ONE_LINE)
    assert (lines == len(ms.RATIOS) * len(ms.DAYS)).all()
    assert (STUDY / "memory_study.png").stat().st_size > 0

"""Follow the renewables, by hand: one guest, two sites, a series that makes the other site
greener for a while; the policy moves it exactly once under hysteresis, and back and forth
without it; persistence forecasts use yesterday's curve."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

import dcsim
from dcsim.workload.carbon import Series, mean_over


def csv_series(tmp_path: Path, rows: list[tuple[str, float]]) -> str:
    path = tmp_path / "b.csv"
    path.write_text("timestamp,g_per_kwh\n" + "".join(f"{t},{v}\n" for t, v in rows))
    return str(path)


def sites(tmp_path: Path, hysteresis: float, forecast: str = "perfect",
          yesterday: tuple[float, float, float] = (300, 80, 120)) -> dict[str, Any]:
    # site 0 ("b", where first_fit places the guest): 300 g/kWh until 02:00, 80 until 04:00,
    # 120 after (the day before: ``yesterday``); site 1 ("a"): 100 throughout
    y0, y2, y4 = yesterday
    fb = csv_series(tmp_path, [("2020-01-05 00:00", y0), ("2020-01-05 02:00", y2),
                               ("2020-01-05 04:00", y4),
                               ("2020-01-06 00:00", 300), ("2020-01-06 02:00", 80),
                               ("2020-01-06 04:00", 120), ("2020-01-06 06:00", 120)])
    host = {"count": 1, "cores": 16, "mips_per_core": 2000, "ram": "32GiB", "storage": "1TB",
            "power": {"kind": "linear", "idle": 50, "max": 150}, "virtualization": "kvm"}
    return {
        "name": "follow", "seed": 1, "duration": "6h", "interval": "10m",
        "clock": {"start": "2020-01-06 00:00"},
        "datacenters": [{"name": "b", "hosts": [host], "carbon": {"file": fb}},
                        {"name": "a", "hosts": [host], "carbon": {"intensity": 100}}],
        "guests": [{"count": 1, "vcpus": 8, "mips": 2000, "ram": "4GiB", "disk": "10GB",
                    "boot": False, "workload": {"kind": "constant", "utilization": 0.9}}],
        "placement": {"name": "first_fit"},
        "follow_renewables": {"every": "1h", "horizon": "1h", "hysteresis": hysteresis,
                              "forecast": forecast},
    }


def test_moves_exactly_once_under_hysteresis(tmp_path: Path) -> None:
    r = dcsim.run(sites(tmp_path, 0.3))
    # 01:00: b expected 300 over the next hour, a 100 <= 0.7 x 300: move to a (host 1).
    # 02:00: b expected 80 > 0.7 x 100 = 70: stay; 03:00 likewise; 04:00, 05:00: b 120: stay
    mig = r.tables["migrations"]
    assert mig["destination"].tolist() == [1]
    assert mig["start_s"].tolist() == [3600.0]
    assert r.summary["follow_migrations"] == 1
    assert r.guests["host"].tolist() == [1]
    # its estimated emissions: (0.512 J/MB x bytes sent + 20.165 J) / 3.6e6 J/kWh x the mean of
    # the two sites' PUE x intensity at 01:00 (1.58 x 300 and 1.58 x 100 g/kWh) / 1000
    sent = float(mig["bytes_sent"].iloc[0])
    e_kwh = (0.512 * sent / 1e6 + 20.165) / 3.6e6
    assert r.summary["emissions_migration_kg"] == pytest.approx(
        e_kwh * 1.58 * (300 + 100) / 2 / 1000, rel=1e-12)
    assert sent > 4 * 2**30  # at least the guest's RAM


def test_without_hysteresis_it_follows_every_swing(tmp_path: Path) -> None:
    r = dcsim.run(sites(tmp_path, 0.0))
    # 01:00 to a (100 < 300); 02:00 back to b (80 < 100); 04:00 to a again (100 < 120)
    mig = r.tables["migrations"]
    assert mig["destination"].tolist() == [1, 0, 1]
    assert mig["start_s"].tolist() == [3600.0, 7200.0, 14400.0]


def test_persistence_forecast_uses_yesterday(tmp_path: Path) -> None:
    # yesterday's curve equal to today's: the perfect forecast's moves
    p = dcsim.run(sites(tmp_path, 0.0, "persistence")).tables["migrations"]
    assert p["start_s"].tolist() == [3600.0, 7200.0, 14400.0]
    # yesterday 300 until 04:00, then 50: at 02:00 and 03:00 b is expected at 300 (no move
    # back); at 04:00 at 50 < 100: back to b; no later move (b expected 50)
    q = dcsim.run(sites(tmp_path, 0.0, "persistence", (300, 300, 50))).tables["migrations"]
    assert q["start_s"].tolist() == [3600.0, 14400.0]
    assert q["destination"].tolist() == [1, 0]


def test_saving_must_pay_for_the_migration(tmp_path: Path) -> None:
    cfg = sites(tmp_path, 0.3)
    # a nearly idle guest: 8 x 2,000 MIPS x 0.1 % = 16 MIPS of 32,000 -> 0.05 W of the host's
    # 100 W dynamic range; over the 1 h horizon 180 J x (300 - 100) g/kWh = 0.01 g saved,
    # against (0.512 J/MB x 4,096 MB + 20.165 J) x (300 + 100) / 2 g/kWh = 0.118 g: no move
    cfg["guests"][0]["workload"] = {"kind": "constant", "utilization": 0.001}
    assert dcsim.run(cfg).summary["follow_migrations"] == 0
    # with free migrations the same small saving moves it
    cfg["follow_renewables"].update(migration_j_per_mb=0.0, migration_j_fixed=0.0)
    assert dcsim.run(cfg).summary["follow_migrations"] == 1


def test_mean_over_by_hand() -> None:
    s = Series([0.0, 10.0, 20.0], [1.0, 3.0, 5.0])  # 5 holds until 30 (one median step)
    assert mean_over(s, 5.0, 15.0) == pytest.approx((5 * 1.0 + 5 * 3.0) / 10)
    assert mean_over(s, 25.0, 40.0) == pytest.approx(5.0)  # the last value holds after 30
    # across the end: [15, 20] at 3, [20, 40] at 5 (the last value goes on), as the
    # integral-based means of deferral do: (5 x 3 + 20 x 5) / 25
    assert mean_over(s, 15.0, 40.0) == pytest.approx(115.0 / 25.0)
    assert mean_over(s, -10.0, 5.0) == pytest.approx(1.0)  # the first value holds before 0
    assert mean_over(s, 12.0, 12.0) == 3.0


def test_follow_needs_carbon() -> None:
    cfg = {"name": "x", "datacenters": [{"hosts": [{"model": "ibm_x3550_x5675"}]}],
           "guests": [{"type": "small"}], "follow_renewables": {}}
    with pytest.raises(dcsim.ConfigError, match="follow_renewables"):
        dcsim.run(cfg)

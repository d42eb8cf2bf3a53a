"""Build the carbon-intensity excerpts shipped in ``dcsim/data/carbon`` from the full data set.

The data set (Wiesner et al., "Let's Wait Awhile", Middleware 2021; files ``de_ci.csv``,
``gb_ci.csv``, ``fr_ci.csv``: columns ``Time``, ``Carbon Intensity``) has naive timestamps; they
are read as UTC. For each region and season of 2020 one excerpt of nine days (a Monday 00:00 to
the Wednesday after next, 00:00) is written as ``<region>-2020-<season>.npz``.

    python experiments/carbon_aware/make_excerpt.py DATA_DIR [--out dcsim/data/carbon]
"""

from __future__ import annotations

import argparse
import datetime as dt
from pathlib import Path

from dcsim.workload.carbon import Series, read_file, save_series

SEASONS = {"winter": "2020-01-06", "spring": "2020-04-06", "summer": "2020-07-06",
           "autumn": "2020-10-05"}  # Mondays
DAYS = 9
REGIONS = {"de": "de_ci.csv", "gb": "gb_ci.csv", "fr": "fr_ci.csv"}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("data_dir", type=Path)
    ap.add_argument("--out", type=Path, default=Path("dcsim/data/carbon"))
    args = ap.parse_args()
    for region, name in REGIONS.items():
        full = read_file(args.data_dir / name, "Time", "Carbon Intensity", dt.UTC)
        for season, monday in SEASONS.items():
            a = dt.datetime.fromisoformat(monday).replace(tzinfo=dt.UTC).timestamp()
            b = a + DAYS * 86400.0
            keep = (full.t >= a) & (full.t < b)
            src = (f"{region.upper()} grid, {monday} + {DAYS} d (UTC), from Wiesner et al., "
                   "Middleware 2021 (Let's Wait Awhile); g CO2-eq/kWh")
            out = save_series(Series(full.t[keep], full.v[keep], src),
                              args.out / f"{region}-2020-{season}.npz")
            print(out, int(keep.sum()), "points", f"{full.v[keep].min():.0f}-"
                  f"{full.v[keep].max():.0f} g/kWh")


if __name__ == "__main__":
    main()

"""Tutorial 1: a first run, and its results in pandas."""

import sys
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt

import dcsim

out = Path(sys.argv[1]) if len(sys.argv) > 1 else Path(".")
result = dcsim.run(overrides=["duration=12h"])  # the shipped default config, half a day
print(f"IT energy {result.summary['energy_it_kwh']:.1f} kWh, "
      f"unserved {100 * result.summary['unserved_fraction']:.2f} % of the offered load")
ts = result.timeseries  # a pandas DataFrame, one row per scheduling interval
print(ts[["time_s", "power_it_w", "active_hosts", "cpu_utilization"]].head())

fig, ax = plt.subplots(figsize=(7, 3))
ax.plot(ts["time_s"] / 3600, ts["power_it_w"] / 1000)
ax.set_xlabel("time, h")
ax.set_ylabel("IT power, kW")
ax.set_title("Default data center, first 12 hours")
fig.tight_layout()
fig.savefig(out / "t1_first_run.png", dpi=100)

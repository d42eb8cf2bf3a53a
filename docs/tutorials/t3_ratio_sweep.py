"""Tutorial 3: a consolidation-ratio sweep with confidence intervals."""

import sys
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
from scipy import stats

import dcsim

out = Path(sys.argv[1]) if len(sys.argv) > 1 else Path(".")
base = {
    "name": "ratio", "duration": "4h", "interval": "5m",
    "datacenters": [{"hosts": [{"model": "ibm_x3550_x5675", "count": 16, "ram": "96GiB", "storage": "2TB",
                                "virtualization": "kvm", "cpu_overcommit": 4.0}]}],
    "guests": [{"type": "medium", "count": 64, "boot": False,
                "workload": {"kind": "uniform", "low": 0.3, "high": 0.9}}],
    "placement": {"name": "worst_fit"},  # spread: 64 / r hosts get r guests each
}
ratios, means, halves = [2, 4, 8, 16], [], []
for r in ratios:
    unserved = []
    for seed in range(5):  # five replications, each its own random streams
        cfg = {**base, "seed": seed}
        cfg["datacenters"] = [{"hosts": [{**base["datacenters"][0]["hosts"][0],
                                          "count": 64 // r}]}]
        unserved.append(100 * dcsim.run(cfg).summary["unserved_fraction"])
    a = np.asarray(unserved)
    means.append(a.mean())
    halves.append(stats.t.ppf(0.975, len(a) - 1) * a.std(ddof=1) / np.sqrt(len(a)))
    print(f"{r:2d} guests per host: unserved {means[-1]:.2f} % ± {halves[-1]:.2f}")

fig, ax = plt.subplots(figsize=(6, 3))
ax.errorbar(ratios, means, yerr=halves, marker="o", capsize=3)
ax.set_xscale("log", base=2)
ax.set_xlabel("guests per host")
ax.set_ylabel("unserved, % of offered load")
ax.set_title("64 guests packed onto 64 / r KVM hosts (mean ± 95 % CI, 5 seeds)")
fig.tight_layout()
fig.savefig(out / "t3_ratio_sweep.png", dpi=100)

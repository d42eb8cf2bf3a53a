"""Tutorial 4: live migration on a fat-tree."""

import sys
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt

import dcsim

out = Path(sys.argv[1]) if len(sys.argv) > 1 else Path(".")
cfg = {
    "name": "fat-tree", "seed": 3, "duration": "6h", "interval": "5m",
    "datacenters": [{"hosts": [{"model": "ibm_x3550_x5675", "count": 16, "ram": "48GiB",
                                "virtualization": "kvm", "cpu_overcommit": 2.0}]}],
    "network": {"topology": {"kind": "fat_tree", "k": 4, "link": "1Gbps"}},
    "guests": [{"type": "medium", "count": 60,
                "workload": {"kind": "diurnal", "mean": 0.35, "amplitude": 0.3,
                             "noise_sd": 0.1}}],
    "placement": {"name": "worst_fit"},  # spread out, so that consolidation has work to do
    "consolidation": {"policy": "thr-mmt-0.8",
                      "migration": {"model": "precopy", "dirty_rate": "20MB/s"}},
}
r = dcsim.run(cfg)
mig = r.tables["migrations"]
print(f"{len(mig)} pre-copy migrations, mean {mig['duration_s'].mean():.1f} s, "
      f"mean downtime {1000 * mig['downtime_s'].mean():.0f} ms, "
      f"{mig['bytes_sent'].sum() / 1e9:.1f} GB over the fabric")

fig, ax = plt.subplots(figsize=(6, 3))
ax.scatter(mig["rounds"], mig["duration_s"], s=12)
ax.set_xlabel("pre-copy rounds")
ax.set_ylabel("migration time, s")
ax.set_title("Migrations of 4 GiB guests over a k=4 fat-tree of 1 Gbit/s links")
fig.tight_layout()
fig.savefig(out / "t4_migration_fattree.png", dpi=100)

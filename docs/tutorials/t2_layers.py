"""Tutorial 2: Type-1, Type-2 and containers on the same workload."""

import sys
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt

import dcsim

out = Path(sys.argv[1]) if len(sys.argv) > 1 else Path(".")
layers = ["kvm", "virtualbox", "docker"]
energy, overhead = [], []
for layer in layers:
    s = dcsim.run(overrides=["duration=6h",
                             f"datacenters[0].hosts[0].virtualization={layer}",
                             f"datacenters[0].hosts[1].virtualization={layer}"]).summary
    energy.append(s["energy_it_kwh"])
    overhead.append(s["overhead_mi"] / s["delivered_mi"])
    print(f"{layer:<11} {s['energy_it_kwh']:7.2f} kWh, layer overhead "
          f"{100 * overhead[-1]:5.2f} % of the delivered work")

fig, axes = plt.subplots(1, 2, figsize=(8, 3))
axes[0].bar(layers, energy)
axes[0].set_ylabel("IT energy, kWh")
axes[1].bar(layers, [100 * o for o in overhead])
axes[1].set_ylabel("overhead, % of delivered MI")
fig.suptitle("The same six hours under three virtualization layers")
fig.tight_layout()
fig.savefig(out / "t2_layers.png", dpi=100)

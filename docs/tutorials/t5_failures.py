"""Tutorial 5: failures, snapshots and recovery."""

import sys
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt

import dcsim

out = Path(sys.argv[1]) if len(sys.argv) > 1 else Path(".")
example = Path(dcsim.__file__).resolve().parents[1] / "configs" / "examples" / "faults.yaml"
lost = {}
for restart in ("snapshot", "cold"):
    s = dcsim.run(example, overrides=["duration=1d", f"faults.recovery.restart={restart}"])
    lost[restart] = s.summary["lost_work_mi"] / 1e6
    print(f"{restart:<8}: availability {s.summary['availability']:.5f}, "
          f"lost work {lost[restart]:.0f} x 10^6 MI, "
          f"{s.summary['guest_restarts']} restarts")

fig, ax = plt.subplots(figsize=(5, 3))
ax.bar(list(lost), list(lost.values()))
ax.set_ylabel("lost work, 10^6 MI")
ax.set_title("Host failures: restart from a snapshot or cold")
fig.tight_layout()
fig.savefig(out / "t5_failures.png", dpi=100)

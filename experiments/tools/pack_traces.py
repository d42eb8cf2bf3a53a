"""Build the compact trace files shipped in ``dcsim/data/traces`` from the raw traces.

Reads ``../shared/data`` next to the repository (or ``--data DIR``) and writes:

* ``planetlab/<day>.npz`` for the 10 PlanetLab days (integer percent, exact);
* ``google/<day>.npz`` for the 10 days of the Google 2011 GCD VM set (CPU and memory, steps
  of 0.01 %, memory clipped to 100 %);
* ``bitbrains-sample/2013-8.npz``: a 5-VM excerpt of the GWA-T-12 Rnd month (test and
  example data only; the full trace is imported by users with ``dcsim traces import``).

Usage: ``PYTHONPATH=. python experiments/tools/pack_traces.py [--data DIR] [--out DIR]``.
"""

from __future__ import annotations

import argparse
from dataclasses import replace
from pathlib import Path

from dcsim.workload.traces import read_bitbrains, read_google, read_planetlab, save_compact

REPO = Path(__file__).resolve().parents[2]
BITBRAINS_SAMPLE = ["1", "3", "123", "201", "499"]  # includes VM 123 with its all-zero blocks


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", type=Path, default=REPO / ".." / "shared" / "data")
    ap.add_argument("--out", type=Path, default=REPO / "dcsim" / "data" / "traces")
    args = ap.parse_args()
    data: Path = args.data
    out: Path = args.out

    pl = data / "planetlab"
    for day in sorted(p.name for p in pl.iterdir() if p.is_dir()):
        t = read_planetlab(pl, day)
        f = save_compact(t, out / "planetlab" / f"{day}.npz")
        print(f"{f.relative_to(out)}: {t.n_guests} VMs x {t.n_samples}, {f.stat().st_size} B")

    tar = data / "google2011-gcd-vms" / "GCD_VMs.tar.gz"
    for gday in range(1, 11):
        t = read_google(tar, str(gday))
        f = save_compact(t, out / "google" / f"{gday}.npz")
        print(f"{f.relative_to(out)}: {t.n_guests} VMs x {t.n_samples}, {f.stat().st_size} B")

    bb = data / "bitbrains-rnd" / "2013-8"
    files = [bb / f"{i}.csv.gz" for i in BITBRAINS_SAMPLE]
    t = read_bitbrains(bb, files=files)
    t = replace(t, name="bitbrains-sample", day="2013-8")
    f = save_compact(t, out / "bitbrains-sample" / "2013-8.npz")
    print(f"{f.relative_to(out)}: {t.n_guests} VMs x {t.n_samples}, {f.stat().st_size} B")


if __name__ == "__main__":
    main()

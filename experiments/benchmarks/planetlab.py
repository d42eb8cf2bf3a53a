"""Benchmark: one PlanetLab day, as shipped (×1) or scaled ×F, in CloudSim or default mode.

Without ``--scale``: day 20110303 (800 hosts, 1,052 VMs, 288 intervals) as
``configs/planetlab-cloudsim.yaml`` (``compat: cloudsim``: the engine with the ``cloudsim-3.0.3``
assumption preset), run the way issue 15's target is stated: ``dcsim run
configs/planetlab-cloudsim.yaml -o DIR`` as a whole process (interpreter start-up, imports,
config, trace loading, simulation, results folder written), ``--repeat`` times; prints its CPU
time (user + sys: best, median and every run), its wall time and peak resident memory next to
the target (<= 2.5 s CPU on a quiet machine). ``--tracemalloc`` also runs the day once in this
process through ``dcsim.run`` and prints the peak of Python allocations (which slows that run).
CloudSim 3.0.3 takes about 35 s.

With ``--scale F[,F...]``: the PlanetLab data center ×F, each scale in a fresh process whose CPU
time (user + sys, the whole process: imports, trace loading, simulation) is printed next to the
target of issue 15 (×10 in <= 10 s, exponent <= 1.1 up to ×20), with the wall time of the same
whole process, the CPU of the optimisation steps (``plan s``: the PABFD planner, or in default
mode the consolidation step's planning) and, in compat
mode, the per-process cost of PABFD's compiled search (importing numba and loading the kernel
from its cache), and the exponents of the planning and of the rest apart (which part grows
faster than F). With ``--repeat N`` the scales run in N rounds (×5, ×10, ×20, ×5, ...) and the
best CPU of each is kept, so that a drift of the machine's speed between minutes does not bend
the exponent. A scaled child runs ``dcsim.run`` on the config dict and writes no results
folder, so its ×1 row is not the ``dcsim run`` figure above (a few tenths of a second less:
no CLI, no Parquet/YAML written). The scaled scenario:

* 800·F hosts, HP ML110 G4 and G5 alternating (``--mode compat``:
  ``configs/planetlab-cloudsim.yaml``, CloudSim's constants and assumptions;
  ``--mode default``: ``configs/planetlab.yaml``, Xen, CPU overcommit 2.0, pre-copy at 10 MB/s
  dirty rate over each host's 1 Gbit/s NIC);
* 1,052·F VMs whose traces are rows ``0 .. 1,052·F − 1`` (cyclically) of the ten shipped days
  concatenated in date order (11,746 series; 20110303 first), so ×1 is exactly day 20110303 and
  every scale is deterministic; CloudSim's VM types are four contiguous blocks of 263·F VMs
  (2500, 2000, 1000, 500 MIPS).

    python experiments/benchmarks/planetlab.py [--policy lr-mmt-1.2] [--repeat 3]
    python experiments/benchmarks/planetlab.py --scale 1,2,5,10 --mode compat [--repeat 3]
    python experiments/benchmarks/planetlab.py --scale 10 --mode default
"""

from __future__ import annotations

import argparse
import json
import math
import resource
import sys
import time
import tracemalloc
from pathlib import Path
from typing import Any

import _checkout  # noqa: F401  (this checkout's dcsim, not an installed one)
from _child import best_of, interleaved, run_child

REPO = Path(__file__).resolve().parents[2]
VMS_PER_SCALE, HOSTS_PER_SCALE = 1052, 800
TYPES = ("cloudsim_2500", "cloudsim_2000", "cloudsim_1000", "cloudsim_500")


CONFIGS = {"compat": "planetlab-cloudsim.yaml", "default": "planetlab.yaml"}


def scaled_config(scale: int, policy: str, mode: str = "default") -> dict[str, Any]:
    """The mode's shipped config ×scale: same hosts and VM types, more of each."""
    import yaml

    from dcsim.workload.traces import load_trace

    cfg: dict[str, Any] = yaml.safe_load((REPO / "configs" / CONFIGS[mode]).read_text())
    cfg["name"] = f"planetlab-x{scale}"
    for hg in cfg["datacenters"][0]["hosts"]:
        hg["count"] = HOSTS_PER_SCALE // 2 * scale
    cfg["consolidation"]["policy"] = policy
    if scale == 1:
        return cfg
    n_pool = load_trace("planetlab", None).n_guests
    block = VMS_PER_SCALE // 4 * scale
    groups: list[dict[str, Any]] = []
    for b, vm_type in enumerate(TYPES):
        row, left = b * block, block
        while left:  # one group per contiguous run of pool rows
            start = row % n_pool
            n = min(left, n_pool - start)
            groups.append({"type": vm_type, "count": n, "boot": False, "workload": {
                "kind": "trace", "name": "planetlab",
                "selection": {"first": n, "skip": start}}})
            row += n
            left -= n
    cfg["guests"] = groups
    return cfg


def child(scale: int, mode: str, policy: str) -> dict[str, Any]:
    """One scaled run in this process; the parent measures its CPU time."""
    import dcsim
    import dcsim.engine.consolidation as ec

    plan_cpu = [0.0]
    plan = ec.plan_migrations

    def timed(*a: Any, **k: Any) -> Any:  # CPU of CloudSim's optimisation steps (the planner)
        c0 = time.process_time()
        try:
            return plan(*a, **k)
        finally:
            plan_cpu[0] += time.process_time() - c0

    ec.plan_migrations = timed  # type: ignore[assignment]
    if mode == "default":  # dcsim's own planner: the consolidation step's plan
        own = ec.Consolidation.plan

        def timed_own(self: Any) -> Any:
            c0 = time.process_time()
            try:
                return own(self)
            finally:
                plan_cpu[0] += time.process_time() - c0

        ec.Consolidation.plan = timed_own  # type: ignore[method-assign]
    t0 = time.perf_counter()
    s = dcsim.run(scaled_config(scale, policy, mode)).summary
    res = {"energy_kwh": s["energy_it_kwh"], "migrations": s["migrations"],
           "slatah": s["slatah"], "pdm": s["pdm"], "plan_cpu_s": plan_cpu[0]}
    res["run_wall_s"] = time.perf_counter() - t0  # dcsim.run only (the row prints the process's)
    res["peak_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0
    return res


def scaled(args: argparse.Namespace) -> int:
    scales = [int(s) for s in args.scale.split(",")]
    print(f"PlanetLab ×F, {args.mode} mode, {args.policy}; CPU = user + sys and wall = start "
          f"to exit of the whole process (dcsim.run of the scaled config, no results folder "
          f"written), best of {args.repeat}")
    print(f"{'F':>3} {'hosts':>6} {'VMs':>6} {'CPU s':>8} {'plan s':>7} {'wall s':>7} {'MB':>6} "
          f"{'exponent':>8} {'energy kWh':>12} {'migrations':>10}")
    cmds = [[sys.executable, __file__, "--child", str(f), "--mode", args.mode, "--policy",
             args.policy] for f in scales]
    prev: tuple[int, float, float] | None = None
    cpu_of: dict[int, float] = {}
    expos: list[float] = []
    split: list[str] = []
    for f, runs in zip(scales, interleaved(cmds, args.repeat), strict=True):
        best, wall, row = min(runs, key=lambda run: run[0])
        cpu_of[f] = best
        plan = row["plan_cpu_s"]
        expo = ""
        if prev is not None and f != prev[0]:
            expos.append(_exponent(prev[0], prev[1], f, best))
            expo = f"{expos[-1]:.2f}"
            split.append(f"×{prev[0]} → ×{f}: planning {_exponent(prev[0], prev[2], f, plan):.2f}, "
                         f"the rest {_exponent(prev[0], prev[1] - prev[2], f, best - plan):.2f}")
        print(f"{f:>3} {HOSTS_PER_SCALE * f:>6} {VMS_PER_SCALE * f:>6} {best:>8.2f} "
              f"{plan:>7.2f} {wall:>7.2f} {row['peak_mb']:>6.0f} "
              f"{expo:>8} "
              f"{row['energy_kwh']:>12.5f} {row['migrations']:>10}")
        prev = (f, best, plan)
    x10 = f"{cpu_of[10]:.2f} s" if 10 in cpu_of else "not run"
    worst = f"{max(expos):.2f}" if expos else "n/a"
    print(f"×10: {x10} CPU (target <= 10 s, {args.mode} mode); largest exponent {worst} "
          f"(target <= 1.1 up to ×20)")
    if split:
        print("exponents of the parts (CPU of the best run of each scale): " + "; ".join(split))
    if args.repeat > 1:
        print(f"runs interleaved: {args.repeat} rounds of every scale, so that a drift of this "
              "machine's speed slows every scale alike; best CPU of each scale kept")
    if args.mode == "default":
        print("plan s: CPU of the consolidation steps' planning (overload, selection, PABFD "
              "placements, underload trials), included in CPU s")
    if args.mode == "compat":
        print("plan s: CPU of the optimisation steps (PABFD planner), included in CPU s; "
              f"its compiled search costs {jit_cost():.2f} s CPU per process to import and "
              "load from numba's cache (more on the very first run, which compiles it)")
    return 0


def _exponent(f1: int, t1: float, f2: int, t2: float) -> float:
    """Growth exponent b of t ~ f**b between two scales (NaN unless both times are positive)."""
    if t1 <= 0 or t2 <= 0:
        return math.nan
    return math.log(t2 / t1) / math.log(f2 / f1)


def jit_cost() -> float:
    """CPU (s) of a fresh process importing numba and the PABFD kernel as a run does
    (``dcsim.policies.pabfd._kernel``: cached code loaded by ``dcsim.kernels.jit``) and making
    one call, minus the same process without them (interpreter, numpy, dcsim.policies.pabfd)."""
    call = ("import numpy as np;from dcsim.policies.pabfd import _kernel;k=_kernel();"
            "z=np.zeros(0,dtype=np.intp);e=np.zeros(1);"
            "k.pick(z,z,z,1.0,False,1,e,e+1,e,e,z,e,e,e,z,e,z,np.zeros((0,2)),"
            "np.zeros((0,0,2)),0,0,0.0,np.zeros(7))")
    with_k, _ = best_of([sys.executable, "-c", call + ";print('{}')"], 3)
    without, _ = best_of([sys.executable, "-c", "import dcsim.policies.pabfd;print('{}')"], 3)
    return with_k - without


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description="PlanetLab benchmark (one day, or ×F)")
    ap.add_argument("--policy", default="lr-mmt-1.2")
    ap.add_argument("--repeat", type=int, default=1, help="runs; the best time is kept")
    ap.add_argument("--tracemalloc", action="store_true")
    ap.add_argument("--scale", help="comma-separated factors F: run PlanetLab ×F")
    ap.add_argument("--mode", choices=("compat", "default"), default="compat",
                    help="with --scale: CloudSim's experiment (compat: cloudsim) or dcsim's "
                    "default semantics")
    ap.add_argument("--child", type=int, help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.child:
        print(json.dumps(child(args.child, args.mode, args.policy)))
        return 0
    if args.scale:
        return scaled(args)
    return day(args)


def day(args: argparse.Namespace) -> int:
    """The shipped day as ``dcsim run ... -o DIR``, each run a fresh whole process."""
    import statistics
    import tempfile

    cpus: list[float] = []
    walls: list[float] = []
    summary: dict[str, Any] = {}
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "out"
        cmd = [sys.executable, "-m", "dcsim", "run", "configs/planetlab-cloudsim.yaml",
               "--set", f"consolidation.policy={args.policy}", "-o", str(out), "-q",
               "--overwrite"]
        for _ in range(max(1, args.repeat)):
            cpu, wall, _proc = run_child(cmd, cwd=REPO)  # cwd: this checkout's dcsim
            cpus.append(cpu)
            walls.append(wall)
        summary = json.loads((out / "summary.json").read_text())
    rss_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024.0
    best = min(cpus)
    print(f"day 20110303, policy {args.policy}: {summary['guests_arrived']} VMs, 800 hosts")
    print(f"  energy {summary['energy_it_kwh']:.5f} kWh, migrations {summary['migrations']}, "
          f"SLATAH {summary['slatah']:.6f}, PDM {summary['pdm']:.8f}, "
          f"shutdowns {summary['host_shutdowns']}")
    print("  `dcsim run configs/planetlab-cloudsim.yaml -o DIR`, the whole process (start-up, "
          "config, traces, simulation, results folder written):")
    print(f"  CPU (user + sys) {best:6.2f} s best of {len(cpus)}, median "
          f"{statistics.median(cpus):.2f} s (runs: {', '.join(f'{c:.2f}' for c in cpus)}); "
          f"wall {walls[cpus.index(best)]:.2f} s; peak RSS {rss_mb:.0f} MB")
    print(f"  target (issue 15): <= 2.5 s CPU on a quiet machine "
          f"({'met' if best <= 2.5 else 'not met'} here; this machine may be shared: "
          f"compare interleaved runs)")
    if args.tracemalloc:
        import dcsim

        tracemalloc.start()
        dcsim.run(REPO / "configs" / "planetlab-cloudsim.yaml",
                  overrides=[f"consolidation.policy={args.policy}"])
        _, peak = tracemalloc.get_traced_memory()
        print(f"  peak traced {peak / 2**20:7.1f} MB (Python allocations of dcsim.run, "
              "in this process)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

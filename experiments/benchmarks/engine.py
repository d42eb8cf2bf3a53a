"""Engine benchmark: a synthetic simulated day at 10,000 to 1,000,000 guests (hosts = guests / 10).

Each size runs in a fresh process (``--repeat`` times, in rounds over the sizes so that a drift
of the machine's speed slows every size alike; the minimum of each figure is kept) and reports,
for the simulation (``dcsim.run`` without imports and config loading):

* CPU seconds (user + sys of the process during the run) and wall seconds;
* the same split by phase: set-up (``Simulation.__init__``), admission (``admit``: placement and
  its bookkeeping), boot completions, departures, interval steps (one resumption of the manager
  process each), result building, and the rest (SimPy's event loop and everything not above);
* peak resident memory of the process, and guest-intervals per CPU second;
* the scaling exponent of CPU time between consecutive sizes, ``log(t2/t1) / log(n2/n1)``
  (1 = linear cost: the cost per guest-interval is flat), and the least-squares exponent over all
  sizes, each next to its target (issue 15): 1,000,000 guests × one day <= 300 s and <= 2 GB,
  exponent <= 1.1 over 10k, 100k, 300k, 1M.

Phase timers wrap engine methods from the outside (this script changes nothing in dcsim); a
phase nested in another one is counted once, in the outer one. On a shared machine compare CPU
seconds, not wall.

    python experiments/benchmarks/engine.py --guests 10000,100000,300000 [--repeat 3]
        [--save DIR]   # summary (minus wall time) + hashes of the tables per size, to diff runs
"""

from __future__ import annotations

import argparse
import functools
import hashlib
import json
import math
import resource
import sys
import time
from collections.abc import Callable, Generator
from pathlib import Path
from typing import Any

import _checkout  # noqa: F401  (this checkout's dcsim, not an installed one)
from _child import interleaved

TARGET_1M_CPU_S = 300.0
TARGET_1M_MB = 2048.0
TARGET_EXPONENT = 1.1

#: phase -> engine attributes whose calls it times ("module:Class.method" or "module:function").
#: Attributes missing from the current engine are skipped (the engine may move code around).
PHASES: dict[str, tuple[str, ...]] = {
    "setup": ("dcsim.engine.simulation:Simulation.__init__",),
    "admission": ("dcsim.engine.simulation:Simulation.admit",
                  "dcsim.engine.lifecycle:_start_timers"),
    "boots": ("dcsim.engine.simulation:Simulation._start",
              "dcsim.engine.lifecycle:booted"),
    "departures": ("dcsim.engine.simulation:Simulation.depart",
                   "dcsim.engine.lifecycle:ended"),
    "results": ("dcsim.engine.simulation:build_result",),
}
#: phase -> generator functions timed per resumption (each resumption is one step)
STEP_PHASES: dict[str, tuple[str, ...]] = {
    "steps": ("dcsim.engine.simulation:Simulation.manager",),
}
ORDER = ("setup", "admission", "boots", "departures", "steps", "results", "other")


def config(n_guests: int, carbon: bool = False, memory: float | None = None) -> dict[str, Any]:
    """The scenario; ``carbon``: with carbon accounting (a German 15-minute intensity series,
    issue 17's cost target: at most 5 % more); ``memory``: with memory accounting at that
    ``mem_overcommit`` (working sets uniform in 30-90 % of each guest's RAM; KVM's page
    sharing and ballooning on; issue 18's cost target: at most 15 % more at ratio 1, where the
    placements are the same)."""
    n_hosts = max(1, n_guests // 10)
    cfg = _config(n_guests, n_hosts)
    if carbon:
        cfg["clock"] = {"start": "2020-01-06 00:00"}
        cfg["datacenters"][0]["carbon"] = {"series": "de-2020-winter"}
    if memory is not None:
        for h in cfg["datacenters"][0]["hosts"]:
            h["mem_overcommit"] = memory
        for g in cfg["guests"]:
            g["memory"] = {"kind": "uniform", "low": 0.3, "high": 0.9}
    return cfg


def _config(n_guests: int, n_hosts: int) -> dict[str, Any]:
    return {
        "name": f"bench-{n_guests}",
        "seed": 7,
        "duration": "24h",
        "interval": "5m",
        "datacenters": [{"hosts": [
            {"model": "dell_r740_8280", "count": n_hosts - n_hosts // 2, "virtualization": "kvm",
             "storage": "4TB", "cpu_overcommit": 1.5},
            {"model": "ibm_x3550_x5675", "count": max(1, n_hosts // 2), "virtualization": "kvm",
             "storage": "2TB", "cpu_overcommit": 1.5},
        ]}],
        "guests": [
            {"type": "small", "count": n_guests // 2,
             "workload": {"kind": "uniform", "low": 0.05, "high": 0.6}},
            {"type": "medium", "count": n_guests - n_guests // 2,
             "workload": {"kind": "uniform", "low": 0.2, "high": 0.9}},
        ],
        "placement": {"name": "first_fit"},
        "output": {"guest_records": True},
    }


class Timers:
    """CPU and wall seconds and call counts per phase; nested phases count in the outer one."""

    def __init__(self) -> None:
        self.cpu: dict[str, float] = {}
        self.wall: dict[str, float] = {}
        self.calls: dict[str, int] = {}
        self.depth = 0

    def add(self, phase: str, cpu: float, wall: float) -> None:
        self.cpu[phase] = self.cpu.get(phase, 0.0) + cpu
        self.wall[phase] = self.wall.get(phase, 0.0) + wall
        self.calls[phase] = self.calls.get(phase, 0) + 1

    def call(self, phase: str, fn: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(fn)
        def wrapped(*args: Any, **kwargs: Any) -> Any:
            if self.depth:
                return fn(*args, **kwargs)
            self.depth += 1
            c0, w0 = time.process_time(), time.perf_counter()
            try:
                return fn(*args, **kwargs)
            finally:
                self.add(phase, time.process_time() - c0, time.perf_counter() - w0)
                self.depth -= 1
        return wrapped

    def steps(self, phase: str, fn: Callable[..., Generator[Any, Any, Any]]
              ) -> Callable[..., Generator[Any, Any, Any]]:
        timers = self

        @functools.wraps(fn)
        def wrapped(*args: Any, **kwargs: Any) -> Generator[Any, Any, Any]:
            gen = fn(*args, **kwargs)
            send: Any = None
            throw: BaseException | None = None
            while True:
                c0, w0 = time.process_time(), time.perf_counter()
                timers.depth += 1
                try:
                    ev = gen.send(send) if throw is None else gen.throw(throw)
                except StopIteration as stop:
                    return stop.value
                finally:
                    timers.depth -= 1
                    timers.add(phase, time.process_time() - c0, time.perf_counter() - w0)
                send, throw = None, None
                try:
                    send = yield ev
                except BaseException as exc:  # e.g. simpy.Interrupt: hand it to the process
                    throw = exc
        return wrapped


def _install(timers: Timers) -> None:
    import importlib

    for table, wrap in ((PHASES, timers.call), (STEP_PHASES, timers.steps)):
        for phase, targets in table.items():
            for target in targets:
                mod_name, _, attr = target.partition(":")
                try:
                    owner: Any = importlib.import_module(mod_name)
                except ImportError:
                    continue
                *path, name = attr.split(".")
                for part in path:
                    owner = getattr(owner, part, None)
                if owner is None or not hasattr(owner, name):
                    continue
                setattr(owner, name, wrap(phase, getattr(owner, name)))


def _digest(df: Any) -> str:
    import pandas as pd

    return hashlib.sha256(pd.util.hash_pandas_object(df, index=True).to_numpy().tobytes()
                          ).hexdigest()[:16]


def one(n: int, save: str | None, carbon: bool = False,
        memory: float | None = None) -> dict[str, Any]:
    t_imp = time.perf_counter()
    import scipy.stats  # noqa: F401  (one-time import the stochastic workloads use; timed apart)

    import dcsim

    imports_s = time.perf_counter() - t_imp
    timers = Timers()
    _install(timers)
    t0 = time.perf_counter()
    sc = dcsim.api._scenario(config(n, carbon, memory), None)
    t1 = time.perf_counter()
    c1 = time.process_time()
    r = dcsim.run(sc)
    c2 = time.process_time()
    t2 = time.perf_counter()
    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    intervals = len(r.timeseries)
    timers.cpu["other"] = (c2 - c1) - sum(timers.cpu.values())
    timers.wall["other"] = (t2 - t1) - sum(timers.wall.values())
    if save:
        out = {"summary": {k: v for k, v in sorted(r.summary.items()) if k != "wall_s"},
               "timeseries": _digest(r.timeseries), "guests": _digest(r.guests),
               "hosts": _digest(r.hosts)}
        Path(save).mkdir(parents=True, exist_ok=True)
        Path(save, f"summary-{n}.json").write_text(
            json.dumps(out, indent=1, sort_keys=True, default=str) + "\n")
    return {
        "guests": n, "hosts": sc.n_hosts, "intervals": intervals, "imports_s": imports_s,
        "load_s": t1 - t0, "run_wall_s": t2 - t1, "run_cpu_s": c2 - c1,
        "peak_rss_mb": rss_mb, "events": r.summary["events"],
        "placed": r.summary["guests_placed"],
        "phase_cpu_s": timers.cpu, "phase_wall_s": timers.wall, "phase_calls": timers.calls,
    }


def _min_rows(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """Per figure, the minimum over repeats (phases too)."""
    best = dict(rows[0])
    for key in ("run_wall_s", "run_cpu_s", "peak_rss_mb", "imports_s", "load_s"):
        best[key] = min(r[key] for r in rows)
    for key in ("phase_cpu_s", "phase_wall_s"):
        best[key] = {p: min(r[key].get(p, 0.0) for r in rows) for p in ORDER}
    return best


def _exponent(n1: int, t1: float, n2: int, t2: float) -> float:
    return math.log(t2 / t1) / math.log(n2 / n1)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--guests", "--sizes", dest="guests", default="10000,100000",
                    help="comma-separated guest counts (default 10000,100000)")
    ap.add_argument("--repeat", type=int, default=1, help="runs per size; minimum kept")
    ap.add_argument("--save", help="folder for summary-<guests>.json of each size")
    ap.add_argument("--carbon", action="store_true",
                    help="with carbon accounting (a 15-minute intensity series)")
    ap.add_argument("--memory", type=float, default=None, metavar="RATIO",
                    help="with memory accounting at this mem_overcommit (1: same placements)")
    ap.add_argument("--child", type=int, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        print(json.dumps(one(args.child, args.save, args.carbon, args.memory)))
        return
    sizes = [int(s) for s in args.guests.split(",")]
    cmds = []
    for n in sizes:
        cmd = [sys.executable, __file__, "--child", str(n)]
        if args.save:
            cmd += ["--save", args.save]
        if args.carbon:
            cmd.append("--carbon")
        if args.memory is not None:
            cmd += ["--memory", str(args.memory)]
        cmds.append(cmd)
    rows = []
    for n, done in zip(sizes, interleaved(cmds, args.repeat), strict=True):
        runs = [row for _cpu, _wall, row in done]
        row = _min_rows(runs)
        rows.append(row)
        cpu = row["phase_cpu_s"]
        print(f"\n{n:,} guests, {row['hosts']:,} hosts, {row['intervals']} intervals, "
              f"{row['events']:,} events, {row['placed']:,} placed "
              f"(min of {len(runs)}; imports {row['imports_s']:.2f} s, config "
              f"{row['load_s']:.2f} s wall, not counted)")
        print(f"  {'phase':<11} {'CPU s':>9} {'wall s':>9} {'share':>6} {'calls':>9} "
              f"{'CPU us/call':>11}")
        for p in ORDER:
            calls = runs[0]["phase_calls"].get(p, 0)
            per = f"{1e6 * cpu[p] / calls:>11.1f}" if calls else f"{'':>11}"
            print(f"  {p:<11} {cpu[p]:>9.2f} {row['phase_wall_s'][p]:>9.2f} "
                  f"{cpu[p] / row['run_cpu_s']:>6.1%} {calls:>9,} {per}")
        print(f"  {'run':<11} {row['run_cpu_s']:>9.2f} {row['run_wall_s']:>9.2f} "
              f"   peak {row['peak_rss_mb']:,.0f} MB, "
              f"{n * row['intervals'] / row['run_cpu_s']:,.0f} guest-intervals per CPU s")
    print(f"\n{'guests':>9} {'run CPU s':>10} {'run wall s':>10} {'peak MB':>8} "
          f"{'exponent (CPU, from previous size)':>36}")
    for i, row in enumerate(rows):
        exp = ""
        if i:
            prev = rows[i - 1]
            e = _exponent(prev["guests"], prev["run_cpu_s"], row["guests"], row["run_cpu_s"])
            exp = f"{e:.2f}"
            if sizes[0] >= 10_000:
                exp += f" (target <= {TARGET_EXPONENT})"
        print(f"{row['guests']:>9,} {row['run_cpu_s']:>10.2f} {row['run_wall_s']:>10.2f} "
              f"{row['peak_rss_mb']:>8,.0f} {exp:>36}")
    if len(rows) > 2:
        xs = [math.log(r["guests"]) for r in rows]
        ys = [math.log(r["run_cpu_s"]) for r in rows]
        mx, my = sum(xs) / len(xs), sum(ys) / len(ys)
        slope = (sum((x - mx) * (y - my) for x, y in zip(xs, ys, strict=True))
                 / sum((x - mx) ** 2 for x in xs))
        print(f"least-squares exponent over all sizes: {slope:.2f} (target <= {TARGET_EXPONENT})")
    for row in rows:
        if row["guests"] == 1_000_000:
            print(f"1,000,000 guests x one day: {row['run_cpu_s']:.1f} CPU s "
                  f"(target <= {TARGET_1M_CPU_S:.0f} s), {row['run_wall_s']:.1f} wall s, "
                  f"peak {row['peak_rss_mb']:,.0f} MB (target <= {TARGET_1M_MB:,.0f} MB)")


if __name__ == "__main__":
    main()

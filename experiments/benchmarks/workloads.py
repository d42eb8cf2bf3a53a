"""Benchmark of the workload models and the trace store (plain script, prints figures).

Targets (issue #4): utilisation of 100,000 guests at one instant ≤ 5 ms for every model kind,
trace replay included; loading all 10 shipped PlanetLab days ≤ 1 s from a cold cache.

For each kind two figures are printed, the median over repeats:
  * ``new step``: an instant in a new period, so stochastic models draw fresh values;
  * ``same step``: another instant within the same period (trace replay interpolates anew,
    diurnal recomputes its seasonality, the others return their cached vector).

Usage: ``PYTHONPATH=. python experiments/benchmarks/workloads.py``.
"""

from __future__ import annotations

import statistics
import time
from typing import Any

import _checkout  # noqa: F401  (this checkout's dcsim, not an installed one)
from pydantic import TypeAdapter

from dcsim.config.workloads import WorkloadSpec
from dcsim.rng import RandomStreams
from dcsim.workload.models import build_workload
from dcsim.workload.traces import clear_cache, load_trace

N = 100_000
PERIOD = 300.0
KINDS: list[dict[str, Any]] = [
    {"kind": "constant"},
    {"kind": "uniform"},
    {"kind": "uniform", "autocorrelation": 0.8},
    {"kind": "normal", "mean": 0.5, "sd": 0.1},
    {"kind": "normal", "mean": 0.5, "sd": 0.1, "autocorrelation": 0.8},
    {"kind": "beta", "a": 2, "b": 5},
    {"kind": "beta", "a": 2, "b": 5, "autocorrelation": 0.8},
    {"kind": "lognormal", "mean": 0.3, "sd": 0.1},
    {"kind": "lognormal", "mean": 0.3, "sd": 0.1, "autocorrelation": 0.8},
    {"kind": "diurnal", "noise_sd": 0.05, "phase_jitter": "1h", "weekly_amplitude": 0.1},
    {"kind": "onoff", "mean_on": "10m", "mean_off": "30m"},
    {"kind": "trace", "name": "planetlab", "repeat": True},
    {"kind": "trace", "name": "google", "repeat": True, "loop": True},
    {"kind": "trace", "name": "bitbrains-sample", "repeat": True},
]


def _label(raw: dict[str, Any]) -> str:
    extra = raw.get("name") or (f"phi={raw['autocorrelation']}" if "autocorrelation" in raw
                                else "")
    return f"{raw['kind']} {extra}".strip()


def bench_models(repeats: int = 15) -> None:
    spec_adapter: TypeAdapter[Any] = TypeAdapter(WorkloadSpec)
    print(f"utilisation of {N:,} guests at one instant (median of {repeats}), target <= 5 ms")
    print(f"{'model':<24}{'new step ms':>12}{'same step ms':>14}")
    for raw in KINDS:
        model = build_workload(spec_adapter.validate_python(raw), N, RandomStreams(42),
                               f"bench.{raw['kind']}", PERIOD)
        model.values(0.0)
        new, same = [], []
        for k in range(1, repeats + 1):
            t = k * PERIOD + 17.0
            t0 = time.perf_counter()
            model.values(t)
            t1 = time.perf_counter()
            model.values(t + 101.0)
            t2 = time.perf_counter()
            new.append(t1 - t0)
            same.append(t2 - t1)
        print(f"{_label(raw):<24}{statistics.median(new) * 1e3:>12.2f}"
              f"{statistics.median(same) * 1e3:>14.2f}")


def bench_loading() -> None:
    clear_cache()
    t0 = time.perf_counter()
    days = ["20110303", "20110306", "20110309", "20110322", "20110325", "20110403",
            "20110409", "20110411", "20110412", "20110420"]
    guests = sum(load_trace("planetlab", d).n_guests for d in days)
    cold = time.perf_counter() - t0
    t0 = time.perf_counter()
    for d in days:
        load_trace("planetlab", d)
    warm = time.perf_counter() - t0
    print(f"load 10 PlanetLab days ({guests:,} series): cold {cold * 1e3:.0f} ms, "
          f"cached {warm * 1e3:.2f} ms (target cold <= 1000 ms)")
    clear_cache()
    t0 = time.perf_counter()
    g = load_trace("google")
    print(f"load Google 10 days ({g.n_guests:,} series): cold "
          f"{(time.perf_counter() - t0) * 1e3:.0f} ms")


if __name__ == "__main__":
    bench_loading()
    bench_models()

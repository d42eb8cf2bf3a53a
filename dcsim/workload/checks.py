"""Checks of workload and arrival specs that need files, for the config layer to call.

Each check returns a list of :class:`dcsim.errors.Issue` (empty = fine) with paths under the
given config location, e.g. ``Issue("guests[0].workload.path", "traces/x.csv line 17: cpu
'abc' is not a number")``, so ``dcsim validate`` can report them together with schema issues
before any run starts.

Imports: numpy, dcsim.config.workloads, dcsim.errors, dcsim.rng, dcsim.workload.{traces, models,
arrivals}.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from dcsim.config.workloads import (
    ArrivalSpec,
    PluginWorkload,
    TraceArrivals,
    TraceWorkload,
    WorkloadSpec,
)
from dcsim.errors import ConfigError, Issue
from dcsim.rng import RandomStreams
from dcsim.workload.arrivals import read_arrival_table
from dcsim.workload.models import _resolve, select_rows
from dcsim.workload.traces import load_trace

__all__ = [
    "check_arrival",
    "check_arrival_spec",
    "check_trace_spec",
    "check_workload",
    "check_workload_spec",
    "trace_guest_count",
    "trace_sizes",
]


def _prefixed(issues: list[Issue], where: str) -> list[Issue]:
    return [Issue(f"{where}.{i.path}" if i.path else where, i.message) for i in issues]


def check_trace_spec(spec: TraceWorkload, where: str = "workload", *,
                     count: int | None = None, base_dir: str | Path | None = None
                     ) -> list[Issue]:
    """Issues of a trace workload: the trace loads and parses, the day exists, the selection
    fits and (with ``count``) there are enough series for ``count`` guests."""
    try:
        trace = load_trace(spec.name, spec.day, _resolve(spec.path, base_dir))
        if spec.column == "memory" and trace.mem_util is None:
            return [Issue(f"{where}.column", f"trace {trace.name!r} has no memory series")]
        select_rows(spec, trace, count, RandomStreams(0), "check")
    except ConfigError as exc:
        return _prefixed(exc.issues, where)
    return []


def check_workload_spec(spec: WorkloadSpec, where: str = "workload", *,
                        count: int | None = None, base_dir: str | Path | None = None
                        ) -> list[Issue]:
    """Issues of any workload spec beyond the schema: trace files; a plugin kind's name and
    parameters (``dcsim.workload.kinds``)."""
    if isinstance(spec, PluginWorkload):
        from dcsim.workload.kinds import check_plugin_spec

        return check_plugin_spec(spec, where)
    if isinstance(spec, TraceWorkload):
        return check_trace_spec(spec, where, count=count, base_dir=base_dir)
    return []


def check_arrival_spec(spec: ArrivalSpec, where: str = "arrival", *,
                       base_dir: str | Path | None = None) -> list[Issue]:
    """Issues of an arrival spec (a trace of arrival times must parse)."""
    if isinstance(spec, TraceArrivals):
        try:
            read_arrival_table(spec, base_dir)
        except ConfigError as exc:
            return _prefixed(exc.issues, where)
    return []


def trace_guest_count(spec: TraceWorkload, *, base_dir: str | Path | None = None) -> int:
    """How many series the trace spec selects (a natural guest count for its group)."""
    trace = load_trace(spec.name, spec.day, _resolve(spec.path, base_dir))
    return int(select_rows(spec, trace, None, RandomStreams(0), "count").size)


def trace_sizes(spec: TraceWorkload, count: int, seed: int, group: int, *,
                base_dir: str | Path | None = None) -> dict[str, Any]:
    """Per-guest sizes a trace gives the ``count`` guests of group ``group`` (``vcpus``,
    ``mips_per_vcpu``, ``ram_bytes``; a missing column is absent), with the rows the run
    picks: the selection stream is the simulation's (``workload.<group>``, replication 0)."""
    trace = load_trace(spec.name, spec.day, _resolve(spec.path, base_dir))
    rows = select_rows(spec, trace, count, RandomStreams(seed), f"workload.{group}")
    out: dict[str, Any] = {}
    for key in ("vcpus", "mips_per_vcpu", "ram_bytes"):
        values = getattr(trace, key, None)
        if values is not None:
            out[key] = np.asarray(values, dtype=np.float64)[rows]
    return out


check_workload = check_workload_spec
"""Alias of :func:`check_workload_spec` (the name the config layer calls)."""
check_arrival = check_arrival_spec
"""Alias of :func:`check_arrival_spec`."""

"""Fault inputs: what the ``faults`` extension reads and checks before a run, and pure helpers.

Owns the config-time checks of a ``faults`` section that need the scenario or files
(``check_faults``, used by ``dcsim validate`` through ``dcsim.config.resolve`` and by the engine),
reading a failure trace (``read_failure_trace``), the descriptions of the summary metrics the
extension adds (``FAULT_SUMMARY_DOC``, printed by the CLI), and pure helpers of the extension that
need no running simulation: resolving the trace path, grouping hosts into failing units (hosts or
racks) and the time-to-failure / repair distributions.

The running extension (SimPy processes, snapshots, recovery, results) lives in
``dcsim.engine.faults``, which imports this module and re-exports ``check_faults``,
``read_failure_trace`` and ``FAULT_SUMMARY_DOC``.

Imports: math, pathlib, dcsim.errors, dcsim.config.safeyaml (bounded CSV reading),
dcsim.workload.arrivals (``lifetime_distribution``), dcsim.config (types only). Nothing of
``dcsim.engine``, and no simpy, numpy or pandas of its own, so the checks can run at config
time.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import TYPE_CHECKING, Any

from dcsim.config.safeyaml import csv_rows, read_input_text
from dcsim.errors import ConfigError, Issue
from dcsim.metrics.contract import SUMMARY
from dcsim.workload.arrivals import lifetime_distribution

if TYPE_CHECKING:
    from dcsim.config.faults import HostFailures, RackFailures
    from dcsim.config.schema import Config

__all__ = [
    "FAULT_SUMMARY_DOC",
    "check_faults",
    "failure_distributions",
    "read_failure_trace",
    "trace_path",
    "unit_hosts",
]

FAULT_SUMMARY_DOC: dict[str, str] = {
    k: SUMMARY[k].doc for k in (
        "availability", "downtime_s", "lost_work_mi", "replayed_work_mi", "mean_recovery_s",
        "p95_recovery_s", "host_failures", "rack_failures", "guest_failures", "guest_restarts",
        "guests_down_at_end", "snapshots_taken", "snapshots_skipped", "snapshots_aborted",
        "snapshot_storage_peak_bytes", "snapshot_storage_end_bytes", "snapshot_traffic_bytes",
        "restore_traffic_bytes", "snapshot_energy_kwh")
}  # the keys the faults extension adds; documented once in dcsim.metrics.contract


# ----------------------------------------------------------------------------- failure traces

_MAX_TRACE_ISSUES = 20
MAX_FAILURE_TRACE_BYTES = 256 * 1024**2
"""Largest failure trace read (bytes)."""


def read_failure_trace(path: Path, n_hosts: int, where: str = "faults.hosts.trace"
                       ) -> tuple[list[tuple[int, float, float]], list[Issue]]:
    """Read a failure trace: one row per failure, columns ``host``, ``fail_s``, ``repair_s``.

    Parameters
    ----------
    path : Path
        The CSV file (header row, comma separated; other columns are ignored).
    n_hosts : int
        Hosts in the scenario: host ids must be in ``0..n_hosts-1``.
    where : str
        Config path prefixed to every issue.

    Returns
    -------
    rows : list of (host, fail_s, repair_s)
        Sorted by (fail_s, host); ``repair_s`` is a duration in s (``inf``: never repaired).
    issues : list of Issue
        Problems found (at most 20 are listed), each naming the file line.
    """
    issues: list[Issue] = []
    rows: list[tuple[int, float, float]] = []
    if not path.exists():
        return [], [Issue(where, f"failure trace not found: {path}")]
    try:
        text = read_input_text(path, "failure trace", MAX_FAILURE_TRACE_BYTES)
        records = csv_rows(text, path.name)
    except ConfigError as exc:  # not a regular file, not UTF-8, a malformed or huge field
        return [], exc.at(where).issues
    if not records:
        return [], [Issue(where, f"{path.name} is empty; expected a header: host,fail_s,repair_s")]
    cols = [c.strip() for c in records[0][1]]
    missing = [c for c in ("host", "fail_s", "repair_s") if c not in cols]
    if missing:
        return [], [Issue(where, f"{path.name}: missing column(s) {', '.join(missing)} in the "
                          f"header; expected host,fail_s,repair_s")]
    ih, jf, jr = cols.index("host"), cols.index("fail_s"), cols.index("repair_s")
    for line, rec in records[1:]:
        if not rec or all(not c.strip() for c in rec):
            continue
        if len(rec) < len(cols):
            issues.append(Issue(where, f"{path.name} line {line}: expected {len(cols)} fields, "
                                f"got {len(rec)}"))
            continue
        raw_h, raw_f, raw_r = rec[ih].strip(), rec[jf].strip(), rec[jr].strip()
        try:
            h = int(raw_h)
        except ValueError:
            issues.append(Issue(where, f"{path.name} line {line}: host {raw_h!r} is not an "
                                "integer host index"))
            continue
        try:
            f = float(raw_f)
            r = math.inf if raw_r in ("", "inf", "Inf", "INF") else float(raw_r)
        except ValueError:
            issues.append(Issue(where, f"{path.name} line {line}: fail_s {raw_f!r} / repair_s "
                                f"{raw_r!r}: not a number of seconds"))
            continue
        if not 0 <= h < n_hosts:
            issues.append(Issue(where, f"{path.name} line {line}: host {h} does not exist "
                                f"(0..{n_hosts - 1})"))
        elif not (math.isfinite(f) and f >= 0):
            issues.append(Issue(where, f"{path.name} line {line}: fail_s must be finite and "
                                f">= 0, got {raw_f!r}"))
        elif math.isnan(r) or r < 0:
            issues.append(Issue(where, f"{path.name} line {line}: repair_s must be >= 0 (a "
                                f"duration), got {raw_r!r}"))
        else:
            rows.append((h, f, r))
        if len(issues) >= _MAX_TRACE_ISSUES:
            issues.append(Issue(where, f"{path.name}: too many problems; stopped here"))
            return [], issues
    rows.sort(key=lambda x: (x[1], x[0]))
    last_up: dict[int, tuple[float, int]] = {}
    for h, f, r in rows:
        prev = last_up.get(h)
        if prev is not None and f < prev[0]:
            issues.append(Issue(where, f"{path.name}: host {h} fails at {f:g} s while still "
                                f"down from its failure at {prev[1]:g} s (repaired at "
                                f"{prev[0]:g} s)"))
        last_up[h] = (f + r, int(f))
    return rows, issues


def trace_path(trace: str, base_dir: Path | None) -> Path:
    """The failure trace file ``trace`` names: relative paths are taken from ``base_dir``."""
    p = Path(trace)
    if not p.is_absolute() and base_dir is not None:
        p = base_dir / p
    return p


# ----------------------------------------------------------------------------- config checks


def _n_hosts(cfg: Config) -> int:
    return sum(g.count for dc in cfg.datacenters for g in dc.hosts)


def check_faults(cfg: Config, base_dir: Path | None) -> list[Issue]:
    """Issues of a ``faults`` section that need the scenario or files (empty = fine).

    Checks host and group indices, that racks can be formed and that a failure trace exists
    and parses; meant for ``dcsim validate`` (``dcsim.config.resolve``) as well as the engine.
    """
    spec = cfg.faults
    if spec is None:
        return []
    issues: list[Issue] = []
    n_h = _n_hosts(cfg)
    if spec.storage.host is not None and spec.storage.host >= n_h:
        issues.append(Issue("faults.storage.host", f"host {spec.storage.host} does not exist "
                            f"(0..{n_h - 1})"))
    if spec.snapshots is not None and spec.snapshots.groups is not None:
        for i, k in enumerate(spec.snapshots.groups):
            if not 0 <= k < len(cfg.guests):
                issues.append(Issue(f"faults.snapshots.groups[{i}]", f"guest group {k} does not "
                                    f"exist (0..{len(cfg.guests) - 1})"))
    if spec.racks is not None and spec.racks.size is None and cfg.network is None:
        issues.append(Issue("faults.racks.size", "required without a network section (racks "
                            "are then `size` consecutive host ids)"))
    if spec.hosts is not None and spec.hosts.trace is not None:
        issues += read_failure_trace(trace_path(spec.hosts.trace, base_dir), n_h)[1]
    return issues


# ----------------------------------------------------------------------------- pure helpers


def unit_hosts(kind: str, n_hosts: int, racks: RackFailures | None, topology: Any
               ) -> list[list[int]]:
    """Hosts of each failing unit: one unit per host (``kind='host'``), or one per rack.

    Racks are ``racks.size`` consecutive host ids or, without a size, the edge switches of
    ``topology`` (a ``dcsim.network.topology.Topology``; hosts on no rack form one more
    unit, the first).
    """
    if kind == "host":
        return [[h] for h in range(n_hosts)]
    assert racks is not None
    if racks.size is not None:
        return [list(range(a, min(a + racks.size, n_hosts)))
                for a in range(0, n_hosts, racks.size)]
    topo = topology
    slot_rack = {s: int(r) for s, r in zip(topo.slots, topo.slot_rack.tolist(), strict=True)}
    by_rack: dict[int, list[int]] = {}
    for h, node in enumerate(topo.host_node):
        r = slot_rack.get(node, -1) if node is not None else -1
        by_rack.setdefault(r, []).append(h)
    return [by_rack[r] for r in sorted(by_rack)]


def failure_distributions(fs: HostFailures | RackFailures) -> tuple[Any, Any]:
    """The frozen ``scipy.stats`` distributions (s) of a failure process: (ttf, repair)."""
    assert fs.ttf is not None
    return lifetime_distribution(fs.ttf), lifetime_distribution(fs.repair)

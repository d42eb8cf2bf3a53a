"""``compat: cloudsim``: run a config with CloudSim 3.0.3's consolidation semantics.

The config describes the experiment as usual; this module maps it onto
``dcsim.engine.cloudsim.CloudSimEngine`` (which reproduces CloudSim's event instants, stale
utilisation, migration CPU split, dropping of zero-demand VMs and metric formulas; see
``reference/cloudsim-planetlab``). Mapping rules, all checked by ``check_compat``:

* hosts are laid out round-robin over the host groups (host ``i`` from group ``i mod n``), which
  for two equal groups is CloudSim's ``i % 2`` alternation of HP ML110 G4 and G5; every host has
  the same cores, RAM, storage and bandwidth (CloudSim's constants are scalars);
* guests keep config order; every group replays a trace (one series per guest) and arrives at
  start; CloudSim's VM types are contiguous blocks, so write one group per type;
* sizes are passed in CloudSim's units: MB = 10^6 bytes (write host RAM as ``4096MB`` to match
  CloudSim's 4096), bandwidth in kbit/s; migration time is RAM / half the host's link;
* ``consolidation.policy`` names the policy, including the baselines ``npa`` and ``dvfs``;
  virtualization overheads, boot times, the network and the migration model do not apply.

Imports: numpy, pandas, dcsim.{engine.cloudsim, policies, workload, metrics}.
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np
import pandas as pd

from dcsim.config.resolve import Scenario
from dcsim.config.workloads import AtStart, TraceWorkload
from dcsim.errors import Issue
from dcsim.metrics.result import Result
from dcsim.rng import RandomStreams
from dcsim.units import JOULES_PER_KWH


def check_compat(sc: Scenario) -> list[Issue]:
    """Problems that keep a config from running in CloudSim-compatible mode."""
    cfg = sc.config
    issues: list[Issue] = []
    if cfg.consolidation is None:
        issues.append(Issue("consolidation", "compat: cloudsim needs consolidation.policy "
                            "(e.g. lr-mmt-1.2, thr-mmt-0.8, dvfs or npa)"))
    if abs(cfg.interval - 300.0) > 1e-9:
        issues.append(Issue("interval", "CloudSim's PlanetLab experiments use 300 s"))
    models = [g.model for g in sc.host_groups]
    issues += [Issue("datacenters", f"compat: cloudsim needs the same {field} on every host "
                     "(CloudSim's host constants are scalars)")
               for field in ("cores", "ram", "storage", "bandwidth")
               if len({getattr(m, field) for m in models}) > 1]
    if len({g.count for g in sc.host_groups}) > 1:
        issues.append(Issue("datacenters", "compat: cloudsim interleaves host groups, so they "
                            "must have equal counts"))
    for k, g in enumerate(sc.guest_groups):
        if not isinstance(g.spec.workload, TraceWorkload):
            issues.append(Issue(f"guests[{k}].workload", "compat: cloudsim replays traces: "
                                "expected kind: trace"))
        if not isinstance(g.spec.arrival, AtStart):
            issues.append(Issue(f"guests[{k}].arrival", "compat: cloudsim creates every VM at "
                                "start: expected kind: at_start"))
        if g.type.vcpus != 1:
            issues.append(Issue(f"guests[{k}]", "CloudSim's PlanetLab VMs have one PE"))
    return issues


def run_compat(sc: Scenario, replication: int = 0) -> Result:
    """Run ``sc`` with CloudSim semantics; returns a ``Result`` like the default engine."""
    from dcsim.engine.cloudsim import CloudSimEngine, PlanetLabSetup
    from dcsim.workload.models import build_workload

    t0 = time.perf_counter()
    cfg = sc.config
    assert cfg.consolidation is not None
    streams = RandomStreams(cfg.seed, replication)
    rows = []
    for g in sc.guest_groups:
        model: Any = build_workload(g.spec.workload, g.spec.count, streams,
                                    f"workload.{g.index}", cfg.interval, base_dir=sc.base_dir)
        rows.append(np.asarray(model.trace.util, dtype=np.float64)[model.rows])
    util = np.concatenate(rows)[:, :288]
    n_groups = len(sc.host_groups)
    n_hosts = sc.n_hosts
    host_group = np.arange(n_hosts) % n_groups
    m0 = sc.host_groups[0].model
    setup = PlanetLabSetup(
        host_pes=m0.cores, host_ram_mb=m0.ram / 1e6, host_bw=m0.bandwidth / 1e3,
        host_storage_mb=m0.storage / 1e6, vm_bw=float(sc.guest_groups[0].type.bandwidth / 1e3),
        vm_size_mb=float(sc.guest_groups[0].type.disk / 1e6), interval_s=cfg.interval,
        migration_mbps=m0.bandwidth / 2 / 8e6,
    )
    eng = CloudSimEngine(util, cfg.consolidation.policy, n_hosts=n_hosts, seed=cfg.seed,
                         setup=setup)
    pe = np.asarray([sc.host_groups[i].model.mips_per_core for i in host_group])
    eng.pe = pe
    eng.T = pe * m0.cores
    eng.tables = np.asarray([sc.host_groups[i].model.power.table() for i in host_group])
    eng.max_power = eng.tables[:, -1].copy()
    eng.avail_mips = eng.T.copy()
    eng.mips = np.repeat([g.type.mips for g in sc.guest_groups],
                         [g.spec.count for g in sc.guest_groups]).astype(np.float64)
    eng.ram = np.repeat([g.type.ram / 1e6 for g in sc.guest_groups],
                        [g.spec.count for g in sc.guest_groups]).astype(np.float64)
    eng.mig_delay = eng.ram / setup.migration_mbps
    m = eng.run()
    ts = eng.intervals()
    pue = cfg.datacenters[0].pue
    summary: dict[str, Any] = {
        "energy_it_kwh": float(m["energy_kwh"]),
        "energy_hosts_kwh": float(m["energy_kwh"]),
        "energy_network_kwh": 0.0,  # CloudSim models no switches
        "energy_facility_kwh": float(m["energy_kwh"]) * pue,
        "mean_active_hosts": float(ts["active_hosts"].mean()) if len(ts) else 0.0,
        "max_active_hosts": int(ts["active_hosts"].max()) if len(ts) else 0,
        "guests_arrived": int(util.shape[0]),
        # a CloudSim PlanetLab cloudlet (2500 x 86400 MI) never finishes within the day: no VM
        # ends its lifetime; the VMs that left were dropped at zero demand
        "guests_departed": 0,
        "guests_dropped": int((~eng.alive).sum()),
        "migrations": int(m["migrations"]),
        "host_shutdowns": int(m["host_shutdowns"]),
        "slatah": float(m["slatah"]), "pdm": float(m["pdm"]), "slav": float(m["slav"]),
        "esv": float(m["esv"]),
        "overall_sla_violation": float(m.get("overall_sla_violation", float("nan"))),
        "average_sla_violation": float(m.get("average_sla_violation", float("nan"))),
    }
    for key in ("time_before_shutdown_mean_s", "time_before_shutdown_sd_s",
                "time_before_migration_mean_s", "time_before_migration_sd_s"):
        summary[key] = float(m.get(key, float("nan")))
    summary.update({"simulated_s": cfg.duration, "wall_s": time.perf_counter() - t0,
                    "events": int(m.get("updates", 0))})
    groups = np.repeat([g.index for g in sc.guest_groups], [g.spec.count for g in sc.guest_groups])
    guests = pd.DataFrame({
        "guest": np.arange(util.shape[0]), "group": groups, "arrival_s": 0.0, "start_s": 0.0,
        "end_s": np.nan, "status": np.where(eng.alive, "running", "dropped"),
        "host": np.where(eng.alive, eng.host_of, -1),
    }) if cfg.output.guest_records else pd.DataFrame()
    return Result(summary=summary, timeseries=_timeseries(ts, n_hosts, pue), hosts=pd.DataFrame(),
                  guests=guests, tables={"migrations": _migrations(eng)},
                  config=sc.config_json(), resolved=sc.resolved_json())


def _timeseries(ts: pd.DataFrame, n_hosts: int, pue: float) -> pd.DataFrame:
    """The CloudSim engine's interval rows as the contract's timeseries columns.

    ``power_it_w`` of a row is the mean IT power until the next row: the difference of CloudSim's
    cumulative energy over that interval (null on the last row). CloudSim models no switches:
    ``power_network_w`` is 0 and ``power_hosts_w`` equals ``power_it_w``.
    """
    e_j = ts["energy_kwh"].to_numpy() * JOULES_PER_KWH
    t = ts["time_s"].to_numpy(dtype=np.float64)
    p_w = np.full(len(ts), np.nan)
    dt = np.full(len(ts), np.nan)
    if len(ts) > 1:
        dt[:-1] = np.diff(t)
        p_w[:-1] = np.diff(e_j) / dt[:-1]
    active = ts["active_hosts"].to_numpy().astype(np.int64)
    return pd.DataFrame({
        "time_s": t, "active_hosts": active, "sleeping_hosts": n_hosts - active,
        "failed_hosts": 0, "guests_running": ts["vms"].to_numpy().astype(np.int64),
        "guests_booting": 0, "interval_s": dt, "power_hosts_w": p_w, "power_network_w": 0.0,
        "power_it_w": p_w, "power_facility_w": p_w * pue,
    })


def _migrations(eng: Any) -> pd.DataFrame:
    """One row per migration the CloudSim engine started (RAM / (bandwidth / 2), one copy)."""
    log = eng.migration_log
    if not log:
        return pd.DataFrame()
    vm = np.asarray([r[0] for r in log], dtype=np.int64)
    start = np.asarray([r[3] for r in log])
    dur = np.asarray([r[4] for r in log])
    return pd.DataFrame({
        "guest": vm, "source": [r[1] for r in log], "destination": [r[2] for r in log],
        "model": "cloudsim", "start_s": start, "end_s": start + dur, "duration_s": dur,
        "rounds": 1, "bytes_sent": eng.ram[vm] * 1e6, "downtime_s": 0.0,
        "stop_reason": "cloudsim",
    })


__all__ = ["check_compat", "run_compat"]

"""The outcome of one run: scalar summary plus tidy tables (pandas DataFrames).

Column names carry units (``time_s``, ``power_w``, ``energy_kwh``). Imports: pandas.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pandas as pd


@dataclass
class Result:
    """What ``dcsim.run`` returns.

    Attributes
    ----------
    summary : one number (or string) per metric; see ``SUMMARY_DOC`` for meanings and units.
    timeseries : one row per scheduling interval (data-center level).
    hosts : one row per host and interval, or empty if ``output.host_timeseries`` is off.
    guests : one row per guest that arrived.
    tables : further named tables (migrations, flows, …) from optional modules.
    """

    summary: dict[str, Any]
    timeseries: pd.DataFrame
    hosts: pd.DataFrame
    guests: pd.DataFrame
    tables: dict[str, pd.DataFrame] = field(default_factory=dict)
    config: dict[str, Any] = field(default_factory=dict)
    resolved: dict[str, Any] = field(default_factory=dict)
    manifest: dict[str, Any] = field(default_factory=dict)


SUMMARY_DOC: dict[str, str] = {
    # --- energy and footprint
    "energy_it_kwh": "IT energy = energy_hosts_kwh + energy_network_kwh, kWh",
    "energy_hosts_kwh": "∫ Σ_hosts P_h dt: P_h from the host's power model at its CPU "
    "utilisation while awake, its sleep power asleep, 0 W failed; kWh",
    "energy_network_kwh": "∫ Σ_switches P_s dt, integrated exactly between the flows' rate "
    "changes (chassis + active ports, dcsim.network.power); 0 without a network section or "
    "with a star; kWh",
    "energy_facility_kwh": "Σ_datacenters (host + network energy of the data center) × its "
    "PUE, kWh",
    "mean_active_hosts": "Σ_hosts awake time / duration",
    "max_active_hosts": "largest number of awake hosts at any instant (exact, not sampled)",
    "mean_active_rack_units": "Σ_hosts rack_units × awake time / duration: time-average rack "
    "space of the hosts that had to be on, U",
    "peak_active_rack_units": "largest Σ rack_units of awake hosts at any instant, U",
    "mean_cpu_utilization": "∫ Σ used MIPS dt / ∫ Σ capacity MIPS of awake hosts dt (0..1)",
    # --- offered load and what of it was served
    "demand_mi": "offered load: ∫ workload demand dt of every guest over its would-be presence "
    "(arrival to planned departure or end of run), running or not (a rejected job guest: its "
    "job work); demand = utilisation × vCPUs × MIPS per vCPU; MI",
    "delivered_mi": "∫ useful MIPS delivered to guests dt, MI",
    "unserved_mi": "demand_mi − delivered_mi = unmet_mi + unserved_wake_mi + unserved_boot_mi "
    "+ unserved_rejected_mi + unserved_downtime_mi, MI",
    "unserved_fraction": "unserved_mi / demand_mi: the SLA-violation share of offered load",
    "unserved_wake_mi": "∫ demand dt of guests placed on a host that is still waking, MI",
    "unserved_boot_mi": "∫ demand dt of guests booting on their layer (first admission), MI",
    "unserved_rejected_mi": "∫ demand dt of rejected guests from arrival to planned departure "
    "or end of run (a rejected finite-job guest: all its job work), MI",
    "unserved_downtime_mi": "∫ demand dt of guests stopped for a migration's stop-and-copy, "
    "down after a host failure, or booting again after one, MI",
    "unmet_mi": "∫ (demand − delivered) dt of running, unpaused guests: CPU contention, the "
    "layer's I/O slow-down, migration slow-down; MI",
    "unmet_fraction": "unmet_mi / demand_mi: contention's share of offered load",
    "overhead_mi": "∫ (raw host MIPS consumed − useful MIPS delivered) dt: CPU the "
    "virtualization layer spent on behalf of guests, MI",
    # --- guests
    "guests_arrived": "guests whose arrival fell within the run",
    "guests_placed": "guests_arrived − guests_rejected",
    "guests_rejected": "guests that fitted on no host at their arrival (their demand is in "
    "unserved_rejected_mi)",
    "guests_departed": "guests whose lifetime (or job queue, if they leave when done) ended "
    "within the run",
    "mean_guests_per_active_host": "∫ Σ_hosts guests dt / Σ_hosts awake time: time-average "
    "consolidation ratio",
    # --- finite jobs
    "jobs_total": "finite jobs of all guests that have jobs",
    "jobs_completed": "jobs finished within the run",
    "mean_job_time_s": "mean over completed jobs of end − start; a guest's first job starts at "
    "the guest's arrival (waiting for a host, its wake and the boot count), the next at the "
    "previous job's end; s",
    "mean_job_slowdown": "mean over completed jobs of job time / (length / (vCPUs × MIPS per "
    "vCPU)), the time alone on the guest's own uncontended vCPUs",
    "p95_job_slowdown": "95th percentile of job slowdown over completed jobs",
    "makespan_s": "latest end time of a completed job, s",
    # --- migrations and host power states
    "migrations": "migrations finished (switched over)",
    "migrations_aborted": "migrations cut short (guest left, destination failed, path cut)",
    "mean_migration_s": "mean of end − start over finished migrations, s",
    "p95_migration_s": "95th percentile of migration duration, s",
    "mean_downtime_s": "mean stop-and-copy downtime over finished migrations, s",
    "p95_downtime_s": "95th percentile of migration downtime, s",
    "migration_bytes": "Σ bytes sent by finished migrations",
    "host_shutdowns": "times a host went to sleep",
    "time_before_shutdown_mean_s": "mean time a host stayed awake before going to sleep, s",
    "time_before_shutdown_sd_s": "sample standard deviation of that time, s",
    "time_before_migration_mean_s": "mean time a guest stayed on a host before migrating, s",
    "time_before_migration_sd_s": "sample standard deviation of that time, s",
    # --- SLA metrics of Beloglazov & Buyya (CCPE 2012)
    "slatah": "Σ_hosts time awake at 100 % CPU / Σ_hosts awake time (pooled over hosts)",
    "pdm": "work lost to migration (demand × slow-down during live rounds + demand while "
    "stopped) / demand_mi",
    "slav": "slatah × pdm",
    "esv": "energy_it_kwh × slav",
    "overall_sla_violation": "CloudSim mode: Σ (requested − allocated) MIPS / Σ requested "
    "MIPS over all VMs and intervals",
    "average_sla_violation": "CloudSim mode: mean per-VM under-allocation ratio where positive",
    # --- consolidation
    "consolidation_steps": "optimisation steps run",
    "migrations_planned": "migrations the consolidation policy asked for",
    # --- network (with a network section)
    "mean_link_utilization": "mean over directed links of 8 × bytes carried / (capacity × "
    "duration), bytes integrated exactly from the flows' rates",
    "max_link_utilization": "largest interval-average utilisation of any link in any "
    "scheduling interval",
    "flow_bytes": "Σ bytes sent by the flows that ended within the run (finished, cancelled or "
    "stopped)",
    "link_byte_hops": "Σ_links bytes carried (a byte crossing 3 links counts 3 times)",
    # --- run
    "simulated_s": "simulated time, s",
    "wall_s": "wall-clock time of the simulation, s",
    "events": "SimPy events processed",
}


def metric_table() -> str:
    """The README's metric table (Markdown), generated from ``SUMMARY_DOC``.

    ``tests/unit/test_metric_docs.py`` checks that the README's table is this one; regenerate it
    with ``python -c "from dcsim.metrics.result import metric_table; print(metric_table())"``.
    """
    rows = ["| metric | formula / meaning |", "|---|---|"]
    bar = "|"
    rows += [f"| `{k}` | {v.replace(bar, chr(92) + bar)} |" for k, v in SUMMARY_DOC.items()]
    return "\n".join(rows) + "\n"


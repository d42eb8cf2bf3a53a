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
    "energy_it_kwh": "IT energy: energy_hosts_kwh + energy_network_kwh, kWh",
    "energy_hosts_kwh": "∫ Σ_hosts power dt (power model at the host's utilisation; sleep "
    "power asleep; 0 W failed), kWh",
    "energy_network_kwh": "∫ Σ_switches power dt, integrated between the flows' rate changes "
    "(0 without a network section or with a star), kWh",
    "energy_facility_kwh": "Σ_datacenters (hosts + network energy of the data center) × its "
    "PUE, kWh",
    "mean_active_hosts": "time-average number of awake hosts",
    "max_active_hosts": "largest number of awake hosts at any scheduling instant",
    "mean_cpu_utilization": "CPU used / CPU capacity of awake hosts, time-weighted (0..1)",
    "demand_mi": "offered load: work the guests' workloads asked for over each guest's "
    "would-be presence (arrival to planned departure or end of run), running or not, MI",
    "delivered_mi": "useful work delivered to guests, MI",
    "unserved_mi": "demand_mi − delivered_mi = unmet_mi + the four unserved_*_mi causes, MI",
    "unserved_fraction": "unserved_mi / demand_mi (the SLA-violation share of offered load)",
    "unserved_wake_mi": "demand of guests waiting for their host to wake, MI",
    "unserved_boot_mi": "demand of guests booting on their layer, MI",
    "unserved_rejected_mi": "demand of rejected guests over their would-be lifetime in the run "
    "(a rejected finite-job guest: all its job work), MI",
    "unserved_downtime_mi": "demand of guests stopped (migration stop-and-copy), down after a "
    "host failure, or booting again after one, MI",
    "unmet_mi": "demand of running, unpaused guests not delivered (CPU contention, I/O "
    "slow-down, migration slow-down), MI",
    "unmet_fraction": "unmet_mi / demand_mi (contention's share of offered load)",
    "overhead_mi": "CPU spent by the virtualization layer on behalf of guests, MI",
    "guests_arrived": "guests that arrived during the run",
    "guests_placed": "guests admitted to a host",
    "guests_rejected": "guests that fitted on no host when they arrived",
    "guests_departed": "guests that finished their lifetime within the run",
    "mean_guests_per_active_host": "time-average consolidation ratio",
    "jobs_total": "finite jobs of all guests",
    "jobs_completed": "jobs finished within the run",
    "mean_job_time_s": "mean job time (end − start; a guest's first job starts at the guest's "
    "arrival, so waiting for a host, its wake and the boot count), s",
    "mean_job_slowdown": "mean job time / time alone on a bare-metal vCPU of the guest's size",
    "p95_job_slowdown": "95th percentile of job slowdown",
    "makespan_s": "time the last job ended, s",
    "migrations": "migrations finished",
    "migrations_aborted": "migrations cut short (guest left, destination failed)",
    "mean_migration_s": "mean migration duration, s",
    "p95_migration_s": "95th percentile of migration duration, s",
    "mean_downtime_s": "mean stop-and-copy downtime, s",
    "p95_downtime_s": "95th percentile of downtime, s",
    "migration_bytes": "bytes sent by migrations",
    "host_shutdowns": "times a host went to sleep",
    "time_before_shutdown_mean_s": "mean time a host stayed awake before sleeping, s",
    "time_before_shutdown_sd_s": "sample sd of that time, s",
    "time_before_migration_mean_s": "mean time a guest stayed on a host before moving, s",
    "time_before_migration_sd_s": "sample sd of that time, s",
    "slatah": "SLA time per active host: share of awake time at 100 % CPU (pooled)",
    "pdm": "performance degradation due to migration: work lost to migration slow-down and "
    "stop-and-copy / demand_mi",
    "slav": "SLATAH × PDM (Beloglazov & Buyya, CCPE 2012)",
    "esv": "energy_it_kwh × slav",
    "overall_sla_violation": "CloudSim: unallocated / requested MIPS over all VMs",
    "average_sla_violation": "CloudSim: mean per-VM under-allocation ratio where positive",
    "consolidation_steps": "optimisation steps run",
    "migrations_planned": "migrations the consolidation policy asked for",
    "simulated_s": "simulated time, s",
    "wall_s": "wall-clock time of the simulation, s",
    "events": "SimPy events processed",
}

"""The results contract: what every run writes, whatever its mode, defined once.

A run folder (``dcsim run``, ``dcsim.io.results.write_run``) holds ``summary.json``, one Parquet
file per table in :data:`TABLES`, ``config.yaml``, ``resolved.yaml`` and ``manifest.json``, in
every mode (default semantics, ``compat: cloudsim``, faults, network …):

- ``summary.json`` has every key of :data:`SUMMARY`. A quantity the run's mode or features do
  not produce (``slatah`` is produced everywhere; ``availability`` only with a ``faults``
  section; ``overall_sla_violation`` only under ``assumptions: {sla: cloudsim}``;
  ``mean_job_slowdown`` only with jobs) is ``null`` in JSON (NaN in ``Result.summary``).
  ``null`` never means zero.
- every table of :data:`TABLES` exists with exactly its columns and dtypes; a table with nothing
  to record (no migration, no faults section, host series off) is written empty with its schema.
  A column a mode cannot produce is null (NaN) in every row; the column docs say where.

:func:`conform` brings the engine's ``Result`` to the contract (every result passes through
it in ``dcsim.engine.dispatch.simulate`` and again in ``write_run``); ``tests/unit/metrics/
test_contract.py`` checks that every mode's output has exactly these files, columns and dtypes,
so a new metric or column must be added here (with its unit) to pass.

Imports: numpy, dcsim.metrics.result; pandas when a table is built (``dcsim.metrics.result``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

import numpy as np

from dcsim.metrics.result import Frame, Result

if TYPE_CHECKING:
    import pandas as pd

Dtype = Literal["float64", "int64", "str", "bool"]

__all__ = ["FILES", "SUMMARY", "TABLES", "Column", "cast", "conform", "metric_table",
           "summary_doc"]


@dataclass(frozen=True)
class Column:
    """One column of a results table (or one summary key): dtype, unit, meaning."""

    dtype: Dtype
    unit: str
    doc: str


def _f(unit: str, doc: str) -> Column:
    return Column("float64", unit, doc)


def _i(unit: str, doc: str) -> Column:
    return Column("int64", unit, doc)


def _s(doc: str) -> Column:
    return Column("str", "", doc)


_COUNT = "1"

# ---------------------------------------------------------------------------------- summary
SUMMARY: dict[str, Column] = {
    "energy_it_kwh": _f("kWh", "IT energy: energy_hosts_kwh + energy_network_kwh"),
    "energy_hosts_kwh": _f("kWh", "∫ Σ_hosts P_h dt: P_h from the host's power model at its CPU "
                                  "utilisation while awake, its sleep power asleep, 0 W failed"),
    "energy_network_kwh": _f("kWh", "∫ Σ_switches P_s dt, integrated exactly between the flows' "
                                    "rate changes (chassis + active ports, dcsim.network.power); "
                                    "0 without a network section or with a star"),
    "energy_facility_kwh": _f("kWh", "Σ_datacenters (hosts + network energy of the data "
                                     "center) × its PUE"),
    "mean_active_hosts": _f(_COUNT, "Σ_hosts awake time / duration"),
    "max_active_hosts": _i(_COUNT, "largest number of awake hosts at any instant (exact, not "
                                   "sampled)"),
    "mean_active_rack_units": _f("U", "Σ_hosts rack_units × awake time / duration: time-average "
                                      "rack space of the hosts that had to be on"),
    "peak_active_rack_units": _f("U", "largest Σ rack_units of awake hosts at any instant"),
    "mean_cpu_utilization": _f("1", "∫ Σ used MIPS dt / ∫ Σ capacity MIPS of awake hosts dt "
                                    "(0..1)"),
    "demand_mi": _f("MI", "offered load: ∫ workload demand dt of every guest over its would-be "
                          "presence (arrival to planned departure or end of run), running or not "
                          "(a rejected job guest: its job work); demand = utilisation × vCPUs × "
                          "MIPS per vCPU"),
    "delivered_mi": _f("MI", "∫ useful MIPS delivered to guests dt"),
    "unserved_mi": _f("MI", "demand_mi − delivered_mi = unmet_mi + unserved_wake_mi + "
                            "unserved_boot_mi + unserved_rejected_mi + unserved_downtime_mi + "
                            "unserved_dropped_mi"),
    "unserved_fraction": _f("1", "unserved_mi / demand_mi: the SLA-violation share of offered "
                                 "load"),
    "unserved_wake_mi": _f("MI", "∫ demand dt of guests placed on a host that is still waking"),
    "unserved_boot_mi": _f("MI", "∫ demand dt of guests booting on their layer (first admission)"),
    "unserved_rejected_mi": _f("MI", "∫ demand dt of rejected guests from arrival to planned "
                                     "departure or end of run (a rejected finite-job guest: all "
                                     "its job work)"),
    "unserved_downtime_mi": _f("MI", "∫ demand dt of guests stopped for a migration's "
                                     "stop-and-copy, down after a host failure, or booting again "
                                     "after one"),
    "unserved_dropped_mi": _f("MI", "∫ demand dt of guests dropped by assumptions: "
                                    "{zero_demand: drop} (CloudSim removes a VM whose demand hits "
                                    "0), from the drop to planned departure or end of run, the "
                                    "workload sampled as if kept; 0 by default"),
    "unmet_mi": _f("MI", "∫ (demand − delivered) dt of running, unpaused guests: CPU contention, "
                         "the layer's I/O slow-down, migration slow-down"),
    "unmet_fraction": _f("1", "unmet_mi / demand_mi: contention's share of offered load"),
    "overhead_mi": _f("MI", "∫ (raw host MIPS consumed − useful MIPS delivered) dt: CPU the "
                            "virtualization layer spent on behalf of guests"),
    "guests_arrived": _i(_COUNT, "guests that arrived during the run"),
    "guests_placed": _i(_COUNT, "guests_arrived − guests_rejected"),
    "guests_rejected": _i(_COUNT, "guests that fitted on no host at their arrival (their demand "
                                  "is in unserved_rejected_mi)"),
    "guests_departed": _i(_COUNT, "guests that finished their lifetime within the run (not "
                                  "those dropped: guests_dropped)"),
    "guests_dropped": _i(_COUNT, "guests removed for good before the end of their lifetime by "
                                 "assumptions: {zero_demand: drop} (CloudSim drops a VM whose "
                                 "demand is exactly 0); 0 when the switch is off"),
    "mean_guests_per_active_host": _f(_COUNT, "∫ Σ_hosts guests dt / Σ_hosts awake time: "
                                              "time-average consolidation ratio"),
    "jobs_total": _i(_COUNT, "finite jobs of all guests (null: no guest runs jobs)"),
    "jobs_completed": _i(_COUNT, "jobs finished within the run"),
    "mean_job_time_s": _f("s", "mean over completed jobs of end − start; a guest's first job "
                               "starts at the guest's arrival (waiting for a host, its wake and "
                               "the boot count), the next at the previous job's end"),
    "mean_job_slowdown": _f("1", "mean over completed jobs of job time / (length / (vCPUs × MIPS "
                                 "per vCPU)), the time alone on the guest's own uncontended vCPUs"),
    "p95_job_slowdown": _f("1", "95th percentile of job slowdown"),
    "makespan_s": _f("s", "time the last job ended"),
    "migrations": _i(_COUNT, "migrations finished"),
    "migrations_aborted": _i(_COUNT, "migrations cut short (guest left, destination failed, "
                                     "failed links cut it off before its switch-over)"),
    "mean_migration_s": _f("s", "mean migration duration"),
    "p95_migration_s": _f("s", "95th percentile of migration duration"),
    "mean_downtime_s": _f("s", "mean stop-and-copy downtime"),
    "p95_downtime_s": _f("s", "95th percentile of downtime"),
    "migration_bytes": _f("B", "bytes sent by migrations"),
    "host_shutdowns": _i(_COUNT, "times a host went to sleep"),
    "time_before_shutdown_mean_s": _f("s", "mean time a host stayed awake before sleeping"),
    "time_before_shutdown_sd_s": _f("s", "sample sd of that time"),
    "time_before_migration_mean_s": _f("s", "mean time a guest stayed on a host before moving"),
    "time_before_migration_sd_s": _f("s", "sample sd of that time"),
    "slatah": _f("1", "Σ_hosts time awake at 100 % CPU / Σ_hosts time awake and done waking "
                      "(pooled over hosts; a host being woken serves no guest yet)"),
    "pdm": _f("1", "work lost to migration (demand × slow-down during live rounds + demand while "
                   "stopped) / demand_mi"),
    "slav": _f("1", "slatah × pdm (Beloglazov & Buyya, CCPE 2012)"),
    "esv": _f("kWh", "energy_it_kwh × slav"),
    "overall_sla_violation": _f("1", "CloudSim: unallocated / requested MIPS over all VMs "
                                     "(only under sla: cloudsim)"),
    "average_sla_violation": _f("1", "CloudSim: mean per-VM under-allocation ratio where "
                                     "positive (only under sla: cloudsim)"),
    "consolidation_steps": _i(_COUNT, "optimisation steps run (null: no consolidation section)"),
    "migrations_planned": _i(_COUNT, "migrations the consolidation policy asked for"),
    # network (null without a network section)
    "mean_link_utilization": _f("1", "mean over directed links of 8 × bytes carried / (capacity × "
                                     "duration), bytes integrated exactly from the flows' rates"),
    "max_link_utilization": _f("1", "largest interval-average utilisation of any link in any "
                                    "scheduling interval"),
    "flow_bytes": _f("B", "bytes carried by network flows"),
    "link_byte_hops": _f("B", "Σ_links bytes carried (a byte crossing 3 links counts 3 times)"),
    # faults (null without a faults section)
    "availability": _f("1", "fraction of guest-time up, over guests that arrived and were "
                            "placed (0..1)"),
    "downtime_s": _f("s", "total time guests were down because of failures"),
    "lost_work_mi": _f("MI", "useful work delivered since the restore point and lost in failures"),
    "replayed_work_mi": _f("MI", "finite-job progress rolled back at restarts (done again)"),
    "mean_recovery_s": _f("s", "mean time from a guest's failure to running again"),
    "p95_recovery_s": _f("s", "95th percentile of that time"),
    "host_failures": _i(_COUNT, "host failures (from host failure processes or the trace)"),
    "rack_failures": _i(_COUNT, "rack failures (each takes all the rack's hosts down)"),
    "guest_failures": _i(_COUNT, "times a guest went down"),
    "guest_restarts": _i(_COUNT, "restarts admitted (snapshot, cold or container)"),
    "guests_down_at_end": _i(_COUNT, "guests still down at the end of the run"),
    "snapshots_taken": _i(_COUNT, "snapshots completed (restore points written)"),
    "snapshots_skipped": _i(_COUNT, "snapshots not taken (previous one still writing, storage "
                                    "down)"),
    "snapshots_aborted": _i(_COUNT, "snapshot writes cut short by a failure"),
    "snapshot_storage_peak_bytes": _f("B", "largest storage used by snapshot files"),
    "snapshot_storage_end_bytes": _f("B", "storage used by snapshot files at the end"),
    "snapshot_traffic_bytes": _f("B", "bytes written by snapshots (aborted writes: the part "
                                      "sent)"),
    "restore_traffic_bytes": _f("B", "bytes read to restore guests from snapshots"),
    "snapshot_energy_kwh": _f("kWh", "storage-target energy of snapshot writes and restores"),
    "link_failures": _i(_COUNT, "network link failures (null without faults.links)"),
    "link_down_s": _f("s", "total time links were down"),
    # run
    "simulated_s": _f("s", "simulated time"),
    "wall_s": _f("s", "wall-clock time of the simulation"),
    "events": _i(_COUNT, "events processed (SimPy events)"),
    "emissions_operational_kg": _f("kg CO2-eq", "Σ_datacenters ∫ I_d(t) · PUE_d · (P_hosts,d + "
                                   "P_network,d) dt: grid intensity I_d (g/kWh, stepwise) times "
                                   "facility energy, piece by piece (NaN without carbon:)"),
    "emissions_embodied_kg": _f("kg CO2-eq", "Σ_hosts embodied_kgco2e × duration / lifetime "
                                "(NaN without embodied_kgco2e)"),
    "emissions_kg": _f("kg CO2-eq", "emissions_operational_kg + emissions_embodied_kg (those "
                       "known)"),
    "deferred_guests": _i(_COUNT, "guests of deferrable groups that arrived (their start "
                          "shifted within the slack, possibly by 0)"),
    "mean_deferral_s": _f("s", "mean of start - submission over deferred_guests"),
    "emissions_migration_kg": _f("kg CO2-eq", "estimate for the finished migrations (already "
                                 "inside emissions_operational_kg): Σ (0.512 J/MB × bytes sent + "
                                 "20.165 J, Liu et al. HPDC 2011) × mean of the two data centers' "
                                 "PUE × intensity at the start"),
    "follow_migrations": _i(_COUNT, "migrations started by follow_renewables (to a greener "
                            "data center)"),
    "carbon_intensity_mean_g_per_kwh": _f("g CO2-eq/kWh", "1000 × emissions_operational_kg / "
                                          "energy_facility_kwh"),
    # memory (dcsim.engine.memory): null without mem_overcommit > 1 or a memory: model
    "mem_allocated_gb_mean": _f("GB", "∫ Σ_hosts allocated RAM of the guests holding room dt / "
                                "duration (10^9 B)"),
    "mem_active_gb_mean": _f("GB", "∫ Σ working sets of placed guests dt / duration"),
    "mem_physical_gb_mean": _f("GB", "∫ Σ_hosts physical memory in use dt / duration: "
                               "footprints + Σ (1 − σ_g)(touched_g − ballooned_g) − swapped"),
    "mem_shared_gb_mean": _f("GB", "∫ Σ memory saved by page sharing dt / duration"),
    "mem_ballooned_gb_mean": _f("GB", "∫ Σ memory held by balloons dt / duration"),
    "mem_swapped_gb_mean": _f("GB", "∫ Σ_hosts memory swapped out by the host dt / duration"),
    "mem_physical_peak_fraction": _f("1", "largest physical memory in use / RAM over hosts and "
                                     "instants (never above 1)"),
    "unmet_memory_mi": _f("MI", "of unmet_mi, the work lost to memory: ∫ demand × "
                          "migration speed × (1 − (1 − balloon_cost × share of idle memory "
                          "ballooned) / (1 + swap_penalty × share of the working set out of "
                          "memory)) dt"),
    "unmet_memory_fraction": _f("1", "unmet_memory_mi / demand_mi"),
}

# ----------------------------------------------------------------------------------- tables
TABLES: dict[str, dict[str, Column]] = {
    "timeseries": {
        "time_s": _f("s", "scheduling instant"),
        "active_hosts": _i(_COUNT, "awake hosts"),
        "sleeping_hosts": _i(_COUNT, "hosts asleep or off"),
        "failed_hosts": _i(_COUNT, "hosts down after a failure"),
        "guests_running": _i(_COUNT, "guests running"),
        "guests_booting": _i(_COUNT, "guests booting"),
        "interval_s": _f("s", "length of the interval this row covers, [time_s, time_s + "
                              "interval_s)"),
        "demand_mips": _f("MIPS", "offered load, interval average"),
        "delivered_mips": _f("MIPS", "useful CPU delivered, interval average"),
        "unmet_mips": _f("MIPS", "demand of running guests not delivered (contention)"),
        "unserved_mips": _f("MIPS", "demand_mips - delivered_mips, all causes"),
        "cpu_utilization": _f("1", "busy / available MIPS of awake hosts over the interval"),
        "power_hosts_w": _f("W", "hosts' power, interval average"),
        "power_network_w": _f("W", "switches' power, interval average (0 without a network "
                                   "section or with a star)"),
        "power_it_w": _f("W", "power_hosts_w + power_network_w: Σ power_it_w × interval_s is "
                              "energy_it_kwh (under energy: cloudsim, the power CloudSim's "
                              "rule charges over the interval)"),
        "power_facility_w": _f("W", "Σ over data centers of their IT power × PUE"),
    },
    "guests": {
        "guest": _i("", "guest index"),
        "group": _i("", "guest group index (config order)"),
        "arrival_s": _f("s", "arrival time"),
        "start_s": _f("s", "time it started running (null: never)"),
        "end_s": _f("s", "time it left (null: still there at the end)"),
        "status": _s("final status: running, departed (end of lifetime), dropped "
                     "(zero_demand: drop, CloudSim's drop at zero demand), rejected, "
                     "down …"),
        "host": _i("", "final host (-1: none)"),
        "demand_mi": _f("MI", "work demanded"),
        "delivered_mi": _f("MI", "useful work delivered"),
        "mean_active_mem_bytes": _f("B", "time average of the working set while placed (null "
                                    "without memory accounting or never placed)"),
        "memory_lost_mi": _f("MI", "work lost to swapping and balloons (null without memory "
                             "accounting)"),
    },
    "migrations": {
        "guest": _i("", "guest index"),
        "source": _i("", "source host"),
        "destination": _i("", "destination host"),
        "model": _s("precopy, postcopy, cold, checkpoint, cloudsim …"),
        "start_s": _f("s", "start"),
        "end_s": _f("s", "end"),
        "duration_s": _f("s", "end - start"),
        "rounds": _i(_COUNT, "copy rounds (model cloudsim: 1, RAM copied once)"),
        "bytes_sent": _f("B", "bytes sent (model cloudsim: the VM's RAM)"),
        "downtime_s": _f("s", "stop-and-copy downtime (model cloudsim: 0, none modelled)"),
        "stop_reason": _s("why the rounds stopped (model cloudsim: cloudsim)"),
    },
    "hosts": {
        "time_s": _f("s", "start of the interval (empty unless output.host_timeseries)"),
        "host": _i("", "host index"),
        "cpu_utilization": _f("1", "CPU used / capacity, interval average"),
        "power_w": _f("W", "host power, interval average"),
        "guests": _i(_COUNT, "guests on the host at the interval's start"),
        "mem_physical_bytes": _f("B", "physical memory in use, interval average (null without "
                                 "memory accounting)"),
        "mem_swapped_bytes": _f("B", "memory swapped out by the host, interval average"),
    },
    "jobs": {
        "guest": _i("", "guest index (empty: no guest runs jobs)"),
        "job": _i("", "job index within the guest"),
        "length_mi": _f("MI", "job length"),
        "start_s": _f("s", "start"),
        "end_s": _f("s", "end (null: unfinished)"),
        "time_s": _f("s", "end - start"),
        "slowdown": _f("1", "time / time alone on a bare-metal vCPU of the guest's size"),
    },
    "network": {
        "time_s": _f("s", "start of the interval (empty without a network section)"),
        "mean_link_utilization": _f("1", "mean over links of 8 × Δbytes / (capacity × interval)"),
        "max_link_utilization": _f("1", "largest over links of that interval average"),
        "busy_link_fraction": _f("1", "mean over links of the share of the interval a link "
                                      "carried traffic"),
        "network_power_w": _f("W", "switch power, interval average (Δenergy / interval)"),
    },
    "flows": {
        "flow": _i("", "flow id (empty when no flow ran)"),
        "tag": _s("what the flow carried (e.g. migration:vm12:round3)"),
        "src": _i("", "source host"),
        "dst": _i("", "destination host"),
        "bytes": _f("B", "bytes sent"),
        "start_s": _f("s", "start"),
        "end_s": _f("s", "end"),
        "completed": Column("bool", "", "all bytes delivered"),
    },
    "links": {
        "time_s": _f("s", "start of the interval (empty unless network.link_timeseries)"),
        "link": _i("", "link index"),
        "utilization": _f("1", "8 × Δbytes / (capacity × interval): interval average"),
    },
    "failures": {
        "kind": _s("host, rack … (empty without a faults section)"),
        "unit": _i("", "failed unit index"),
        "cause": _s("process or trace"),
        "hosts": _i(_COUNT, "hosts taken down"),
        "fail_s": _f("s", "failure time"),
        "repair_s": _f("s", "repair time"),
    },
    "recoveries": {
        "guest": _i("", "guest index (empty without a faults section)"),
        "failed_host": _i("", "host that failed"),
        "host": _i("", "host it restarted on (-1: none)"),
        "down_since_s": _f("s", "time it went down"),
        "restart_s": _f("s", "restart time"),
        "running_s": _f("s", "time it ran again"),
        "recovery_s": _f("s", "running_s - down_since_s"),
        "mode": _s("snapshot, cold, container"),
        "restore_bytes": _f("B", "bytes read to restore"),
        "snapshot_age_s": _f("s", "age of the restore point"),
        "interrupted": Column("bool", "", "the recovery was cut short"),
    },
    "availability": {
        "guest": _i("", "guest index (empty without a faults section)"),
        "group": _i("", "guest group index"),
        "window_s": _f("s", "time the guest should have been up"),
        "downtime_s": _f("s", "time down"),
        "availability": _f("1", "1 - downtime / window"),
        "failures": _i(_COUNT, "times it went down"),
        "restarts": _i(_COUNT, "restarts"),
        "lost_work_mi": _f("MI", "work lost"),
        "replayed_work_mi": _f("MI", "work done again"),
        "snapshots": _i(_COUNT, "snapshots taken"),
    },
    "faults_timeseries": {
        "time_s": _f("s", "instant (empty without a faults section)"),
        "hosts_down": _i(_COUNT, "hosts down"),
        "guests_down": _i(_COUNT, "guests down"),
    },
    "memory": {
        "time_s": _f("s", "scheduling instant (empty without memory accounting)"),
        "allocated_bytes": _f("B", "Σ_hosts allocated RAM of the guests holding room"),
        "active_bytes": _f("B", "Σ working sets of placed guests"),
        "physical_bytes": _f("B", "Σ_hosts physical memory in use"),
        "shared_bytes": _f("B", "Σ memory saved by page sharing"),
        "ballooned_bytes": _f("B", "Σ memory held by balloons"),
        "swapped_bytes": _f("B", "Σ_hosts memory swapped out by the host"),
        "hosts_swapping": _i(_COUNT, "hosts with memory swapped out"),
    },
    "carbon": {
        "start_s": _f("s", "start of the piece (empty without carbon:)"),
        "end_s": _f("s", "end of the piece (the next breakpoint of any data center's series)"),
        "datacenter": _i("", "data-center index"),
        "intensity_g_per_kwh": _f("g CO2-eq/kWh", "grid intensity over the piece"),
        "facility_kwh": _f("kWh", "facility energy of the data center over the piece"),
        "emissions_kg": _f("kg CO2-eq", "intensity × facility energy / 1000"),
    },
    "link_failures": {
        "edge": _i("", "link index (empty without faults.links)"),
        "fail_s": _f("s", "failure time"),
        "repair_s": _f("s", "repair time (inf: not repaired)"),
    },
}

#: Every file of a run folder.
FILES: tuple[str, ...] = ("summary.json", *(f"{t}.parquet" for t in TABLES), "config.yaml",
                          "resolved.yaml", "manifest.json")


def metric_table() -> str:
    """The README's metric table (Markdown): every summary key, its unit and formula.

    ``tests/unit/test_metric_docs.py`` checks the README holds exactly this table; regenerate it
    with ``python -c "from dcsim.metrics.contract import metric_table; print(metric_table())"``.
    """
    bar = "|"
    rows = ["| metric | unit | formula / meaning |", "|---|---|---|"]
    rows += [f"| `{k}` | {c.unit} | {c.doc.replace(bar, chr(92) + bar)} |"
             for k, c in SUMMARY.items()]
    return "\n".join(rows) + "\n"


def summary_doc() -> dict[str, str]:
    """Meaning and unit of every summary key (for printing)."""
    return {k: f"{c.doc}, {c.unit}" if c.unit not in ("", "1") else c.doc
            for k, c in SUMMARY.items()}


_NP = {"float64": np.float64, "int64": np.int64, "bool": np.bool_}


#: id(columns) -> (columns, its empty table): built once per process, copied per run (building
#: an empty DataFrame costs ~1 ms, a dozen per run; the columns object is kept so that its id
#: cannot be reused by another one)
_EMPTY: dict[int, tuple[dict[str, Column], pd.DataFrame]] = {}


def _empty(columns: dict[str, Column]) -> pd.DataFrame:
    import pandas as pd

    hit = _EMPTY.get(id(columns))
    if hit is None or hit[0] is not columns:
        hit = columns, pd.DataFrame({n: pd.Series([], dtype=_NP.get(c.dtype, str))
                                     for n, c in columns.items()})
        _EMPTY[id(columns)] = hit
    return hit[1].copy()


def cast(df: pd.DataFrame | None, columns: dict[str, Column]) -> pd.DataFrame:
    """``df`` with every contract column (missing ones null), contract columns first."""
    if df is None:
        return _empty(columns)
    if len(df) == 0:
        out = _empty(columns)
        for c in df.columns:
            if c not in columns:
                out[c] = df[c]
        return out
    out = df.copy()
    for name, col in columns.items():
        if name not in out.columns:
            if col.dtype == "float64":
                out[name] = np.nan
            else:
                raise ValueError(f"results contract: column {name!r} ({col.dtype}) missing "
                                 "and cannot be null")
        elif col.dtype == "str":
            out[name] = out[name].astype(str)
        else:
            out[name] = out[name].astype(_NP[col.dtype])
    order = list(columns) + [c for c in out.columns if c not in columns]
    return out[order]


def _conformed(value: Any, columns: dict[str, Column]) -> Any:
    """A table brought to ``columns``: a DataFrame cast now, a Frame (or an absent table, an
    empty Frame) cast when it is built."""
    if value is None:
        value = Frame({})
    if isinstance(value, Frame):
        value.contract = columns
        return value
    return cast(value, columns)


def conform(result: Result) -> Result:
    """``result`` brought to the contract, in place: every summary key, every table.

    Keys and columns an engine produced beyond the contract are kept (the contract test fails
    on them, so that they get documented here). Tables not built yet (``Frame``) are cast when
    they are built.
    """
    for key, col in SUMMARY.items():
        if key not in result.summary or result.summary[key] is None:
            result.summary[key] = float("nan")
        elif col.dtype == "int64" and isinstance(result.summary[key], (np.integer, float)):
            v = result.summary[key]
            result.summary[key] = int(v) if np.isfinite(v) else float("nan")
    result.timeseries = _conformed(result.raw("timeseries"), TABLES["timeseries"])
    result.guests = _conformed(result.raw("guests"), TABLES["guests"])
    result.hosts = _conformed(result.raw("hosts"), TABLES["hosts"])
    for name, columns in TABLES.items():
        if name in ("timeseries", "guests", "hosts"):
            continue
        result.tables[name] = _conformed(result.tables.raw(name), columns)
    return result


def dtype_of(series: pd.Series[Any]) -> Dtype | None:
    """The contract dtype a column has (None: none of them)."""
    import pandas as pd

    if pd.api.types.is_bool_dtype(series):
        return "bool"
    if pd.api.types.is_integer_dtype(series):
        return "int64" if series.dtype == np.int64 else None
    if pd.api.types.is_float_dtype(series):
        return "float64" if series.dtype == np.float64 else None
    if pd.api.types.is_string_dtype(series):
        return "str"
    return None

"""Turn a finished ``Simulation`` into a ``Result``: summary metrics and tidy tables.

Pure bookkeeping over the engine's accumulated arrays; no simulation state is changed. Tables
are handed over as ``dcsim.metrics.result.Frame`` objects (built into DataFrames when read).

Imports: numpy, dcsim.metrics.result, dcsim.model.cluster, dcsim.units.
"""

from __future__ import annotations

from collections.abc import Collection
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import NDArray

from dcsim.engine.offered import CAUSES
from dcsim.engine.records import COLUMNS
from dcsim.metrics.consolidation import mean_sd
from dcsim.metrics.result import Frame, Result
from dcsim.model.cluster import GuestStatus
from dcsim.units import JOULES_PER_KWH

if TYPE_CHECKING:
    from dcsim.engine.simulation import Simulation


def _mean(values: NDArray[Any]) -> float:
    """The mean a DataFrame column without nulls gives (``np.mean``'s: pandas sums with numpy
    and divides by the count)."""
    return float(np.mean(values))


def jobs_table(sim: Simulation) -> dict[str, NDArray[Any]]:
    """The ``jobs`` table's columns (every job of the guests that run jobs, guest by guest)."""
    st = sim.state
    jg = np.flatnonzero(sim.has_jobs)
    counts = sim.job_stop[jg] - sim.job_first[jg]
    guest = np.repeat(jg, counts)
    # every job of those guests, guest by guest: job_first[g] .. job_stop[g] - 1
    offset = np.cumsum(counts) - counts  # where each guest's jobs start in the table
    flat = np.arange(int(counts.sum()), dtype=np.intp) + np.repeat(sim.job_first[jg] - offset,
                                                                   counts)
    end = sim.job_end[flat]
    prev_end = np.concatenate([[np.nan], end[:-1]])
    first = flat == sim.job_first[guest]
    # a guest's first job was submitted at its arrival: waiting for a host, its wake and its boot
    # is part of that job's time (response time, not service time)
    submitted = np.where(np.isnan(sim.submit_s[guest]), sim.arrival_s[guest],
                         sim.submit_s[guest])  # a deferred guest: its submission
    start = np.where(first, submitted, prev_end)
    ref = sim.job_len[flat] / (st.vcpus[guest] * st.mips[guest])
    return {
        "guest": guest,
        "job": flat - sim.job_first[guest],
        "length_mi": sim.job_len[flat],
        "start_s": start,
        "end_s": end,
        "time_s": end - start,
        "slowdown": (end - start) / ref,
    }


def migration_summary(
    sim: Simulation,
    tables: dict[str, Any],
    summary: dict[str, Any],
    tot: dict[str, float],
    total_active: float,
) -> dict[str, Any]:
    """Migration records and the SLA metrics of Beloglazov & Buyya (CCPE 2012).

    SLATAH: fraction of awake, woken host time spent at 100 % CPU (pooled over hosts). PDM:
    work lost to migration (slowdown and downtime) over work demanded (offered load).
    SLAV = SLATAH × PDM; ESV = IT energy × SLAV.
    """
    recs = sim.migration_records
    out: dict[str, Any] = {}
    cols = recs.columns()
    dur = np.asarray(cols["end_s"]) - np.asarray(cols["start_s"])  # (elementwise: the same)
    down = np.asarray(cols["downtime_s"])
    if recs:
        tables["migrations"] = Frame(
            {
                "guest": cols["guest"],
                "source": cols["source"],
                "destination": cols["destination"],
                "model": cols["model"],
                "start_s": cols["start_s"],
                "end_s": cols["end_s"],
                "duration_s": dur,
                "rounds": cols["rounds"],
                "bytes_sent": cols["bytes_sent"],
                "downtime_s": down,
                "stop_reason": cols["stop_reason"],
            }
        )
    ready = float(sim.ready_s.sum())  # awake time minus time spent waking
    slatah = float(sim.full_s.sum() / ready) if ready > 0 else 0.0
    demand_mi = tot["demand_mi"]
    pdm = float(sim.mig_loss_mi.sum() / demand_mi) if demand_mi > 0 else 0.0

    sd_mean, sd_sd = mean_sd(np.asarray(sim.shutdown_gaps, dtype=np.float64))
    mg_mean, mg_sd = mean_sd(np.asarray(sim.migration_gaps, dtype=np.float64))
    out.update(
        {
            "migrations": tot["migrations"],
            "migrations_aborted": tot["migrations_aborted"],
            "mean_migration_s": float(dur.mean()) if recs else float("nan"),
            "p95_migration_s": float(np.quantile(dur, 0.95)) if recs else float("nan"),
            "mean_downtime_s": float(down.mean()) if recs else float("nan"),
            "p95_downtime_s": float(np.quantile(down, 0.95)) if recs else float("nan"),
            "migration_bytes": tot["migration_bytes"],
            "host_shutdowns": tot["host_shutdowns"],
            "time_before_shutdown_mean_s": sd_mean,
            "time_before_shutdown_sd_s": sd_sd,
            "time_before_migration_mean_s": mg_mean,
            "time_before_migration_sd_s": mg_sd,
            "slatah": slatah,
            "pdm": pdm,
            "slav": slatah * pdm,
            "esv": summary["energy_it_kwh"] * slatah * pdm,
        }
    )
    return out


_ENERGY = ("energy_it_kwh", "energy_hosts_kwh", "energy_network_kwh", "energy_facility_kwh")
_WORK = ("demand_mi", "delivered_mi", "unserved_mi", "unmet_mi", *(f"unserved_{c}_mi"
                                                                  for c in CAUSES),
         "overhead_mi")
_MIGRATIONS = ("migrations", "migrations_aborted", "migration_bytes", "host_shutdowns")
#: The keys of :func:`totals`, in summary order.
TOTALS = (*_ENERGY, *_WORK, "guests_rejected", *_MIGRATIONS)


def totals(sim: Simulation, t: float, keys: Collection[str] = TOTALS) -> dict[str, float]:
    """The additive summary metrics (``keys`` of ``TOTALS``; the groups they belong to are
    computed) from the engine's accumulators as integrated so far, at ``t`` = now (each host's
    and guest's integrals run to its last settling, at most one interval ago; the network's to
    ``t``). At the end of the run they are the summary's values (``build_result`` takes them
    from here); ``dcsim.rl`` rewards their changes."""
    st = sim.state
    out: dict[str, float] = {}
    if any(k in keys for k in _ENERGY):
        e_host_dc = np.bincount(st.datacenter, weights=sim.energy_j,
                                minlength=sim.dc_pue.shape[0])
        e_net_dc = sim.network_energy_j(t)
        e_dc = e_host_dc + e_net_dc  # IT energy per data center: hosts + network equipment
        out["energy_it_kwh"] = float(e_dc.sum()) / JOULES_PER_KWH
        out["energy_hosts_kwh"] = float(e_host_dc.sum()) / JOULES_PER_KWH
        out["energy_network_kwh"] = float(e_net_dc.sum()) / JOULES_PER_KWH
        out["energy_facility_kwh"] = float((e_dc * sim.dc_pue).sum()) / JOULES_PER_KWH
    if any(k in keys for k in _WORK):
        running_mi = float(sim.demand_mi.sum())  # demand while running and not paused
        demand_mi = running_mi + float(sim.unserved_by_cause.sum())  # offered load
        useful_mi = float(sim.useful_mi.sum())
        out["demand_mi"] = demand_mi
        out["delivered_mi"] = useful_mi
        out["unserved_mi"] = demand_mi - useful_mi
        out["unmet_mi"] = running_mi - useful_mi
        for c, v in zip(CAUSES, sim.unserved_by_cause.tolist(), strict=True):
            out[f"unserved_{c}_mi"] = v
        out["overhead_mi"] = float(sim.raw_mi.sum()) - useful_mi
    if "guests_rejected" in keys:
        out["guests_rejected"] = int(np.count_nonzero(st.status == GuestStatus.REJECTED))
    if any(k in keys for k in _MIGRATIONS):
        recs = sim.migration_records
        out["migrations"] = len(recs)
        out["migrations_aborted"] = sim.migrations_aborted
        out["migration_bytes"] = float(sum(recs.bytes_sent()))
        out["host_shutdowns"] = len(sim.shutdown_gaps)
    return out


def build_result(sim: Simulation, wall_s: float) -> Result:
    st = sim.state
    tot = totals(sim, sim.duration)
    arrived = ~np.isnan(sim.arrival_s)
    demand_mi, useful_mi = tot["demand_mi"], tot["delivered_mi"]
    ts = Frame(sim.recorder.rows, columns=COLUMNS)
    total_active = float(sim.active_s.sum())
    rejected = int(tot["guests_rejected"])
    summary: dict[str, Any] = {
        "energy_it_kwh": tot["energy_it_kwh"],
        "energy_hosts_kwh": tot["energy_hosts_kwh"],
        "energy_network_kwh": tot["energy_network_kwh"],
        "energy_facility_kwh": tot["energy_facility_kwh"],
        "mean_active_hosts": total_active / sim.duration,
        "max_active_hosts": sim.peak_awake_n,
        "mean_active_rack_units": float((sim.rack_units * sim.active_s).sum()) / sim.duration,
        "peak_active_rack_units": sim.peak_awake_ru,
        "mean_cpu_utilization": float(sim.busy_mi.sum() / sim.avail_mi.sum())
        if sim.avail_mi.sum() > 0
        else 0.0,
        "demand_mi": demand_mi,
        "delivered_mi": useful_mi,
        "unserved_mi": tot["unserved_mi"],
        "unserved_fraction": tot["unserved_mi"] / demand_mi if demand_mi > 0 else 0.0,
        "unmet_mi": tot["unmet_mi"],
        "unmet_fraction": tot["unmet_mi"] / demand_mi if demand_mi > 0 else 0.0,
        **{f"unserved_{c}_mi": tot[f"unserved_{c}_mi"] for c in CAUSES},
        "overhead_mi": tot["overhead_mi"],
        "guests_arrived": int(arrived.sum()),
        "guests_placed": int(arrived.sum()) - rejected,
        "guests_rejected": rejected,
        "guests_departed": int(((st.status == GuestStatus.DEPARTED) & ~sim.dropped).sum()),
        "guests_dropped": int(sim.dropped.sum()),
        "mean_guests_per_active_host": float(sim.guest_s.sum() / total_active)
        if total_active > 0
        else 0.0,
    }
    tables: dict[str, Any] = {}
    if sim.has_jobs.any():
        jobs = jobs_table(sim)
        done = ~np.isnan(jobs["end_s"])  # (the DataFrame's rows with an end)
        n_done = int(np.count_nonzero(done))
        summary.update(
            {
                "jobs_total": int(jobs["guest"].shape[0]),
                "jobs_completed": n_done,
                "mean_job_time_s": _mean(jobs["time_s"][done]) if n_done else float("nan"),
                "mean_job_slowdown": _mean(jobs["slowdown"][done]) if n_done else float("nan"),
                "p95_job_slowdown": float(np.quantile(jobs["slowdown"][done], 0.95))
                if n_done
                else float("nan"),
                "makespan_s": float(np.max(jobs["end_s"][done])) if n_done else float("nan"),
            }
        )
        tables["jobs"] = Frame(jobs)
    summary.update(migration_summary(sim, tables, summary, tot, total_active))
    summary.update({"simulated_s": sim.duration, "wall_s": wall_s, "events": sim.events})
    idx = np.flatnonzero(arrived)
    guests = (
        Frame(
            {
                "guest": idx,
                "group": st.guest_group[idx],
                "arrival_s": sim.arrival_s[idx],
                "start_s": sim.start_s[idx],
                "end_s": sim.end_s[idx],
                "status": np.where(sim.dropped[idx], "dropped",
                                   [GuestStatus(int(s)).name.lower() for s in st.status[idx]]),
                "host": st.host_of[idx],
                "demand_mi": sim.demand_mi[idx] + sim.wait_mi[idx],
                "delivered_mi": sim.useful_mi[idx],
            }
        )
        if sim.cfg.output.guest_records
        else Frame({})
    )
    host_rows = sim.recorder.host_rows
    if host_rows:
        n_h = st.n_hosts
        hosts = Frame(
            {
                "time_s": np.repeat([r[0] for r in host_rows], n_h),
                "host": np.tile(np.arange(n_h), len(host_rows)),
                "cpu_utilization": np.concatenate([r[1] for r in host_rows]),
                "power_w": np.concatenate([r[2] for r in host_rows]),
                "guests": np.concatenate([r[3] for r in host_rows]).astype(np.int64),
            }
        )
    else:
        hosts = Frame({})
    return Result(
        summary=summary,
        timeseries=ts,
        hosts=hosts,
        guests=guests,
        tables=tables,
        config=sim.sc.config_json(),
        resolved=sim.sc.resolved_json(),
    )

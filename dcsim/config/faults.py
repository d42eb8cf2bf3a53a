"""Config model of faults and recovery: the ``faults:`` section of a scenario.

The section only describes; the SimPy processes that make hosts fail, write snapshots and
restart guests live in ``dcsim.engine.faults`` (which also checks what needs files or the host
count: the failure trace, host and group indices).

Example::

    faults:
      hosts:                            # independent host failures (alternating renewal)
        ttf: {kind: weibull, shape: 0.7, scale: 60d}   # time to failure, from start or repair
        repair: {kind: lognormal, mean: 4h, sd: 8h}    # time to repair
        # or: trace: failures.csv       # columns host, fail_s, repair_s (a duration, s)
      racks:                            # correlated failures: a whole rack at once
        size: 16                        # hosts per rack (consecutive ids); default: the topology's
        cause: power                    # power: its hosts fail (0 W); switch: cut off, powered
        ttf: {kind: exponential, mean: 1y}
        repair: {kind: constant, value: 2h}
      recovery:
        restart: snapshot               # none | snapshot | cold
        detection: 15s
        restore_overhead: 5s
      snapshots:
        interval: 1h                    # periodic; or schedule: on_demand with at: [6h, 18h]
        kind: incremental               # full = RAM + disk delta; incremental = dirtied pages
        full_every: 24
        keep_last: 2
      storage:
        bandwidth: 500MB/s
        power: 50W

Distributions reuse the lifetime specs of ``dcsim.config.workloads`` (``exponential``,
``lognormal``, ``weibull``, ``constant``).

Defaults and their sources (evidence markers: [V] checked, [D] derived, [E] estimate):

* ``recovery.detection`` 15 s [E]: order of vSphere HA's host-failure detection by missed network
  heartbeats. Kubernetes with default tolerations takes about 5 min 40 s (40 s node grace period
  + 300 s ``tolerationSeconds``): set it explicitly for container clusters.
* ``recovery.restore_overhead`` 5 s [E]: creating the domain and resuming it once its saved
  state has been read (the read itself is modelled as a transfer).
* ``hosts.repair`` lognormal, mean 4 h, sd 8 h [E]: Schroeder & Gibson (DSN 2006) found
  lognormal repair times with means of hours on LANL systems; use their fitted values or a
  trace for real studies.
* ``snapshots.disk_delta`` 5 % [E] of the guest disk changed since its image was provisioned.
* ``snapshots.dirty_rate`` 2 MB/s [D]: the migration helper's fits to Clark et al.'s web and
  game servers (1.7–3.5 MB/s averaged over pre-copy rounds), scaled by CPU activity.
* ``storage.bandwidth`` 500 MB/s [E]: one NFS/iSCSI storage server (a few SSDs, 10 GbE).
* ``storage.power`` 50 W [E]: extra draw of that server while it reads or writes at full rate.

Imports: pydantic, dcsim.units, dcsim.config.{catalog, workloads}.
"""

from __future__ import annotations

from typing import Literal, Self

from pydantic import Field, model_validator

from dcsim.config.catalog import Frozen
from dcsim.config.workloads import LifetimeSpec, LognormalLifetime
from dcsim.units import Byterate, Duration, Fraction, Integer, Power

__all__ = [
    "FaultsSpec",
    "HostFailures",
    "RackFailures",
    "RecoverySpec",
    "SnapshotSpec",
    "StorageSpec",
]


class HostFailures(Frozen):
    """Independent host failures: a time-to-failure and a repair distribution, or a trace.

    Each host alternates up (``ttf``, counted from the start of the run or its last repair) and
    down (``repair``). A ``trace`` (CSV, relative to the config file) lists failures instead:
    columns ``host`` (config host index), ``fail_s`` (instant, s) and ``repair_s`` (time to
    repair, s; empty or ``inf`` = never repaired); other columns are ignored.
    """

    ttf: LifetimeSpec | None = Field(None, description="time to failure (from start or repair)")
    repair: LifetimeSpec = Field(
        LognormalLifetime(mean=4 * 3600.0, sd=8 * 3600.0), description="time to repair"
    )
    trace: str | None = Field(None, description="CSV of failures: host, fail_s, repair_s")

    @model_validator(mode="after")
    def _one_source(self) -> Self:
        if (self.ttf is None) == (self.trace is None):
            raise ValueError("give either ttf (with repair) or trace, not both or neither")
        return self


class LinkFailures(Frozen):
    """Independent failures of network links (each undirected link alternates up ``ttf`` and
    down ``repair``). A failed link carries nothing: flows are re-routed over the surviving
    paths (ECMP alternatives in a fat-tree or leaf-spine), and a flow left without any path
    stalls until a repair; a live migration cut off before its switch-over is aborted (its
    destination reservation given back) and none starts towards an unreachable host. Links
    between a host and its switch can be left out."""

    ttf: LifetimeSpec = Field(description="time to failure of each link")
    repair: LifetimeSpec = Field(description="time to repair of each link")
    host_links: bool = Field(True, description="also fail links between hosts and switches")


class RackFailures(Frozen):
    """Correlated failures: every host of a rack goes down together.

    ``cause: power`` is a rack losing power (its hosts fail and draw 0 W); ``cause: switch`` is
    its top-of-rack switch failing (its hosts are cut off: their guests are down and restarted
    elsewhere, the hosts stay powered). Racks are ``size`` consecutive host ids, or, without
    ``size``, the racks (edge switches) of the configured network topology.
    """

    size: Integer | None = Field(None, gt=0, description="hosts per rack; default: the topology's")
    cause: Literal["power", "switch"] = "power"
    ttf: LifetimeSpec = Field(description="time to failure of each rack")
    repair: LifetimeSpec = Field(description="time to repair of each rack")


class RecoverySpec(Frozen):
    """High availability: what happens to the guests of a failed host."""

    restart: Literal["none", "snapshot", "cold"] = Field(
        "snapshot",
        description="none: guests stay down; snapshot: restore the latest snapshot on another "
        "host (cold boot when there is none); cold: always cold-boot (all state lost)",
    )
    detection: Duration = Field(15.0, ge=0, description="failure detection time, s")
    restore_overhead: Duration = Field(
        5.0, ge=0, description="time to resume a guest once its snapshot has been read, s"
    )
    retry_on_repair: bool = Field(
        True, description="guests that found no room are retried whenever a host is repaired"
    )


class SnapshotSpec(Frozen):
    """Guest snapshots saved as files on the storage target.

    ``periodic``: every guest of the chosen groups is saved every ``interval``; guests are spread
    over ``batches`` instants per interval (guest *i* of a group at offset
    ``(i mod batches) × interval / batches``) so events grow with batches, not guests.
    ``on_demand``: every chosen guest at the instants in ``at`` (and whenever
    ``Faults.request_snapshot`` is called). Only running VMs are saved; containers restart from
    their image.
    """

    schedule: Literal["periodic", "on_demand"] = "periodic"
    interval: Duration = Field(3600.0, gt=0, description="periodic: time between snapshots, s")
    at: list[Duration] = Field(default_factory=list, description="on_demand: instants, s")
    batches: Integer = Field(12, ge=1, description="periodic: snapshot instants per interval")
    kind: Literal["full", "incremental"] = Field(
        "full",
        description="full: RAM + disk delta; incremental: pages dirtied since the last snapshot",
    )
    full_every: Integer = Field(
        24, ge=1, description="incremental: every n-th snapshot of a guest is full (a new chain)"
    )
    keep_last: Integer = Field(2, ge=1, description="restore points kept per guest (retention)")
    disk_delta: Fraction = Field(
        0.05, ge=0, le=1, description="share of the guest disk saved in a full snapshot"
    )
    dirty_rate: Byterate = Field(2e6, ge=0, description="bytes/s a guest dirties at full CPU")
    dirty_scales_with_cpu: bool = Field(
        True, description="scale the dirty rate by the guest's CPU activity since the last one"
    )
    working_set: Fraction = Field(
        1.0, gt=0, le=1, description="most of its RAM an incremental snapshot holds"
    )
    dirty_model: Literal["linear", "uniform"] = Field(
        "linear",
        description="pages dirtied in t: linear = rate × t (capped at the working set); "
        "uniform = W·(1 − exp(−rate·t/W)), writes spread uniformly over the working set W "
        "(rewrites of a dirty page add nothing)",
    )
    groups: list[int] | None = Field(
        None, description="guest groups (indices into guests) saved; default: all"
    )

    @model_validator(mode="after")
    def _schedule(self) -> Self:
        if self.schedule == "periodic" and self.at:
            raise ValueError("'at' is for schedule: on_demand")
        return self


class StorageSpec(Frozen):
    """Where snapshot files go and what writing them costs.

    Without ``host`` the target is a dedicated storage server outside the host list, reached at
    ``bandwidth``. With ``host`` (a config host index) files live on that host: when a
    ``network`` section is configured they travel over the network model, and when that host
    fails its snapshots are unavailable until it is repaired.
    """

    host: Integer | None = Field(None, ge=0, description="config host index holding the files")
    bandwidth: Byterate = Field(500e6, gt=0, description="read/write rate of the target, bytes/s")
    power: Power = Field(50.0, ge=0, description="extra W drawn while reading/writing at full rate")


class FaultsSpec(Frozen):
    """The ``faults`` section: failure processes, recovery, snapshots and their storage."""

    hosts: HostFailures | None = None
    racks: RackFailures | None = None
    links: LinkFailures | None = None
    recovery: RecoverySpec = RecoverySpec()
    snapshots: SnapshotSpec | None = None
    storage: StorageSpec = StorageSpec()

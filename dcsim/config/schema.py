"""The experiment config: frozen pydantic models, unknown keys refused, units parsed at load.

One YAML file describes a data center (host groups with their hardware model and virtualization
layer), the guests it runs (groups with a size, a workload and an arrival process), the policies
that manage it and what to record. Defaults live here and only here. Semantic checks that need the
catalogs (unknown model names, a guest larger than every host) are in ``dcsim.config.resolve``.

Imports: pydantic, dcsim.units, dcsim.config.{catalog, workloads}.
"""

from __future__ import annotations

import re
from typing import Any, Literal

from pydantic import Field, field_validator, model_validator

from dcsim.config.assumptions import Assumptions
from dcsim.config.carbon import CarbonSpec, ClockSpec, DeferSpec, FollowSpec
from dcsim.config.catalog import Frozen, PowerSpec
from dcsim.config.consolidation import ConsolidationSpec
from dcsim.config.faults import FaultsSpec
from dcsim.config.network import NetworkSpec
from dcsim.config.sweep import SweepSpec
from dcsim.config.workloads import ArrivalSpec, AtStart, UniformWorkload, WorkloadSpec
from dcsim.units import Bitrate, Duration, Integer, Number, Power, Size

SCHEMA_VERSION = 1

__all__ = [
    "SCHEMA_VERSION",
    "Config",
    "Datacenter",
    "GuestGroup",
    "HostGroup",
    "OutputSpec",
    "PlacementSpec",
    "PowerManagement",
]


class HostGroup(Frozen):
    """``count`` identical hosts: a catalog ``model`` and/or explicit hardware fields."""

    name: str | None = Field(None, description="display name; default '<model>'")
    model: str | None = Field(None, description="host model from the catalog or host_models")
    count: Integer = Field(1, gt=0)
    cores: Integer | None = Field(None, gt=0)
    mips_per_core: Number | None = Field(None, gt=0)
    ram: Size | None = Field(None, gt=0)
    storage: Size | None = Field(None, gt=0)
    bandwidth: Bitrate | None = Field(None, gt=0)
    rack_units: Integer | None = Field(None, gt=0)
    power: PowerSpec | None = None
    sleep_power: Power | None = Field(None, ge=0)
    virtualization: str = Field("kvm", description="virtualization profile name")
    cpu_overcommit: Number = Field(1.0, ge=1.0, le=100.0,
                                   description="allowed ratio of reserved to real MIPS (at most "
                                   "100, as mem_overcommit)")
    mem_overcommit: Number = Field(
        1.0, ge=1.0, le=100.0,
        description="allowed ratio of allocated to physical RAM: guests' RAM may add up to "
        "ratio × (RAM − the layer's footprints); the layer's page sharing, ballooning and host "
        "swapping (its profile) decide what each guest then gets (dcsim.engine.memory). 1: "
        "allocation never exceeds RAM")
    cpu_scheduler: Literal["time_shared", "space_shared"] = Field(
        "time_shared",
        description="time_shared: vCPUs share cores by weight (Xen credit style); space_shared: "
        "each vCPU pinned to a core of its own (no overcommit, no scheduling overhead)",
    )
    embodied_kgco2e: Number | None = Field(
        None, ge=0, description="embodied emissions of one host (manufacture, transport, end "
        "of life), kg CO2-eq: from the maker's product carbon footprint sheet")
    lifetime: Duration | None = Field(
        None, gt=0, description="service life over which embodied emissions are amortised "
        "(e.g. 1460d for four years); needed with embodied_kgco2e")

    @model_validator(mode="after")
    def _embodied_needs_lifetime(self) -> HostGroup:
        if (self.embodied_kgco2e is None) != (self.lifetime is None):
            raise ValueError("embodied_kgco2e and lifetime go together (kg CO2-eq amortised "
                             "over the lifetime)")
        return self


class Datacenter(Frozen):
    """A data center: host groups and facility overhead."""

    name: str = "dc0"
    pue: Number = Field(
        1.58,
        ge=1.0,
        le=10.0,
        description="power usage effectiveness, 1-10; default: industry average, Uptime "
        "Institute Global Data Center Survey 2023 (its surveys' yearly averages stay within "
        "1.5-2.5)",
    )
    hosts: list[HostGroup] = Field(min_length=1)
    carbon: CarbonSpec | None = Field(
        None, description="grid carbon intensity (constant or a series; dcsim.config.carbon)")


class GuestGroup(Frozen):
    """``count`` guests of one size, workload and arrival process."""

    name: str | None = None
    type: str | None = Field(None, description="guest type from the catalog or guest_types")
    count: Integer = Field(1, gt=0,
                           description="guests (for Poisson arrivals: the most that arrive)")
    vcpus: Integer | None = Field(None, gt=0)
    mips: Number | None = Field(
        None, gt=0, description="MIPS per vCPU: its speed on bare metal, and the host CPU the "
        "layer gives it (a layer's overhead is paid from it)")
    ram: Size | None = Field(None, gt=0)
    disk: Size | None = Field(None, ge=0)
    image: Size | None = Field(None, ge=0)
    workload: WorkloadSpec = UniformWorkload()
    memory: WorkloadSpec | Literal["trace"] | None = Field(
        None,
        description="active memory (working set) over time as a fraction of the guest's ram: "
        "a workload spec of any kind but jobs (its values in [0, 1]), 'trace' for the memory "
        "series of this group's own trace workload (Bitbrains, Google, a generic file with a "
        "memory column), or none: every allocated page is active (dcsim.engine.memory)")
    os_image: str | None = Field(
        None, min_length=1,
        description="identity of the guests' OS image (OS and version) for page sharing: only "
        "co-located guests of one image share pages; default: the group's name")
    kind: Literal["vm", "container"] | None = Field(
        None,
        description="what the guests are: a 'vm' runs only on hypervisor hosts (type1/type2), a "
        "'container' only on container runtimes; default: what the first host each lands on "
        "runs. Either way a guest keeps its kind: migrations and restarts only go to hosts of "
        "the same kind of layer",
    )
    size_from_trace: bool = Field(
        False,
        description="take each guest's vCPUs, MIPS per vCPU and RAM from its trace series "
        "(Bitbrains and generic traces carry them); the type/fields give the rest",
    )
    arrival: ArrivalSpec = AtStart()
    deferrable: DeferSpec | None = Field(
        None, description="carbon-aware temporal shifting of the start (needs carbon:)")
    boot: bool = Field(True, description="pay the virtualization layer's boot time on arrival")
    cpu_weight: Number | None = Field(
        None, gt=0, description="share weight under contention; default: the guest's vCPUs"
    )
    cpu_cap: Number | None = Field(
        None, gt=0, le=1, description="most host CPU the guest may use, fraction of vCPUs × MIPS "
        "(the layer's overhead is paid from it too)"
    )
    antisocial: bool = Field(
        False,
        description="a noisy neighbour (I/O storms, memory hog, fork bombs: Barham et al.'s "
        "'antisocial' domains); co-located busy guests pay the layer's interference per "
        "antisocial neighbour",
    )
    io_fraction: Number = Field(
        0.0, ge=0, le=1,
        description="share of the guest's bare-metal time spent waiting on storage I/O; the "
        "layer's io_seq_factor / io_rand_factor stretch it (see io_pattern)",
    )
    io_pattern: Literal["sequential", "random", "latency"] = Field(
        "random",
        description="storage I/O kind: throughput-bound 'sequential' (io_seq_factor) or "
        "'random' (io_rand_factor), or 'latency': synchronous small I/O at queue depth 1, "
        "stretched by the layer's io_latency_mult")
    net_fraction: Number = Field(
        0.0, ge=0, le=1,
        description="share of the guest's bare-metal time spent on network I/O; the layer's "
        "net_bulk_factor stretches it",
    )
    net_pattern: Literal["bulk", "request"] = Field(
        "bulk",
        description="network I/O kind: 'bulk' transfers (net_bulk_factor) or 'request': "
        "request-response waiting on round trips of native length net_rtt, each lengthened by "
        "the layer's net_latency_add")
    net_rtt: Duration = Field(
        37.5e-6, gt=0,
        description="native round trip of a 'request' guest, s; default 37.5 us: Felter et al. "
        "2014, netperf TCP_RR on native Linux, 10 GbE")
    mem_bound_fraction: Number = Field(
        0.0, ge=0, le=1,
        description="share of the work that is memory-bandwidth-bound (pays the layer's "
        "mem_bw_overhead on top of cpu_overhead)")
    syscall_fraction: Number = Field(
        0.0, ge=0, le=1,
        description="share of the work that is syscall/I/O-heavy (pays the layer's "
        "syscall_overhead on top of cpu_overhead)",
    )


class PlacementSpec(Frozen):
    """An admission placement policy by registry name, with its own parameters."""

    name: str = "first_fit"
    params: dict[str, Any] = Field(default_factory=dict)


class PowerManagement(Frozen):
    """Sleeping of idle hosts."""

    sleep_idle_hosts: bool = Field(True, description="hosts without guests sleep at sleep_power")
    wake_latency: Duration = Field(0.0, ge=0, description="delay before a woken host runs guests")


class OutputSpec(Frozen):
    """What a run records beyond the summary and the data-center time series."""

    host_timeseries: bool = Field(False, description="per-host per-interval rows (large)")
    guest_records: bool = Field(True, description="one row per guest: placement, times, unmet MI")


_CALLABLE = re.compile(r"[A-Za-z_][\w.]*:[A-Za-z_][\w.]*")


class AgentsSpec(Frozen):
    """Outside agents taking the engine's decisions in ``dcsim run`` and sweeps (``dcsim.rl``,
    the ``rl`` extra): each is ``'module:callable'``, a factory called with the matching
    environment (``dcsim/Placement-v0``, ``dcsim/Consolidation-v0``) and returning an agent
    ``agent(obs, info) -> action`` (e.g. a trained policy; ``dcsim.rl.agents:PolicyAgent``
    reproduces the configured policies)."""

    placement: str | None = Field(None, description="'module:callable' placement agent factory")
    consolidation: str | None = Field(
        None, description="'module:callable' consolidation agent factory (needs consolidation:)")
    max_moves: Integer = Field(64, gt=0, description="moves per consolidation step the agent may "
                           "give (rows of the action)")

    @field_validator("placement", "consolidation")
    @classmethod
    def _callable(cls, v: str | None) -> str | None:
        if v is not None and not _CALLABLE.fullmatch(v):
            raise ValueError(f"expected 'package.module:callable', got {v!r}")
        return v


_NAME = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.\-]{0,127}")


class Config(Frozen):
    """A complete dcsim experiment."""

    schema_version: Literal[1] = 1
    name: str = Field("experiment", description="the default output folder's name "
                      "(results/<name>): letters, digits, '_', '.', '-'; not starting with '.' "
                      "or '-'; at most 128 characters")
    description: str = ""
    seed: Integer = Field(0, ge=0)
    duration: Duration = Field(86400.0, gt=0, description="simulated time, s")
    interval: Duration = Field(300.0, gt=0, description="scheduling interval, s")
    compat: Literal["none", "cloudsim"] = "none"
    assumptions: Assumptions = Field(
        default_factory=Assumptions,
        description="modelling assumptions of the default engine (dcsim.config.assumptions); "
        "'cloudsim-3.0.3' sets CloudSim's",
    )
    clock: ClockSpec | None = Field(
        None, description="wall-clock instant of t = 0 (needed by carbon intensity series)")
    datacenters: list[Datacenter] = Field(min_length=1)
    guests: list[GuestGroup] = Field(min_length=1)
    placement: PlacementSpec = PlacementSpec()
    power_management: PowerManagement = PowerManagement()
    host_models: dict[str, dict[str, Any]] = Field(
        default_factory=dict, description="new host models or overrides: {name: {base: ..., ...}}"
    )
    virtualization_profiles: dict[str, dict[str, Any]] = Field(
        default_factory=dict, description="new profiles or overrides: {name: {base: kvm, ...}}"
    )
    guest_types: dict[str, dict[str, Any]] = Field(default_factory=dict)
    output: OutputSpec = OutputSpec()
    consolidation: ConsolidationSpec | None = Field(
        None, description="dynamic consolidation with live migration (default semantics)"
    )
    network: NetworkSpec | None = Field(
        None, description="data-center network; default: each host's NIC on one switch"
    )
    faults: FaultsSpec | None = Field(
        None, description="host/rack failures, guest snapshots and recovery (dcsim.engine.faults)"
    )
    follow_renewables: FollowSpec | None = Field(
        None, description="migrate guests to greener data centers (needs carbon: everywhere)")
    agents: AgentsSpec | None = Field(
        None, description="outside agents (dcsim.rl) taking placement/consolidation decisions"
    )
    extensions: dict[str, dict[str, Any]] = Field(
        default_factory=dict, exclude_if=lambda v: not v,
        description="engine extensions that plugins registered, enabled by name, each with its "
        "parameters (`dcsim plugins` lists them); left out of the config hash when empty",
    )
    sweep: SweepSpec | None = Field(
        None, exclude=True,
        description="values to vary for `dcsim sweep` (never part of a run's config or its hash)",
    )

    @field_validator("name")
    @classmethod
    def _folder_name(cls, v: str) -> str:
        # the name becomes a folder (results/<name>): no separators, no '.'/'..', nothing hidden
        if not _NAME.fullmatch(v):
            raise ValueError(f"expected 1-128 letters, digits, '_', '.' or '-', not starting "
                             f"with '.' or '-' (it names the folder results/<name>), got {v!r}")
        return v

"""The shipped catalogs: host models, virtualization profiles and guest types.

Each catalog is a YAML file in ``dcsim/catalog/`` whose entries validate against the models below.
Every numeric default carries its source in the entry's ``sources`` mapping (field name → citation),
and values that are judgement rather than measurement say so with ``[E]`` in their citation, the
evidence markers of the project's reference notes ([V] checked, [D] derived, [S] secondary, [E]
estimate). A config may use an entry by name, override any field, or define new entries.

Virtualization profiles are extensible: a plugin (``dcsim.plugins``) adds named profiles to
:data:`PLUGIN_PROFILES`, which :func:`virtualization_profiles` returns beside the shipped ones.

Imports: pydantic, dcsim.config.safeyaml (yaml), dcsim.units, dcsim.errors, dcsim.registry.
"""

from __future__ import annotations

from functools import cache
from importlib import resources
from typing import Any, Literal

from pydantic import ConfigDict, Field, ValidationError

from dcsim.config.safeyaml import load_shipped
from dcsim.errors import ConfigError
from dcsim.registry import Registry
from dcsim.units import Bitrate, Duration, Fraction, Integer, Number, Power, Size, StrictModel

__all__ = [
    "PLUGIN_PROFILES",
    "BootTime",
    "GuestType",
    "HostModel",
    "PowerSpec",
    "SchedOverhead",
    "VirtualizationProfile",
    "guest_types",
    "host_models",
    "virtualization_profiles",
]


class Frozen(StrictModel):
    """Base of every config model: immutable, unknown keys refused, numbers finite and bounded."""


class PowerSpec(Frozen):
    """A host power model: ``spec`` (11 SPECpower points, W at 0 %…100 % load), ``linear``, or a
    kind a plugin registered (``dcsim.config.power_table.POWER_MODELS``) with its own parameters
    as further keys; every kind is checked by :meth:`problems` and evaluated as its table."""

    model_config = ConfigDict(frozen=True, extra="allow", allow_inf_nan=False)

    kind: str = Field("spec", description="'spec', 'linear' or a plugin's power model")
    watts: list[Power] | None = Field(
        None, description="11 values, W at 0%, 10%, …, 100% load (kind: spec)"
    )
    idle: Power | None = Field(None, ge=0, description="W at 0% load (kind: linear)")
    max: Power | None = Field(None, ge=0, description="W at 100% load (kind: linear)")

    def _plugin_params(self) -> dict[str, Any]:
        """The keys beside ``kind`` (a plugin kind's parameters), as written."""
        own = {k: getattr(self, k) for k in ("watts", "idle", "max")
               if getattr(self, k) is not None}
        return {**own, **(self.model_extra or {})}

    def table(self) -> list[float]:
        """The 11-point table in watts."""
        from dcsim.config.power_table import POWER_MODELS, linear_table

        if self.kind == "spec":
            assert self.watts is not None
            return [float(w) for w in self.watts]
        if self.kind == "linear":
            assert self.idle is not None
            assert self.max is not None
            return [float(w) for w in linear_table(self.idle, self.max)]
        entry = POWER_MODELS.get(self.kind)
        assert entry.params is not None
        assert entry.table is not None
        return [float(w) for w in entry.table(entry.params.model_validate(self._plugin_params()))]

    def problems(self) -> list[tuple[str, str]]:
        """(field, message) pairs for an unusable model."""
        from dcsim.config.power_table import validate_table

        if self.kind not in ("spec", "linear"):
            return self._plugin_problems()
        out = [(k, f"unknown key for power model {self.kind!r} (not part of the schema)")
               for k in sorted(self.model_extra or {})]
        if self.kind == "spec":
            if self.watts is None:
                return [*out, ("watts", "kind 'spec' needs 'watts': 11 values, W at 0%..100% load")]
            return [*out, *(("watts", p) for p in validate_table(self.watts))]
        if self.idle is None:
            out.append(("idle", "kind 'linear' needs 'idle' (W at 0% load)"))
        if self.max is None:
            out.append(("max", "kind 'linear' needs 'max' (W at 100% load)"))
        if self.idle is not None and self.max is not None and self.max < self.idle:
            out.append(("max", "must be >= idle"))
        return out

    def _plugin_problems(self) -> list[tuple[str, str]]:
        from dcsim.config.power_table import POWER_MODELS, validate_table

        if self.kind not in POWER_MODELS:
            return [("kind", f"unknown power model {self.kind!r}; known: "
                             f"{', '.join(POWER_MODELS.names())}")]
        entry = POWER_MODELS.get(self.kind)
        assert entry.params is not None
        assert entry.table is not None
        try:
            params = entry.params.model_validate(self._plugin_params())
        except ValidationError as exc:
            from dcsim.config.load import format_path

            return [(format_path(list(e.get("loc", ()))) or "kind", str(e.get("msg", "")))
                    for e in exc.errors()]
        try:
            table = [float(w) for w in entry.table(params)]
        except Exception as exc:  # a plugin's own failure is a problem of this config entry
            return [("kind", f"power model {self.kind!r} failed: {type(exc).__name__}: {exc}")]
        return [("kind", f"power model {self.kind!r}: {p}") for p in validate_table(table)]


class HostModel(Frozen):
    """A physical server model."""

    description: str = ""
    cores: Integer = Field(gt=0, description="physical cores (CloudSim PEs)")
    mips_per_core: Number = Field(gt=0, description="MIPS of one core")
    ram: Size = Field(gt=0, description="RAM, bytes")
    storage: Size = Field(gt=0, description="local storage, bytes")
    bandwidth: Bitrate = Field(gt=0, description="NIC bandwidth, bit/s")
    rack_units: Integer = Field(1, gt=0)
    power: PowerSpec
    sleep_power: Power = Field(0.0, ge=0, description="W drawn while asleep (S3/off)")
    embodied_kgco2e: Number | None = Field(
        None, ge=0, description="embodied emissions of one host (manufacture, transport, end of "
        "life), kg CO2-eq, from the maker's product carbon footprint sheet")
    lifetime: Duration | None = Field(
        None, gt=0, description="service life the embodied emissions are amortised over, s")
    sources: dict[str, str] = Field(default_factory=dict)


class BootTime(Frozen):
    """Boot/start time distribution in seconds: constant, normal (truncated at 0) or lognormal."""

    dist: Literal["constant", "normal", "lognormal"] = "constant"
    mean: Duration = Field(0.0, ge=0)
    sd: Duration = Field(0.0, ge=0)


class SchedOverhead(Frozen):
    """Hypervisor scheduling overhead as a function of runnable vCPUs per physical core ``r``.

    ``overhead(r) = min(max, slope * max(0, r - 1))``: no cost while every vCPU has a core of its
    own, growing with time-slicing pressure beyond that.
    """

    slope: Number = Field(0.0, ge=0, description="fraction lost per extra runnable vCPU per core")
    max: Fraction = Field(0.0, ge=0, le=1)


class VirtualizationProfile(Frozen):
    """What a virtualization layer costs and allows (see dcsim/catalog/virtualization.yaml)."""

    kind: Literal["bare_metal", "type1", "type2", "container"]
    description: str = ""
    cpu_overhead: Fraction = Field(0.0, ge=0, lt=1, description="throughput lost on CPU-bound code")
    syscall_overhead: Fraction = Field(0.0, ge=0, lt=1, description="extra loss, syscall/I/O-heavy")
    mem_bw_overhead: Fraction = Field(0.0, ge=0, lt=1)
    mem_overhead_per_guest: Size = Field(0.0, ge=0, description="RAM per guest beyond its own")
    host_reserved_mem: Size = Field(0.0, ge=0, description="RAM kept by the hypervisor/host OS")
    disk_overhead_per_guest: Size = Field(0.0, ge=0,
                                          description="storage per guest beyond its disk")
    io_seq_factor: Number = Field(1.0, gt=0, le=1)
    io_rand_factor: Number = Field(1.0, gt=0, le=1)
    io_latency_mult: Number = Field(1.0, ge=1)
    net_bulk_factor: Number = Field(1.0, gt=0, le=1)
    net_latency_add: Duration = Field(0.0, ge=0)
    boot_time: BootTime = BootTime()
    sched_overhead: SchedOverhead = SchedOverhead()
    interference: Fraction = Field(
        0.0, ge=0, lt=1, description="slowdown per other busy co-located guest"
    )
    interference_max: Fraction = Field(0.0, ge=0, lt=1)
    max_guests: Integer | None = Field(None, gt=0, description="bare metal: 1")
    page_sharing: bool = Field(
        False, description="content-based page sharing (ESX TPS, Linux KSM): identical pages of "
        "co-located guests of one os_image are kept once (dcsim.engine.memory)")
    sharing_fraction: Number = Field(
        0.0, ge=0, lt=1, description="σ: share of a guest's resident pages identical to those "
        "of its image's other guests; n co-located guests of one image save (n − 1) / n × σ "
        "of their resident memory")
    ballooning: bool = Field(
        False, description="a balloon driver gives idle guest memory (allocation − working "
        "set, as measured one memory update earlier) back to a host short of RAM")
    balloon_cost: Fraction = Field(
        0.0, ge=0, lt=1, description="work per CPU cycle a guest loses while a balloon holds "
        "all of its idle memory (in proportion to the share of it held)")
    swap_penalty: Number = Field(
        0.0, ge=0, description="κ: a guest with fraction f of its working set swapped out waits "
        "on swap-ins and runs (and uses CPU) 1 / (1 + κ f) of the time")
    migrate_touched: bool = Field(
        False, description="with memory accounting, pre-copy's first round leaves out the "
        "memory the balloon driver holds (allocation minus ballooned bytes) instead of sending "
        "the whole allocation; without ballooning it sends the whole allocation either way")
    live_migration: bool = False
    post_copy: bool = False
    cold_migration: bool = True
    checkpoint_restore: bool = False
    sources: dict[str, str] = Field(default_factory=dict)


class GuestType(Frozen):
    """A guest size (VM flavour or container limit)."""

    description: str = ""
    vcpus: Integer = Field(1, gt=0)
    mips: Number = Field(gt=0, description="MIPS per vCPU: its bare-metal speed and its host-CPU "
                        "entitlement (overheads are paid from it)")
    ram: Size = Field(gt=0)
    disk: Size = Field(0.0, ge=0)
    image: Size = Field(0.0, ge=0, description="OS image size, recorded with the guest type "
                        "only: no result reads it (a cold migration copies disk, boot time "
                        "comes from the layer's profile)")
    bandwidth: Bitrate = Field(0.0, ge=0, description="NIC bandwidth, bit/s: read only by "
                               "CloudSim's t = 0 placement (assumptions.initial_placement: "
                               "cloudsim); dcsim's own placement does not reserve bandwidth")
    sources: dict[str, str] = Field(default_factory=dict)


CatalogName = Literal["hosts", "virtualization", "guests"]
_MODELS: dict[str, type[Frozen]] = {
    "hosts": HostModel,
    "virtualization": VirtualizationProfile,
    "guests": GuestType,
}


def _load(name: str) -> dict[str, Any]:
    text = resources.files("dcsim.catalog").joinpath(f"{name}.yaml").read_text("utf-8")
    raw = load_shipped(text) or {}
    model = _MODELS[name]
    out: dict[str, Any] = {}
    issues = []
    for key, entry in raw.items():
        try:
            out[key] = model.model_validate(entry)
        except ValidationError as exc:
            from dcsim.config.load import issues_from_validation

            issues += issues_from_validation(exc, prefix=f"{key}")
    if issues:
        raise ConfigError(issues, source=f"dcsim/catalog/{name}.yaml")
    return out


@cache
def host_models() -> dict[str, HostModel]:
    """Shipped host models by name."""
    return _load("hosts")


@cache
def _shipped_profiles() -> dict[str, VirtualizationProfile]:
    return _load("virtualization")


PLUGIN_PROFILES: Registry[VirtualizationProfile] = Registry("virtualization profile")
"""Profiles added by plugins (a name may not repeat a shipped one: ``dcsim.plugins`` checks)."""


def virtualization_profiles() -> dict[str, VirtualizationProfile]:
    """Virtualization profiles by name: the shipped ones, then those plugins added."""
    extra = {k: PLUGIN_PROFILES.get(k) for k in PLUGIN_PROFILES.names()}
    return {**_shipped_profiles(), **extra}


@cache
def guest_types() -> dict[str, GuestType]:
    """Shipped guest types by name."""
    return _load("guests")

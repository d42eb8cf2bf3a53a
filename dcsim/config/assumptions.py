"""Modelling assumptions of the default engine as documented switches (the ``assumptions`` section).

Every field's default is dcsim's own semantics; the value named in brackets is what CloudSim 3.0.3
does in its PlanetLab consolidation experiments (``reference/cloudsim-planetlab/README.md``, cited
by section). ``assumptions: cloudsim-3.0.3`` sets every switch to CloudSim's behaviour;
``assumptions: {preset: cloudsim-3.0.3, energy: integral}`` starts from the preset and overrides
single switches (the assumption ladder of ``experiments/cloudsim_ladder`` is built that way).

Switches (dcsim default first, [CloudSim 3.0.3] second):

``reservation``: ``configured`` | [``demand``]
    What a guest holds on its host after admission. ``configured``: its configured RAM and disk
    (plus the layer's footprint) for its whole stay, so every later placement and migration is
    checked against RAM. ``demand``: it is admitted with its configured size, then holds no RAM
    and only its current CPU demand (CloudSim's ``UtilizationModelNull`` RAM/BW, README §4), so
    migrations are checked against CPU only and a host may hold more RAM than it has.
``zero_demand``: ``keep`` | [``drop``]
    A guest whose demand is exactly 0 at an update is kept, or removed for good (README §4,
    ``getCompletedVms``).
``update_offset``: 0 s | [0.1 s]
    Periodic updates happen at ``k · interval + offset`` (CloudSim: ``minTimeBetweenEvents``);
    trace workloads are interpolated linearly at those instants (README §1), so with 0.1 s a
    guest's demand is 0 only when two consecutive samples are 0.
``first_decision``: ``start`` | [``first_interval``]
    Consolidation decides from t = 0, or first at the end of the first interval (README §4).
``updates``: ``local`` | [``datacenter``]
    A CloudSim-model migration ending (``migration: cloudsim``) re-shares only the hosts
    involved with the demand held since the last sample, or re-samples every workload and
    re-shares every host (CloudSim's datacenter update, README §5). Migrations of the configured
    model (``migration: configured``) end with the local update whatever this says: with them
    the switch changes no result.
``cpu_sharing``: ``maxmin`` | [``proportional``]
    An oversubscribed host shares CPU weighted max-min fairly, or scales every request by
    ``capacity / Σ request`` and floors it per core (``VmSchedulerTimeSharedOverSubscription``).
``migration``: ``configured`` | [``cloudsim``]
    Migrations follow ``consolidation.migration`` (pre-copy over the network by default), or take
    ``RAM / (host bandwidth / 2)`` with the guest getting 90 % of its request on the source
    (the source counts it in full) and 10 % of it reserved on the destination (README §5).
``slow_cores``: ``refuse`` | [``cap``]
    A guest whose vCPUs are faster (MIPS per vCPU) than a host's cores: never placed on or
    migrated to that host (the capacity law's per-core rule), or accepted there with every vCPU
    capped at one core's MIPS while it still requests its full demand, so the shortfall is unmet
    demand and, under ``sla: cloudsim``, violation time (README §4: ``VmSchedulerTimeShared
    OverSubscription`` caps each per-PE request at the PE's MIPS and never refuses a VM;
    NPA's ``VmAllocationPolicySimple`` then places 2,500-MIPS VMs on 1,860-MIPS cores, and
    PABFD compares only the *current* request with the core, so a lightly loaded 2,500-MIPS VM
    migrates to one). Placement policies still apply their own tests (PABFD: current request
    ≤ core MIPS); RAM, disk and slots are unaffected.
``footprint``: ``profile`` | [``none``]
    The virtualization layer's memory/disk footprint and CPU overheads apply, or not.
``energy``: ``integral`` | [``cloudsim``]
    Energy is the exact integral of the power held between changes (sleeping hosts draw their
    sleep power), or CloudSim's rule at each datacenter update: the trapezoid of the previous and
    the current utilisation's power, 0 when the previous utilisation was 0 (such a host counts as
    switched off), nothing before the first update or after the last (README §9).
    ``cloudsim-npa`` is the rule of CloudSim's NPA baseline (``PowerDatacenterNonPowerAware``,
    README §9): every host at its maximum power from t = 0 to the last datacenter update,
    whatever its utilisation (not in the preset: an experiment of the NPA policy sets it).
``sla``: ``dcsim`` | [``cloudsim``]
    SLATAH, PDM, SLAV and ESV as dcsim defines them (time at full CPU; work lost to migration,
    offered load as denominator), or CloudSim's state-history definitions (README §9: a host
    violates when allocated < requested, which includes a guest migrating in).
``planner``: ``dcsim`` | [``cloudsim``]
    The consolidation step is dcsim's (utilisation including trial placements, the host's own
    utilisation history, guests must fit the switch ``reservation`` allows), or CloudSim's
    ``optimizeAllocation`` (README §6-8: host history rebuilt from the histories of its current
    guests, the stale utilisation of the last update for power-before and underload order, the
    source-exclusion quirk).
``initial_placement``: ``policy`` | [``cloudsim``]
    Guests present at start go where ``placement`` says, or where CloudSim's t = 0 placement
    puts them (README §8: stale idle power, so one guest per empty host first).

Imports: pydantic, dcsim.units.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from dcsim.units import Duration

__all__ = ["ASSUMPTION_PRESETS", "Assumptions"]

PresetName = Literal["dcsim", "cloudsim-3.0.3"]


class Assumptions(BaseModel):
    """The ``assumptions`` section: each field a switch, default = dcsim semantics."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    reservation: Literal["configured", "demand"] = Field(
        "configured", description="what a guest holds after admission: its configured "
        "RAM/disk (+ footprint), or no RAM and only its current CPU demand (CloudSim)")
    zero_demand: Literal["keep", "drop"] = Field(
        "keep", description="guests whose demand is exactly 0 at an update: kept, or dropped "
        "for good (CloudSim)")
    update_offset: Duration = Field(
        0.0, ge=0, description="periodic updates at k*interval + offset, s (CloudSim 0.1); "
        "traces are interpolated at those instants")
    first_decision: Literal["start", "first_interval"] = Field(
        "start", description="first consolidation step at t = 0, or after the first interval "
        "(CloudSim)")
    updates: Literal["local", "datacenter"] = Field(
        "local", description="the end of a CloudSim-model migration (migration: cloudsim) "
        "re-shares the hosts involved, or re-samples every workload and re-shares every host "
        "(CloudSim); configured migrations (migration: configured) always end locally")
    cpu_sharing: Literal["maxmin", "proportional"] = Field(
        "maxmin", description="oversubscribed CPU: weighted max-min, or proportional scaling "
        "floored per core (CloudSim)")
    migration: Literal["configured", "cloudsim"] = Field(
        "configured", description="migration model: consolidation.migration, or RAM/(bw/2) "
        "with 90 % of the request on the source and 10 % on the destination (CloudSim)")
    slow_cores: Literal["refuse", "cap"] = Field(
        "refuse", description="a guest whose vCPUs are faster than a host's cores: never "
        "placed there, or placed with each vCPU capped at a core's MIPS (CloudSim)")
    footprint: Literal["profile", "none"] = Field(
        "profile", description="virtualization memory/disk footprint and CPU overheads: "
        "applied, or none (CloudSim)")
    energy: Literal["integral", "cloudsim", "cloudsim-npa"] = Field(
        "integral", description="exact integral of power, or CloudSim's trapezoid per update, "
        "0 when the previous utilisation was 0, or CloudSim's NPA rule (every host at maximum "
        "power from 0 to the last update)")
    sla: Literal["dcsim", "cloudsim"] = Field(
        "dcsim", description="SLATAH/PDM/SLAV/ESV: dcsim's definitions, or CloudSim's "
        "state-history definitions")
    planner: Literal["dcsim", "cloudsim"] = Field(
        "dcsim", description="consolidation step: dcsim's, or CloudSim's optimizeAllocation "
        "with its stale-utilisation and exclusion quirks")
    initial_placement: Literal["policy", "cloudsim"] = Field(
        "policy", description="guests present at start: placement policy, or CloudSim's t = 0 "
        "placement")

    @model_validator(mode="before")
    @classmethod
    def _preset(cls, data: Any) -> Any:
        if isinstance(data, str):
            data = {"preset": data}
        if isinstance(data, dict) and "preset" in data:
            data = dict(data)
            name = data.pop("preset")
            if name not in ASSUMPTION_PRESETS:
                raise ValueError(f"unknown preset {name!r}; known: "
                                 f"{', '.join(sorted(ASSUMPTION_PRESETS))}")
            data = {**ASSUMPTION_PRESETS[name], **data}
        return data

    @property
    def cloudsim_fields(self) -> tuple[str, ...]:
        """Names of the switches set to a CloudSim behaviour (the preset's or another one)."""
        ref = ASSUMPTION_PRESETS["cloudsim-3.0.3"]
        return tuple(k for k, v in ref.items()
                     if getattr(self, k) == v or getattr(self, k) in _OTHER_CLOUDSIM.get(k, ()))

    @property
    def is_default(self) -> bool:
        """True when every switch has dcsim's semantics."""
        return not self.cloudsim_fields


#: CloudSim values of a switch besides the preset's (the NPA baseline's energy rule)
_OTHER_CLOUDSIM: dict[str, tuple[Any, ...]] = {"energy": ("cloudsim-npa",)}

ASSUMPTION_PRESETS: dict[str, dict[str, Any]] = {
    "dcsim": {},
    "cloudsim-3.0.3": {
        "reservation": "demand", "zero_demand": "drop", "update_offset": 0.1,
        "first_decision": "first_interval", "updates": "datacenter",
        "cpu_sharing": "proportional", "migration": "cloudsim", "slow_cores": "cap",
        "footprint": "none",
        "energy": "cloudsim", "sla": "cloudsim", "planner": "cloudsim",
        "initial_placement": "cloudsim",
    },
}

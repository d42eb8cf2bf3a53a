"""Resolve a validated ``Config`` against the catalogs into an immutable ``Scenario``.

Resolution merges catalog entries with the config's own entries and inline overrides, then runs
the semantic checks the schema cannot express and that need only config data: unknown catalog
names, incomplete hardware, guests that fit on no host, migration kinds a virtualization profile
cannot do. Every problem is collected with its path.

Checks that need another layer's knowledge (policy registries, trace files, the network topology,
fault inputs) are not here: ``dcsim.validate`` runs them after
:func:`resolve_parts`, so that ``config`` imports nothing above it (DESIGN.md).

Imports: pydantic, dcsim.errors, dcsim.config.*.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any, TypeVar

from pydantic import BaseModel, TypeAdapter, ValidationError

from dcsim.config.catalog import (
    GuestType,
    HostModel,
    VirtualizationProfile,
    guest_types,
    host_models,
    virtualization_profiles,
)
from dcsim.config.load import config_hash, issues_from_validation
from dcsim.config.schema import Config, GuestGroup, HostGroup
from dcsim.errors import Issue

M = TypeVar("M", bound=BaseModel)

__all__ = ["GuestGroupR", "HostGroupR", "Scenario", "resolve_parts"]


class UncheckedParams(BaseModel):
    """Placeholder ``placement_params`` until ``dcsim.validate`` checks them with the policy."""


@dataclass(frozen=True)
class HostGroupR:
    """A resolved host group: full hardware model and virtualization profile."""

    name: str
    model: HostModel
    profile_name: str
    profile: VirtualizationProfile
    count: int
    cpu_overcommit: float
    datacenter: int
    cpu_scheduler: str = "time_shared"
    mem_overcommit: float = 1.0


@dataclass(frozen=True)
class GuestGroupR:
    """A resolved guest group: full size plus its workload and arrival specs."""

    name: str
    type: GuestType
    spec: GuestGroup
    index: int


@dataclass(frozen=True)
class Scenario:
    """A config plus everything resolved from it; what the engine runs."""

    config: Config
    host_groups: tuple[HostGroupR, ...]
    guest_groups: tuple[GuestGroupR, ...]
    profiles: dict[str, VirtualizationProfile]
    placement_params: BaseModel  # the placement policy's validated Params (dcsim.validate)
    source: str | None
    scenario_id: str
    topology: Any = None  # dcsim.network.topology.Topology, built and validated by dcsim.validate
    #: the config as written when ``config`` is its ``compat: cloudsim`` rewrite
    #: (dcsim.config.compat.cloudsim_config); results record the written one
    written: Config | None = None
    #: files named by plugins' parameters declared ``InputPath`` (config path → name as
    #: written), found by dcsim.validate; the config's own file fields are found by name
    plugin_inputs: dict[str, str] = field(default_factory=dict)
    #: values that change nothing in this config (``dcsim.errors.Inert``), found by
    #: ``dcsim.validate.parse_config`` (which warns of them unless ``warn_inert=False``)
    inert: tuple[Issue, ...] = ()

    @property
    def base_dir(self) -> Path | None:
        """Folder of the config file (relative trace paths are resolved against it)."""
        return base_dir_of(self.source)

    @property
    def n_hosts(self) -> int:
        return sum(g.count for g in self.host_groups)

    @property
    def n_guests(self) -> int:
        return sum(g.spec.count for g in self.guest_groups)

    def config_json(self) -> dict[str, Any]:
        """The validated config as written, defaults filled, as JSON-compatible data."""
        return (self.written or self.config).model_dump(mode="json")

    def input_files(self, config_json: dict[str, Any] | None = None
                    ) -> dict[str, dict[str, Any]]:
        """Every input file the scenario reads, with size and SHA-256
        (``dcsim.config.inputs.input_files``): the manifest's ``inputs``. ``config_json``:
        :meth:`config_json` when the caller has it already."""
        from dcsim.config.inputs import input_files

        cj = self.config_json() if config_json is None else config_json
        return input_files(cj, self.base_dir, self.plugin_inputs)

    def resolved_json(self) -> dict[str, Any]:
        """The effective catalog entries this scenario uses (for the results folder).

        Each distinct host model is written once under ``host_models`` (keyed by the first group
        name that uses it; ``name#2`` … when groups of one name differ) and host groups refer to
        it by key, so a layout of many small groups (``compat: cloudsim`` interleaves hosts one
        by one) does not repeat the power table of every host.
        """
        models: dict[str, dict[str, Any]] = {}
        groups = []
        for g in self.host_groups:
            dump = g.model.model_dump(mode="json")
            key, n = g.name, 1
            while key in models and models[key] != dump:
                n += 1
                key = f"{g.name}#{n}"
            models.setdefault(key, dump)
            groups.append({"name": g.name, "count": g.count, "datacenter": g.datacenter,
                           "virtualization": g.profile_name, "cpu_overcommit": g.cpu_overcommit,
                           "mem_overcommit": g.mem_overcommit,
                           "model": key})
        return {
            "host_models": models,
            "host_groups": groups,
            "guest_groups": [
                {"name": g.name, "count": g.spec.count, "type": g.type.model_dump(mode="json")}
                for g in self.guest_groups
            ],
            "virtualization_profiles": {
                k: v.model_dump(mode="json") for k, v in sorted(self.profiles.items())
            },
            "placement_params": self.placement_params.model_dump(mode="json"),
        }


def _field_adapter(model: type[BaseModel], name: str) -> TypeAdapter[Any]:
    info = model.model_fields[name]
    ann: Any = info.annotation
    if info.metadata:
        ann = Annotated[(ann, *info.metadata)]
    return TypeAdapter(ann)


def _override(base: M, changes: dict[str, Any], path: str, issues: list[Issue]) -> M:
    """``base`` with ``changes`` (raw user values) validated field by field."""
    update: dict[str, Any] = {}
    cls = type(base)
    for key, raw in changes.items():
        if key not in cls.model_fields:
            issues.append(Issue(f"{path}.{key}", "unknown key (not part of the schema)"))
            continue
        try:
            update[key] = _field_adapter(cls, key).validate_python(raw)
        except ValidationError as exc:
            issues += issues_from_validation(exc, prefix=f"{path}.{key}")
    return base.model_copy(update=update)


def _entries(
    cls: type[M],
    shipped: dict[str, M],
    user: dict[str, dict[str, Any]],
    section: str,
    issues: list[Issue],
) -> dict[str, M]:
    """Catalog entries plus the config's own (new ones, or ``base:`` + overrides)."""
    out = dict(shipped)
    for name, raw in user.items():
        path = f"{section}.{name}"
        if not isinstance(raw, dict):
            issues.append(Issue(path, "expected a mapping of fields"))
            continue
        raw = dict(raw)
        base_name = raw.pop("base", None)
        if base_name is None and name in shipped and raw:
            base_name = name
        if base_name is not None:
            if not isinstance(base_name, str):  # a list or mapping is not a name (unhashable)
                issues.append(Issue(f"{path}.base", f"expected the name of an entry, got "
                                    f"{type(base_name).__name__} {base_name!r:.60}"))
                continue
            if base_name not in out:
                issues.append(Issue(f"{path}.base", f"unknown entry {base_name!r}; known: "
                                    f"{', '.join(sorted(out))}"))
                continue
            out[name] = _override(out[base_name], raw, path, issues)
        else:
            try:
                out[name] = cls.model_validate(raw)
            except ValidationError as exc:
                issues += issues_from_validation(exc, prefix=path, data=raw)
    return out


_HOST_FIELDS = ("cores", "mips_per_core", "ram", "storage", "bandwidth", "rack_units", "power",
                "sleep_power", "embodied_kgco2e", "lifetime")
_GUEST_FIELDS = ("vcpus", "mips", "ram", "disk", "image")


#: (catalog model name, (field, id(value)) of its inline fields) -> the resolved model and its
#: power model's problems. Ids identify the same objects only while they are alive: a memo lives
#: for one :func:`resolve_parts` call, during which its config holds every value.
_HostMemo = dict[tuple[str, tuple[tuple[str, int], ...]], tuple[HostModel, list[tuple[str, str]]]]


def _power_written_at(group: HostGroup, path: str, user: dict[str, dict[str, Any]]) -> str:
    """Where the power model of ``group`` (config path ``path``) is written: the group's own
    ``power``, else the ``host_models`` entry nearest along its ``base`` chain that sets one
    (its problems are reported there, where the user can fix them), else the catalog model's."""
    if group.power is not None:
        return f"{path}.power"
    name, seen = group.model, set()
    while isinstance(name, str) and name in user and name not in seen:
        seen.add(name)
        raw = user[name]
        if not isinstance(raw, dict):
            break
        if "power" in raw:
            return f"host_models.{name}.power"
        base = raw.get("base")
        name = base if isinstance(base, str) else None
    return f"{path}.model"  # a shipped model's own power (tested to be valid)


def _host_model_checked(group: HostGroup, models: dict[str, HostModel], path: str,
                        issues: list[Issue], memo: _HostMemo,
                        user: dict[str, dict[str, Any]]) -> HostModel | None:
    """:func:`_host_model` and its power model's problems (as issues at the path where the power
    model is written, each once), once per distinct group.

    CloudSim's layout (``dcsim.config.compat``) turns two host groups into 800 one-host copies
    that share their field values; a catalog model with the same inline values resolves to
    the same (frozen) model with the same problems.
    """
    inline = {k: getattr(group, k) for k in _HOST_FIELDS if getattr(group, k) is not None}
    key = None
    problems: list[tuple[str, str]] | None = None
    model: HostModel | None = None
    if group.model is not None and group.model in models:
        key = (group.model, tuple((k, id(v)) for k, v in inline.items()))
        hit = memo.get(key)
        if hit is not None:
            model, problems = hit
    if problems is None:
        model = _host_model(group, models, path, issues, inline)
        if model is None:
            return None
        problems = model.power.problems()
        if key is not None:
            memo[key] = model, problems
    if problems:
        where = _power_written_at(group, path, user)
        issues += [i for i in (Issue(f"{where}.{field}", problem) for field, problem in problems)
                   if i not in issues]
    return model


def _host_model(group: HostGroup, models: dict[str, HostModel], path: str,
                issues: list[Issue], inline: dict[str, Any]) -> HostModel | None:
    if group.model is not None:
        if group.model not in models:
            issues.append(Issue(f"{path}.model", f"unknown host model {group.model!r}; known: "
                                f"{', '.join(sorted(models))}"))
            return None
        return models[group.model].model_copy(update=inline)
    missing = [k for k in ("cores", "mips_per_core", "ram", "storage", "power")
               if k not in inline]
    if missing:
        issues.append(Issue(path, "give a catalog 'model' or all of cores, mips_per_core, ram, "
                            f"storage, power (missing: {', '.join(missing)})"))
        return None
    inline.setdefault("bandwidth", 1e9)
    return HostModel.model_construct(**inline)


def _guest_type(group: GuestGroup, types: dict[str, GuestType], path: str,
                issues: list[Issue]) -> GuestType | None:
    inline = {k: getattr(group, k) for k in _GUEST_FIELDS if getattr(group, k) is not None}
    if group.type is not None:
        if group.type not in types:
            issues.append(Issue(f"{path}.type", f"unknown guest type {group.type!r}; known: "
                                f"{', '.join(sorted(types))}"))
            return None
        return types[group.type].model_copy(update=inline)
    missing = [k for k in ("mips", "ram") if k not in inline]
    if missing:
        issues.append(Issue(path, "give a catalog 'type' or at least mips and ram "
                            f"(missing: {', '.join(missing)})"))
        return None
    base = GuestType.model_construct(description="", vcpus=1, mips=inline["mips"],
                                     ram=inline["ram"], disk=0.0, image=0.0, bandwidth=0.0,
                                     sources={})
    return base.model_copy(update=inline)


def fits_empty_host(g: GuestType, h: HostGroupR, core_rule: bool = True) -> list[str]:
    """Reasons why guest ``g`` cannot run even on an empty host of group ``h`` (empty = fits).

    ``core_rule=False`` (``assumptions.slow_cores: cap``): a vCPU faster than the cores fits.
    """
    m, p = h.model, h.profile
    why = []
    ram_need = g.ram + p.mem_overhead_per_guest
    ram_have = m.ram - p.host_reserved_mem
    if ram_need > ram_have:
        why.append(f"RAM {ram_need / 2**20:.0f} MiB > {ram_have / 2**20:.0f} MiB")
    disk_need = g.disk + p.disk_overhead_per_guest
    if disk_need > m.storage:
        why.append(f"storage {disk_need / 1e9:.1f} GB > {m.storage / 1e9:.1f} GB")
    if g.vcpus > m.cores:
        why.append(f"{g.vcpus} vCPUs > {m.cores} cores")
    if core_rule and g.mips > m.mips_per_core:
        why.append(f"{g.mips:g} MIPS per vCPU > {m.mips_per_core:g} per core")
    return why


def resolve_parts(cfg: Config, source: str | None = None) -> tuple[Scenario, list[Issue]]:
    """Check ``cfg`` against the catalogs; the ``Scenario`` and the config-level problems.

    The scenario holds the groups that resolved (possibly fewer than configured when there are
    problems), a placeholder ``placement_params`` and no topology: ``dcsim.validate`` fills both
    and adds the checks of the layers above. Use ``dcsim.validate.parse_config`` to get a
    runnable scenario.
    """
    issues: list[Issue] = []
    models = _entries(HostModel, host_models(), cfg.host_models, "host_models", issues)
    profiles = _entries(VirtualizationProfile, virtualization_profiles(),
                        cfg.virtualization_profiles, "virtualization_profiles", issues)
    types = _entries(GuestType, guest_types(), cfg.guest_types, "guest_types", issues)

    if cfg.interval > cfg.duration:
        issues.append(Issue("interval", f"must not exceed duration ({cfg.duration:g} s)"))

    hgroups: list[HostGroupR] = []
    memo: _HostMemo = {}
    for d, dc in enumerate(cfg.datacenters):
        for j, grp in enumerate(dc.hosts):
            path = f"datacenters[{d}].hosts[{j}]"
            model = _host_model_checked(grp, models, path, issues, memo, cfg.host_models)
            if grp.virtualization not in profiles:
                issues.append(Issue(f"{path}.virtualization",
                                    f"unknown virtualization profile {grp.virtualization!r}; "
                                    f"known: {', '.join(sorted(profiles))}"))
                continue
            prof = profiles[grp.virtualization]
            if model is None:
                continue
            if prof.host_reserved_mem >= model.ram:
                issues.append(Issue(f"{path}.virtualization",
                                    f"profile {grp.virtualization!r} reserves "
                                    f"{prof.host_reserved_mem / 2**20:.0f} MiB, more than the "
                                    f"host's RAM ({model.ram / 2**20:.0f} MiB)"))
            if grp.cpu_scheduler == "space_shared" and grp.cpu_overcommit > 1:
                issues.append(Issue(f"{path}.cpu_overcommit",
                                    "a space_shared host pins each vCPU to a core: overcommit "
                                    "must be 1"))
            name = grp.name or grp.model or f"hosts{j}"
            hgroups.append(HostGroupR(name, model, grp.virtualization, prof, grp.count,
                                      grp.cpu_overcommit, d, grp.cpu_scheduler,
                                      grp.mem_overcommit))
            if grp.mem_overcommit > 1 and not cfg.assumptions.is_default:
                issues.append(Issue(f"{path}.mem_overcommit", "memory overcommit runs with "
                                    "dcsim's own semantics only (CloudSim's switches hold no "
                                    "RAM after creation): keep mem_overcommit at 1 or the "
                                    "assumptions at their defaults"))

    ggroups: list[GuestGroupR] = []
    for k, ggrp in enumerate(cfg.guests):
        path = f"guests[{k}]"
        gtype = _guest_type(ggrp, types, path, issues)
        if ggrp.io_fraction + ggrp.net_fraction > 1:
            issues.append(Issue(f"{path}.io_fraction", "io_fraction + net_fraction must not "
                                "exceed 1 (shares of the guest's time)"))
        if ggrp.size_from_trace and ggrp.workload.kind != "trace":
            issues.append(Issue(f"{path}.size_from_trace", "needs a trace workload (kind: trace) "
                                "whose series carry guest sizes"))
        issues += _memory_issues(cfg, ggrp, path)
        if gtype is None:
            continue
        kind_hosts = hgroups
        if ggrp.kind is not None:
            want = {"vm": ("type1", "type2"), "container": ("container",)}[ggrp.kind]
            kind_hosts = [h for h in hgroups if h.profile.kind in want]
            if not kind_hosts and len(hgroups) == sum(len(dc.hosts) for dc in cfg.datacenters):
                layers = ", ".join(sorted({f"{h.profile_name} ({h.profile.kind})"
                                           for h in hgroups}))
                issues.append(Issue(f"{path}.kind", f"no host runs a {ggrp.kind} "
                                    f"({' or '.join(want)} layer); host layers: {layers}"))
                kind_hosts = []
        if kind_hosts and len(hgroups) == sum(len(dc.hosts) for dc in cfg.datacenters):
            core_rule = cfg.assumptions.slow_cores == "refuse"
            reasons = [fits_empty_host(gtype, h, core_rule) for h in kind_hosts]
            if all(reasons):
                detail = "; ".join(f"{h.name}: {', '.join(r)}" for h, r in zip(kind_hosts, reasons,
                                                                              strict=True))
                issues.append(Issue(path, f"guest fits on no host even when empty ({detail})"))
        ggroups.append(GuestGroupR(ggrp.name or ggrp.type or f"guests{k}", gtype, ggrp, k))

    if (cfg.compat != "cloudsim" and cfg.assumptions.migration == "configured"
            and cfg.consolidation is not None):
        mig_model = cfg.consolidation.migration.model
        # post-copy is live migration too: the engine moves a guest live only where the profile
        # allows live migration, so a profile with post_copy but not live_migration would
        # accept the config and then migrate nothing
        flags = {"precopy": ("live_migration",), "postcopy": ("live_migration", "post_copy"),
                 "cold": ("cold_migration",),
                 "checkpoint": ("checkpoint_restore",)}.get(mig_model, ())
        issues += [Issue("consolidation.migration.model",
                         f"{mig_model!r} migration is not possible on profile "
                         f"{h.profile_name!r} (hosts {h.name!r}: {flag} is false)")
                   for h in hgroups for flag in flags if not getattr(h.profile, flag)]

    if (cfg.consolidation is not None and cfg.consolidation.memory_pressure
            and not any(g.mem_overcommit > 1 for dc in cfg.datacenters for g in dc.hosts)
            and not any(g.memory is not None for g in cfg.guests)):
        issues.append(Issue("consolidation.memory_pressure", "needs memory accounting: a host "
                            "group with mem_overcommit > 1 or a guest group with memory:"))

    used = {g.profile_name: g.profile for g in hgroups}
    cfg_json = cfg.model_dump(mode="json")
    sc = Scenario(cfg, tuple(hgroups), tuple(ggroups), used, UncheckedParams(), source,
                  config_hash(cfg_json))
    return sc, issues


def _memory_issues(cfg: Config, g: GuestGroup, path: str) -> list[Issue]:
    """Problems of a guest group's active-memory model (``memory:``)."""
    if g.memory is None:
        return []
    if not cfg.assumptions.is_default:
        return [Issue(f"{path}.memory", "memory accounting runs with dcsim's own semantics "
                      "only (CloudSim's switches hold no RAM after creation): drop memory: or "
                      "keep the assumptions at their defaults")]
    if g.memory == "trace":
        if g.workload.kind != "trace":
            return [Issue(f"{path}.memory", "'trace' takes the memory series of the group's "
                          "trace workload: give the workload kind: trace, or a memory model")]
        return []
    if g.memory.kind == "jobs":
        return [Issue(f"{path}.memory.kind", "jobs is finite work, not a memory model: use "
                      "constant, uniform, diurnal, trace … (values: fraction of ram)")]
    return []


def base_dir_of(source: str | None) -> Path | None:
    """Folder that relative file paths in a config are resolved against."""
    if source is None or source.startswith("<"):
        return None
    return Path(source).resolve().parent

"""The full check of a config: schema, catalogs, then the checks each layer owns.

``dcsim.config`` validates what it owns (schema, units, catalog names, hardware, capacity of an
empty host, migration kinds a profile allows) and imports nothing above it. The checks that need
another layer's knowledge live with that layer and are run here, above all of them, before
anything is simulated:

- ``dcsim.policies``: placement policy name and ``placement.params``, consolidation policy name
  (and, in default semantics, that it migrates);
- ``dcsim.workload.checks``: workload and arrival specs, trace files exist and parse;
- ``dcsim.network.build``: the topology builds and every host is attached;
- ``dcsim.engine.faults``: fault inputs (failure traces, targets);
- ``dcsim.plugins``: installed plugins are loaded first; plugin workload kinds' and engine
  extensions' parameters are checked with their own models; plugin parameters declared
  ``InputPath`` must name an existing file or folder, and the scenario records them
  (``Scenario.plugin_inputs``) for the manifest's inputs and a sweep's hash.

Every problem is collected with its config path and one ``ConfigError`` lists them all. The CLI
(``validate``, ``run``, ``sweep``), ``dcsim.load_config``/``dcsim.run`` and every sweep point go
through :func:`parse_config`. A ``compat: cloudsim`` config is checked as written, then rewritten
for the default engine (``dcsim.config.compat``); the scenario keeps both.

Imports: dcsim.config, dcsim.errors, dcsim.policies, dcsim.workload, dcsim.network, dcsim.engine,
dcsim.plugins (the checks; lazily, so that ``import dcsim`` stays light).
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

from dcsim.config.compat import cloudsim_config, compat_issues
from dcsim.config.load import config_hash, issues_from_validation, load_data, validate_schema
from dcsim.config.resolve import Scenario, UncheckedParams, base_dir_of, resolve_parts
from dcsim.errors import ConfigError, Inert, Issue, say_inert
from dcsim.units import off_default

__all__ = ["load_config", "parse_config", "policy_name_issues", "trace_rejections"]


def load_config(path: str | Path | None = None, overrides: list[str] | None = None, *,
                allow_rejections: bool = False, warn_inert: bool = True) -> Scenario:
    """Load, override, validate and resolve a YAML config (``None`` → the shipped default);
    ``warn_inert`` as in :func:`parse_config`."""
    data, source = load_data(path, overrides)
    return parse_config(data, source=source, allow_rejections=allow_rejections,
                        warn_inert=warn_inert)


def scenario_of(config: Scenario | dict[str, Any] | str | Path | None,
                overrides: list[str] | None, allow_rejections: bool = False) -> Scenario:
    """The checked ``Scenario`` of a config given as a Scenario, a dict, a YAML path or None
    (the default config), with ``dotted.path=value`` ``overrides`` applied."""
    if isinstance(config, Scenario):
        if overrides:
            from dcsim.config.load import apply_overrides

            return parse_config(apply_overrides(config.config_json(), overrides),
                                source=config.source, allow_rejections=allow_rejections)
        return config
    if isinstance(config, dict):
        from dcsim.config.load import apply_overrides

        data = apply_overrides(config, overrides or [])
        return parse_config(data, allow_rejections=allow_rejections)
    return load_config(config, overrides, allow_rejections=allow_rejections)


def parse_config(data: dict[str, Any], source: str | None = None, *,
                 allow_rejections: bool = False, warn_inert: bool = True) -> Scenario:
    """Validate a raw dict completely and return the runnable ``Scenario``.

    Raises ``ConfigError`` listing every problem (config paths), before anything runs. Guests
    sized from a trace that can never fit on any host (:func:`trace_rejections`) are a problem
    too, unless ``allow_rejections`` (then they are rejected on arrival and counted). Values
    that change nothing (:class:`~dcsim.errors.Inert`) are no problem: they are kept in
    ``Scenario.inert`` and, with ``warn_inert``, each is said as an
    :class:`~dcsim.errors.InertWarning` (a sweep point passes False: the sweep says those that
    change nothing in any point). Installed plugins (``dcsim.plugins``) are loaded first, once
    per process.
    """
    from dcsim.plugins import load_plugins

    load_plugins()
    try:
        cfg = validate_schema(data, source)
    except ConfigError as exc:
        seen = {i.path for i in exc.issues}
        extra = [i for i in policy_name_issues(data) if i.path not in seen]
        raise ConfigError([*exc.issues, *extra], source=source) from None
    _check_cost(cfg, source)  # before anything is built: a huge topology or host list hangs
    sc, issues = resolve_parts(cfg, source)
    params, policy_issues = _placement_params(cfg)
    issues += policy_issues
    issues += _workload_issues(sc)
    inert: list[Issue] = []  # values that change nothing: never block the checks that follow
    topology = None
    # Without a network section the topology is the implicit star of host NICs, which is always
    # valid: the engine builds it only if something uses the network.
    if sc.host_groups and not issues and cfg.compat != "cloudsim" and cfg.network is not None:
        from dcsim.network.build import scenario_topology

        topology, net_issues = scenario_topology(cfg, sc.host_groups, source)
        inert += [i for i in net_issues if isinstance(i, Inert)]
        issues += [i for i in net_issues if not isinstance(i, Inert)]
    sc = dataclasses.replace(sc, placement_params=params or UncheckedParams(), topology=topology)
    if cfg.consolidation is not None:
        policy_issues = _consolidation_issues(cfg.consolidation.policy,
                                              baselines_ok=cfg.compat == "cloudsim")
        if not policy_issues:
            inert += _history_issues(cfg)
        issues += policy_issues
    if cfg.compat == "cloudsim" and not issues:
        issues += compat_issues(sc)
        if not issues:  # the default engine runs the rewritten config (dcsim.config.compat)
            eff = cloudsim_config(cfg)
            sc2, issues = resolve_parts(eff, source)
            params, policy_issues = _placement_params(eff)
            issues += policy_issues
            # the config as written, with the switches the run used: a results folder's
            # config.yaml then reruns to the same scenario (and scenario id)
            written = cfg.model_copy(update={"assumptions": eff.assumptions})
            sc = dataclasses.replace(sc2, placement_params=params or UncheckedParams(),
                                     written=written,
                                     scenario_id=config_hash(written.model_dump(mode="json")))
    if cfg.follow_renewables is not None and all(dc.carbon is None for dc in cfg.datacenters):
        issues.append(Issue("follow_renewables", "needs a carbon intensity (carbon:) on every "
                            "data center"))
    if all(dc.carbon is None for dc in cfg.datacenters):
        issues += [Issue(f"guests[{k}].deferrable", "needs a carbon intensity (carbon:) on "
                         "every data center") for k, g in enumerate(cfg.guests)
                   if g.deferrable is not None]
    if not issues and (any(dc.carbon is not None for dc in cfg.datacenters)):
        issues += _carbon_issues(cfg, sc)
    inert += _sleep_issues(cfg) + _clock_issues(cfg)
    inert += _migration_issues(cfg, sc.written.assumptions if sc.written is not None
                               else cfg.assumptions)
    if cfg.agents is not None:
        issues += _agent_issues(cfg)
    issues += _extension_issues(cfg)
    plugin_inputs, file_issues = plugin_input_files(cfg, sc.base_dir)
    issues += file_issues
    if not issues and not allow_rejections:
        issues += trace_rejections(sc)
    if issues:
        raise ConfigError(issues, source=source)
    if inert:
        sc = dataclasses.replace(sc, inert=tuple(inert))
        if warn_inert:
            say_inert(inert)
    return dataclasses.replace(sc, plugin_inputs=plugin_inputs) if plugin_inputs else sc


def plugin_input_files(cfg: Any, base_dir: Path | None) -> tuple[dict[str, str], list[Issue]]:
    """Plugin parameters declared ``InputPath`` (``dcsim.config.inputs``): ``{config path: name
    as written}`` and an issue for each that names no existing file or folder. Looked at: a
    plugin placement policy's ``placement.params``, plugin workload kinds (``workload`` and
    ``memory`` of each guest group), plugin power models of host groups, engine extensions."""
    from dcsim.config.inputs import input_fields, resolve_input
    from dcsim.config.power_table import POWER_MODELS
    from dcsim.config.workloads import PluginWorkload
    from dcsim.plugins import plugin_extensions
    from dcsim.policies.placement import PLACEMENT
    from dcsim.workload.kinds import WORKLOADS

    nodes: list[tuple[str, Any, dict[str, Any]]] = []  # (config path, params model, values)
    if cfg.placement.name in PLACEMENT:
        nodes.append(("placement.params", getattr(PLACEMENT.get(cfg.placement.name), "Params",
                                                  None), dict(cfg.placement.params)))
    for k, g in enumerate(cfg.guests):
        for part in ("workload", "memory"):
            spec = getattr(g, part)
            if isinstance(spec, PluginWorkload) and spec.kind in WORKLOADS:
                nodes.append((f"guests[{k}].{part}", WORKLOADS.get(spec.kind).params,
                              spec.params()))
    for d, dc in enumerate(cfg.datacenters):
        for j, hg in enumerate(dc.hosts):
            power = hg.power
            if power is not None and power.kind in POWER_MODELS:
                nodes.append((f"datacenters[{d}].hosts[{j}].power",
                              POWER_MODELS.get(power.kind).params, power._plugin_params()))
    known = plugin_extensions()
    for name, raw in cfg.extensions.items():
        if name in known and isinstance(raw, dict):
            nodes.append((f"extensions.{name}", known[name].params, raw))
    found: dict[str, str] = {}
    issues: list[Issue] = []
    for where, model, values in nodes:
        fields = input_fields(model) if model is not None else []
        if not fields:
            continue
        try:  # the values the plugin will see, defaults included
            params = model.model_validate(values)
        except ValidationError:
            continue  # reported by the params check
        for attr, key in fields:
            value = getattr(params, attr, None)
            if not isinstance(value, str):
                continue  # unset (None)
            if resolve_input(value, base_dir).exists():
                found[f"{where}.{key}"] = value
            else:
                issues.append(Issue(f"{where}.{key}", f"{value!r}: no such file or folder "
                                    "(a relative name is relative to the config's folder)"))
    return found, issues


def _agent_issues(cfg: Any) -> list[Issue]:
    """``agents:``: each factory importable (with Gymnasium installed) and callable; a
    consolidation agent only with a consolidation section."""
    import importlib
    import importlib.util

    out: list[Issue] = []
    for kind in ("placement", "consolidation"):
        ref = getattr(cfg.agents, kind)
        if ref is None:
            continue
        path = f"agents.{kind}"
        if kind == "consolidation" and cfg.consolidation is None:
            out.append(Issue(path, "a consolidation agent needs a consolidation: section (its "
                             "detector and migration model)"))
            continue
        if importlib.util.find_spec("gymnasium") is None:
            out.append(Issue(path, 'agents need Gymnasium: pip install "dcsim[rl]"'))
            continue
        module, _, attr = ref.partition(":")
        try:
            obj: Any = importlib.import_module(module)
            for part in attr.split("."):
                obj = getattr(obj, part)
        except Exception as exc:  # any failure to import user code is a config problem
            out.append(Issue(path, f"cannot load {ref!r}: {type(exc).__name__}: {exc}"))
            continue
        if not callable(obj):
            out.append(Issue(path, f"{ref!r} is not callable (expected a factory "
                                   "factory(env) -> agent)"))
    return out


def _extension_issues(cfg: Any) -> list[Issue]:
    """``extensions:``: each name a plugin's engine extension, its params valid."""
    from dcsim.plugins import plugin_extensions

    known = plugin_extensions()
    out: list[Issue] = []
    for name, raw in cfg.extensions.items():
        path = f"extensions.{name}"
        entry = known.get(name)
        if entry is None:
            listed = ", ".join(sorted(known)) or "none installed"
            out.append(Issue(path, f"unknown engine extension {name!r} (plugins' extensions: "
                                   f"{listed}; built-in ones have their own sections)"))
            continue
        if entry.params is None:
            if raw:
                out.append(Issue(path, f"extension {name!r} takes no parameters"))
            continue
        try:
            entry.params.model_validate(raw)
        except ValidationError as exc:
            out += issues_from_validation(exc, prefix=path, data=raw)
    return out


def _carbon_issues(cfg: Any, sc: Scenario) -> list[Issue]:
    """Carbon intensities: every data center has one, series load (file and line of a bad
    row) and cover the run (dcsim.engine.carbon.dc_pieces)."""
    from dcsim.engine.carbon import dc_pieces

    try:
        dc_pieces(cfg, sc.base_dir)
    except ConfigError as exc:
        return list(exc.issues)
    return []


def _check_cost(cfg: Any, source: str | None) -> None:
    """Refuse references to missing hosts/guests and runs beyond the machine (see config.cost)."""
    import warnings

    from dcsim.config.cost import CostWarning, cost_issues, estimate, forced, reference_issues

    issues = reference_issues(cfg)
    cost, where = estimate(cfg)
    over = cost_issues(cost, where)
    if over and forced():
        for issue in over:
            warnings.warn(f"{issue} [forced]", CostWarning, stacklevel=2)
        over = []
    if issues or over:
        raise ConfigError([*issues, *over], source=source)


def policy_name_issues(data: Any) -> list[Issue]:
    """Unknown policy names in raw config data (reported even when the schema check fails)."""
    from dcsim.policies.consolidation import parse_policy
    from dcsim.policies.placement import PLACEMENT

    if not isinstance(data, dict):
        return []
    out: list[Issue] = []
    placement = data.get("placement")
    name = placement.get("name") if isinstance(placement, dict) else None
    if isinstance(name, str) and name not in PLACEMENT:
        out.append(Issue("placement.name", f"unknown placement policy {name!r}; known: "
                         f"{', '.join(sorted(PLACEMENT.names()))}"))
    cons = data.get("consolidation")
    policy = cons.get("policy") if isinstance(cons, dict) else None
    if isinstance(policy, str):
        try:
            parse_policy(policy)
        except ValueError as exc:
            out.append(Issue("consolidation.policy", str(exc)))
    from dcsim.workload import models  # noqa: F401  (registers the built-in workload kinds)
    from dcsim.workload.kinds import WORKLOADS

    guests = data.get("guests")
    for k, g in enumerate(guests if isinstance(guests, list) else []):
        wl = g.get("workload") if isinstance(g, dict) else None
        kind = wl.get("kind") if isinstance(wl, dict) else None
        if isinstance(kind, str) and kind not in WORKLOADS:
            out.append(Issue(f"guests[{k}].workload.kind", f"unknown workload kind {kind!r}; "
                             f"known: {', '.join(WORKLOADS.names())}"))
    return out


def _placement_params(cfg: Any) -> tuple[BaseModel | None, list[Issue]]:
    """The placement policy's validated parameters, or the problems with name and params."""
    from dcsim.policies.placement import PLACEMENT

    if cfg.placement.name not in PLACEMENT:
        return None, [Issue("placement.name", f"unknown placement policy "
                            f"{cfg.placement.name!r}; known: {', '.join(PLACEMENT.names())}")]
    params_cls = PLACEMENT.get(cfg.placement.name).Params
    try:
        return params_cls.model_validate(cfg.placement.params), []
    except ValidationError as exc:
        return None, issues_from_validation(exc, prefix="placement.params",
                                            data=cfg.placement.params)


def _consolidation_issues(policy: str, *, baselines_ok: bool) -> list[Issue]:
    """The consolidation policy must exist; in default semantics it must migrate."""
    from dcsim.policies.consolidation import parse_policy

    try:
        kind = parse_policy(policy).kind
    except ValueError as exc:
        return [Issue("consolidation.policy", str(exc))]
    if kind != "migration" and not baselines_ok:
        return [Issue("consolidation.policy",
                      f"{policy!r} is a CloudSim baseline (no migrations): use it with compat: "
                      "cloudsim, or omit the section")]
    return []


def _sleep_issues(cfg: Any) -> list[Inert]:
    """Sleep settings that change nothing because no host ever sleeps
    (``power_management.sleep_idle_hosts: false``): a wake latency other than the default
    (0 s) and a host group's ``sleep_power``."""
    pm = cfg.power_management
    if pm.sleep_idle_hosts:
        return []
    why = "changes nothing: no host sleeps (power_management.sleep_idle_hosts is false)"
    out = []
    if off_default(pm, "wake_latency"):
        out.append(Inert("power_management.wake_latency", why))
    out += [Inert(f"datacenters[{d}].hosts[{j}].sleep_power", why)
            for d, dc in enumerate(cfg.datacenters) for j, grp in enumerate(dc.hosts)
            if grp.sleep_power is not None]
    return out


def _migration_issues(cfg: Any, assume: Any) -> list[Inert]:
    """Migration parameters that change nothing: in ``consolidation.migration`` and
    ``follow_renewables.migration``, those the chosen model never reads, and pre-copy's round
    limits while no page is dirtied (``dcsim.config.migration.unread_fields``); and, when the
    consolidation's migrations take CloudSim's fixed delay (``assume.migration: cloudsim``,
    which ``compat: cloudsim`` sets), every field of ``consolidation.migration`` but
    ``bandwidth_cap`` (read by the detectors' migration-time estimates)."""
    from dcsim.config.migration import unread_fields

    out: list[Inert] = []
    specs = []
    if cfg.consolidation is not None:
        spec = cfg.consolidation.migration
        if assume.migration == "cloudsim":
            why = ("changes nothing: the consolidation's migrations take CloudSim's fixed delay "
                   "(assumptions.migration: cloudsim" + (", set by compat: cloudsim)"
                                                         if cfg.compat == "cloudsim" else ")"))
            out += [Inert(f"consolidation.migration.{name}", why)
                    for name in type(spec).model_fields
                    if name != "bandwidth_cap" and off_default(spec, name)]
        else:
            specs.append(("consolidation.migration", spec))
    if cfg.follow_renewables is not None:
        specs.append(("follow_renewables.migration", cfg.follow_renewables.migration))
    for where, spec in specs:
        out += [Inert(f"{where}.{name}", why) for name, why in unread_fields(spec)]
    return out


def _clock_issues(cfg: Any) -> list[Inert]:
    """``clock`` dates carbon intensity series (``dcsim.engine.carbon``); with none (no
    ``carbon:``, or constant intensities only) it changes nothing."""
    from dcsim.config.carbon import reads_series

    if cfg.clock is None or reads_series(cfg.datacenters):
        return []
    return [Inert("clock", "changes nothing: no data center has a carbon intensity series "
                  "(the clock says which instant of a series t = 0 is)")]


#: Built-in guest selections that read no utilisation history (``mc`` reads all of it).
_NO_HISTORY_SELECTIONS = frozenset({"mmt", "rs", "mu"})


def _history_issues(cfg: Any) -> list[Inert]:
    """``consolidation.history``, when set to another value than its default, must change
    something: the default planner's detector must read a history of any length (``mad``,
    ``iqr``; ``history_depth`` None) or its selection must (``mc``). CloudSim's planner keeps
    its own 30 values per VM."""
    from dcsim.policies.consolidation import parse_policy
    from dcsim.policies.overload import make_detector

    spec = cfg.consolidation
    if not off_default(spec, "history"):
        return []
    where = "consolidation.history"
    if cfg.compat == "cloudsim" or cfg.assumptions.planner == "cloudsim":
        return [Inert(where, "changes nothing with CloudSim's planner, which keeps its own 30 "
                      "utilisation values per VM (compat: cloudsim, assumptions.planner: "
                      "cloudsim); remove it")]
    ps = parse_policy(spec.policy)
    if ps.selection not in _NO_HISTORY_SELECTIONS:
        return []  # mc, or a plugin's selection, may read it
    depth = getattr(make_detector(ps.detector, ps.parameter), "history_depth", None)
    if depth is None:
        return []  # mad, iqr (or a plugin detector) read every value kept
    reads = "no history" if depth == 0 else f"its own {depth} newest values"
    return [Inert(where, f"changes nothing with policy {spec.policy!r}: its detector reads "
                  f"{reads} and its selection {ps.selection!r} none; remove it, or use a "
                  "detector that reads the whole history (mad, iqr) or the mc selection")]


def _workload_issues(sc: Scenario) -> list[Issue]:
    """Checks of workload and arrival specs and fault inputs that need files."""
    from dcsim.workload.checks import check_arrival_spec, check_workload_spec

    cfg, base_dir = sc.config, base_dir_of(sc.source)
    out: list[Issue] = []
    for k, g in enumerate(cfg.guests):
        out += check_workload_spec(g.workload, f"guests[{k}].workload", count=g.count,
                                   base_dir=base_dir)
        out += check_arrival_spec(g.arrival, f"guests[{k}].arrival", base_dir=base_dir)
        if g.memory is not None:  # a working-set model: the same checks as a workload's
            spec = (g.workload.model_copy(update={"column": "memory"}) if g.memory == "trace"
                    and g.workload.kind == "trace" else g.memory)
            if spec != "trace":
                out += check_workload_spec(spec, f"guests[{k}].memory", count=g.count,
                                           base_dir=base_dir)
    if cfg.faults is not None:
        from dcsim.engine.faults import check_faults

        out += check_faults(cfg, base_dir)
    return out


def trace_rejections(sc: Scenario) -> list[Issue]:
    """Guests sized from a trace (``size_from_trace``) that fit on no host even when empty.

    One issue per guest group, at ``guests[i]``: how many of its guests can never be placed and
    why (more MIPS per vCPU than any core, more vCPUs than any host's cores, more RAM or storage
    than any host has beside its layer's footprint, or no host has enough of everything). Only
    hosts that can run the group's ``kind`` count. The rows are those the run replays
    (replication 0: a ``sample`` selection may pick others in other replications).
    """
    import numpy as np

    from dcsim.config.workloads import TraceWorkload
    from dcsim.workload.checks import trace_sizes

    out: list[Issue] = []
    base_dir = base_dir_of(sc.source)
    for gg in sc.guest_groups:
        spec, t = gg.spec, gg.type
        if not spec.size_from_trace or not isinstance(spec.workload, TraceWorkload):
            continue
        want = {"vm": ("type1", "type2"), "container": ("container",)}.get(spec.kind or "")
        hosts = [h for h in sc.host_groups if want is None or h.profile.kind in want]
        if not hosts:
            continue  # reported at guests[i].kind
        try:
            sizes = trace_sizes(spec.workload, spec.count, sc.config.seed, gg.index,
                                base_dir=base_dir)
        except ConfigError:
            continue  # reported by the workload checks
        n = spec.count
        vc = sizes.get("vcpus", np.full(n, float(t.vcpus)))
        mips = sizes.get("mips_per_vcpu", np.full(n, float(t.mips)))
        ram = sizes.get("ram_bytes", np.full(n, float(t.ram)))
        cores = np.asarray([h.model.cores for h in hosts], dtype=np.float64)
        mpc = np.asarray([h.model.mips_per_core for h in hosts], dtype=np.float64)
        ram_free = np.asarray([h.model.ram - h.profile.host_reserved_mem for h in hosts])
        ram_over = np.asarray([h.profile.mem_overhead_per_guest for h in hosts])
        disk_bad = np.asarray([t.disk + h.profile.disk_overhead_per_guest > h.model.storage
                               for h in hosts])
        tol = 1 + 1e-9
        bad = {
            # assumptions.slow_cores: cap accepts a vCPU faster than the cores
            "mips": (mips[:, None] > mpc[None, :] * tol)
            & (sc.config.assumptions.slow_cores == "refuse"),
            "vcpus": vc[:, None] > cores[None, :],
            "ram": ram[:, None] + ram_over[None, :] > ram_free[None, :] * tol,
            "disk": np.broadcast_to(disk_bad[None, :], (n, len(hosts))),
        }
        nofit = np.logical_or.reduce(list(bad.values())).all(axis=1)
        if not nofit.any():
            continue
        parts = []
        alone = np.zeros(n, dtype=bool)
        for key in ("mips", "vcpus", "ram"):
            m = bad[key].all(axis=1) & nofit
            alone |= m
            if not m.any():
                continue
            if key == "mips":
                parts.append(f"{int(m.sum())} need more MIPS per vCPU than any core: up to "
                             f"{mips[m].max():g} MIPS per vCPU > {mpc.max():g} MIPS cores")
            elif key == "vcpus":
                parts.append(f"{int(m.sum())} have more vCPUs than any host has cores: up to "
                             f"{vc[m].max():g} > {cores.max():g}")
            else:
                parts.append(f"{int(m.sum())} need more RAM than any host has beside its "
                             f"layer: up to {(ram[m].max() + ram_over.min()) / 2**30:.1f} GiB "
                             f"> {ram_free.max() / 2**30:.1f} GiB")
        if bad["disk"][0].all():
            parts.append(f"{int(nofit.sum())} need more storage than any host has")
            alone[:] = True
        rest = int((nofit & ~alone).sum())
        if rest:
            parts.append(f"{rest} fit no host because none has enough of everything")
        out.append(Issue(f"guests[{gg.index}]",
                         f"{int(nofit.sum())} of {n} guests sized from the trace fit on no "
                         f"host even when empty ({'; '.join(parts)}); they would be rejected "
                         "on arrival (--allow-rejections runs anyway and counts them in "
                         "guests_rejected)"))
    return out

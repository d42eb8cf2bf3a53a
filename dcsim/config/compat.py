"""``compat: cloudsim``: CloudSim 3.0.3's PlanetLab experiment as a config of the default engine.

There is one engine. ``compat: cloudsim`` is a shorthand that rewrites the config into what
CloudSim's experiment means in dcsim's terms (:func:`cloudsim_config`), and the default engine runs
the rewritten config with the ``cloudsim-3.0.3`` assumption preset. The rewrite:

* ``assumptions``: the preset, with every switch written under ``assumptions`` taking precedence
  (so ``assumptions: {energy: integral}`` next to ``compat: cloudsim`` changes that one switch);
* hosts laid out round-robin over the host groups, host ``i`` from group ``i mod n`` (CloudSim's
  ``i % 2`` alternation of HP ML110 G4 and G5; first-fit and PABFD scan hosts in id order);
* every guest arrives running (``boot: false``): CloudSim creates VMs at t = 0 with no boot;
* the baselines named as ``consolidation.policy``: ``dvfs`` is first fit without consolidation;
  ``npa`` is CloudSim's ``VmAllocationPolicySimple`` (the host with the most free cores, placement
  ``worst_fit`` under ``initial_placement: cloudsim``), hosts never sleep, and the energy rule is
  ``cloudsim-npa`` (every host at maximum power until the last update) unless ``assumptions``
  names another.

:func:`compat_issues` lists what the shorthand cannot express (checked on the user's config, so the
paths are the user's). Sizes are in CloudSim's units where they matter: write host RAM as
``4096MB`` (10^6 bytes) to match CloudSim's 4096. The equality of this path with the retired
CloudSim engine on all 100 day x policy pairs is recorded in
``experiments/planetlab_consolidation/comparison.md``.

Imports: dcsim.config.{schema, assumptions, workloads}, dcsim.errors.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from dcsim.config.assumptions import ASSUMPTION_PRESETS, Assumptions
from dcsim.config.schema import Config, PlacementSpec
from dcsim.config.workloads import AtStart, TraceWorkload
from dcsim.errors import Issue

if TYPE_CHECKING:
    from dcsim.config.resolve import Scenario

__all__ = ["BASELINES", "cloudsim_config", "compat_issues"]

PRESET = "cloudsim-3.0.3"
#: baseline policy -> placement of its guests at t = 0 under ``initial_placement: cloudsim``
BASELINES = {"npa": "worst_fit", "dvfs": "first_fit"}


def compat_issues(sc: Scenario) -> list[Issue]:
    """Problems that keep a config from expressing CloudSim's PlanetLab experiment."""
    cfg = sc.config
    issues: list[Issue] = []
    if cfg.consolidation is None:
        issues.append(Issue("consolidation", "compat: cloudsim needs consolidation.policy "
                            "(e.g. lr-mmt-1.2, thr-mmt-0.8, dvfs or npa)"))
    if abs(cfg.interval - 300.0) > 1e-9:
        issues.append(Issue("interval", "CloudSim's PlanetLab experiments use 300 s"))
    if len(cfg.datacenters) != 1:
        issues.append(Issue("datacenters", "CloudSim's PlanetLab experiment has one data "
                            "center: expected one entry"))
    issues += [Issue(name, f"CloudSim's PlanetLab experiment has no {name}: remove the "
                     f"section, or drop compat and write assumptions: {PRESET} to combine "
                     "CloudSim's assumptions with it")
               for name in ("network", "faults") if getattr(cfg, name) is not None]
    models = [g.model for g in sc.host_groups]
    issues += [Issue("datacenters", f"compat: cloudsim needs the same {field} on every host "
                     "(CloudSim's host constants are scalars)")
               for field in ("cores", "ram", "storage", "bandwidth")
               if len({getattr(m, field) for m in models}) > 1]
    if len({g.count for g in sc.host_groups}) > 1:
        issues.append(Issue("datacenters", "compat: cloudsim interleaves host groups, so they "
                            "must have equal counts"))
    for k, g in enumerate(sc.guest_groups):
        if not isinstance(g.spec.workload, TraceWorkload):
            issues.append(Issue(f"guests[{k}].workload", "compat: cloudsim replays traces: "
                                "expected kind: trace"))
        if not isinstance(g.spec.arrival, AtStart):
            issues.append(Issue(f"guests[{k}].arrival", "compat: cloudsim creates every VM at "
                                "start: expected kind: at_start"))
        if g.type.vcpus != 1:
            issues.append(Issue(f"guests[{k}]", "CloudSim's PlanetLab VMs have one PE"))
    return issues


def cloudsim_config(cfg: Config) -> Config:
    """The config the default engine runs for ``cfg`` (``compat: cloudsim``); see the module doc.

    ``cfg`` must have passed :func:`compat_issues`. The result has ``compat: none`` and is itself
    a valid config: running it gives the same results as running ``cfg``.
    """
    assert cfg.consolidation is not None
    policy = cfg.consolidation.policy.strip().lower()
    written = {k: getattr(cfg.assumptions, k) for k in cfg.assumptions.model_fields_set}
    switches: dict[str, Any] = dict(ASSUMPTION_PRESETS[PRESET])
    if policy == "npa":
        switches["energy"] = "cloudsim-npa"
    switches.update(written)
    dc = cfg.datacenters[0]
    groups = dc.hosts
    n = groups[0].count
    hosts = [groups[k % len(groups)].model_copy(update={"count": 1})
             for k in range(n * len(groups))]
    update: dict[str, Any] = {
        "compat": "none",
        "assumptions": Assumptions.model_validate(switches),
        "datacenters": [dc.model_copy(update={"hosts": hosts})],
        "guests": [g.model_copy(update={"boot": False}) for g in cfg.guests],
    }
    if policy in BASELINES:
        update["consolidation"] = None
        update["placement"] = PlacementSpec(name=BASELINES[policy])
        if policy == "npa":
            update["power_management"] = cfg.power_management.model_copy(
                update={"sleep_idle_hosts": False})
    return cfg.model_copy(update=update)


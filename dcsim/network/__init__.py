"""Data-center network: topologies, routing, the max-min fair flow model and switch power.

Submodules (none imports simpy; the SimPy driver is :mod:`dcsim.engine.network`):

* :mod:`dcsim.network.topology`: generators (fat-tree, leaf-spine, three-tier, multi-DC),
  GraphML/edge-list loading, :class:`Topology` (hosts attached, directed link arrays).
* :mod:`dcsim.network.routing`: :class:`Router`, shortest-path / ECMP routing.
* :mod:`dcsim.network.flows`: :func:`maxmin_rates` and :class:`FlowNetwork`.
* :mod:`dcsim.network.power`: switch power models and :class:`NetworkPower`.

Imports: numpy, scipy, networkx, yaml, dcsim.units, dcsim.errors.
"""

from __future__ import annotations

from dcsim.network.flows import FlowNetwork, FlowRecord, maxmin_rates
from dcsim.network.power import NetworkPower, SwitchPowerModel, switch_models
from dcsim.network.routing import Router, flow_hash
from dcsim.network.topofile import load_graph
from dcsim.network.topology import (
    Topology,
    attach_hosts,
    fat_tree,
    leaf_spine,
    multi_dc,
    three_tier,
)

__all__ = [
    "FlowNetwork",
    "FlowRecord",
    "NetworkPower",
    "Router",
    "SwitchPowerModel",
    "Topology",
    "attach_hosts",
    "fat_tree",
    "flow_hash",
    "leaf_spine",
    "load_graph",
    "maxmin_rates",
    "multi_dc",
    "switch_models",
    "three_tier",
]

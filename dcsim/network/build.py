"""Build the network of a scenario: topology graph, host attachment, validation issues.

Imports: networkx, numpy, dcsim.network.topology, dcsim.config.{network, resolve}, dcsim.errors,
dcsim.units.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import networkx as nx
import numpy as np

from dcsim.config.network import TOPOLOGY_PARAMS, NetworkSpec, TopologySpec
from dcsim.errors import ConfigError, Inert, Issue
from dcsim.network.topofile import load_graph
from dcsim.network.topology import (
    Topology,
    attach_hosts,
    fat_tree,
    leaf_spine,
    multi_dc,
    three_tier,
)
from dcsim.units import off_default


def star(nic_bps: Sequence[float], latency_s: float = 1e-6) -> nx.Graph:
    """One non-blocking switch, host slot ``i`` linked to it at ``nic_bps[i]``."""
    g = nx.Graph()
    g.add_node("switch", kind="switch", role="edge", dc=0)
    for i, bw in enumerate(nic_bps):
        g.add_node(f"h{i}", kind="host", role="host", dc=0)
        g.add_edge(f"h{i}", "switch", capacity_bps=float(bw), latency_s=latency_s)
    return g


def _blocking(issues: Sequence[Issue]) -> bool:
    """Whether ``issues`` hold a problem that stops the topology being built (not only
    :class:`~dcsim.errors.Inert` values)."""
    return any(not isinstance(i, Inert) for i in issues)


def _graph(spec: TopologySpec, nic_bps: Sequence[float], path: str,
           base_dir: str | None) -> tuple[nx.Graph | None, list[Issue]]:
    """The topology's graph and its problems, parameters of another kind first (``Inert``:
    set to another value than the default, they would change nothing; a results folder's
    config.yaml lists every parameter with its default)."""
    takes = TOPOLOGY_PARAMS[spec.kind]
    unused = sorted(k for k in type(spec).model_fields.keys() - takes - {"kind"}
                    if off_default(spec, k))
    inert: list[Issue] = [Inert(f"{path}.{name}", f"not a parameter of a {spec.kind} topology, "
                                f"which takes {', '.join(sorted(takes))}") for name in unused]
    graph, issues = _kind_graph(spec, nic_bps, path, base_dir)
    return graph, inert + issues


def _kind_graph(spec: TopologySpec, nic_bps: Sequence[float], path: str,
                base_dir: str | None) -> tuple[nx.Graph | None, list[Issue]]:
    try:
        if spec.kind == "star":
            return star(nic_bps, spec.latency), []
        if spec.kind == "fat_tree":
            if spec.k % 2:
                return None, [Issue(f"{path}.k", "a fat-tree needs an even k")]
            return fat_tree(spec.k, spec.link, spec.latency), []
        if spec.kind == "leaf_spine":
            return leaf_spine(spec.leaves, spec.spines, spec.hosts_per_leaf, spec.link,
                              spec.oversubscription, spec.uplink, spec.latency), []
        if spec.kind == "three_tier":
            return three_tier(spec.core, spec.aggregation, spec.access, spec.hosts_per_access,
                              spec.link, spec.access_uplink, spec.core_link, spec.latency), []
        if spec.path is None:
            return None, [Issue(f"{path}.path", "kind 'file' needs a path (GraphML or edges)")]
        from pathlib import Path

        p = Path(spec.path)
        if not p.is_absolute() and base_dir is not None:
            p = Path(base_dir) / p
        return load_graph(p, default_capacity_bps=spec.link, default_latency_s=spec.latency), []
    except ConfigError as exc:
        return None, [Issue(f"{path}.{i.path}" if i.path else path, i.message)
                      for i in exc.issues]
    except (ValueError, nx.NetworkXError) as exc:
        return None, [Issue(path, str(exc))]


def build_topology(spec: NetworkSpec | None, nic_bps: Sequence[float], host_dc: Sequence[int],
                   n_dcs: int, base_dir: str | None = None) -> tuple[Topology | None, list[Issue]]:
    """The scenario's topology with hosts attached, and every problem found (config paths)."""
    if spec is None:
        spec = NetworkSpec()
    issues: list[Issue] = []
    racks = list(spec.racks) if spec.racks is not None else None
    if racks is not None and len(racks) != len(nic_bps):
        issues.append(Issue("network.racks", f"expected one rack per host ({len(nic_bps)}), "
                            f"got {len(racks)}"))
        racks = None
    if spec.per_datacenter is not None:
        if len(spec.per_datacenter) != n_dcs:
            return None, [Issue("network.per_datacenter",
                                f"expected one topology per data center ({n_dcs}), got "
                                f"{len(spec.per_datacenter)}")]
        graphs = []
        for i, sub in enumerate(spec.per_datacenter):
            nic = [b for b, d in zip(nic_bps, host_dc, strict=True) if d == i]
            g, iss = _graph(sub, nic, f"network.per_datacenter[{i}]", base_dir)
            issues += iss
            if g is not None:
                graphs.append(g)
        if _blocking(issues):
            return None, issues
        graph = multi_dc(graphs, spec.wan.bandwidth, spec.wan.latency)
        if racks is None:
            racks = _racks_by_dc(graph, host_dc)
    else:
        graph, iss = _graph(spec.topology, nic_bps, "network.topology", base_dir)
        issues += iss
        if graph is None:
            return None, issues
        # a file's dc attributes must name data centers of this config (traffic between data
        # centers is told apart by them)
        issues += [Issue(f"network.topology.nodes[{node}].dc", f"data center {dc:g} does not "
                         f"exist (the config has {n_dcs}: 0..{n_dcs - 1})")
                   for node, dc in graph.nodes(data="dc", default=0) if dc >= n_dcs]
        if _blocking(issues):
            return None, issues
    topo = attach_hosts(graph, len(nic_bps), racks)
    cap_host_links(topo, nic_bps)
    for issue in topo.validate():
        issues.append(Issue(f"network.topology.{issue.path}" if issue.path
                            else "network.topology", issue.message))
    return (topo if not _blocking(issues) else None), issues


def cap_host_links(topo: Topology, nic_bps: Sequence[float]) -> None:
    """Every link of a host carries at most the host's NIC rate: ``min(NIC, link)``, bit/s.

    A 1 Gbit/s NIC on a 10 Gbit/s fat-tree port runs at 1 Gbit/s (the port negotiates down).
    Changes ``topo.capacity_bps`` in place (the graph keeps the topology's own link rates);
    a multi-homed host's NIC rate applies to each of its links.
    """
    node_nic = np.full(topo.n_nodes, np.inf)
    attached = topo.host_node_index >= 0
    node_nic[topo.host_node_index[attached]] = np.asarray(nic_bps, dtype=np.float64)[attached]
    np.minimum(topo.capacity_bps, node_nic[topo.link_src], out=topo.capacity_bps)
    np.minimum(topo.capacity_bps, node_nic[topo.link_dst], out=topo.capacity_bps)


def _racks_by_dc(graph: nx.Graph, host_dc: Sequence[int]) -> list[int] | None:
    """Racks for hosts so that the hosts of DC ``i`` sit in DC ``i``'s racks, in order."""
    from dcsim.network.topology import _slots_by_rack

    slots, slot_rack = _slots_by_rack(graph)
    free: dict[int, list[int]] = {}
    for node, rack in zip(slots, slot_rack, strict=True):
        free.setdefault(int(graph.nodes[node].get("dc", 0)), []).append(rack)
    out = []
    for d in host_dc:
        avail = free.get(int(d), [])
        if not avail:
            return None  # validation will report too few slots
        out.append(avail.pop(0))
    return out


def scenario_topology(cfg: Any, hgroups: Sequence[Any],
                      source: str | None) -> tuple[Topology | None, list[Issue]]:
    """A scenario's topology with its hosts attached, and its problems (config paths).

    ``cfg`` is a ``dcsim.config.schema.Config``, ``hgroups`` its resolved host groups
    (``dcsim.config.resolve.HostGroupR``) in host order; relative file paths resolve against the
    config file's folder.
    """
    from dcsim.config.resolve import base_dir_of

    nic = [g.model.bandwidth for g in hgroups for _ in range(g.count)]
    hdc = [g.datacenter for g in hgroups for _ in range(g.count)]
    bd = base_dir_of(source)
    return build_topology(cfg.network, nic, hdc, len(cfg.datacenters), str(bd) if bd else None)

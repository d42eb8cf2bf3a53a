"""Data-center topologies as networkx graphs, and the dense link arrays the flow model runs on.

This module owns the topology generators (fat-tree, leaf-spine, three-tier, multi-datacenter WAN)
and :class:`Topology`: the graph plus the mapping of config host indices to host nodes and the
directed link arrays (``capacity_bps``, ``latency_s``). A graph read from GraphML or an edge list
is :mod:`dcsim.network.topofile`'s.

Graph conventions (every generator follows them, :func:`dcsim.network.topofile.load_graph`
enforces them):

* an undirected ``networkx.Graph`` whose node names are strings;
* node attributes ``kind`` (``"host"`` or ``"switch"``), ``role`` (``edge``/``agg``/``core``,
  ``leaf``/``spine``, ``access``/``aggregation``/``core``, ``gateway``, ``host``) and ``dc`` (int);
* edge attributes ``capacity_bps`` (bit/s, > 0) and ``latency_s`` (seconds, >= 0, one-way
  propagation plus switching delay of that hop);
* a node of kind ``"host"`` is a *host slot*: a place where a configured server can sit. Its rack is
  the first switch it is connected to; racks are numbered in the order their switch appears in the
  graph, so rack ``r`` of a fat-tree is edge switch ``r`` (pod-major).

Each undirected edge ``e`` (in ``graph.edges`` order) gives two directed links with dense indices:
``2e`` from the edge's first node to its second, ``2e + 1`` back. Link arrays are indexed by these.

Default per-hop latency is 1 µs [E] (a few hundred metres of fibre plus cut-through switching);
WAN latencies are given by the caller.

Imports: numpy, networkx, dcsim.errors. No simpy.
"""

from __future__ import annotations

import math
from collections.abc import Hashable, Sequence
from dataclasses import dataclass, field
from typing import Any

import networkx as nx
import numpy as np
from numpy.typing import ArrayLike, NDArray

from dcsim.errors import ConfigError, Issue

__all__ = [
    "DEFAULT_LATENCY_S",
    "Topology",
    "attach_hosts",
    "fat_tree",
    "leaf_spine",
    "multi_dc",
    "three_tier",
]

F64 = NDArray[np.float64]
IntP = NDArray[np.intp]

DEFAULT_LATENCY_S = 1e-6
"""Default one-way latency of one intra-DC hop, seconds [E]."""


def _add_switch(g: nx.Graph, name: str, role: str, dc: int = 0) -> None:
    g.add_node(name, kind="switch", role=role, dc=dc)


def _add_host(g: nx.Graph, name: str, dc: int = 0) -> None:
    g.add_node(name, kind="host", role="host", dc=dc)


def _link(g: nx.Graph, u: str, v: str, capacity_bps: float, latency_s: float) -> None:
    g.add_edge(u, v, capacity_bps=float(capacity_bps), latency_s=float(latency_s))


def fat_tree(k: int, link_bps: float = 1e9, latency_s: float = DEFAULT_LATENCY_S) -> nx.Graph:
    """A k-ary fat-tree (Al-Fares et al., SIGCOMM 2008), all links of equal capacity.

    Parameters
    ----------
    k : int
        Switch port count, even and >= 2. Gives k pods of k/2 edge and k/2 aggregation switches,
        (k/2)^2 core switches and k^3/4 host slots (k/2 per edge switch).
    link_bps : float
        Capacity of every link, bit/s.
    latency_s : float
        One-way latency of every link, seconds.

    Returns
    -------
    networkx.Graph
        5k^2/4 switches, k^3/4 hosts, 3k^3/4 undirected links. Names: ``core{i}``,
        ``agg{pod}_{j}``, ``edge{pod}_{j}``, ``host{pod}_{j}_{h}``.
    """
    if k < 2 or k % 2:
        raise ValueError(f"fat_tree needs an even k >= 2, got {k}")
    half = k // 2
    g = nx.Graph(name=f"fat_tree(k={k})")
    for i in range(half * half):
        _add_switch(g, f"core{i}", "core")
    for p in range(k):
        for j in range(half):
            _add_switch(g, f"agg{p}_{j}", "agg")
        for j in range(half):
            _add_switch(g, f"edge{p}_{j}", "edge")
    for p in range(k):
        for j in range(half):
            edge = f"edge{p}_{j}"
            for h in range(half):
                host = f"host{p}_{j}_{h}"
                _add_host(g, host)
                _link(g, host, edge, link_bps, latency_s)
            for a in range(half):
                _link(g, edge, f"agg{p}_{a}", link_bps, latency_s)
        # Aggregation switch j of every pod connects to core switches j*k/2 .. j*k/2 + k/2 - 1.
        for a in range(half):
            for c in range(half):
                _link(g, f"agg{p}_{a}", f"core{a * half + c}", link_bps, latency_s)
    return g


def leaf_spine(
    leaves: int,
    spines: int,
    hosts_per_leaf: int,
    host_link_bps: float = 10e9,
    oversubscription: float | None = None,
    uplink_bps: float | None = None,
    latency_s: float = DEFAULT_LATENCY_S,
) -> nx.Graph:
    """A two-tier leaf-spine (folded Clos) fabric: every leaf connects to every spine.

    Parameters
    ----------
    leaves, spines, hosts_per_leaf : int
        Switch and host-slot counts, each >= 1.
    host_link_bps : float
        Capacity of each host-to-leaf link, bit/s.
    oversubscription : float, optional
        Ratio of host-facing to spine-facing bandwidth at a leaf (1.0 = non-blocking). Each
        uplink then gets ``hosts_per_leaf * host_link_bps / (oversubscription * spines)``.
    uplink_bps : float, optional
        Capacity of each leaf-to-spine link, bit/s; give this or ``oversubscription``, not both.
        With neither, the fabric is non-blocking.
    latency_s : float
        One-way latency of every link, seconds.

    Returns
    -------
    networkx.Graph
        Nodes ``spine{i}``, ``leaf{i}``, ``host{leaf}_{h}``.
    """
    if min(leaves, spines, hosts_per_leaf) < 1:
        raise ValueError("leaf_spine needs leaves, spines and hosts_per_leaf >= 1")
    if oversubscription is not None and uplink_bps is not None:
        raise ValueError("give oversubscription or uplink_bps, not both")
    if uplink_bps is None:
        ratio = 1.0 if oversubscription is None else float(oversubscription)
        if ratio <= 0:
            raise ValueError(f"oversubscription must be > 0, got {ratio}")
        uplink_bps = hosts_per_leaf * host_link_bps / (ratio * spines)
    g = nx.Graph(name=f"leaf_spine({leaves}x{spines})")
    for s in range(spines):
        _add_switch(g, f"spine{s}", "spine")
    for i in range(leaves):
        _add_switch(g, f"leaf{i}", "leaf")
    for i in range(leaves):
        for h in range(hosts_per_leaf):
            _add_host(g, f"host{i}_{h}")
            _link(g, f"host{i}_{h}", f"leaf{i}", host_link_bps, latency_s)
        for s in range(spines):
            _link(g, f"leaf{i}", f"spine{s}", uplink_bps, latency_s)
    return g


def three_tier(
    core: int,
    aggregation: int,
    access: int,
    hosts_per_access: int,
    host_link_bps: float = 1e9,
    access_uplink_bps: float = 10e9,
    core_link_bps: float = 10e9,
    latency_s: float = DEFAULT_LATENCY_S,
) -> nx.Graph:
    """The classic three-tier tree: access (ToR) -> aggregation pairs -> core.

    Aggregation switches are grouped in pairs (the last group may hold one switch). Access switch
    ``i`` belongs to group ``i * n_groups // access`` and connects to both switches of its group;
    every aggregation switch connects to every core switch.

    Parameters
    ----------
    core, aggregation, access, hosts_per_access : int
        Counts, each >= 1.
    host_link_bps, access_uplink_bps, core_link_bps : float
        Capacities (bit/s) of host-access, access-aggregation and aggregation-core links.
    latency_s : float
        One-way latency of every link, seconds.

    Returns
    -------
    networkx.Graph
        Nodes ``core{i}``, ``aggregation{i}``, ``access{i}``, ``host{access}_{h}``.
    """
    if min(core, aggregation, access, hosts_per_access) < 1:
        raise ValueError("three_tier needs every count >= 1")
    g = nx.Graph(name=f"three_tier({core},{aggregation},{access})")
    for c in range(core):
        _add_switch(g, f"core{c}", "core")
    for a in range(aggregation):
        _add_switch(g, f"aggregation{a}", "aggregation")
    for i in range(access):
        _add_switch(g, f"access{i}", "access")
    n_groups = (aggregation + 1) // 2
    for i in range(access):
        for h in range(hosts_per_access):
            _add_host(g, f"host{i}_{h}")
            _link(g, f"host{i}_{h}", f"access{i}", host_link_bps, latency_s)
        grp = i * n_groups // access
        for a in range(2 * grp, min(2 * grp + 2, aggregation)):
            _link(g, f"access{i}", f"aggregation{a}", access_uplink_bps, latency_s)
    for a in range(aggregation):
        for c in range(core):
            _link(g, f"aggregation{a}", f"core{c}", core_link_bps, latency_s)
    return g


def _top_tier(g: nx.Graph) -> list[Hashable]:
    """Switches that face the WAN: cores/spines if any, else every switch (graph order)."""
    for roles in (("core",), ("spine",)):
        top = [
            n for n, d in g.nodes(data=True) if d.get("kind") == "switch" and d.get("role") in roles
        ]
        if top:
            return top
    return [n for n, d in g.nodes(data=True) if d.get("kind") == "switch"]


def multi_dc(
    graphs: Sequence[nx.Graph],
    wan_bps: float,
    wan_latency_s: float | ArrayLike,
    gateway_link_bps: float | None = None,
    gateway_latency_s: float = DEFAULT_LATENCY_S,
) -> nx.Graph:
    """Join several data centers by a full mesh of WAN links between one gateway per DC.

    Parameters
    ----------
    graphs : sequence of networkx.Graph
        One topology per data center. Node ``n`` of DC ``i`` becomes ``f"dc{i}/{n}"`` with
        attribute ``dc=i``; the inputs are not modified.
    wan_bps : float
        Capacity of every WAN link, bit/s.
    wan_latency_s : float or array_like, shape (n_dc, n_dc)
        One-way WAN latency, seconds: one value for every pair or a symmetric matrix.
    gateway_link_bps : float, optional
        Capacity of each gateway-to-top-tier link; default: the largest link capacity of that DC.
    gateway_latency_s : float
        Latency of each gateway-to-top-tier link, seconds.

    Returns
    -------
    networkx.Graph
        The union plus nodes ``dc{i}/gateway`` (kind ``switch``, role ``gateway``) linked to the
        DC's core (or spine) switches and to every other gateway.
    """
    n = len(graphs)
    if n < 1:
        raise ValueError("multi_dc needs at least one graph")
    lat = np.asarray(wan_latency_s, dtype=np.float64)
    lat_m = np.full((n, n), float(lat)) if lat.ndim == 0 else lat
    if lat_m.shape != (n, n):
        raise ValueError(f"wan_latency_s must be a scalar or a {n}x{n} matrix, got {lat_m.shape}")
    out = nx.Graph(name=f"multi_dc({n})")
    for i, g in enumerate(graphs):
        prefix = f"dc{i}/"
        for node, data in g.nodes(data=True):
            out.add_node(f"{prefix}{node}", **{**data, "dc": i})
        for u, v, data in g.edges(data=True):
            out.add_edge(f"{prefix}{u}", f"{prefix}{v}", **data)
        gw = f"{prefix}gateway"
        _add_switch(out, gw, "gateway", dc=i)
        caps = [float(d["capacity_bps"]) for _, _, d in g.edges(data=True) if "capacity_bps" in d]
        gw_bps = gateway_link_bps if gateway_link_bps is not None else max(caps, default=wan_bps)
        for top in _top_tier(g):
            _link(out, gw, f"{prefix}{top}", gw_bps, gateway_latency_s)
    for i in range(n):
        for j in range(i + 1, n):
            _link(out, f"dc{i}/gateway", f"dc{j}/gateway", wan_bps, float(lat_m[i, j]))
    return out


@dataclass(eq=False)
class Topology:
    """A graph with configured hosts attached and dense directed link arrays.

    Build it with :func:`attach_hosts`; treat it as read-only afterwards.

    Attributes
    ----------
    graph : networkx.Graph
        The topology (see the module docstring for attributes).
    nodes : list of str
        Node names in graph order; node index ``i`` <-> ``nodes[i]``.
    node_index : dict
        Name -> node index.
    is_host_node : ndarray of bool, shape (n_nodes,)
        Whether each node is a host slot.
    host_node : list of (str or None)
        ``host_node[h]``: the node config host ``h`` sits on, None if it could not be attached.
    host_node_index : ndarray of intp, shape (n_hosts,)
        Node index of each config host, -1 if unattached.
    link_src, link_dst : ndarray of intp, shape (n_links,)
        Node indices of each directed link's ends.
    capacity_bps : ndarray of float64, shape (n_links,)
        Link capacity, bit/s.
    latency_s : ndarray of float64, shape (n_links,)
        Link one-way latency, seconds.
    slots : list of str
        Host-slot nodes ordered by rack, then graph order.
    slot_rack : ndarray of intp, shape (n_slots,)
        Rack of each slot (-1 for a slot with no switch neighbour).
    attach_issues : list of Issue
        Problems found while attaching hosts (reported again by :meth:`validate`).
    """

    graph: nx.Graph
    nodes: list[str]
    node_index: dict[str, int]
    is_host_node: NDArray[np.bool_]
    host_node: list[str | None]
    host_node_index: IntP
    link_src: IntP
    link_dst: IntP
    capacity_bps: F64
    latency_s: F64
    slots: list[str]
    slot_rack: IntP
    attach_issues: list[Issue] = field(default_factory=list)
    _link_ids: dict[tuple[int, int], int] | None = field(default=None, init=False, repr=False)

    @property
    def n_links(self) -> int:
        """Number of directed links (twice the number of graph edges)."""
        return int(self.capacity_bps.shape[0])

    @property
    def n_hosts(self) -> int:
        """Number of configured hosts."""
        return len(self.host_node)

    @property
    def n_nodes(self) -> int:
        """Number of graph nodes."""
        return len(self.nodes)

    def host_access_bps(self) -> F64:
        """(n_hosts,) rate of the fastest link leaving each config host's node, bit/s.

        What one flow from the host can get at most (a flow takes one path); 0 for an unattached
        host. With the scenario's NICs applied (``dcsim.network.build.cap_host_links``) this is
        ``min(NIC, the topology's host link)``.
        """
        best = np.zeros(self.n_nodes)
        np.maximum.at(best, self.link_src, np.nan_to_num(self.capacity_bps))
        hn = self.host_node_index
        out: F64 = np.where(hn >= 0, best[np.maximum(hn, 0)], 0.0)
        return out

    def link_id(self, u: str, v: str) -> int:
        """Index of the directed link ``u -> v``; KeyError if the nodes are not adjacent."""
        if self._link_ids is None:
            pairs = zip(self.link_src.tolist(), self.link_dst.tolist(), strict=True)
            self._link_ids = {(s, d): i for i, (s, d) in enumerate(pairs)}
        return self._link_ids[(self.node_index[u], self.node_index[v])]

    def validate(self) -> list[Issue]:
        """Every problem that makes this topology unusable for its hosts.

        Issue paths are relative (``hosts[3]``, ``links[a-b].capacity_bps``, or ``""`` for the whole
        graph); the config layer prefixes them with the topology's config path.

        Returns
        -------
        list of Issue
            Empty when every host is attached, the graph is connected and all capacities are
            positive and finite and all latencies finite and >= 0.
        """
        issues = list(self.attach_issues)
        g = self.graph
        if g.number_of_nodes() == 0:
            return [*issues, Issue("", "the topology has no nodes")]
        if not nx.is_connected(g):
            comps = sorted((sorted(c) for c in nx.connected_components(g)), key=lambda c: c[0])
            sizes = ", ".join(f"{len(c)} (e.g. {c[0]!r})" for c in comps[:5])
            issues.append(
                Issue("", f"the graph is not connected: {len(comps)} components of sizes {sizes}")
            )
        else:
            issues += self._transit_issues()
        for u, v, d in g.edges(data=True):
            cap = d.get("capacity_bps")
            if not isinstance(cap, int | float) or not math.isfinite(cap) or cap <= 0:
                msg = f"must be a finite bit rate > 0, got {cap!r}"
                issues.append(Issue(f"links[{u}-{v}].capacity_bps", msg))
            lat = d.get("latency_s")
            if not isinstance(lat, int | float) or not math.isfinite(lat) or lat < 0:
                msg = f"must be a finite duration >= 0, got {lat!r}"
                issues.append(Issue(f"links[{u}-{v}].latency_s", msg))
        return issues

    def _transit_issues(self) -> list[Issue]:
        """Hosts that reach each other only through another host: routes never cross a host
        (a host forwards nothing), so such a topology would validate and then fail at the
        first flow between them (session-17 input audit: a GraphML host joining two switches)."""
        g = self.graph
        hosts = [n for n in dict.fromkeys(self.host_node) if n is not None and n in g]
        if len(hosts) < 2:
            return []
        switches = [n for n, d in g.nodes(data=True) if d.get("kind") != "host"]
        group: dict[Any, int] = {}
        for k, comp in enumerate(nx.connected_components(g.subgraph(switches))):
            for n in comp:
                group[n] = k
        groups = {h: {group[nb] for nb in g.neighbors(h) if nb in group} for h in hosts}
        touching: dict[int, set[Any]] = {}
        for h, ks in groups.items():
            for k in ks:
                touching.setdefault(k, set()).add(h)
        if any(len(t) == len(hosts) for t in touching.values()):
            return []  # one group of switches reaches every host (any sound data center)
        # two hosts talk through a switch group both touch, or over a link between them
        for h in hosts:
            peers = set(g.neighbors(h))
            for k in groups[h]:
                peers |= touching[k]
            lost = [str(x) for x in hosts if x != h and x not in peers]
            if lost:
                via = sorted(str(n) for n in hosts if len(groups[n]) > 1)
                hint = f" (host nodes joining switches: {', '.join(via[:5])})" if via else ""
                return [Issue("", f"host {str(h)!r} reaches {', '.join(lost[:3])}"
                              f"{' …' if len(lost) > 3 else ''} only through other hosts, "
                              f"which forward no traffic{hint}; join the switches directly")]
        return []

    def check(self, source: str | None = None) -> Topology:
        """Return self, or raise ConfigError with every issue of :meth:`validate`."""
        issues = self.validate()
        if issues:
            raise ConfigError(issues, source=source)
        return self


def _slots_by_rack(g: nx.Graph) -> tuple[list[str], list[int]]:
    """Host slots ordered by rack, then graph order, and each slot's rack (-1: no switch).

    A slot's rack switch is its first switch neighbour; racks are numbered in the graph order of
    their switches, so rack ``r`` of a generated topology is its ``r``-th edge/leaf/access switch.
    """
    tor_of: dict[Hashable, Hashable | None] = {}
    for node, data in g.nodes(data=True):
        if data.get("kind") == "host":
            tor_of[node] = next(
                (nb for nb in g.adj[node] if g.nodes[nb].get("kind") == "switch"), None
            )
    tors = {t for t in tor_of.values() if t is not None}
    rack_of = {s: i for i, s in enumerate(n for n in g.nodes if n in tors)}
    n_racks = len(rack_of)
    order = {n: i for i, n in enumerate(g.nodes)}
    keyed = sorted(
        (rack_of[t] if t is not None else n_racks, order[h], str(h)) for h, t in tor_of.items()
    )
    return [n for _, _, n in keyed], [r if r < n_racks else -1 for r, _, _ in keyed]


def attach_hosts(graph: nx.Graph, n_hosts: int, racks: Sequence[int] | None = None) -> Topology:
    """Place config hosts ``0..n_hosts-1`` on host slots and build the link arrays.

    Parameters
    ----------
    graph : networkx.Graph
        A topology following the module's conventions.
    n_hosts : int
        Number of configured hosts.
    racks : sequence of int, optional
        ``racks[h]``: the rack (edge switch index) of host ``h``; hosts of a rack take its slots
        in order. Without it, hosts fill rack 0's slots, then rack 1's, and so on.

    Returns
    -------
    Topology
        Never raises on bad input: hosts that cannot be placed stay unattached and
        :meth:`Topology.validate` reports why (too few slots, full or unknown rack).
    """
    nodes = [str(n) for n in graph.nodes]
    node_index = {n: i for i, n in enumerate(nodes)}
    is_host = np.array([graph.nodes[n].get("kind") == "host" for n in graph.nodes], dtype=bool)
    slots, slot_rack = _slots_by_rack(graph)
    issues: list[Issue] = []
    host_node: list[str | None] = [None] * n_hosts
    if racks is None:
        if n_hosts > len(slots):
            issues.append(
                Issue(
                    "hosts",
                    f"{n_hosts} hosts but the topology has only {len(slots)} host slots; "
                    f"hosts {len(slots)}..{n_hosts - 1} are not attached",
                )
            )
        for h in range(min(n_hosts, len(slots))):
            host_node[h] = slots[h]
    else:
        if len(racks) != n_hosts:
            issues.append(Issue("racks", f"expected {n_hosts} rack indices, got {len(racks)}"))
        free: dict[int, list[str]] = {}
        for s, r in zip(slots, slot_rack, strict=True):
            if r >= 0:
                free.setdefault(r, []).append(s)
        n_racks = len(free)
        taken: dict[int, int] = {}
        for h, r in enumerate(list(racks)[:n_hosts]):
            r = int(r)
            if r not in free:
                issues.append(Issue(f"racks[{h}]", f"rack {r} does not exist (0..{n_racks - 1})"))
                continue
            i = taken.get(r, 0)
            if i >= len(free[r]):
                issues.append(
                    Issue(f"racks[{h}]", f"rack {r} has only {len(free[r])} host slots, all taken")
                )
                continue
            host_node[h] = free[r][i]
            taken[r] = i + 1
    for h, node in enumerate(host_node):
        if node is None and racks is not None:
            issues.append(Issue(f"hosts[{h}]", "not attached to any host slot"))
    host_idx = np.array([-1 if n is None else node_index[n] for n in host_node], dtype=np.intp)

    m = graph.number_of_edges()
    src = np.empty(2 * m, dtype=np.intp)
    dst = np.empty(2 * m, dtype=np.intp)
    cap = np.empty(2 * m, dtype=np.float64)
    lat = np.empty(2 * m, dtype=np.float64)
    for e, (u, v, d) in enumerate(graph.edges(data=True)):
        iu, iv = node_index[str(u)], node_index[str(v)]
        src[2 * e], dst[2 * e], src[2 * e + 1], dst[2 * e + 1] = iu, iv, iv, iu
        c = d.get("capacity_bps", math.nan)
        t = d.get("latency_s", math.nan)
        cap[2 * e : 2 * e + 2] = float(c) if isinstance(c, int | float) else math.nan
        lat[2 * e : 2 * e + 2] = float(t) if isinstance(t, int | float) else math.nan
    return Topology(
        graph=graph,
        nodes=nodes,
        node_index=node_index,
        is_host_node=is_host,
        host_node=host_node,
        host_node_index=host_idx,
        link_src=src,
        link_dst=dst,
        capacity_bps=cap,
        latency_s=lat,
        slots=slots,
        slot_rack=np.asarray(slot_rack, dtype=np.intp),
        attach_issues=issues,
    )

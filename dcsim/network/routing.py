"""Shortest-path and ECMP routing of flows over a :class:`~dcsim.network.topology.Topology`.

This module owns :class:`Router`, which turns ``(src_host, dst_host, flow_key)`` into the array of
directed link indices a flow crosses.

Paths are shortest in hop count. Host slots never forward traffic: a path enters a host node only
as its destination. With ``ecmp=True`` a flow's path is one of *all* the equal-cost shortest paths,
chosen by a stable hash of its key (``zlib.crc32``; never Python's ``hash()``, which is salted per
process), uniformly over paths: the paths are counted on the shortest-path DAG towards the
destination and the hash value, modulo that count, is decoded into one path hop by hop (next hops
in ascending node index order). The same key always gives the same path, in any process. With
``ecmp=False`` every flow of a pair takes the same path (path index 0: lowest node indices first).

Per destination the router caches the hop distances and path counts (two lists of length
n_nodes, LRU-bounded). A host with a single switch neighbour is reached through that switch, so
one table per rack switch serves all its hosts (128 tables, not 1,024, on a k=16 fat-tree). The
decoded link array of each ``(src, dst, path index)`` is cached too (unbounded: at most
n_hosts^2 x paths entries, in practice the pairs a run uses), so repeated flows cost a lookup.

Imports: numpy, scipy.sparse, zlib, dcsim.network.topology. No simpy.
"""

from __future__ import annotations

import zlib
from collections import OrderedDict

import numpy as np
import scipy.sparse as sp
from numpy.typing import NDArray
from scipy.sparse.csgraph import shortest_path

from dcsim.network.topology import Topology

__all__ = ["Router", "flow_hash"]

F64 = NDArray[np.float64]
IntP = NDArray[np.intp]

_EMPTY: IntP = np.zeros(0, dtype=np.intp)


def flow_hash(key: int) -> int:
    """Stable 32-bit hash of a flow key (crc32 of its 8-byte little-endian form)."""
    return zlib.crc32(int(key).to_bytes(8, "little", signed=True))


class Router:
    """Routes flows between config hosts of a topology.

    Parameters
    ----------
    topology : Topology
        A validated topology (every host attached, graph connected).
    ecmp : bool
        Spread flows over all equal-cost shortest paths by hashing their key (True), or use one
        shortest path per host pair (False).
    max_cached_destinations : int
        Bound on the per-destination distance/path-count cache (least recently used evicted).
    down : ndarray of bool, shape (n_links,), optional
        Directed links that are out of service (failed): no path uses them.

    Notes
    -----
    Building the router is O(n_links). The first path to a destination costs one BFS plus a
    level-by-level sparse path count, O(n_links); each new ``(src, dst, path)`` is then decoded in
    O(path length x degree).
    """

    def __init__(
        self,
        topology: Topology,
        ecmp: bool = True,
        max_cached_destinations: int = 4096,
        down: NDArray[np.bool_] | None = None,
    ) -> None:
        self.topology = topology
        self.ecmp = ecmp
        self._max_dst = max(1, int(max_cached_destinations))
        n = topology.n_nodes
        up = np.ones(topology.n_links, dtype=bool) if down is None else ~np.asarray(down)
        self.down = ~up
        ids = np.flatnonzero(up)
        src, dst = topology.link_src[ids], topology.link_dst[ids]
        # CSR adjacency whose data is link id + 1 (0 would be dropped as an explicit zero).
        adj = sp.csr_matrix((ids.astype(np.int64) + 1, (src, dst)), shape=(n, n))
        adj.sort_indices()
        self._indptr: IntP = adj.indptr.astype(np.intp)
        self._indices: IntP = adj.indices.astype(np.intp)
        self._link_of_nz: IntP = (adj.data - 1).astype(np.intp)
        ones = np.ones_like(adj.data, dtype=np.float64)
        self._adj01 = sp.csr_matrix((ones, adj.indices, adj.indptr), shape=(n, n))
        # Transit adjacency: rows only for switches, so a BFS (the graph is undirected, hence its
        # own reverse) reaches host nodes but never expands them: hosts do not forward.
        is_host = topology.is_host_node
        self._adj_sw = sp.csr_matrix(sp.diags((~is_host).astype(np.float64)) @ self._adj01)
        self._is_host = is_host
        # Single-homed hosts are routed via their switch: one table per switch serves them all.
        self._tor = np.full(n, -1, dtype=np.intp)
        self._tor_link = np.full(n, -1, dtype=np.intp)  # link switch -> host
        for h in np.flatnonzero(is_host).tolist():
            lo, hi = self._indptr[h], self._indptr[h + 1]
            sw = np.flatnonzero(~is_host[self._indices[lo:hi]])
            if sw.size == 1:
                self._tor[h] = self._indices[lo + sw[0]]
                # Directed links come in pairs 2e (u -> v), 2e + 1 (v -> u): flip the low bit.
                self._tor_link[h] = self._link_of_nz[lo + sw[0]] ^ 1
        # Python lists for the hop-by-hop decoder (faster than numpy on a handful of neighbours).
        self._l_indptr: list[int] = self._indptr.tolist()
        self._l_indices: list[int] = self._indices.tolist()
        self._l_link: list[int] = self._link_of_nz.tolist()
        self._l_fwd: list[bool] = (~is_host).tolist()
        self._dest: OrderedDict[int, tuple[list[float], list[float]]] = OrderedDict()
        self._paths: dict[tuple[int, int, int], IntP] = {}

    # -- destination tables -------------------------------------------------------------------

    def _tables(self, t: int) -> tuple[list[float], list[float]]:
        """Hop distance to node ``t`` and number of shortest paths to it, for every node."""
        hit = self._dest.get(t)
        if hit is not None:
            self._dest.move_to_end(t)
            return hit
        n = self.topology.n_nodes
        is_host = self._is_host
        if is_host[t]:
            # Distance to a host = 1 + distance to the nearest of its switches.
            nbrs = self._indices[self._indptr[t] : self._indptr[t + 1]]
            nbrs = nbrs[~is_host[nbrs]]
            dist = np.full(n, np.inf)
            if nbrs.size:
                dd = shortest_path(self._adj_sw, directed=True, unweighted=True, indices=nbrs)
                dist = np.atleast_2d(dd).min(axis=0) + 1.0
            dist[t] = 0.0
        else:
            dist = shortest_path(self._adj_sw, directed=True, unweighted=True, indices=t)
        # Path counts sigma, level by level: sigma(u) = sum of sigma(v) over neighbours v one hop
        # closer that may forward (switches, or t itself).
        sigma = np.zeros(n, dtype=np.float64)
        sigma[t] = 1.0
        forward = ~is_host
        forward[t] = True
        finite = np.isfinite(dist)
        max_d = int(dist[finite].max()) if finite.any() else 0
        levels = np.where(finite, dist, -1).astype(np.intp)
        order = np.argsort(levels, kind="stable")
        bounds = np.searchsorted(levels[order], np.arange(max_d + 2))
        for d in range(1, max_d + 1):
            at = order[bounds[d] : bounds[d + 1]]
            prev = np.where(forward & (levels == d - 1), sigma, 0.0)
            sigma[at] = self._adj01[at] @ prev
        entry = (dist.tolist(), sigma.tolist())
        self._dest[t] = entry
        if len(self._dest) > self._max_dst:
            self._dest.popitem(last=False)
        return entry

    # -- paths --------------------------------------------------------------------------------

    def n_paths(self, src_host: int, dst_host: int) -> int:
        """Number of equal-cost shortest paths between two config hosts (0 if unreachable)."""
        s, t = self._nodes(src_host, dst_host)
        if s == t:
            return 1
        tor = int(self._tor[t])
        return int(self._tables(tor if tor >= 0 else t)[1][s])

    def reachable_from(self, src_host: int) -> NDArray[np.bool_]:
        """(n_hosts,) whether each config host can be reached from ``src_host`` (itself: True).

        One BFS from the source's switch (cached like any destination table: the graph is
        undirected); unattached hosts are unreachable.
        """
        hn = self.topology.host_node_index
        s = int(hn[src_host])
        out = np.zeros(hn.shape[0], dtype=bool)
        if s < 0:
            return out
        tor = int(self._tor[s])
        dist = np.asarray(self._tables(tor if tor >= 0 else s)[0])
        out = np.asarray((hn >= 0) & np.isfinite(dist[np.maximum(hn, 0)]), dtype=bool)
        out[src_host] = True
        return out

    def _nodes(self, src_host: int, dst_host: int) -> tuple[int, int]:
        hn = self.topology.host_node_index
        s, t = int(hn[src_host]), int(hn[dst_host])
        if s < 0 or t < 0:
            bad = src_host if s < 0 else dst_host
            raise ValueError(f"host {bad} is not attached to the topology")
        return s, t

    def path_links(self, src_host: int, dst_host: int, flow_key: int = 0) -> IntP:
        """Directed link indices, in order, of the path a flow takes.

        Parameters
        ----------
        src_host, dst_host : int
            Config host indices.
        flow_key : int
            Identifies the flow for ECMP hashing (e.g. the flow id, or a 5-tuple folded into an
            int); ignored with ``ecmp=False``.

        Returns
        -------
        ndarray of intp, shape (hops,)
            Empty when ``src_host == dst_host`` (a host-local transfer crosses no link). Read-only:
            the array is shared through the cache.

        Raises
        ------
        ValueError
            If a host is unattached or the hosts are not connected.
        """
        s, t = self._nodes(src_host, dst_host)
        return self.node_path_links(s, t, flow_key)

    def node_path_links(self, s: int, t: int, flow_key: int = 0) -> IntP:
        """As :meth:`path_links`, between node indices ``s`` and ``t``."""
        if s == t:
            return _EMPTY
        # A single-homed destination host is reached through its switch: route to the switch,
        # then take the last hop (same paths, one table per switch instead of per host).
        tor = int(self._tor[t])
        target = tor if tor >= 0 and tor != s else t
        dist, sigma = self._tables(target)
        count = int(sigma[s])
        if count <= 0:
            raise ValueError(
                f"no path from {self.topology.nodes[s]!r} to {self.topology.nodes[t]!r}"
            )
        r = flow_hash(flow_key) % count if self.ecmp else 0
        cache_key = (s, t, r)
        hit = self._paths.get(cache_key)
        if hit is not None:
            return hit
        indptr, indices, link_of, fwd = self._l_indptr, self._l_indices, self._l_link, self._l_fwd
        out: list[int] = []
        u = s
        d = dist[s]
        while d > 0:
            d -= 1
            pos = indptr[u]  # the loop leaves pos at the chosen neighbour's entry
            for pos in range(indptr[u], indptr[u + 1]):
                v = indices[pos]
                if dist[v] == d and (fwd[v] or v == target):
                    c = sigma[v]
                    if r < c:
                        break
                    r -= int(c)
            out.append(link_of[pos])
            u = indices[pos]
        if target != t:
            out.append(int(self._tor_link[t]))
        links = np.asarray(out, dtype=np.intp)
        links.setflags(write=False)
        self._paths[cache_key] = links
        return links

    def path_latency_s(self, links: IntP) -> float:
        """One-way propagation latency of a path, seconds (sum over its links)."""
        return float(self.topology.latency_s[links].sum())

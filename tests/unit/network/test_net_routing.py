"""Shortest-path and ECMP routing."""

from __future__ import annotations

import zlib
from collections import Counter

import networkx as nx
import numpy as np
import pytest

from dcsim.network.routing import Router, flow_hash
from dcsim.network.topology import attach_hosts, fat_tree, leaf_spine


@pytest.fixture(scope="module")
def ft4() -> Router:
    return Router(attach_hosts(fat_tree(4), 16))


def _node_path(router: Router, links: np.ndarray) -> list[str]:
    topo = router.topology
    nodes = [topo.nodes[topo.link_src[links[0]]]]
    for lid in links:
        assert topo.nodes[topo.link_src[lid]] == nodes[-1], "links must chain"
        nodes.append(topo.nodes[topo.link_dst[lid]])
    return nodes


def test_flow_hash_is_stable() -> None:
    assert flow_hash(0) == zlib.crc32(bytes(8)) == 1696784233
    # crc32 of the 8-byte little-endian form: 12345 = 0x3039 -> b'\x39\x30' + 6 zero bytes
    assert flow_hash(12345) == zlib.crc32(b"\x39\x30" + bytes(6)) == 1472410221
    assert flow_hash(-1) == zlib.crc32(b"\xff" * 8) == 558161692


def test_path_lengths_and_ends(ft4: Router) -> None:
    same_edge = _node_path(ft4, ft4.path_links(0, 1, 0))
    assert same_edge == ["host0_0_0", "edge0_0", "host0_0_1"]
    assert len(ft4.path_links(0, 2, 0)) == 4  # same pod, other edge switch
    inter = _node_path(ft4, ft4.path_links(0, 15, 0))
    assert len(inter) == 7
    assert inter[0] == "host0_0_0"
    assert inter[-1] == "host3_1_1"
    assert [n.rstrip("0123456789_") for n in inter] == [
        "host", "edge", "agg", "core", "agg", "edge", "host",
    ]
    assert ft4.path_links(3, 3, 0).size == 0


def test_path_counts(ft4: Router) -> None:
    assert ft4.n_paths(0, 15) == 4  # (k/2)^2 cores
    assert ft4.n_paths(0, 2) == 2  # k/2 aggregation switches
    assert ft4.n_paths(0, 1) == 1


def test_ecmp_is_deterministic_and_spreads(ft4: Router) -> None:
    paths = [tuple(ft4.path_links(0, 15, key)) for key in range(400)]
    again = Router(ft4.topology)
    assert paths == [tuple(again.path_links(0, 15, key)) for key in range(400)]
    counts = Counter(paths)
    assert len(counts) == 4
    # Uniform over the 4 paths: expect 100 each.
    assert min(counts.values()) > 60


def test_single_path_without_ecmp(ft4: Router) -> None:
    router = Router(ft4.topology, ecmp=False)
    assert len({tuple(router.path_links(0, 15, key)) for key in range(50)}) == 1


def test_path_latency() -> None:
    g = leaf_spine(2, 1, 1, latency_s=0.001)
    router = Router(attach_hosts(g, 2))
    links = router.path_links(0, 1, 7)
    assert router.path_latency_s(links) == pytest.approx(0.004)


def test_hosts_do_not_forward() -> None:
    # h1 is dual-homed to s0 and s1; s0 and s1 are otherwise 3 hops apart via s2, s3.
    g = nx.Graph()
    for n in ("s0", "s1", "s2", "s3"):
        g.add_node(n, kind="switch", role="edge", dc=0)
    for n in ("h0", "h1", "h2"):
        g.add_node(n, kind="host", role="host", dc=0)
    for u, v in [("h0", "s0"), ("h1", "s0"), ("h1", "s1"), ("h2", "s1"),
                 ("s0", "s2"), ("s2", "s3"), ("s3", "s1")]:
        g.add_edge(u, v, capacity_bps=1e9, latency_s=1e-6)
    topo = attach_hosts(g, 3)
    assert topo.host_node == ["h0", "h1", "h2"]
    router = Router(topo)
    path = _node_path(router, router.path_links(0, 2, 0))
    assert path == ["h0", "s0", "s2", "s3", "s1", "h2"]
    # The dual-homed host itself reaches either side in one hop.
    assert _node_path(router, router.path_links(1, 2, 0)) == ["h1", "s1", "h2"]
    assert _node_path(router, router.path_links(2, 1, 0)) == ["h2", "s1", "h1"]


def test_unreachable_raises() -> None:
    g = nx.union(leaf_spine(1, 1, 1), leaf_spine(1, 1, 1), rename=("a/", "b/"))
    router = Router(attach_hosts(g, 2))
    with pytest.raises(ValueError, match="no path"):
        router.path_links(0, 1, 0)


def test_k16_every_pair_spreads_over_64_paths() -> None:
    router = Router(attach_hosts(fat_tree(16), 1024))
    assert router.n_paths(0, 1023) == 64
    used = {tuple(router.path_links(0, 1023, key)) for key in range(2000)}
    assert len(used) == 64


def test_multi_dc_route_crosses_the_wan() -> None:
    from dcsim.network.topology import multi_dc

    g = multi_dc([fat_tree(4), fat_tree(4)], wan_bps=10e9, wan_latency_s=0.02)
    router = Router(attach_hosts(g, 32))
    path = _node_path(router, router.path_links(0, 31, 5))
    assert "dc0/gateway" in path
    assert path[path.index("dc0/gateway") + 1] == "dc1/gateway"
    # 2 x (host-edge-agg-core) + core-gw + WAN + gw-core = 9 hops; latency 8 us + 20 ms.
    assert len(path) == 10
    assert router.path_latency_s(router.path_links(0, 31, 5)) == pytest.approx(0.02 + 8e-6)

"""Topology generators, loading, host attachment and validation."""

from __future__ import annotations

from pathlib import Path

import networkx as nx
import numpy as np
import pytest

from dcsim.errors import ConfigError
from dcsim.network.topofile import load_graph
from dcsim.network.topology import (
    attach_hosts,
    fat_tree,
    leaf_spine,
    multi_dc,
    three_tier,
)


def _count(g: nx.Graph, **attrs: object) -> int:
    return sum(all(d.get(k) == v for k, v in attrs.items()) for _, d in g.nodes(data=True))


def test_fat_tree_k4_counts() -> None:
    g = fat_tree(4)
    # Al-Fares et al.: (k/2)^2 core, k pods of k/2 agg + k/2 edge, k^3/4 hosts.
    assert _count(g, role="core") == 4
    assert _count(g, role="agg") == 8
    assert _count(g, role="edge") == 8
    assert _count(g, kind="host") == 16
    assert g.number_of_nodes() == 36
    # 16 host links + 16 edge-agg + 16 agg-core.
    assert g.number_of_edges() == 48
    assert all(d == 4 for n, d in g.degree() if g.nodes[n]["kind"] == "switch")
    assert nx.is_connected(g)


@pytest.mark.parametrize("k", [2, 6, 8])
def test_fat_tree_formulas(k: int) -> None:
    g = fat_tree(k)
    assert _count(g, kind="host") == k**3 // 4
    assert _count(g, kind="switch") == 5 * k * k // 4
    assert g.number_of_edges() == 3 * k**3 // 4


def test_fat_tree_rejects_odd_k() -> None:
    with pytest.raises(ValueError, match="even"):
        fat_tree(3)


def test_leaf_spine_oversubscription() -> None:
    g = leaf_spine(4, 2, 8, host_link_bps=10e9, oversubscription=2.0)
    assert _count(g, role="leaf") == 4
    assert _count(g, role="spine") == 2
    assert _count(g, kind="host") == 32
    # 8 x 10 Gbps down, 3:1... here 2:1 -> 40 Gbps up over 2 spines = 20 Gbps each.
    assert g.edges["leaf0", "spine1"]["capacity_bps"] == pytest.approx(20e9)
    assert g.edges["host0_0", "leaf0"]["capacity_bps"] == 10e9
    g2 = leaf_spine(2, 2, 1, uplink_bps=40e9)
    assert g2.edges["leaf1", "spine0"]["capacity_bps"] == 40e9
    with pytest.raises(ValueError, match="not both"):
        leaf_spine(2, 2, 1, oversubscription=1.0, uplink_bps=1e9)


def test_three_tier_structure() -> None:
    g = three_tier(core=2, aggregation=4, access=4, hosts_per_access=3)
    assert _count(g, kind="host") == 12
    # access 0, 1 -> pair (0, 1); access 2, 3 -> pair (2, 3); every agg to every core.
    assert set(g.adj["access0"]) - {f"host0_{h}" for h in range(3)} == {
        "aggregation0",
        "aggregation1",
    }
    assert set(g.adj["access3"]) >= {"aggregation2", "aggregation3"}
    assert all(g.has_edge(f"aggregation{a}", f"core{c}") for a in range(4) for c in range(2))
    assert nx.is_connected(g)


def test_multi_dc_joins_by_gateways() -> None:
    g = multi_dc([fat_tree(4), leaf_spine(2, 2, 2)], wan_bps=10e9, wan_latency_s=0.02)
    assert nx.is_connected(g)
    assert {d["dc"] for _, d in g.nodes(data=True)} == {0, 1}
    assert g.nodes["dc1/leaf0"]["dc"] == 1
    assert g.edges["dc0/gateway", "dc1/gateway"]["latency_s"] == 0.02
    # Gateways connect to the top tier: 4 cores in DC 0, 2 spines in DC 1.
    assert g.degree("dc0/gateway") == 4 + 1
    assert g.degree("dc1/gateway") == 2 + 1
    topo = attach_hosts(g, 20)
    assert topo.validate() == []
    assert topo.host_node[16] == "dc1/host0_0"


def test_multi_dc_latency_matrix() -> None:
    lat = [[0, 0.01, 0.05], [0.01, 0, 0.03], [0.05, 0.03, 0]]
    g = multi_dc([leaf_spine(1, 1, 1)] * 3, wan_bps=1e9, wan_latency_s=lat)
    assert g.edges["dc0/gateway", "dc2/gateway"]["latency_s"] == 0.05
    with pytest.raises(ValueError, match="matrix"):
        multi_dc([leaf_spine(1, 1, 1)] * 2, wan_bps=1e9, wan_latency_s=[[0.0]])


def test_attach_fills_racks_in_order_and_builds_links() -> None:
    topo = attach_hosts(fat_tree(4), 5)
    assert topo.validate() == []
    assert topo.host_node == ["host0_0_0", "host0_0_1", "host0_1_0", "host0_1_1", "host1_0_0"]
    assert topo.n_links == 96
    # Links 2e and 2e+1 are the two directions of edge e.
    assert np.array_equal(topo.link_src[0::2], topo.link_dst[1::2])
    assert np.array_equal(topo.link_dst[0::2], topo.link_src[1::2])
    assert np.all(topo.capacity_bps == 1e9)
    lid = topo.link_id("edge0_0", "host0_0_1")
    assert topo.nodes[topo.link_src[lid]] == "edge0_0"
    assert topo.nodes[topo.link_dst[lid]] == "host0_0_1"


def test_attach_with_racks() -> None:
    topo = attach_hosts(fat_tree(4), 3, racks=[7, 0, 7])
    assert topo.validate() == []
    assert topo.host_node == ["host3_1_0", "host0_0_0", "host3_1_1"]


def test_validation_reports_every_problem() -> None:
    too_many = attach_hosts(fat_tree(4), 17)
    assert [i.path for i in too_many.validate()] == ["hosts"]
    assert "16 host slots" in too_many.validate()[0].message
    full = attach_hosts(fat_tree(4), 3, racks=[0, 0, 0])
    paths = [i.path for i in full.validate()]
    assert paths == ["racks[2]", "hosts[2]"]
    bad_rack = attach_hosts(fat_tree(4), 1, racks=[99])
    assert bad_rack.validate()[0].path == "racks[0]"


def test_validation_disconnected_and_zero_capacity() -> None:
    g = nx.union(leaf_spine(1, 1, 2), leaf_spine(1, 1, 2), rename=("a/", "b/"))
    issues = attach_hosts(g, 4).validate()
    assert len(issues) == 1
    assert "not connected" in issues[0].message
    g2 = leaf_spine(1, 1, 2)
    g2.edges["host0_1", "leaf0"]["capacity_bps"] = 0.0
    issues = attach_hosts(g2, 2).validate()
    assert [i.path for i in issues] == ["links[leaf0-host0_1].capacity_bps"]
    with pytest.raises(ConfigError, match="capacity_bps"):
        attach_hosts(g2, 2).check("net")


def test_load_edge_list_with_units(tmp_path: Path) -> None:
    f = tmp_path / "net.txt"
    f.write_text("# tiny\nh0 s0 10Gbps 5us\nh1 s0 1Gbps\ns0 s1 40Gbps 2us\nh2 s1 10Gbps\n")
    g = load_graph(f)
    assert g.nodes["h0"]["kind"] == "host"
    assert g.nodes["s0"]["kind"] == "switch"
    assert g.edges["h0", "s0"]["capacity_bps"] == 10e9
    assert g.edges["h0", "s0"]["latency_s"] == pytest.approx(5e-6)
    assert g.edges["h1", "s0"]["latency_s"] == pytest.approx(1e-6)
    topo = attach_hosts(g, 3)
    assert topo.validate() == []
    assert topo.host_node == ["h0", "h1", "h2"]


def test_load_edge_list_errors(tmp_path: Path) -> None:
    f = tmp_path / "bad.txt"
    f.write_text("a b\nc\nb d fast\n")
    with pytest.raises(ConfigError) as exc:
        load_graph(f)
    paths = [i.path for i in exc.value.issues]
    assert paths == ["line 2", "links[a-b].capacity_bps", "links[b-d].capacity_bps"]


def test_load_edge_list_refuses_a_link_listed_twice(tmp_path: Path) -> None:
    # the graph kept the last line's capacity silently (audit, session 17): 's1 h1 10Gbps' then
    # 'h1 s1 1Gbps' (the same undirected link) is refused at the second line
    f = tmp_path / "twice.txt"
    f.write_text("s1 h1 10Gbps\ns1 h2 10Gbps\nh1 s1 1Gbps\n")
    with pytest.raises(ConfigError) as exc:
        load_graph(f)
    assert [(i.path, i.message) for i in exc.value.issues] == [
        ("line 3", "link h1-s1 again (first at line 1); list each link once")]


def test_graphml_round_trip(tmp_path: Path) -> None:
    f = tmp_path / "ft.graphml"
    nx.write_graphml(fat_tree(4), f)
    g = load_graph(f)
    assert g.number_of_edges() == 48
    topo = attach_hosts(g, 16)
    assert topo.validate() == []
    assert topo.host_node[0] == "host0_0_0"


def test_hosts_that_reach_each_other_only_through_a_host_are_refused() -> None:
    # s1 - h1 - s2: host h1 joins two switches; routes never cross a host, so h4 (on s1) cannot
    # reach h2, h3 (on s2). It validated, and the run then failed at the first flow (exit 1,
    # session-17 input audit).
    g = nx.Graph()
    for n in ("s1", "s2"):
        g.add_node(n, kind="switch", role="switch", dc=0)
    for n in ("h1", "h2", "h3", "h4"):
        g.add_node(n, kind="host", role="host", dc=0)
    for u, v in (("s1", "h1"), ("h1", "s2"), ("s2", "h2"), ("s2", "h3"), ("s1", "h4")):
        g.add_edge(u, v, capacity_bps=1e9, latency_s=1e-6)
    issues = attach_hosts(g, 4).validate()
    assert len(issues) == 1
    assert "reaches h2, h3 only through other hosts" in issues[0].message
    assert "host nodes joining switches: h1" in issues[0].message
    g.add_edge("s1", "s2", capacity_bps=1e9, latency_s=1e-6)  # the switches joined: fine
    assert attach_hosts(g, 4).validate() == []


def test_a_parameter_of_another_topology_kind_is_said_at_its_path() -> None:
    """``kind: leaf_spine`` with ``k: 8`` built a leaf-spine and ignored ``k`` (and a star its
    ``link``: each host keeps its own NIC) without a word; such a parameter is now said where
    it is written (an ``InertWarning``, kept in ``Scenario.inert``), and the topology built."""
    from dcsim.config.network import TOPOLOGY_PARAMS, TopologySpec
    from dcsim.errors import InertWarning
    from dcsim.validate import parse_config
    from tests.conftest import tiny_config

    def said(topology: dict[str, object]) -> list[tuple[str, str]]:
        with pytest.warns(InertWarning):
            sc = parse_config(tiny_config(network={"topology": topology}))
        assert sc.topology is not None
        return [(i.path, i.message) for i in sc.inert]

    assert said({"kind": "leaf_spine", "k": 8}) == [(
        "network.topology.k", "not a parameter of a leaf_spine topology, which takes "
        "hosts_per_leaf, latency, leaves, link, oversubscription, spines, uplink")]
    assert said({"kind": "star", "link": "1Gbps"}) == [(
        "network.topology.link", "not a parameter of a star topology, which takes latency")]
    assert [p for p, _ in said({"kind": "fat_tree", "k": 4, "leaves": 2, "core": 1})] == [
        "network.topology.core", "network.topology.leaves"]
    # each kind's own parameters are silent (and every parameter belongs to some kind)
    ok = tiny_config(network={"topology": {"kind": "leaf_spine", "leaves": 2, "spines": 1,
                                           "hosts_per_leaf": 1, "link": "1Gbps"}})
    sc = parse_config(ok)
    assert sc.inert == ()
    # a results folder's config.yaml lists every parameter with its default: silent too
    dumped = sc.config.model_dump(mode="json")
    assert dumped["network"]["topology"]["k"] == 4
    assert parse_config(dumped).inert == ()
    assert set().union(*TOPOLOGY_PARAMS.values()) == set(TopologySpec.model_fields) - {"kind"}


def _star_graphml(tmp_path: Path, dc: str, typ: str) -> Path:
    f = tmp_path / "t.graphml"
    f.write_text(
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<graphml xmlns="http://graphml.graphdrawing.org/xmlns">\n'
        f'<key id="dc" for="node" attr.name="dc" attr.type="{typ}"/>\n'
        '<key id="cap" for="edge" attr.name="capacity_bps" attr.type="string"/>\n'
        '<graph edgedefault="undirected">\n'
        f'<node id="s1"><data key="dc">{dc}</data></node><node id="h0"/><node id="h1"/>\n'
        '<edge source="s1" target="h0"><data key="cap">1Gbps</data></edge>\n'
        '<edge source="s1" target="h1"><data key="cap">1Gbps</data></edge>\n'
        '</graph></graphml>\n')
    return f


@pytest.mark.parametrize(("dc", "typ", "message"), [
    # was "network.topology: invalid literal for int() with base 10: 'abc'", no node named
    ("abc", "string", "expected a data-center index (an integer >= 0), got 'abc'"),
    ("-1", "int", "expected a data-center index (an integer >= 0), got -1"),
    ("0.5", "double", "expected a data-center index (an integer >= 0), got 0.5"),
])
def test_graphml_dc_must_be_an_index(tmp_path: Path, dc: str, typ: str, message: str) -> None:
    with pytest.raises(ConfigError) as exc:
        load_graph(_star_graphml(tmp_path, dc, typ))
    assert [(i.path, i.message) for i in exc.value.issues] == [("nodes[s1].dc", message)]


@pytest.mark.parametrize(("dc", "typ", "shown"), [("1", "int", "1"), ("1e23", "double", "1e+23")])
def test_graphml_dc_must_exist_in_the_config(tmp_path: Path, dc: str, typ: str,
                                             shown: str) -> None:
    from dcsim.config.network import NetworkSpec
    from dcsim.network.build import build_topology

    _star_graphml(tmp_path, dc, typ)
    spec = NetworkSpec.model_validate({"topology": {"kind": "file", "path": "t.graphml"}})
    topo, issues = build_topology(spec, [1e9, 1e9], [0, 0], 1, str(tmp_path))
    assert topo is None
    assert [(i.path, i.message) for i in issues] == [
        ("network.topology.nodes[s1].dc", f"data center {shown} does not exist (the config "
         "has 1: 0..0)")]
    _star_graphml(tmp_path, "0", typ)  # the same file naming data center 0 is fine
    topo, issues = build_topology(spec, [1e9, 1e9], [0, 0], 1, str(tmp_path))
    assert topo is not None
    assert issues == []


def test_edge_list_not_utf8_names_the_line(tmp_path: Path) -> None:
    f = tmp_path / "e.txt"
    f.write_bytes(b"s1 h0 1Gbps\ns1 h1 1Gbps # caf\xe9\n")
    with pytest.raises(ConfigError) as exc:
        load_graph(f)
    assert [(i.path, i.message) for i in exc.value.issues] == [
        ("", f"{f} line 2: byte 0xe9 is not UTF-8 text; expected a UTF-8 edge list (save it as "
         "UTF-8)")]

"""Config of the data-center network: topology, routing, background traffic, switch energy.

Without a ``network`` section every host hangs off one non-blocking switch by its own NIC (a
star): migrations and snapshots still share each host's NIC max-min fairly, and no switch energy
is counted. With it, the topology is built by ``dcsim.network.build``. A data center may give its
own ``topology`` (each one is built separately and joined by WAN links, ``wan``), or one topology
holds every host.

Imports: pydantic, dcsim.units, dcsim.config.catalog (Frozen).
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from dcsim.config.catalog import Frozen
from dcsim.units import Bitrate, Duration, Integer, Number

#: The parameters each topology kind reads (besides ``kind``): a parameter set for another kind
#: changes nothing and is refused at its path when the topology is built (``dcsim.network.build``).
TOPOLOGY_PARAMS: dict[str, frozenset[str]] = {
    "star": frozenset({"latency"}),  # each host's own NIC: no ``link``
    "fat_tree": frozenset({"k", "link", "latency"}),
    "leaf_spine": frozenset({"leaves", "spines", "hosts_per_leaf", "link", "oversubscription",
                             "uplink", "latency"}),
    "three_tier": frozenset({"core", "aggregation", "access", "hosts_per_access", "link",
                             "access_uplink", "core_link", "latency"}),
    "file": frozenset({"path", "link", "latency"}),  # link, latency: defaults for the file's links
}


class TopologySpec(Frozen):
    """One topology generator and its parameters (:data:`TOPOLOGY_PARAMS`: which kind reads
    which; a parameter of another kind is refused)."""

    kind: Literal["star", "fat_tree", "leaf_spine", "three_tier", "file"] = "star"
    k: Integer = Field(4, ge=2, description="fat_tree: pods (even)")
    link: Bitrate = Field(10e9, gt=0, description="fat_tree link / leaf_spine host link / "
                          "three_tier host link, bit/s")
    latency: Duration = Field(1e-6, ge=0, description="per hop, s")
    leaves: Integer = Field(4, ge=1)
    spines: Integer = Field(2, ge=1)
    hosts_per_leaf: Integer = Field(16, ge=1)
    oversubscription: Number | None = Field(None, gt=0)
    uplink: Bitrate | None = Field(None, gt=0)
    core: Integer = Field(2, ge=1)
    aggregation: Integer = Field(4, ge=1)
    access: Integer = Field(8, ge=1)
    hosts_per_access: Integer = Field(16, ge=1)
    access_uplink: Bitrate = Field(10e9, gt=0)
    core_link: Bitrate = Field(40e9, gt=0)
    path: str | None = Field(None, description="file: GraphML or edge list")


class WanSpec(Frozen):
    """WAN links joining the data centers' gateways (full mesh)."""

    bandwidth: Bitrate = Field(10e9, gt=0)
    latency: Duration = Field(0.02, ge=0, description="one-way, s")


class FlowSpec(Frozen):
    """Background traffic at a constant offered ``rate`` per flow.

    Host-level: a fixed host pair (``src_host``/``dst_host``) or ``random_pairs`` host pairs.
    Guest-level: a fixed guest pair (``src_guest``/``dst_guest``) or ``guest_pairs`` random pairs
    of guests placed at ``start``; a guest flow follows its guests when they migrate, pauses while
    they share a host (local traffic never reaches the network) and ends when either leaves.
    Random pairs come from the stream ``network.traffic``.
    """

    src_host: Integer | None = Field(None, ge=0)
    dst_host: Integer | None = Field(None, ge=0)
    random_pairs: Integer = Field(0, ge=0)
    src_guest: Integer | None = Field(None, ge=0)
    dst_guest: Integer | None = Field(None, ge=0)
    guest_pairs: Integer = Field(0, ge=0)
    rate: Bitrate = Field(gt=0, description="offered rate of each flow, bit/s")
    start: Duration = Field(0.0, ge=0)
    stop: Duration | None = Field(None, gt=0)


class NetworkSpec(Frozen):
    """The ``network`` section."""

    topology: TopologySpec = TopologySpec()
    per_datacenter: list[TopologySpec] | None = Field(
        None, description="one topology per data center, joined by the WAN"
    )
    wan: WanSpec = WanSpec()
    racks: list[int] | None = Field(None, description="rack (edge switch) of each host")
    ecmp: bool = True
    switch_energy: bool = Field(True, description="count switch power (not for 'star')")
    sleep_idle_links: bool = False
    traffic: list[FlowSpec] = Field(default_factory=list)
    link_timeseries: bool = Field(False, description="per-link utilisation at every interval")

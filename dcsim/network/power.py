"""Network energy: switch power from active ports and link utilisation, vectorized over switches.

This module owns :class:`SwitchPowerModel` (one switch type), :func:`switch_models` (the shipped
catalog ``dcsim/catalog/switches.yaml``, with sources) and :class:`NetworkPower`, which maps every
switch of a :class:`~dcsim.network.topology.Topology` to a model and turns per-link utilisation
into watts.

Model (form after Mahadevan et al., IFIP Networking 2009, and Heller et al., ElasticTree, NSDI
2010): a switch that is on draws ``chassis_w`` plus, for each *active* port, ``port_w`` at the
port's line rate plus ``port_dynamic_w`` times the port's utilisation (mean of its two
directions). A port is one end of a switch's link; hosts' NICs are not counted here (they belong
to the host power model). Without sleeping every port is active. With ``sleep_idle=True``, a link
carrying no traffic in either direction sleeps (both its ports), and a switch whose ports all
sleep draws ``sleep_w`` instead, as ElasticTree's idealised power-down; models with
``can_sleep=False`` (gateways) never sleep.

Which model a switch uses: its node attribute ``switch_model`` if set, else the default for its
role (:data:`DEFAULT_ROLE_MODELS`), else ``"tor"``.

Imports: numpy, importlib.resources, dcsim.config.safeyaml (yaml), dcsim.errors, dcsim.units,
dcsim.network.topology.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from dcsim.config.safeyaml import load_shipped
from dcsim.errors import ConfigError, Issue
from dcsim.network.topology import Topology
from dcsim.units import UnitError, parse_bitrate, parse_power

__all__ = [
    "DEFAULT_ROLE_MODELS",
    "NetworkPower",
    "SwitchPowerModel",
    "parse_switch_model",
    "switch_models",
]

F64 = NDArray[np.float64]

DEFAULT_ROLE_MODELS: dict[str, str] = {
    "edge": "tor",
    "leaf": "tor",
    "access": "tor",
    "switch": "tor",
    "agg": "aggregation",
    "aggregation": "aggregation",
    "spine": "aggregation",
    "core": "core",
    "gateway": "gateway",
}
"""Catalog model used for a switch of each role when its node names none."""


@dataclass(frozen=True, slots=True)
class SwitchPowerModel:
    """Power of one switch type.

    Attributes
    ----------
    chassis_w : float
        Watts of a switch that is on, with no port enabled.
    port_rates_bps : tuple of float
        Line rates (bit/s, ascending) with a listed port power.
    port_w : tuple of float
        Watts per active port at each of ``port_rates_bps``.
    port_dynamic_w : float
        Extra watts per port at 100 % utilisation (linear in utilisation).
    sleep_w : float
        Watts of the switch while every port sleeps.
    can_sleep : bool
        Whether idle links and the switch may sleep at all.
    sources : dict
        Field -> citation (``[E]`` marks estimates).
    """

    chassis_w: float
    port_rates_bps: tuple[float, ...]
    port_w: tuple[float, ...]
    port_dynamic_w: float = 0.0
    sleep_w: float = 0.0
    can_sleep: bool = True
    sources: dict[str, str] = field(default_factory=dict, compare=False)

    def port_power_w(self, line_rate_bps: ArrayLike) -> F64:
        """Idle power of active ports at the given line rates, W.

        A port is charged at the smallest listed rate >= its line rate, or the largest listed.
        """
        rates = np.asarray(line_rate_bps, dtype=np.float64)
        table = np.asarray(self.port_w, dtype=np.float64)
        # The 1e-9 slack lets 1e9 match a listed 1Gbps despite unit-parsing rounding.
        i = np.searchsorted(np.asarray(self.port_rates_bps), rates * (1.0 - 1e-9), side="left")
        return table[np.minimum(i, table.size - 1)]


_FIELDS = {
    "description", "chassis_w", "port_w", "port_dynamic_w", "sleep_w", "can_sleep", "sources"
}


def parse_switch_model(
    name: str, raw: Mapping[str, Any]
) -> tuple[SwitchPowerModel | None, list[Issue]]:
    """Build a model from a catalog/config mapping; returns (model or None, issues)."""
    issues = [Issue(f"{name}.{key}", "unknown field") for key in sorted(set(raw) - _FIELDS)]

    def watts(key: str, default: float | None) -> float:
        value = raw.get(key, default)
        if value is None:
            issues.append(Issue(f"{name}.{key}", "missing"))
            return math.nan
        try:
            w = parse_power(value)
        except UnitError as exc:
            issues.append(Issue(f"{name}.{key}", str(exc)))
            return math.nan
        if w < 0:
            issues.append(Issue(f"{name}.{key}", f"must be >= 0 W, got {w}"))
        return w

    chassis = watts("chassis_w", None)
    dynamic = watts("port_dynamic_w", 0.0)
    sleep = watts("sleep_w", 0.0)
    ports = raw.get("port_w")
    pairs: list[tuple[float, float]] = []
    if not isinstance(ports, Mapping) or not ports:
        issues.append(
            Issue(f"{name}.port_w", "expected a mapping line rate -> watts, e.g. {10Gbps: 2.5}")
        )
    else:
        for rate, w in ports.items():
            try:
                pairs.append((parse_bitrate(rate), parse_power(w)))
            except UnitError as exc:
                issues.append(Issue(f"{name}.port_w.{rate}", str(exc)))
    can_sleep = raw.get("can_sleep", True)
    if not isinstance(can_sleep, bool):
        issues.append(Issue(f"{name}.can_sleep", f"expected true or false, got {can_sleep!r}"))
    if issues:
        return None, issues
    pairs.sort()
    model = SwitchPowerModel(
        chassis_w=chassis,
        port_rates_bps=tuple(r for r, _ in pairs),
        port_w=tuple(w for _, w in pairs),
        port_dynamic_w=dynamic,
        sleep_w=sleep,
        can_sleep=bool(can_sleep),
        sources={str(k): str(v) for k, v in (raw.get("sources") or {}).items()},
    )
    return model, []


@cache
def switch_models() -> dict[str, SwitchPowerModel]:
    """The shipped switch power models by name (``dcsim/catalog/switches.yaml``).

    Raises
    ------
    ConfigError
        If the shipped catalog is malformed.
    """
    text = resources.files("dcsim.catalog").joinpath("switches.yaml").read_text("utf-8")
    raw = load_shipped(text) or {}
    out: dict[str, SwitchPowerModel] = {}
    issues: list[Issue] = []
    for name, entry in raw.items():
        model, problems = parse_switch_model(str(name), entry if isinstance(entry, Mapping) else {})
        issues += problems
        if model is not None:
            out[str(name)] = model
    if issues:
        raise ConfigError(issues, source="dcsim/catalog/switches.yaml")
    return out


class NetworkPower:
    """Power drawn by all switches of a topology.

    Parameters
    ----------
    topology : Topology
        The network.
    models : mapping of str to SwitchPowerModel, optional
        Available models; default :func:`switch_models`.
    role_models : mapping of str to str, optional
        Role -> model name, overriding :data:`DEFAULT_ROLE_MODELS` entry by entry.

    Attributes
    ----------
    switch_nodes : ndarray of intp, shape (n_switches,)
        Node index of each switch.
    switch_model : list of str
        Model name of each switch.
    chassis_w, sleep_w : ndarray of float64, shape (n_switches,)
        Per-switch chassis and sleep power, W.
    port_switch : ndarray of intp, shape (n_ports,)
        Switch (0..n_switches-1) owning each port.
    port_edge : ndarray of intp, shape (n_ports,)
        Undirected edge of each port; its directed links are ``2e`` and ``2e + 1``.
    port_w, port_dynamic_w : ndarray of float64, shape (n_ports,)
        Per-port active and dynamic power, W.

    Raises
    ------
    KeyError
        If a switch names (or its role maps to) a model that is not available.
    """

    def __init__(
        self,
        topology: Topology,
        models: Mapping[str, SwitchPowerModel] | None = None,
        role_models: Mapping[str, str] | None = None,
    ) -> None:
        self.topology = topology
        avail = dict(switch_models() if models is None else models)
        roles = {**DEFAULT_ROLE_MODELS, **(role_models or {})}
        g = topology.graph
        sw_nodes = np.flatnonzero(~topology.is_host_node).astype(np.intp)
        self.switch_nodes = sw_nodes
        sw_of_node = np.full(topology.n_nodes, -1, dtype=np.intp)
        sw_of_node[sw_nodes] = np.arange(sw_nodes.size)
        names: list[str] = []
        for i in sw_nodes.tolist():
            data = g.nodes[topology.nodes[i]]
            name = data.get("switch_model") or roles.get(str(data.get("role")), "tor")
            if name not in avail:
                raise KeyError(f"switch {topology.nodes[i]!r}: unknown switch model {name!r}")
            names.append(str(name))
        self.switch_model = names
        chosen = [avail[n] for n in names]
        self.chassis_w: F64 = np.array([m.chassis_w for m in chosen], dtype=np.float64)
        self.sleep_w: F64 = np.array([m.sleep_w for m in chosen], dtype=np.float64)
        self._can_sleep = np.array([m.can_sleep for m in chosen], dtype=bool)
        # Ports: each end of an undirected edge that is a switch. Edge e = directed links 2e, 2e+1.
        ends = topology.link_src  # link 2e starts at the edge's first end, 2e+1 at its second
        owner = sw_of_node[ends]
        is_port = owner >= 0
        self.port_switch = owner[is_port]
        self.port_edge = (np.flatnonzero(is_port) // 2).astype(np.intp)
        rate = topology.capacity_bps[2 * self.port_edge]
        port_w = np.empty(self.port_edge.size, dtype=np.float64)
        dyn = np.empty(self.port_edge.size, dtype=np.float64)
        kinds = sorted(set(names))
        kind_of_switch = np.array([kinds.index(n) for n in names], dtype=np.intp)
        kind_of_port = kind_of_switch[self.port_switch]
        for k, name in enumerate(kinds):
            mask = kind_of_port == k
            port_w[mask] = avail[name].port_power_w(rate[mask])
            dyn[mask] = avail[name].port_dynamic_w
        self.port_w: F64 = port_w
        self.port_dynamic_w: F64 = dyn

    @property
    def n_switches(self) -> int:
        """Number of switches."""
        return int(self.switch_nodes.size)

    def per_switch_w(
        self,
        link_utilization: ArrayLike | None = None,
        link_active: ArrayLike | None = None,
        sleep_idle: bool = False,
    ) -> F64:
        """Power of every switch, W, shape (n_switches,).

        Parameters
        ----------
        link_utilization : array_like, shape (n_links,), optional
            Load / capacity of each directed link (e.g. ``FlowNetwork.link_utilization()``);
            default all zero.
        link_active : array_like of bool, shape (n_links,), optional
            Links that must stay up whatever their traffic (e.g. a routing policy's active
            subset); with ``sleep_idle`` a link is up if it carries traffic or is listed here.
        sleep_idle : bool
            Let links with no traffic (and not listed as active) sleep, and switches whose ports
            all sleep power down.

        Notes
        -----
        O(n_links) numpy work; no Python loop over switches or ports.
        """
        n_links = self.topology.n_links
        util = (
            np.zeros(n_links) if link_utilization is None
            else np.asarray(link_utilization, dtype=np.float64)
        )
        if util.shape != (n_links,):
            raise ValueError(f"link_utilization must have shape ({n_links},), got {util.shape}")
        u_pair = util.reshape(-1, 2)  # one row per undirected edge: both directions
        u_port = u_pair.mean(axis=1)[self.port_edge]
        if sleep_idle:
            up_edge: NDArray[np.bool_] = np.any(u_pair > 0, axis=1)
            if link_active is not None:
                forced = np.any(np.asarray(link_active, dtype=bool).reshape(-1, 2), axis=1)
                up_edge |= forced
            port_up = up_edge[self.port_edge] | ~self._can_sleep[self.port_switch]
        else:
            port_up = np.ones(self.port_edge.size, dtype=bool)
        n_sw = self.n_switches
        port_power = np.where(port_up, self.port_w + self.port_dynamic_w * u_port, 0.0)
        ports_w = np.bincount(self.port_switch, weights=port_power, minlength=n_sw)
        n_up = np.bincount(self.port_switch, weights=port_up.astype(np.float64), minlength=n_sw)
        on: NDArray[np.bool_] = (
            (n_up > 0) | ~self._can_sleep if sleep_idle else np.ones(n_sw, dtype=bool)
        )
        return np.where(on, self.chassis_w + ports_w, self.sleep_w)

    def power_w(
        self,
        link_utilization: ArrayLike | None = None,
        link_active: ArrayLike | None = None,
        sleep_idle: bool = False,
    ) -> float:
        """Total switch power, W (see :meth:`per_switch_w` for the parameters)."""
        return float(self.per_switch_w(link_utilization, link_active, sleep_idle).sum())

"""Topology files: a data center's graph read from GraphML or a whitespace-separated edge list.

:func:`load_graph` returns the same kind of graph the generators of
:mod:`dcsim.network.topology` build (nodes with ``kind``, ``role`` and ``dc``; edges with
``capacity_bps`` and ``latency_s``), from a regular file of bounded size
(:data:`MAX_TOPOLOGY_FILE_BYTES`). A problem is a :class:`dcsim.errors.Issue` at the node or link
it concerns (``nodes[NAME].dc``, ``links[U-V]``), raised together as a ConfigError.

Imports: networkx, dcsim.errors, dcsim.units, dcsim.config.safeyaml (bounded reading),
dcsim.network.topology (the default latency).
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import networkx as nx

from dcsim.config.safeyaml import read_input_text, regular_file
from dcsim.errors import ConfigError, Issue
from dcsim.network.topology import DEFAULT_LATENCY_S
from dcsim.units import UnitError, parse_bitrate, parse_duration

__all__ = ["MAX_TOPOLOGY_FILE_BYTES", "load_graph"]


def _quantity(raw: Any, parse: Any) -> float:
    return float(parse(raw.strip() if isinstance(raw, str) else raw))


def _dc_index(raw: Any) -> int | str:
    """A node's ``dc`` attribute as a data-center index >= 0, or what is wrong with it (GraphML
    types it int, long, double or string; whether the index exists is the scenario's check)."""
    if isinstance(raw, bool):
        return f"expected a data-center index (an integer >= 0), got {raw}"
    if isinstance(raw, float):
        if not raw.is_integer():
            return f"expected a data-center index (an integer >= 0), got {raw:g}"
        raw = int(raw)
    elif isinstance(raw, str):
        text = raw.strip()
        if not (text.isascii() and text.lstrip("-").isdigit()) or len(text) > 18:
            return ("expected a data-center index (an integer >= 0), got "
                    f"{text[:20]!r}{'...' if len(text) > 20 else ''}")
        raw = int(text)
    if not isinstance(raw, int) or raw < 0:
        return f"expected a data-center index (an integer >= 0), got {raw}"
    return raw


def load_graph(
    path: str | Path,
    default_capacity_bps: float | None = None,
    default_latency_s: float = DEFAULT_LATENCY_S,
    host_prefix: str | None = None,
) -> nx.Graph:
    """Load a topology from GraphML (``.graphml``) or a whitespace-separated edge list.

    Edge-list lines are ``u v [capacity [latency]]``; ``#`` starts a comment. Capacities and
    latencies may carry units (``10Gbps``, ``5us``), as may the GraphML attributes
    ``capacity_bps`` and ``latency_s``.

    Node kinds come from a ``kind`` attribute when present. Otherwise a node is a host if its name
    starts with ``host_prefix`` or, with no prefix given, if it has exactly one neighbour.

    Parameters
    ----------
    path : str or Path
        The file.
    default_capacity_bps : float, optional
        Capacity of links that give none, bit/s; without it such links are an error.
    default_latency_s : float
        Latency of links that give none, seconds.
    host_prefix : str, optional
        Names of host nodes start with this.

    Returns
    -------
    networkx.Graph
        Following the module's conventions (string node names, ``kind``/``role``/``dc``).

    Raises
    ------
    ConfigError
        Unreadable file, unparsable values or missing capacities, each issue with its location.
    """
    p = Path(path)
    issues: list[Issue] = []
    raw_g: nx.Graph
    regular_file(p, "topology file", MAX_TOPOLOGY_FILE_BYTES)  # a FIFO would block forever
    if p.suffix.lower() == ".graphml":
        try:
            raw_g = nx.Graph(nx.read_graphml(p))
        except Exception as exc:  # networkx raises several types for malformed XML
            raise ConfigError(Issue("", f"cannot read GraphML: {exc}"), source=p.name) from exc
    else:
        raw_g = nx.Graph()
        try:  # UTF-8 (BOM dropped); a bad byte is named with its line
            text = read_input_text(p, "edge list", MAX_TOPOLOGY_FILE_BYTES)
        except ConfigError as exc:
            raise ConfigError(exc.issues, source=p.name) from None
        first_line: dict[frozenset[str], int] = {}
        for lineno, line in enumerate(text.splitlines(), start=1):
            fields = line.split("#", 1)[0].split()
            if not fields:
                continue
            if len(fields) < 2 or len(fields) > 4:
                issues.append(Issue(f"line {lineno}", "expected 'u v [capacity [latency]]'"))
                continue
            attrs: dict[str, Any] = {}
            if len(fields) >= 3:
                attrs["capacity_bps"] = fields[2]
            if len(fields) == 4:
                attrs["latency_s"] = fields[3]
            pair = frozenset(fields[:2])  # a link is undirected: 'a b' and 'b a' are one
            if pair in first_line:  # the graph would keep the last line's values silently
                issues.append(Issue(f"line {lineno}", f"link {fields[0]}-{fields[1]} again "
                                    f"(first at line {first_line[pair]}); list each link once"))
                continue
            first_line[pair] = lineno
            raw_g.add_edge(fields[0], fields[1], **attrs)
    g = nx.Graph(name=p.stem)
    for node, data in raw_g.nodes(data=True):
        name = str(node)
        kind = data.get("kind")
        if kind is None:
            is_host = name.startswith(host_prefix) if host_prefix else raw_g.degree(node) == 1
            kind = "host" if is_host else "switch"
        if kind not in ("host", "switch"):
            issues.append(Issue(f"nodes[{name}].kind", f"must be 'host' or 'switch', got {kind!r}"))
        role = data.get("role", "host" if kind == "host" else "switch")
        dc = _dc_index(data.get("dc", 0))
        if isinstance(dc, str):
            issues.append(Issue(f"nodes[{name}].dc", dc))
            dc = 0
        g.add_node(name, **{**data, "kind": kind, "role": str(role), "dc": dc})
    for u, v, data in raw_g.edges(data=True):
        where = f"links[{u}-{v}]"
        cap: float = math.nan
        lat: float = default_latency_s
        raw_cap = data.get("capacity_bps", default_capacity_bps)
        if raw_cap is None:
            issues.append(Issue(f"{where}.capacity_bps", "missing (and no default capacity given)"))
        else:
            try:
                cap = _quantity(raw_cap, parse_bitrate)
            except UnitError as exc:
                issues.append(Issue(f"{where}.capacity_bps", str(exc)))
        if "latency_s" in data:
            try:
                lat = _quantity(data["latency_s"], parse_duration)
            except UnitError as exc:
                issues.append(Issue(f"{where}.latency_s", str(exc)))
        g.add_edge(str(u), str(v), **{**data, "capacity_bps": cap, "latency_s": lat})
    if issues:
        raise ConfigError(issues, source=p.name)
    return g


MAX_TOPOLOGY_FILE_BYTES = 256 * 1024**2
"""Largest GraphML or edge-list file read (bytes)."""

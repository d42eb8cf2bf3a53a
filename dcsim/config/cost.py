"""What a run will cost, estimated from its config alone; runs beyond the machine are refused.

A config that validates can still ask for 10^12 guests, a 1 ms interval over 30 years or a
fat-tree with k = 2000 (2·10^9 host ports). Such runs used to hang or be killed for memory with
no word of warning. :func:`estimate` counts, before anything is built, what a run does:

- ``intervals`` = duration / interval (scheduling steps), and ``guest_intervals`` /
  ``host_intervals`` (per-step vectorized work);
- ``draws``: random workload values (guests × duration / period) and ``events`` (job
  completions, arrivals);
- ``topology``: nodes + links of the network the generators would build; ``flows``;
- ``memory_bytes`` and ``seconds``: rough figures from per-item costs measured on a 2-core
  machine (see the constants below; they are upper-side, to warn early, not to predict).

:func:`cost_issues` turns an estimate into refusals (``Issue`` with the config path that drives
the cost): memory above what the machine has available, an estimated run time above
:data:`MAX_SECONDS`, a topology above :data:`MAX_TOPOLOGY` elements, more than :data:`MAX_FLOWS`
flows. ``dcsim run/validate/sweep --force`` (or ``DCSIM_FORCE=1``) turns them into warnings.
It also refuses traffic to hosts or guests that do not exist.

Imports: dcsim.errors, dcsim.units, dcsim.config.schema (types only).
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from dcsim.errors import Issue
from dcsim.units import off_default

if TYPE_CHECKING:
    from dcsim.config.network import TopologySpec
    from dcsim.config.schema import Config

__all__ = [
    "MAX_FLOWS",
    "MAX_SECONDS",
    "MAX_TOPOLOGY",
    "Cost",
    "CostWarning",
    "available_memory",
    "cost_issues",
    "estimate",
    "forced",
    "reference_issues",
]

MAX_SECONDS = 2 * 86400.0
"""Longest estimated wall time of one run before it is refused without --force (s)."""
MAX_TOPOLOGY = 2_000_000
"""Most topology elements (switches + host ports + links) one run may build."""
MAX_FLOWS = 100_000
"""Most background traffic flows."""

# Per-item costs (seconds, bytes). Measured on a loaded 2-core machine: a step costs ~0.3 ms,
# a guest-interval ~0.35 µs, a networkx element ~1 kB; rounded up.
_S_STEP = 5e-4
_S_ITEM_STEP = 6e-7
_S_EVENT = 5e-5
_S_DRAW = 1e-7
_S_ELEMENT = 2e-4
_B_GUEST = 4096.0
_B_HOST = 4096.0
_B_STEP = 512.0
_B_HOST_ROW = 96.0
_B_ELEMENT = 1500.0
_B_FLOW = 2048.0


class CostWarning(UserWarning):
    """A run beyond the machine's limits that ``--force`` lets through."""


@dataclass(frozen=True)
class Cost:
    """What a run does and needs, estimated from its config."""

    hosts: int
    guests: int
    intervals: float
    guest_intervals: float
    draws: float
    events: float
    topology: float
    flows: int
    memory_bytes: float
    seconds: float
    fault_events: float = 0.0  # failures, repairs, restarts and snapshot events

    def describe(self) -> str:
        """One line for messages: the figures that matter."""
        faults = (f", {self.fault_events:.3g} failure and snapshot events"
                  if self.fault_events else "")
        return (f"{self.hosts:,} hosts, {self.guests:,} guests, {self.intervals:,.0f} intervals, "
                f"{self.guest_intervals:.3g} guest-intervals, {self.topology:,.0f} topology "
                f"elements, {self.flows:,} flows{faults}: ~{_bytes(self.memory_bytes)} of "
                f"memory, ~{_duration(self.seconds)}")


def _bytes(n: float) -> str:
    for unit in ("B", "kB", "MB", "GB", "TB", "PB"):
        if n < 1000 or unit == "PB":
            return f"{n:.3g} {unit}"
        n /= 1000
    return f"{n:.3g} PB"  # pragma: no cover


def _duration(s: float) -> str:
    if s < 120:
        return f"{s:.0f} s"
    if s < 7200:
        return f"{s / 60:.0f} min"
    if s < 2 * 86400:
        return f"{s / 3600:.1f} h"
    return f"{s / 86400:.3g} days"


def _topology_size(t: TopologySpec, hosts: int) -> tuple[float, str]:
    """Elements (nodes + links) a topology generator builds, and the field that drives it."""
    if t.kind == "fat_tree":
        k = float(t.k)
        return 5 * k * k / 4 + k**3 / 4 + 3 * k**3 / 4, "k"
    if t.kind == "leaf_spine":
        return (t.leaves + t.spines + t.leaves * t.spines
                + 2.0 * t.leaves * t.hosts_per_leaf), "leaves"
    if t.kind == "three_tier":
        return (t.core + t.aggregation + t.access + t.core * t.aggregation
                + t.aggregation * t.access + 2.0 * t.access * t.hosts_per_access), "access"
    return 2.0 * hosts + 1, "kind"


def _mean_s(spec: Any) -> float:
    """Mean of a lifetime distribution (s): what a failure or repair takes on average."""
    if spec.kind == "constant":
        return float(spec.value)
    if spec.kind == "weibull":
        return float(spec.scale) * math.gamma(1.0 + 1.0 / float(spec.shape))
    return float(spec.mean)


def _fault_events(cfg: Config, hosts: int, guests: int,
                  topology: float) -> tuple[float, str]:
    """Expected events of the ``faults`` section (a lower estimate: never refuse a sound run)
    and the config path that drives them: each failure of a host, rack or link and its repair,
    with a restart per guest of a failed host; each snapshot instant and guest snapshot."""
    f = cfg.faults
    if f is None:
        return 0.0, "faults"
    parts: dict[str, float] = {}
    per_host = guests / max(hosts, 1)
    for name, spec, units, per in (
            ("hosts", f.hosts, hosts, per_host),
            ("racks", f.racks, max(1, hosts // 40), 40 * per_host),
            ("links", f.links, topology / 2.0, 0.0)):
        if spec is None or getattr(spec, "ttf", None) is None:
            continue
        cycle = _mean_s(spec.ttf) + _mean_s(spec.repair)
        parts[f"faults.{name}.ttf"] = units * (cfg.duration / cycle) * (2.0 + per)
    snap = f.snapshots
    if snap is not None:
        if snap.schedule == "periodic":  # per interval: its instants and a save per guest
            rounds = cfg.duration / snap.interval
            field = "batches" if snap.batches > guests else "interval"
            parts[f"faults.snapshots.{field}"] = rounds * (snap.batches + guests)
        else:
            parts["faults.snapshots.at"] = float(len(snap.at)) * (1 + guests)
    if not parts:
        return 0.0, "faults"
    return sum(parts.values()), max(parts, key=lambda k: parts[k])


def estimate(cfg: Config) -> tuple[Cost, dict[str, str]]:
    """The cost of running ``cfg``, and for each part the config path that drives it."""
    hosts = sum(h.count for dc in cfg.datacenters for h in dc.hosts)
    guests = sum(g.count for g in cfg.guests)
    intervals = cfg.duration / cfg.interval
    draws = 0.0
    events = 0.0
    for g in cfg.guests:
        w: Any = g.workload
        period = getattr(w, "period", None) or cfg.interval
        if w.kind in ("uniform", "normal", "beta", "lognormal", "diurnal", "onoff"):
            draws += g.count * cfg.duration / period
        if w.kind == "jobs":
            events += float(g.count) * w.count
        events += g.count
    topology = 0.0
    flows = 0
    big_g = max(range(len(cfg.guests)), key=lambda k: cfg.guests[k].count)
    big_h = max(((d, j) for d, dc in enumerate(cfg.datacenters) for j in range(len(dc.hosts))),
                key=lambda dj: cfg.datacenters[dj[0]].hosts[dj[1]].count)
    where = {"intervals": "interval", "guests": f"guests[{big_g}].count",
             "hosts": f"datacenters[{big_h[0]}].hosts[{big_h[1]}].count",
             "topology": "network.topology", "flows": "network.traffic"}
    if cfg.network is not None:
        specs = cfg.network.per_datacenter or [cfg.network.topology]
        for i, t in enumerate(specs):
            size, field = _topology_size(t, hosts)
            topology += size
            base = (f"network.per_datacenter[{i}]" if cfg.network.per_datacenter
                    else "network.topology")
            if size >= topology / 2:
                where["topology"] = f"{base}.{field}"
        flows = sum(f.random_pairs + f.guest_pairs + (f.src_host is not None)
                    + (f.src_guest is not None) for f in cfg.network.traffic)
    else:
        topology = 2.0 * hosts + 1  # the implicit star of host NICs
        where["topology"] = where["hosts"]
    guest_intervals = guests * intervals
    host_intervals = hosts * intervals
    # beyond the interpreter and its libraries, which are loaded already
    memory = (guests * _B_GUEST + hosts * _B_HOST + intervals * _B_STEP
              + topology * _B_ELEMENT + flows * _B_FLOW)
    if cfg.output.host_timeseries:
        memory += host_intervals * _B_HOST_ROW
    if cfg.network is not None and cfg.network.link_timeseries:
        memory += topology * intervals * 48.0
    fault_events, where["faults"] = _fault_events(cfg, hosts, guests, topology)
    seconds = (intervals * _S_STEP + (guest_intervals + host_intervals) * _S_ITEM_STEP
               + (events + fault_events) * _S_EVENT + draws * _S_DRAW + topology * _S_ELEMENT
               + flows * intervals * _S_ITEM_STEP)
    cost = Cost(hosts, guests, intervals, guest_intervals, draws, events, topology, flows,
                memory, seconds, fault_events)
    return cost, where


def available_memory() -> float:
    """Bytes of memory this process may use: MemAvailable (Linux), else physical memory."""
    try:
        with open("/proc/meminfo", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("MemAvailable:"):
                    return float(line.split()[1]) * 1024.0
    except OSError:
        pass
    try:
        return float(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES"))
    except (ValueError, OSError, AttributeError):  # pragma: no cover - exotic platforms
        return math.inf


def forced() -> bool:
    """``DCSIM_FORCE=1``: cost refusals become warnings (set by ``--force``)."""
    return os.environ.get("DCSIM_FORCE", "") not in ("", "0")


def cost_issues(cost: Cost, where: dict[str, str], memory: float | None = None) -> list[Issue]:
    """Refusals for a run beyond the machine or the documented limits (empty when it fits)."""
    memory = available_memory() if memory is None else memory
    out: list[Issue] = []
    hint = " (`dcsim --force ...` or DCSIM_FORCE=1 runs it anyway)"
    if cost.topology > MAX_TOPOLOGY:
        out.append(Issue(where["topology"], f"the topology would have {cost.topology:.3g} "
                         f"elements; at most {MAX_TOPOLOGY:,}{hint}"))
    if cost.flows > MAX_FLOWS:
        out.append(Issue(where["flows"], f"{cost.flows:,} traffic flows; at most "
                         f"{MAX_FLOWS:,}{hint}"))
    why = []
    if cost.memory_bytes > memory:
        why.append(f"need ~{_bytes(cost.memory_bytes)} of memory, more than the "
                   f"{_bytes(memory)} available")
    if cost.seconds > MAX_SECONDS:
        why.append(f"take ~{_duration(cost.seconds)} (limit {_duration(MAX_SECONDS)})")
    if why:
        out.append(Issue(_driver(cost, where), f"the run would {' and '.join(why)} "
                         f"[estimate: {cost.describe()}]{hint}"))
    return out


def _driver(cost: Cost, where: dict[str, str]) -> str:
    """The config path that contributes most to the cost."""
    parts = {
        where["intervals"]: cost.intervals * _S_STEP,
        where["guests"]: cost.guest_intervals * _S_ITEM_STEP + cost.events * _S_EVENT
        + cost.draws * _S_DRAW,
        where["hosts"]: cost.hosts * cost.intervals * _S_ITEM_STEP,
        where["topology"]: cost.topology * _S_ELEMENT,
        where["flows"]: cost.flows * (cost.intervals * _S_ITEM_STEP + _B_FLOW * 1e-6),
        where.get("faults", "faults"): cost.fault_events * _S_EVENT,
    }
    return max(parts, key=lambda k: parts[k])


def reference_issues(cfg: Config) -> list[Issue]:
    """Traffic and rack entries that name hosts or guests the config does not have."""
    out: list[Issue] = []
    if cfg.network is None:
        return out
    hosts = sum(h.count for dc in cfg.datacenters for h in dc.hosts)
    guests = sum(g.count for g in cfg.guests)
    for i, f in enumerate(cfg.network.traffic):
        for name, value, n, what in (("src_host", f.src_host, hosts, "hosts"),
                                     ("dst_host", f.dst_host, hosts, "hosts"),
                                     ("src_guest", f.src_guest, guests, "guests"),
                                     ("dst_guest", f.dst_guest, guests, "guests")):
            if value is not None and value >= n:
                out.append(Issue(f"network.traffic[{i}].{name}",
                                 f"no such {what[:-1]}: index {value}, the config has {n} "
                                 f"{what} (indices 0..{n - 1})"))
        out += _flow_issues(f"network.traffic[{i}]", f, hosts, guests)
    if off_default(cfg.network, "wan") and cfg.network.per_datacenter is None:
        out.append(Issue("network.wan", "WAN links join the data centers' own topologies "
                         "(network.per_datacenter); with one network.topology for every host "
                         "there is no WAN: give per_datacenter, or remove wan"))
    return out


def _flow_issues(where: str, f: Any, hosts: int, guests: int) -> list[Issue]:
    """A background-traffic entry that would start no flow, or a flow that goes nowhere."""
    out: list[Issue] = []
    for a, b, what in (("src_host", "dst_host", "host"), ("src_guest", "dst_guest", "guest")):
        va, vb = getattr(f, a), getattr(f, b)
        if (va is None) != (vb is None):
            missing = b if vb is None else a
            out.append(Issue(f"{where}.{missing}", f"a {what} pair needs both {a} and {b}"))
        elif va is not None and va == vb:
            out.append(Issue(f"{where}.{b}", f"the same {what} as {a} ({va}): a flow to itself "
                             "never reaches the network"))
    for name, n, what in (("random_pairs", hosts, "hosts"), ("guest_pairs", guests, "guests")):
        if getattr(f, name) > 0 and n < 2:
            out.append(Issue(f"{where}.{name}", f"random pairs need at least 2 {what}, the "
                             f"config has {n}"))
    if (f.src_host is None and f.dst_host is None and f.src_guest is None
            and f.dst_guest is None and f.random_pairs == 0 and f.guest_pairs == 0):
        out.append(Issue(where, "starts no flow: give a host pair (src_host, dst_host), "
                         "random_pairs, a guest pair (src_guest, dst_guest) or guest_pairs"))
    if f.stop is not None and f.stop <= f.start:
        out.append(Issue(f"{where}.stop", f"must be after start ({f.start:g} s), got "
                         f"{f.stop:g} s"))
    return out

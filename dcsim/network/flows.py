"""Flow-level network model: max-min fair rate sharing and the bookkeeping of transfers in flight.

This module owns :class:`FlowNetwork`: flows on a routed topology (rates, remaining bytes,
completions, records). The max-min kernel :func:`maxmin_rates` lives in
:mod:`dcsim.network.maxmin` and is re-exported here.

Semantics of a flow
-------------------
* A flow is a transfer of ``nbytes`` bytes (``np.inf``: persistent background traffic) from one
  config host to another along one routed path. Its rate is its max-min fair share of the links it
  crosses, optionally capped (``rate_cap_bps``, e.g. a migration speed limit or a NIC limit applied
  by the caller). Rates are recomputed whenever the set of sending flows changes, and only then:
  between two changes every rate is constant, so remaining bytes drain linearly.
* Completion includes propagation latency: a flow's **last byte leaves** the source at
  ``t_sent`` (its remaining bytes reach 0); from then on it no longer uses bandwidth (rates of the
  others are recomputed at ``t_sent``), and it **completes** at ``t_sent + path latency``, when its
  record is emitted. The latency is counted once per transfer; there is no slow start and no
  per-packet model.
* Time only moves forward through :meth:`FlowNetwork.advance`, which is exact whatever the step:
  it processes every intermediate instant at which a flow stops sending. A driver should wake at
  :meth:`FlowNetwork.next_event` (the next such instant or completion), call ``advance`` and
  collect :meth:`FlowNetwork.pop_completed`.
* A flow between two config hosts on the same node crosses no link: it gets its cap (or an
  infinite rate) and completes at once.

Imports: numpy, heapq, dcsim.network.maxmin/topology/routing. No simpy.
"""

from __future__ import annotations

import heapq
import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from dcsim.network.maxmin import _maxmin_paths, maxmin_rates
from dcsim.network.routing import Router
from dcsim.network.topology import Topology

__all__ = ["FlowNetwork", "FlowRecord", "maxmin_rates"]

F64 = NDArray[np.float64]
IntP = NDArray[np.intp]

_MEMO_SIZE = 8
"""Rate vectors kept per flow network, keyed by the sending flows' ids (most recent first):
a pre-copy round that ends and the next round of the same migration that starts restore an
earlier set of sending flows about a third of the time, whose rates need no new filling."""

_FULL_SHARE = 0.5
"""An incremental filling (``FlowNetwork.incremental``) that reaches this share of the sending
flows fills all of them instead (the same rates; one filling of all costs less than a search
through the flow-link graph and a partial one)."""

_TIME_RTOL = 1e-12
"""A flow whose last byte is due within this relative time of ``now`` counts as sent: absorbs
rounding in ``now + (t - now)`` of event-driven clocks."""


def _time_tol(t: float) -> float:
    return _TIME_RTOL * max(1.0, abs(t))


@dataclass(frozen=True, slots=True)
class FlowRecord:
    """A flow that ended: completed (all bytes delivered) or removed early.

    Attributes
    ----------
    fid : int
        Flow id.
    tag : str
        Caller's label (e.g. ``"migration:vm12:round3"``).
    src, dst : int
        Config host indices.
    nbytes : float
        Bytes sent (equal to the requested size when ``completed``).
    start_s, end_s : float
        Start and end time, seconds; for a completed flow ``end_s`` is delivery of the last
        byte (its sending end plus path latency).
    completed : bool
        False if the flow was removed before completing.
    """

    fid: int
    tag: str
    src: int
    dst: int
    nbytes: float
    start_s: float
    end_s: float
    completed: bool = True

    @property
    def duration_s(self) -> float:
        """``end_s - start_s``, seconds."""
        return self.end_s - self.start_s


@dataclass(slots=True)
class _Meta:
    src: int
    dst: int
    nbytes: float
    start_s: float
    tag: str
    latency_s: float
    sent_at_s: float = math.nan
    sent_bytes: float = 0.0
    key: int = 0


class FlowNetwork:
    """Flows on a routed topology, with max-min fair rates and exact byte accounting.

    Parameters
    ----------
    topology : Topology
        A validated topology.
    router : Router
        Routes new flows (its topology must be ``topology``).
    start_s : float
        Current time at construction, seconds.

    Notes
    -----
    State is a struct of arrays over sending flows (ascending flow id): remaining bytes, caps,
    rates, the time each would send its last byte, and the flow-major incidence (``link``,
    ``owner`` pairs). Starting or removing flows only records the change; arrays are compacted,
    the incidence rebuilt and rates recomputed once, the next time rates are needed, so many
    changes at the same instant cost one recomputation. Flows whose last byte has left wait in a
    heap until their delivery time.

    Attributes
    ----------
    records : list of FlowRecord
        Every flow that ended, in the order they ended.
    link_bytes : ndarray of float64, shape (n_links,)
        Bytes carried by each directed link since construction.
    n_recomputations : int
        Number of times the rates were recomputed because the set of sending flows changed.
    memo_size : int
        Most rate vectors kept for reuse (0: none, every change runs the filling).
    n_reused : int
        How many of those took the rates of an earlier identical set of sending flows (same
        ids, so same paths, caps and order) instead of running the filling again: the filling
        is a function of exactly that, so the rates are the same to the last bit.
    n_partial : int
        How many of the recomputations filled only part of the flows (:attr:`incremental`).
    incremental : bool
        Whether a change refills only the flows it can affect: those linked to a started or
        stopped flow through shared links, directly or through other flows (its connected
        component in the flow-link graph). The filling of each component depends on that
        component alone (see :meth:`_filling`), so the rates are the same to the last bit as a
        filling of every flow; ``False`` fills every flow each time.
    listeners : list of callables
        Called as ``listener(time_s, link_load_bps)`` whenever the rates change (and only then:
        the load is constant until the next call), e.g. by
        :class:`dcsim.network.meter.NetworkMeter` to integrate utilisation and switch power.
    """

    def __init__(self, topology: Topology, router: Router, start_s: float = 0.0) -> None:
        if router.topology is not topology:
            raise ValueError("router was built for another topology")
        self.topology = topology
        self.router = router
        self._base_router = router  # routes on the whole graph: fallback path of a cut-off flow
        self._stalled: set[int] = set()
        self.now_s = float(start_s)
        self.records: list[FlowRecord] = []
        self.link_bytes: F64 = np.zeros(topology.n_links, dtype=np.float64)
        self.n_recomputations = 0
        self.n_reused = 0
        self.n_partial = 0
        # ids of the sending flows (bytes of the ascending fid array) -> their max-min rates;
        # emptied whenever routes or capacities change
        self._memo: dict[bytes, F64] = {}
        self.memo_size = _MEMO_SIZE
        self.listeners: list[Callable[[float, F64], None]] = []
        self._capacity: F64 = topology.capacity_bps
        self._next_fid = 0
        self._meta: dict[int, _Meta] = {}
        # Sending flows, one slot each, ascending fid.
        self._fid: NDArray[np.int64] = np.zeros(0, dtype=np.int64)
        # remaining bytes, bytes sent, rate cap (bit/s) and path latency (s) of each slot, as
        # rows of one array (one take or concatenate per change); _rem ... _lat are its rows
        self._f: F64 = np.zeros((4, 0))
        self._rem, self._sent, self._cap, self._lat = self._f
        self._rate: F64 = np.zeros(0)
        self._t_sent: F64 = np.zeros(0)
        self._rate_fin: F64 = np.zeros(0)  # rates with inf as 0 (what a drain moves)
        self._i_next, self._t_next = 0, math.inf  # argmin of _t_sent and its value
        self._nz_link: IntP = np.zeros(0, dtype=np.intp)
        self._nz_len: IntP = np.zeros(0, dtype=np.intp)  # path length of each slot
        # Changes not yet folded into the arrays (only ever made at time now_s).
        self._pending: dict[int, tuple[float, float, float, IntP]] = {}
        self._removed: list[int] = []
        self._dirty = False
        self.incremental = True
        # Sending flows' paths and the flows on each link (the flow-link graph of the incremental
        # filling), and what changed since the last filling: the links whose set of flows
        # changed and the flows that started (None: everything, e.g. after a failure).
        self._paths: dict[int, tuple[int, ...]] = {}
        self._on_link: dict[int, set[int]] = {}
        self._touched: set[int] | None = set()
        self._started: list[int] = []
        self._skip = self._backoff = 0  # fillings of every flow left before searching again
        # Flows whose last byte has left: (delivery time, fid); stale entries skipped on pop.
        self._in_flight: list[tuple[float, int]] = []
        self._unreported: list[FlowRecord] = []

    # -- changes ------------------------------------------------------------------------------

    def add_flow(
        self,
        now_s: float,
        src_host: int,
        dst_host: int,
        nbytes: float,
        rate_cap_bps: float = math.inf,
        key: int | None = None,
        tag: str = "",
    ) -> int:
        """Start a flow at ``now_s``; returns its id (ascending from 0).

        Parameters
        ----------
        now_s : float
            Current time, seconds (>= the last time seen).
        src_host, dst_host : int
            Config host indices.
        nbytes : float
            Bytes to send, >= 0; ``np.inf`` for a persistent flow that ends only when removed.
        rate_cap_bps : float
            Upper bound on the flow's rate, bit/s, > 0; ``inf`` for none.
        key : int, optional
            ECMP hash key; default the flow id (so distinct flows of a pair spread over paths).
        tag : str
            Label copied to the flow's record.
        """
        if not nbytes >= 0:
            raise ValueError(f"nbytes must be >= 0, got {nbytes}")
        if not rate_cap_bps > 0:
            raise ValueError(f"rate_cap_bps must be > 0, got {rate_cap_bps}")
        self.advance(now_s)
        fid = self._next_fid
        self._next_fid += 1
        try:
            links = self.router.path_links(src_host, dst_host, fid if key is None else key)
        except ValueError:
            if self.router is self._base_router:
                raise  # an unattached host: not a failure
            # Cut off by failed links: take the path it would have on the whole graph, which
            # crosses a failed (zero-capacity) link, so it stalls until a repair re-routes it.
            links = self._base_router.path_links(src_host, dst_host,
                                                 fid if key is None else key)
            self._stalled.add(fid)
        lat = self.router.path_latency_s(links)
        self._meta[fid] = _Meta(int(src_host), int(dst_host), float(nbytes), self.now_s, tag, lat,
                                key=fid if key is None else int(key))
        self._pending[fid] = (float(nbytes), float(rate_cap_bps), lat, links)
        self._dirty = True
        return fid

    def remove_flow(self, now_s: float, fid: int) -> FlowRecord:
        """Stop flow ``fid`` at ``now_s`` and return its record (``completed=False``).

        Raises KeyError if the flow is not live (never started, completed or removed).
        """
        self.advance(now_s)
        meta = self._meta.pop(fid)  # KeyError for unknown or ended flows
        if fid in self._pending:
            del self._pending[fid]
            sent = 0.0
        elif math.isnan(meta.sent_at_s):
            self._flush()
            slot = self._slot(fid)
            sent = float(self._sent[slot])
            self._removed.append(fid)
            self._dirty = True
        else:
            sent = meta.sent_bytes  # in flight: its heap entry becomes stale
        rec = FlowRecord(fid, meta.tag, meta.src, meta.dst, sent, meta.start_s, self.now_s, False)
        self.records.append(rec)
        return rec

    def set_links_down(self, now_s: float, down: NDArray[np.bool_]) -> int:
        """Take the directed links in ``down`` out of service (and return the others) at ``now_s``.

        Routing is rebuilt without them and every sending flow is re-routed on the surviving
        graph (same ECMP key); a flow with no surviving path keeps its old path, whose failed
        link now has zero capacity, so it stalls (rate 0) until a repair re-routes it
        (:meth:`stalled_fids`). A flow started while cut off takes its path on the whole graph
        and stalls the same way. Returns the number of stalled flows.
        """
        from dcsim.network.routing import Router

        self.advance(now_s)
        self._flush()
        down = np.asarray(down, dtype=bool)
        self.router = Router(self.topology, ecmp=self.router.ecmp, down=down)
        self._capacity = np.where(down, 0.0, self.topology.capacity_bps)
        self._memo.clear()
        paths: list[IntP] = []
        stalled = 0
        self._stalled = set()
        ptr = self._nz_ptr
        for slot, fid in enumerate(self._fid.tolist()):
            meta = self._meta[fid]
            try:
                links = self.router.path_links(meta.src, meta.dst, meta.key)
            except ValueError:  # cut off: keep the old path, which crosses a dead link
                links = self._nz_link[ptr[slot] : ptr[slot + 1]]
                stalled += 1
                self._stalled.add(fid)
            paths.append(np.asarray(links, dtype=np.intp))
        if paths:
            lengths = np.fromiter((p.size for p in paths), dtype=np.intp, count=len(paths))
            self._nz_link = np.concatenate(paths).astype(np.intp)
            self._nz_len = lengths
        self._paths, self._on_link = {}, {}
        for fid, links in zip(self._fid.tolist(), paths, strict=True):
            self._link(fid, tuple(links.tolist()))
        self._touched = None  # capacities changed: fill every flow
        self._dirty = True
        return stalled

    def stalled_fids(self) -> list[int]:
        """Ids of live sending flows that have no path on the surviving links (ascending)."""
        return sorted(f for f in self._stalled if f in self._meta
                      and math.isnan(self._meta[f].sent_at_s))

    def reachable_from(self, src_host: int) -> NDArray[np.bool_]:
        """(n_hosts,) whether a flow from ``src_host`` to each host has a path now."""
        return self.router.reachable_from(src_host)

    # -- time ---------------------------------------------------------------------------------

    def advance(self, now_s: float) -> None:
        """Move time to ``now_s``, draining bytes at the current rates.

        Every flow whose last byte leaves on the way stops sending at its own instant (rates
        recomputed there), and every flow whose delivery time is reached completes: its record
        is appended to :attr:`records` and queued for :meth:`pop_completed`.

        Raises ValueError if ``now_s`` is earlier than the last time seen.
        """
        now = float(now_s)
        if now < self.now_s - _time_tol(self.now_s):
            raise ValueError(f"time went backwards: {now} < {self.now_s}")
        now = max(now, self.now_s)
        while True:
            if self._dirty and now <= self.now_s:
                # No time passes: leave the recomputation to whoever needs rates next, so that
                # many changes at one instant cost one recomputation.
                break
            self._refresh()
            if self._fid.size == 0:
                self.now_s = now
                break
            t_next = self._t_next
            if t_next > now + _time_tol(now):
                self._drain(now)
                break
            t_step = min(max(t_next, self.now_s), now)
            self._drain(t_step)
            done = np.flatnonzero(self._t_sent <= t_step + _time_tol(t_step))
            for slot in done.tolist():
                fid = int(self._fid[slot])
                meta = self._meta[fid]
                meta.sent_at_s = min(float(self._t_sent[slot]), t_step)
                meta.sent_bytes = meta.nbytes
                heapq.heappush(self._in_flight, (meta.sent_at_s + meta.latency_s, fid))
                self._removed.append(fid)
            self._dirty = True
        self._deliver(now)

    def _drain(self, t: float) -> None:
        dt = t - self.now_s
        if dt > 0 and self._fid.size:
            moved = self._rate_fin * (dt / 8.0)
            self._sent += moved
            rem = self._rem  # inf (persistent flows) stays inf: inf - finite = inf
            rem -= moved
            np.maximum(rem, 0.0, out=rem)
            if self._nz_link.size:
                self.link_bytes += np.bincount(
                    self._nz_link, weights=moved.repeat(self._nz_len),
                    minlength=self.link_bytes.size)
        self.now_s = max(self.now_s, t)

    def _deliver(self, now: float) -> None:
        heap = self._in_flight
        limit = now + _time_tol(now)
        while heap and heap[0][0] <= limit:
            t_done, fid = heapq.heappop(heap)
            meta = self._meta.get(fid)
            if meta is None or math.isnan(meta.sent_at_s):
                continue  # removed while in flight
            del self._meta[fid]
            rec = FlowRecord(fid, meta.tag, meta.src, meta.dst, meta.nbytes, meta.start_s, t_done)
            self.records.append(rec)
            self._unreported.append(rec)

    # -- derived state ------------------------------------------------------------------------

    def _slot(self, fid: int) -> int:
        slot = int(np.searchsorted(self._fid, fid))
        if slot >= self._fid.size or int(self._fid[slot]) != fid:
            raise KeyError(fid)
        return slot

    @property
    def _nz_ptr(self) -> IntP:
        """Start of each slot's path in ``_nz_link`` (and the end), shape (n_slots + 1,)."""
        ptr = np.zeros(self._fid.size + 1, dtype=np.intp)
        self._nz_len.cumsum(out=ptr[1:])
        return ptr

    @property
    def _nz_owner(self) -> IntP:
        """Slot of each entry of ``_nz_link``."""
        out: IntP = np.arange(self._fid.size, dtype=np.intp).repeat(self._nz_len)
        return out

    def _flush(self) -> None:
        """Fold pending starts and removals into the slot arrays."""
        aligned = self._rate.shape[0] == self._fid.size  # rates of the slots before the fold
        if not aligned:
            self._touched = None  # no rates to keep: the next filling fills every flow
        if self._removed:
            gone = np.asarray(self._removed, dtype=np.int64)
            slots = self._fid.searchsorted(gone)
            if slots.max() >= self._fid.size or (self._fid[slots] != gone).any():
                raise RuntimeError("flow removed twice or never added")  # pragma: no cover
            mask = np.ones(self._fid.size, dtype=bool)
            mask[slots] = False
            keep = mask.nonzero()[0]  # integer take: cheaper than boolean masks here
            self._nz_link = self._nz_link[mask.repeat(self._nz_len)]
            self._nz_len = self._nz_len.take(keep)
            self._fid = self._fid.take(keep)
            self._f = self._f.take(keep, axis=1)
            if aligned:
                self._rate = self._rate.take(keep)
            for fid in self._removed:
                self._unlink(fid)
            self._removed.clear()
        if self._pending:
            for fid, v in self._pending.items():
                self._link(fid, tuple(v[3].tolist()))
                self._started.append(fid)
            vals = list(self._pending.values())
            n_new = len(vals)
            if aligned:
                self._rate = np.concatenate([self._rate, np.full(n_new, np.nan)])
            self._fid = np.concatenate([self._fid, np.fromiter(self._pending, dtype=np.int64,
                                                               count=n_new)])
            new = np.array([[v[0] for v in vals], [0.0] * n_new, [v[1] for v in vals],
                            [v[2] for v in vals]], dtype=np.float64)
            self._f = np.concatenate([self._f, new], axis=1)
            self._nz_link = np.concatenate([self._nz_link, *(v[3] for v in vals)]).astype(np.intp)
            self._nz_len = np.concatenate([self._nz_len, np.fromiter(
                (v[3].size for v in vals), dtype=np.intp, count=n_new)])
            self._pending.clear()
        self._rem, self._sent, self._cap, self._lat = self._f
        # _rate and _t_sent are stale until the recomputation that follows every fold

    def _refresh(self) -> None:
        """Recompute rates (and sending-end times) if the flow set changed since last time."""
        if not self._dirty:
            return
        self._flush()
        self._dirty = False
        if self._fid.size == 0:
            self._touched, self._started = set(), []
            self._rate = self._rate_fin = self._t_sent = np.zeros(0)
            self._emit()
            return
        key = self._fid.tobytes()
        memo = self._memo
        rate = memo.pop(key, None)
        if rate is None:
            rate = self._filling()
        else:
            self.n_reused += 1
        self._touched, self._started = set(), []
        if self.memo_size > 0:
            if len(memo) >= self.memo_size:
                del memo[next(iter(memo))]  # the least recently used
            memo[key] = rate  # never written in place: shared with the memo
        self._rate = rate
        self._rate_fin = np.where(np.isfinite(rate), rate, 0.0)
        self.n_recomputations += 1
        self._emit()
        with np.errstate(divide="ignore", invalid="ignore"):
            dt = self._rem * 8.0 / rate
        dt = np.where(self._rem == 0, 0.0, dt)
        dt = np.where(np.isnan(dt), math.inf, dt)  # inf bytes at inf rate: never ends
        t_sent = self.now_s + dt
        self._t_sent = t_sent
        i = int(t_sent.argmin())
        self._i_next, self._t_next = i, float(t_sent[i])  # the first sending end (argmin)

    def _link(self, fid: int, links: tuple[int, ...]) -> None:
        """Flow ``fid`` sends over ``links``: record it in the flow-link graph."""
        self._paths[fid] = links
        on = self._on_link
        for link in links:
            if link in on:
                on[link].add(fid)
            else:
                on[link] = {fid}
        if self._touched is not None:
            self._touched.update(links)

    def _unlink(self, fid: int) -> None:
        """Flow ``fid`` stopped sending: drop it from the flow-link graph."""
        links = self._paths.pop(fid)
        on = self._on_link
        for link in links:
            flows = on[link]
            flows.discard(fid)
            if not flows:
                del on[link]
        if self._touched is not None:
            self._touched.update(links)

    def _filling(self) -> F64:
        """Max-min rates of the sending flows (after :meth:`_flush`).

        With :attr:`incremental`, only the flows connected (through shared links) to a link
        whose set of flows changed, or that just started, are filled again; the others keep
        their rates. Exact: in each round of the filling (``_maxmin_paths``) a link's level, and
        so which of its flows freeze and at what rate, depends only on the flows crossing it, so
        a connected component evolves round by round the same with or without the others
        (frozen loads are summed in the same flow order, the slots' order), and a component none
        of whose links changed has the rates it had. ``_FULL_SHARE`` of the flows or more
        connected: every flow is filled.
        """
        n = self._fid.size
        touched = self._touched
        if (not self.incremental or touched is None or self._rate.shape[0] != n
                or self._skip > 0):
            self._skip = max(self._skip - 1, 0)
            return self._fill_all()
        paths, on = self._paths, self._on_link
        comp = {f for f in self._started if f in paths}  # a flow that crosses no link, too
        budget = _FULL_SHARE * n
        if len(comp) >= budget:  # most flows just started
            return self._fill_all()
        frontier = [link for link in touched if link in on]
        seen = set(frontier)
        while frontier:
            nxt: list[int] = []
            for link in frontier:
                for f in on[link]:
                    if f in comp:
                        continue
                    comp.add(f)
                    if len(comp) >= budget:  # one large component: fill every flow, and
                        # skip the search for the next 1, 2, 4, ... 64 fillings while it lasts
                        self._backoff = self._skip = min(2 * self._backoff or 1, 64)
                        return self._fill_all()
                    for other in paths[f]:
                        if other not in seen:
                            seen.add(other)
                            nxt.append(other)
            frontier = nxt
        self._backoff = 0
        self.n_partial += 1
        rate = self._rate.copy()  # never written in place: it may be shared with the memo
        if comp:
            fids = sorted(comp)
            slots = self._fid.searchsorted(np.asarray(fids, dtype=np.int64))
            lengths = self._nz_len.take(slots)
            entries = np.fromiter((x for f in fids for x in paths[f]), dtype=np.intp,
                                  count=int(lengths.sum()))
            rate[slots] = _maxmin_paths(lengths, entries, self._capacity, self._cap.take(slots))
        return rate

    def _fill_all(self) -> F64:
        """Max-min rates of every sending flow (the slots after :meth:`_flush`)."""
        return _maxmin_paths(self._nz_len, self._nz_link, self._capacity, self._cap)

    def _emit(self) -> None:
        """Tell the listeners the link loads from now on (rates just changed)."""
        if not self.listeners:
            return
        if self._fid.size:
            load = np.bincount(self._nz_link, weights=self._rate_fin.repeat(self._nz_len),
                               minlength=self._capacity.size).astype(np.float64)
        else:
            load = np.zeros(self._capacity.size)
        for listener in self.listeners:
            listener(self.now_s, load)

    def next_event(self) -> tuple[float, int] | None:
        """The next instant something happens without outside intervention, and to which flow.

        That is the earliest of: a sending flow's last byte leaving (rates change there) and an
        in-flight flow's delivery. None when nothing is pending. A driver waits until this time,
        then calls :meth:`advance` and :meth:`pop_completed`.
        """
        self._refresh()
        best: tuple[float, int] | None = None
        if self._fid.size:
            i, t = self._i_next, self._t_next
            if math.isfinite(t):
                best = (t, int(self._fid[i]))
        heap = self._in_flight
        while heap and (heap[0][1] not in self._meta):
            heapq.heappop(heap)
        if heap and (best is None or heap[0][0] < best[0]):
            best = (heap[0][0], heap[0][1])
        return best

    def next_completion(self) -> tuple[float, int] | None:
        """Earliest predicted completion ``(time_s, fid)`` under the current rates, or None.

        For a sending flow this is its sending end plus its path latency. The prediction is exact
        unless the set of sending flows changes first (another flow stopping sending can speed it
        up), which is why simulations should be driven by :meth:`next_event`.
        """
        self._refresh()
        best: tuple[float, int] | None = None
        if self._fid.size:
            done = self._t_sent + self._lat
            i = int(np.argmin(done))
            if math.isfinite(done[i]):
                best = (float(done[i]), int(self._fid[i]))
        heap = self._in_flight
        while heap and (heap[0][1] not in self._meta):
            heapq.heappop(heap)
        if heap and (best is None or heap[0][0] < best[0]):
            best = (heap[0][0], heap[0][1])
        return best

    def pop_completed(self) -> list[FlowRecord]:
        """Records of flows completed since the last call, in completion order."""
        out = self._unreported
        self._unreported = []
        return out

    def link_utilization(self) -> F64:
        """Current load / capacity of each directed link, shape (n_links,), in [0, 1]."""
        self._refresh()
        load = np.bincount(
            self._nz_link, weights=self._rate.repeat(self._nz_len), minlength=self._capacity.size
        )
        out = np.zeros(load.shape[0], dtype=np.float64)
        np.divide(load, self._capacity, out=out, where=self._capacity > 0)  # dead links: 0
        return out

    def rate_bps(self, fid: int) -> float:
        """Current rate of a live flow, bit/s (0 once its last byte has left)."""
        if fid not in self._meta:
            raise KeyError(fid)
        self._refresh()
        if not math.isnan(self._meta[fid].sent_at_s):
            return 0.0
        return float(self._rate[self._slot(fid)])

    def remaining_bytes(self, fid: int) -> float:
        """Bytes a live flow still has to send (as of the last :meth:`advance`)."""
        if fid not in self._meta:
            raise KeyError(fid)
        self._refresh()
        if not math.isnan(self._meta[fid].sent_at_s):
            return 0.0
        return float(self._rem[self._slot(fid)])

    def flow_links(self, fid: int) -> IntP:
        """Directed link indices of a sending flow's path."""
        self._refresh()
        slot = self._slot(fid)
        return self._nz_link[self._nz_ptr[slot] : self._nz_ptr[slot + 1]]

    @property
    def n_sending(self) -> int:
        """Number of flows still sending bytes."""
        self._refresh()
        return int(self._fid.size)

    @property
    def n_live(self) -> int:
        """Number of flows started and not yet ended (sending or in flight)."""
        return len(self._meta)

    def rates(self) -> tuple[NDArray[np.int64], F64]:
        """Ids and current rates (bit/s) of all sending flows, ascending id."""
        self._refresh()
        return self._fid.copy(), self._rate.copy()

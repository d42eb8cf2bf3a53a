"""SimPy driver of the flow-level network: transfers as events.

This module owns :class:`NetworkService`, which runs a :class:`~dcsim.network.flows.FlowNetwork`
on a SimPy clock. It adds no model of its own: rates, latency and completion semantics are those
of :mod:`dcsim.network.flows` (max-min fair rates recomputed whenever a flow starts or stops
sending; a transfer completes when its last byte has been sent *and* has crossed the path's
propagation latency).

One SimPy process (``network``) sleeps until the flow network's next event (a flow's last byte
leaving, or a delivery). Starting or stopping a flow interrupts it so it re-plans, so the number
of SimPy events grows with flow starts and ends, never with simulated time.

Imports: numpy, simpy, dcsim.network.flows.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import simpy
from simpy.events import ProcessGenerator

from dcsim.network.flows import FlowNetwork, FlowRecord

__all__ = ["NetworkService", "NoPath", "TransferEvent"]


class TransferEvent(simpy.Event):
    """Succeeds with the transfer's :class:`FlowRecord` when the transfer ends.

    Attributes
    ----------
    fid : int
        The flow id, for :meth:`NetworkService.cancel` and rate queries on the flow network.
    """

    def __init__(self, env: simpy.Environment, fid: int) -> None:
        super().__init__(env)
        self.fid = fid


class NoPath(Exception):
    """A transfer that may not stall (``transfer(..., stall=False)``) lost its path: the
    failed links cut its two hosts apart. Its event fails with this; the flow was removed
    (its record, ``completed=False``, holds the bytes sent so far)."""


class _Replan:
    """Interrupt cause: the set of flows changed."""


class NetworkService:
    """Transfers and background traffic over a flow network, driven by a SimPy environment.

    Parameters
    ----------
    env : simpy.Environment
        The simulation clock; ``flows`` must be at ``env.now`` or earlier.
    flows : FlowNetwork
        The flow model. Drive it only through this service once the service exists.

    Notes
    -----
    Semantics of :meth:`transfer`, for users such as live migration (one call per pre-copy
    round, the next round's size computed from the previous round's record):

    * the flow starts at ``env.now`` and immediately shares bandwidth max-min fairly with every
      other flow on its path, up to ``rate_cap_bps``;
    * its rate changes whenever any flow starts or stops sending; bytes are accounted exactly;
    * the returned event succeeds at the instant the last byte *arrives*: the moment it was sent
      plus the path's one-way latency. Its value is the :class:`FlowRecord` (``start_s``,
      ``end_s``, ``nbytes``; ``completed`` True). ``duration_s`` therefore includes latency, and
      a round of 0 bytes takes exactly one path latency;
    * a transfer whose two hosts sit on the same node crosses no link: it runs at its cap, and
      is instantaneous without one;
    * :meth:`cancel` ends it early; the event then succeeds with ``completed=False`` and the
      bytes sent so far;
    * with failed links (:meth:`set_links_down`) a transfer without a path stalls at rate 0
      until a repair, or, started with ``stall=False``, is removed and its event fails with
      :class:`NoPath` (the record keeps the bytes sent).

    SimPy cannot withdraw a scheduled timeout, so each re-plan leaves one stale timeout in the
    queue (it wakes nothing). ``env.run()`` with no ``until`` therefore ends at the latest such
    time, not at the last real event; pass ``until`` when that matters.
    """

    def __init__(self, env: simpy.Environment, flows: FlowNetwork) -> None:
        self.env = env
        self.flows = flows
        self._waiting: dict[int, TransferEvent] = {}
        self._no_stall: set[int] = set()  # transfers that fail with NoPath instead of stalling
        self.any_down = False  # whether some link is out of service now
        self._asleep = False
        self._replan_pending = False
        self.flows.advance(env.now)
        self._process = env.process(self._network())

    # -- public API ---------------------------------------------------------------------------

    def transfer(
        self,
        src_host: int,
        dst_host: int,
        nbytes: float,
        rate_cap_bps: float = math.inf,
        tag: str = "",
        key: int | None = None,
        stall: bool = True,
    ) -> TransferEvent:
        """Start moving ``nbytes`` bytes (finite) from ``src_host`` to ``dst_host`` now.

        Parameters
        ----------
        src_host, dst_host : int
            Config host indices.
        nbytes : float
            Bytes to move, finite and >= 0.
        rate_cap_bps : float
            Rate limit of this transfer, bit/s (``inf``: none).
        tag : str
            Label copied to the record.
        key : int, optional
            ECMP key; default the flow id.
        stall : bool
            What happens when failed links leave no path between the hosts (at the start or
            later): True, the flow stalls (rate 0) until a repair; False, it is removed and
            the event fails with :class:`NoPath`.

        Returns
        -------
        TransferEvent
            Succeeds with the :class:`FlowRecord` when the last byte arrives (see class notes).
        """
        if not math.isfinite(nbytes):
            raise ValueError("a transfer needs a finite size; use start_background() instead")
        fid = self.flows.add_flow(self.env.now, src_host, dst_host, nbytes, rate_cap_bps, key, tag)
        event = TransferEvent(self.env, fid)
        self._waiting[fid] = event
        if not stall:
            self._no_stall.add(fid)
            if self.any_down:
                self._fail_stalled()
        self._replan()
        return event

    def reachable_from(self, src_host: int) -> Any:
        """(n_hosts,) bool: which hosts a flow from ``src_host`` can reach now."""
        return self.flows.reachable_from(src_host)

    def _fail_stalled(self) -> None:
        """Remove every no-stall transfer left without a path; fail its event with NoPath."""
        for fid in self.flows.stalled_fids():
            if fid in self._no_stall:
                rec = self.flows.remove_flow(self.env.now, fid)
                self._no_stall.discard(fid)
                event = self._waiting.pop(fid)
                event.fail(NoPath(f"no path from host {rec.src} to host {rec.dst}"))

    def start_background(
        self,
        src_host: int,
        dst_host: int,
        rate_bps: float = math.inf,
        nbytes: float = math.inf,
        tag: str = "background",
        key: int | None = None,
    ) -> int:
        """Start background traffic; returns its flow id.

        Parameters
        ----------
        src_host, dst_host : int
            Config host indices.
        rate_bps : float
            The most it sends, bit/s; it gets less when its fair share is lower. ``inf``: as
            much as max-min fairness gives it (an elephant flow).
        nbytes : float
            Total size, bytes; ``inf`` (default) runs until :meth:`stop_background`. A finite
            background flow just ends (its record lands in ``flows.records``).
        tag : str
            Label copied to the record.
        key : int, optional
            ECMP key; default the flow id.
        """
        fid = self.flows.add_flow(self.env.now, src_host, dst_host, nbytes, rate_bps, key, tag)
        self._replan()
        return fid

    def stop_background(self, fid: int) -> FlowRecord:
        """Stop a background flow now; returns its record (bytes sent so far)."""
        rec = self.flows.remove_flow(self.env.now, fid)
        self._replan()
        return rec

    def cancel(self, fid: int) -> FlowRecord:
        """End a transfer early; its event succeeds with ``completed=False``."""
        rec = self.flows.remove_flow(self.env.now, fid)
        self._no_stall.discard(fid)
        event = self._waiting.pop(fid, None)
        if event is not None:
            event.succeed(rec)
        self._replan()
        return rec

    def set_links_down(self, down: Any) -> int:
        """Take directed links out of service now (``down``: bool per link) and re-route every
        flow (``FlowNetwork.set_links_down``); returns the number of flows left stalled.
        Transfers started with ``stall=False`` that lost their path fail with :class:`NoPath`."""
        stalled = self.flows.set_links_down(self.env.now, down)
        self.any_down = bool(np.any(down))
        self._fail_stalled()
        self._replan()
        return stalled

    def sync(self) -> None:
        """Bring the flow network up to ``env.now``, e.g. before sampling ``flows.link_bytes``.

        Anything due by now (a completion) is handled as the network process would.
        """
        self.flows.advance(self.env.now)
        self._replan()

    # -- the process --------------------------------------------------------------------------

    def _replan(self) -> None:
        self._dispatch()
        # Wake the network process so it waits for the new next event. Only when it is asleep
        # and not already woken: the process itself re-plans after every step.
        if self._asleep and not self._replan_pending:
            self._replan_pending = True
            self._process.interrupt(_Replan())

    def _dispatch(self) -> None:
        for rec in self.flows.pop_completed():
            self._no_stall.discard(rec.fid)
            event = self._waiting.pop(rec.fid, None)
            if event is not None:
                event.succeed(rec)

    def _network(self) -> ProcessGenerator:
        """SimPy process: sleep until the flow network's next event, apply it, repeat."""
        env = self.env
        wake: simpy.Event | None = None
        while True:
            nxt = self.flows.next_event()
            if nxt is None:
                wake = env.event()  # never triggered: only an interrupt ends this wait
            else:
                wake = env.timeout(max(0.0, nxt[0] - env.now))
            self._asleep = True
            try:
                yield wake
            except simpy.Interrupt:
                self._replan_pending = False
            self._asleep = False
            self.flows.advance(env.now)
            self._dispatch()

"""Guest lifecycles without a SimPy process per guest: boot completions and departures.

A guest admitted with a boot time or a finite lifetime gets timers that end its boot
(``booted``: only its host is re-shared) and its life (``ended``); no generator, no ``Process``
object, no event object per guest. Timers run in exactly the order SimPy would run per-guest
timeouts: by (instant, creation order) among themselves and among all other events. SimPy orders
its queue by (time, priority, event id); a timer takes an event id from the environment's counter
when it is created, where the per-guest process used to create its timeout (the timers of one
admission batch from one urgent event at the admission instant, in admission order, as each
process's first step ran from its urgent start event), and only the earliest pending timer is
represented in SimPy's queue, by one event with that timer's own (time, priority, id) key. So
simultaneous events keep their order, and results are those of one process per guest.

Timers live outside SimPy's heap: each admission batch as arrays sorted by (instant, id) with a
cursor, single timers (departures armed at a boot completion) as tuples, all merged by a small
heap. Memory is ~50 bytes per pending timer instead of ~700 (an event, its callback and a heap
entry each). This reads and writes ``Environment._queue`` and ``_eid`` (SimPy 4's event queue);
with a SimPy without them, each timer is a plain ``Timeout`` with a callback (same order).

A timer belongs to one admission of its guest: if the guest is evicted meanwhile (its host
failed; it may even be running elsewhere again, with a new generation ``Simulation.gen``), the
timer does nothing.

Imports: numpy, simpy, dcsim.model.
"""

from __future__ import annotations

import heapq
import math
from functools import partial
from typing import TYPE_CHECKING, Any

import numpy as np
import simpy
from numpy.typing import NDArray
from simpy.events import NORMAL, URGENT, Timeout

from dcsim.model.cluster import GuestStatus

if TYPE_CHECKING:
    from dcsim.engine.simulation import Simulation

__all__ = ["Timers", "arm", "booted", "ended"]

_BOOTING = int(GuestStatus.BOOTING)  # plain ints: an enum attribute costs a lookup per use
_RUNNING = int(GuestStatus.RUNNING)
_DIRECT = all(hasattr(simpy.Environment(), a) for a in ("_queue", "_eid", "_now"))


class _Arm(simpy.events.Event):
    """An event triggered at creation with urgent priority (as SimPy's process start)."""

    def __init__(self, env: simpy.Environment, callback: Any) -> None:
        super().__init__(env)
        self.callbacks.append(callback)
        self._ok = True
        self._value = None
        env.schedule(self, URGENT)


class _Batch:
    """The timers of one admission batch, sorted by (instant, event id), with a cursor."""

    __slots__ = ("boot", "eid", "gen", "guest", "life", "next", "t")

    def __init__(self, t: NDArray[np.float64], eid: NDArray[np.int64], guest: NDArray[np.intp],
                 gen: NDArray[np.int64], boot: NDArray[np.float64],
                 life: NDArray[np.float64]) -> None:
        order = np.lexsort((eid, t))
        self.t, self.eid, self.guest = t[order], eid[order], guest[order]
        self.gen, self.boot, self.life = gen[order], boot[order], life[order]
        self.next = 0

    def key(self, k: int) -> tuple[float, int]:
        return float(self.t[k]), int(self.eid[k])


class Timers:
    """Pending lifecycle timers of a run, merged into SimPy's order (see the module docstring)."""

    def __init__(self, sim: Simulation) -> None:
        self.sim = sim
        self.env = sim.env
        # (instant, event id, batch or None, payload) — (instant, id) is unique
        self.heap: list[tuple[float, int, _Batch | None, Any]] = []
        self.proxied: set[int] = set()  # event ids with a SimPy queue entry

    def _reserve(self) -> int:
        return next(self.env._eid)

    def add_batch(self, timers: list[tuple[int, float, float]]) -> None:
        """Arm the timers of an admission batch (from its urgent event, in admission order)."""
        sim, now = self.sim, self.env.now
        if len(timers) == 1:  # one guest (most arrivals): ``_Batch``'s arithmetic in floats
            g1, boot1, life1 = timers[0][0], float(timers[0][1]), float(timers[0][2])
            if boot1 > 0 or life1 < math.inf:
                sim.events += 1
                wait = min(boot1, life1) if boot1 > 0 else life1 - boot1
                heapq.heappush(self.heap, (now + wait, self._reserve(), None,
                                           (g1, int(sim.gen[g1]), boot1, life1)))
                self._proxy()
            return
        g = np.asarray([x[0] for x in timers], dtype=np.intp)
        boot = np.asarray([x[1] for x in timers], dtype=np.float64)
        life = np.asarray([x[2] for x in timers], dtype=np.float64)
        armed = (boot > 0) | (life < math.inf)
        sim.events += int(armed.sum())
        g, boot, life = g[armed], boot[armed], life[armed]
        if g.shape[0] == 0:
            return
        # the delay each per-guest process waited first: its boot (or life if shorter), or its
        # whole life when it does not boot
        delay = np.where(boot > 0, np.minimum(boot, life), life - boot)
        first = self._reserve()
        eid = np.arange(first, first + g.shape[0], dtype=np.int64)
        for _ in range(g.shape[0] - 1):  # the ids the per-guest timeouts would have taken
            self._reserve()
        batch = _Batch(now + delay, eid, g, sim.gen[g].astype(np.int64), boot, life)
        heapq.heappush(self.heap, (*batch.key(0), batch, None))
        self._proxy()

    def add_one(self, delay: float, payload: tuple[int, int]) -> None:
        """Arm a departure timer ``(guest, generation)`` ``delay`` s from now."""
        heapq.heappush(self.heap, (self.env.now + delay, self._reserve(), None, payload))
        self._proxy()

    def _proxy(self) -> None:
        """Give the earliest pending timer its entry in SimPy's queue (if it has none)."""
        if self.heap:
            t, eid = self.heap[0][0], self.heap[0][1]
            if eid not in self.proxied:
                self.proxied.add(eid)
                ev = simpy.events.Event(self.env)
                ev._ok = True
                ev._value = None
                ev.callbacks.append(partial(self._fire, eid))
                heapq.heappush(self.env._queue, (t, NORMAL, eid, ev))

    def _fire(self, key: int, _: Any) -> None:
        _t, eid, batch, payload = heapq.heappop(self.heap)
        if eid != key:  # the earliest timer always has its entry: this cannot happen
            raise RuntimeError(f"lifecycle timer {eid} ran in the slot of {key}")
        self.proxied.discard(eid)
        if batch is not None:
            k = batch.next
            batch.next = k + 1
            if k + 1 < batch.t.shape[0]:
                heapq.heappush(self.heap, (*batch.key(k + 1), batch, None))
            g, gen = int(batch.guest[k]), int(batch.gen[k])
            boot, life = float(batch.boot[k]), float(batch.life[k])
            self._proxy()
            if boot > 0:
                booted(self.sim, g, gen, boot, life)
            else:
                ended(self.sim, g, gen)
        else:
            self._proxy()
            if len(payload) == 2:
                ended(self.sim, *payload)
            elif payload[2] > 0:  # one timer of a batch of one (``add_batch``)
                booted(self.sim, *payload)
            else:
                ended(self.sim, payload[0], payload[1])


def arm(sim: Simulation, timers: list[tuple[int, float, float]]) -> None:
    """Start the lifecycle of admitted guests: ``(guest, boot_s, lifetime_s)`` each, in
    admission order (``boot_s`` > 0 or ``lifetime_s`` finite)."""
    if timers:
        _Arm(sim.env, partial(_start_timers, sim, timers))


def _start_timers(sim: Simulation, timers: list[tuple[int, float, float]], _: Any) -> None:
    if sim.timers is not None:
        sim.timers.add_batch(timers)
        return
    env, gen = sim.env, sim.gen
    for g, boot_s, lifetime_s in timers:
        if boot_s > 0:
            sim.events += 1
            t = Timeout(env, min(boot_s, lifetime_s))
            t.callbacks.append(partial(booted, sim, g, int(gen[g]), boot_s, lifetime_s))
        elif lifetime_s < math.inf:  # (never NaN)
            sim.events += 1
            t = Timeout(env, lifetime_s - boot_s)
            t.callbacks.append(partial(ended, sim, g, int(gen[g])))


def booted(sim: Simulation, g: int, gen: int, boot_s: float, lifetime_s: float,
           _: Any = None) -> None:
    """Guest ``g``'s boot ends now: it starts running (or departs, if its life ended first)."""
    if sim.gen[g] != gen or sim.state.status[g] != _BOOTING:
        return  # evicted while booting (e.g. its host failed)
    if boot_s >= lifetime_s:
        sim.depart(g)
        return
    sim._start(g)
    if lifetime_s < math.inf:
        sim.events += 1
        if sim.timers is not None:
            sim.timers.add_one(lifetime_s - boot_s, (g, gen))
            return
        t = Timeout(sim.env, lifetime_s - boot_s)
        t.callbacks.append(partial(ended, sim, g, gen))


def ended(sim: Simulation, g: int, gen: int, _: Any = None) -> None:
    """Guest ``g``'s lifetime ends now: it departs (if still running this admission)."""
    if sim.gen[g] == gen and sim.state.status[g] == _RUNNING:
        sim.depart(g)


def timers_for(sim: Simulation) -> Timers | None:
    """The run's timer queue, or None (plain ``Timeout``s) if SimPy's internals differ."""
    return Timers(sim) if _DIRECT else None

"""Guest lifecycles without a SimPy process per guest: boot completions and departures.

A guest admitted with a boot time or a finite lifetime gets plain SimPy timeouts whose callbacks
end its boot (``booted``: only its host is re-shared) and its life (``ended``); no generator,
no ``Process`` object, no initialisation event per guest. The timers of one admission batch are
armed by one urgent event at the admission instant, in admission order: exactly where the
per-guest processes used to create theirs (each process's first step ran from its urgent
initialisation event), so every timer takes the same place in SimPy's queue as before
(time, priority, then creation order) and simultaneous events keep their order.

A timer belongs to one admission of its guest: if the guest is evicted meanwhile (its host
failed; it may even be running elsewhere again, with a new generation ``Simulation.gen``), the
timer does nothing.

Imports: simpy, dcsim.model.
"""

from __future__ import annotations

import math
from functools import partial
from typing import TYPE_CHECKING, Any

import simpy
from simpy.events import URGENT, Timeout

from dcsim.model.cluster import GuestStatus

if TYPE_CHECKING:
    from dcsim.engine.simulation import Simulation

__all__ = ["arm", "booted", "ended"]

_BOOTING = int(GuestStatus.BOOTING)  # plain ints: an enum attribute costs a lookup per use
_RUNNING = int(GuestStatus.RUNNING)


class _Arm(simpy.events.Event):
    """An event triggered at creation with urgent priority (as SimPy's process start)."""

    def __init__(self, env: simpy.Environment, callback: Any) -> None:
        super().__init__(env)
        self.callbacks.append(callback)
        self._ok = True
        self._value = None
        env.schedule(self, URGENT)


def arm(sim: Simulation, timers: list[tuple[int, float, float]]) -> None:
    """Start the lifecycle of admitted guests: ``(guest, boot_s, lifetime_s)`` each, in
    admission order (``boot_s`` > 0 or ``lifetime_s`` finite)."""
    if timers:
        _Arm(sim.env, partial(_start_timers, sim, timers))


def _start_timers(sim: Simulation, timers: list[tuple[int, float, float]], _: Any) -> None:
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
        t = Timeout(sim.env, lifetime_s - boot_s)
        t.callbacks.append(partial(ended, sim, g, gen))


def ended(sim: Simulation, g: int, gen: int, _: Any = None) -> None:
    """Guest ``g``'s lifetime ends now: it departs (if still running this admission)."""
    if sim.gen[g] == gen and sim.state.status[g] == _RUNNING:
        sim.depart(g)

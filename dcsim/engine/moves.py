"""Migrating a running guest inside the default engine.

``migrate`` reserves the destination at once (the guest holds resources on both hosts until the
switch-over, so capacity is never exceeded) and runs the migration as a SimPy process whose rounds
are network transfers (``dcsim.engine.migration.migration_process``). The process charges the
migration's CPU cost on both hosts, slows the guest during live rounds, pauses it for the
stop-and-copy, and moves it at switch-over. Storage is shared within a data center; across data
centers the disk is copied first (live models) or with the memory (cold).

Imports: dataclasses, functools, numpy, simpy (through the Simulation), dcsim.engine.migration,
dcsim.model.
"""

from __future__ import annotations

import dataclasses
import functools
from typing import TYPE_CHECKING, Any

import numpy as np
import simpy
from numpy.typing import NDArray

from dcsim.model.cluster import GuestStatus

if TYPE_CHECKING:
    from collections.abc import Callable

    from dcsim.engine.simulation import ProcessGenerator, Simulation


def migrate(sim: Simulation, g: int, dst: int, spec: Any) -> simpy.Process | None:
    """Start migrating running guest ``g`` to host ``dst`` with ``spec`` (a MigrationSpec).

    The destination is reserved at once (the guest holds resources on both hosts until the
    switch-over, so capacity is never exceeded); returns the SimPy process, or ``None`` when
    the guest cannot move now (not running, already moving, or ``dst`` has no room).
    """
    st = sim.state
    src = int(st.host_of[g])
    if (
        src < 0
        or src == dst
        or st.status[g] != GuestStatus.RUNNING
        or st.mig_dst[g] >= 0
        or not st.fits(g, dst)
    ):
        return None
    prof = sim.profiles[int(st.profile[src])]
    if spec.model in ("precopy", "postcopy") and not prof.live_migration:
        return None
    if not reachable(sim, src)[dst]:  # failed links cut the two hosts apart
        return None
    wake = sim.wake(dst)
    sim.update_host(dst, lambda: st.begin_migration(g, dst))
    proc = sim.env.process(migration(sim, g, src, dst, spec, wake))
    sim.mig_procs[g] = proc
    return proc


def links_intact(sim: Simulation) -> bool:
    """Whether no network link is down now (every host reaches every other)."""
    net = sim._network
    return net is None or not net.any_down


def reachable(sim: Simulation, src: int) -> NDArray[np.bool_]:
    """(n_hosts,) hosts a migration from ``src`` can reach now (all while no link is down)."""
    net = sim._network
    if net is None or not net.any_down:
        return np.ones(sim.state.n_hosts, dtype=bool)
    out: NDArray[np.bool_] = np.asarray(net.reachable_from(src), dtype=bool)
    return out


def interrupt(sim: Simulation, g: int, cause: str) -> None:
    """Abort guest ``g``'s migration in flight, if any (see ``migration``)."""
    proc = sim.mig_procs.get(g)
    if proc is not None and proc.is_alive and proc is not sim.env.active_process:
        proc.interrupt(cause)


class _Tracked:
    """The run's network service, remembering the transfer in flight (to cancel it)."""

    def __init__(self, net: Any) -> None:
        self.net = net
        self.last: Any = None
        # Before the switch-over a round without a path aborts the migration (NoPath); after it
        # (post-copy pulling pages to the destination) the guest cannot go back, so it stalls.
        self.switched = False

    def transfer(
        self,
        src_host: Any,
        dst_host: Any,
        nbytes: float,
        rate_cap_bps: float = float("inf"),
        tag: str = "",
    ) -> Any:
        self.last = self.net.transfer(
            src_host, dst_host, nbytes, rate_cap_bps=rate_cap_bps, tag=tag, stall=self.switched
        )
        return self.last


def migration(
    sim: Simulation, g: int, src: int, dst: int, spec: Any, wake_s: float
) -> ProcessGenerator:
    """SimPy process: one migration, its rounds carried by the network model.

    Interrupted (the guest left its source host, or the destination failed), or cut off from
    its destination by failed links (its transfers never stall: ``NoPath``, at the start of a
    round or mid-way), it cancels the transfer in flight, gives back the CPU it charged and the
    destination's reservation, and ends without a record (counted in ``migrations_aborted``;
    the bytes already sent stay in the flow records). A guest paused for its stop-and-copy
    resumes on its source.
    """
    from dcsim.engine.network import NoPath

    st = sim.state
    net = _Tracked(sim.network)
    charged = [False]
    try:
        return (yield from _held(sim, _run(sim, g, src, dst, spec, wake_s, net, charged)))
    except (simpy.Interrupt, NoPath):
        sim.release_shares()
        if net.last is not None and not net.last.triggered:
            sim.network.cancel(net.last.fid)
        if charged[0]:
            _charge(sim, g, src, dst, spec, -1.0)
        if st.mig_dst[g] == dst and st.host_of[g] == src:
            sim.update_host(dst, lambda: st.abort_migration(g))
        if st.host_of[g] >= 0:
            sim.set_paused(g, False)
            sim.set_speed(g, 1.0)
        sim.migrations_aborted += 1
        sim.maybe_sleep(dst)
        return None
    finally:
        sim.release_shares()
        if sim.mig_procs.get(g) is sim.env.active_process:
            del sim.mig_procs[g]


def _held(sim: Simulation, gen: ProcessGenerator) -> ProcessGenerator:
    """``yield from gen``, its host changes between two yields held (``Simulation.hold_shares``).

    A migration changes its two hosts several times at one instant (CPU charge and slow-down at
    the start; switch-over, charge returned, guest resumed, source put to sleep at the end),
    and nothing between two of its yields reads the shares: each host is settled and re-shared
    once per instant instead of once per change, with the same result. Shares are released
    before every yield and when ``gen`` ends (by its return; an exception is released by the
    caller).
    """
    step: Callable[[], Any] = functools.partial(gen.send, None)  # = next(gen) at the start
    while True:
        sim.hold_shares()
        try:
            event = step()
        except StopIteration as stop:
            sim.release_shares()
            return stop.value
        sim.release_shares()
        try:
            value = yield event
        except BaseException as exc:  # an interrupt thrown into the process: pass it on
            step = functools.partial(gen.throw, exc)
        else:
            step = functools.partial(gen.send, value)


def _charge(sim: Simulation, g: int, src: int, dst: int, spec: Any, sign: float) -> None:
    """Add (``sign`` 1) or remove (-1) the migration's CPU cost on both hosts."""
    st = sim.state
    mips = float(st.vcpus[g] * st.mips[g])

    def add(h: int, cost: float) -> None:
        sim.extra_raw[h] = max(0.0, sim.extra_raw[h] + sign * cost)

    for h, cost in ((src, spec.cpu_cost_source * mips), (dst, spec.cpu_cost_destination * mips)):
        sim.update_host(h, functools.partial(add, h, cost))


def _run(
    sim: Simulation,
    g: int,
    src: int,
    dst: int,
    spec: Any,
    wake_s: float,
    net: _Tracked,
    charged: list[bool],
) -> ProcessGenerator:
    from dcsim.engine.migration import migration_process
    from dcsim.model.migration import dirty_rate_function

    st = sim.state
    if wake_s > 0:
        sim.events += 1
        yield sim.env.timeout(wake_s)

    def charge(sign: float) -> None:
        _charge(sim, g, src, dst, spec, sign)
        charged[0] = sign > 0

    def alive() -> bool:
        return bool(st.mig_dst[g] == dst and st.host_of[g] == src)

    def on_phase(phase: str, now: float) -> None:
        if phase == "live" and alive():
            sim.set_speed(g, 1.0 - spec.slowdown)
        elif phase == "stop" and alive():
            sim.set_paused(g, True)
        elif phase == "post" and st.host_of[g] == dst:
            sim.set_speed(g, 1.0 - spec.slowdown)

    def on_switch(now: float) -> None:
        if not alive():
            return
        net.switched = True

        def move() -> None:
            st.finish_migration(g)
            sim.paused[g] = False
            if sim.check_invariants:
                st.check()

        # settle both hosts up to now, move the guest, then re-share both (once each)
        sim.update_host(src, lambda: sim.update_host(dst, move))
        for hook in sim.move_hooks:
            hook(g, src, dst)
        sim.migration_gaps.append(now - float(sim.placed_since[g]))
        sim.placed_since[g] = now

    charge(1.0)
    # Storage is shared within a data center; across data centers the disk goes too: with a
    # live model it is copied first while the guest runs (slowed), then memory pre-copy.
    cross_dc = bool(st.datacenter[src] != st.datacenter[dst])
    disk = float(st.gdisk[g] + st.disk_overhead[src]) if cross_dc else 0.0
    disk_s = 0.0
    if cross_dc and spec.model in ("precopy", "postcopy") and disk > 0:
        t0 = sim.env.now
        on_phase("live", t0)
        cap = spec.bandwidth_cap if spec.bandwidth_cap is not None else float("inf")
        yield net.transfer(src, dst, disk, rate_cap_bps=cap, tag=f"disk:{g}")
        disk_s = sim.env.now - t0
        disk = 0.0
    dirty = dirty_rate_function(spec, lambda t: float(sim.u_last[g]))
    # memory to copy: the allocation, or the touched pages (dcsim.engine.memory)
    ram_bytes = float(st.gram[g]) if sim.memory is None else sim.memory.to_send(g, src)
    record = yield from migration_process(
        sim.env,
        net,
        ram_bytes,
        dirty,
        src,
        dst,
        spec,
        on_switch,
        guest=g,
        disk_bytes=disk,
        host_bandwidth_bps=float(st.bandwidth[src]),
        on_phase=on_phase,
    )
    if disk_s > 0:
        record = dataclasses.replace(
            record,
            start_s=record.start_s - disk_s,
            bytes_sent=record.bytes_sent + float(st.gdisk[g] + st.disk_overhead[src]),
        )
    charge(-1.0)
    if st.mig_dst[g] == dst:  # never switched (e.g. guest left): give the room back
        sim.update_host(dst, lambda: st.abort_migration(g))
    if st.host_of[g] >= 0:
        sim.set_paused(g, False)
        sim.set_speed(g, 1.0)
    sim.migration_records.append(record)
    sim.maybe_sleep(src)
    sim.maybe_sleep(dst)
    return record

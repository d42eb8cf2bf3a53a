"""The migration process: a planner's rounds run as network flows on the simulation clock.

``migration_process`` asks a planner of ``dcsim.model.migration`` for each step and runs it as
``yield network.transfer(...)``, so a round lasts as long as the bandwidth its path really gets
(max-min shares that change as other flows start and end), and the planner's stop test sees the
rate that round achieved. It reports phase changes and the switch-over through callbacks (the
simulation moves the guest, charges slowdown and downtime) and returns a ``MigrationRecord``.

``FixedRateNetwork`` is a stand-in transfer service in which every transfer gets its own link of
fixed rate (no sharing): for one migration on one dedicated link (the ``dcsim migration`` command)
and for tests. The shared, max-min fair service is ``dcsim.engine.network.NetworkService``.

Aborting a migration (its host failed, the guest left, failed links cut it off: an interrupt or
``NoPath`` thrown into this process) is handled by its caller, ``dcsim.engine.moves.migration``.

Imports: simpy, dcsim.config.migration, dcsim.model.migration.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from typing import Any, Protocol

import simpy
from simpy.events import ProcessGenerator

from dcsim.config.migration import MigrationSpec
from dcsim.model.migration import Phase, RoundRecord, StopReason, make_planner, summarize

__all__ = [
    "FixedRateNetwork",
    "MigrationRecord",
    "TransferRecord",
    "TransferService",
    "migration_process",
]


class TransferService(Protocol):
    """What the migration process needs from the network."""

    def transfer(
        self,
        src_host: Any,
        dst_host: Any,
        nbytes: float,
        rate_cap_bps: float = math.inf,
        tag: str = "",
    ) -> simpy.Event:
        """An event that succeeds once ``nbytes`` bytes went from ``src_host`` to ``dst_host``."""
        ...


@dataclass(frozen=True, slots=True)
class MigrationRecord:
    """One finished migration; times are simulation times in s, bytes over the network.

    ``rounds`` counts network copy rounds including the final stop-and-copy; ``switch_s`` is when
    the guest started running on the destination; ``degraded_s`` the time it ran slowed down
    (live pre-copy rounds, post-copy pull); ``per_round`` times are relative to ``start_s``.
    """

    guest: Hashable
    source: Hashable
    destination: Hashable
    model: str
    start_s: float
    end_s: float
    rounds: int
    bytes_sent: float
    downtime_s: float
    switch_s: float
    degraded_s: float
    stop_reason: StopReason
    per_round: tuple[RoundRecord, ...]

    @property
    def duration_s(self) -> float:
        """Total migration time, s."""
        return self.end_s - self.start_s


def migration_process(
    env: simpy.Environment,
    network: TransferService,
    guest_ram_bytes: float,
    dirty_rate_fn: Callable[[float], float] | None,
    src_host: Hashable,
    dst_host: Hashable,
    spec: MigrationSpec,
    on_switch: Callable[[float], None] | None = None,
    *,
    guest: Hashable = None,
    disk_bytes: float = 0.0,
    host_bandwidth_bps: float | None = None,
    on_phase: Callable[[Phase, float], None] | None = None,
) -> ProcessGenerator:
    """SimPy process: migrate one guest from ``src_host`` to ``dst_host`` as network transfers.

    Parameters
    ----------
    env : simpy.Environment
        The simulation clock.
    network : TransferService
        Carries each round (``transfer(src, dst, nbytes, rate_cap_bps=, tag=)``).
    guest_ram_bytes : float
        Guest RAM, bytes.
    dirty_rate_fn : callable or None
        ``t_s -> bytes/s`` the guest dirties at time ``t_s`` (already scaled by its CPU activity,
        see ``dcsim.model.migration.dirty_rate_function``); sampled at the start of each round
        and held for it. ``None``: ``spec.dirty_rate`` throughout.
    src_host, dst_host : hashable
        Endpoints as the network service names them.
    spec : MigrationSpec
        Model and parameters; ``spec.bandwidth_cap`` caps every flow.
    on_switch : callable, optional
        Called with the time (s) at which the guest starts running on the destination.
    guest : hashable, optional
        Guest id, copied into the record and the flow tags.
    disk_bytes : float
        Disk image copied by cold migration, bytes.
    host_bandwidth_bps : float, optional
        Host link rate, bit/s; needed by the ``cloudsim`` model (which sends nothing).
    on_phase : callable, optional
        Called with (phase, time s) whenever the guest's phase changes: ``live`` (running on the
        source, slowed by ``spec.slowdown``), ``stop`` (paused), ``post`` (running on the
        destination, pages still arriving).

    Returns
    -------
    MigrationRecord
        The value of the process.
    """
    start = env.now
    rate_of = (lambda _t: spec.dirty_rate) if dirty_rate_fn is None else dirty_rate_fn
    planner = make_planner(
        spec,
        guest_ram_bytes,
        rate_of(start),
        disk_bytes=disk_bytes,
        host_bandwidth_bps=host_bandwidth_bps,
    )
    records: list[RoundRecord] = []
    phase: Phase | None = None
    while (step := planner.next_round()) is not None:
        t0 = env.now
        if step.phase != phase:
            phase = step.phase
            if on_phase is not None:
                on_phase(phase, t0)
        dirty_Bps = rate_of(t0)
        if step.transfer:
            # Even an empty round crosses the path once (device state, acknowledgement).
            yield network.transfer(
                src_host,
                dst_host,
                step.nbytes,
                rate_cap_bps=planner.rate_cap_bps,
                tag=f"migration:{guest}:{step.index}",
            )
        t1 = env.now
        planner.observe(t1 - t0, dirty_Bps)
        if step.local_s > 0:
            yield env.timeout(step.local_s)
        records.append(
            RoundRecord(
                step.index,
                step.phase,
                step.label,
                step.transfer,
                step.nbytes,
                t0 - start,
                t1 - t0,
                step.local_s,
                step.switch_after,
            )
        )
        if step.switch_after and on_switch is not None:
            on_switch(env.now)
    result = summarize(planner.model, records, planner.stop_reason)
    return MigrationRecord(
        guest=guest,
        source=src_host,
        destination=dst_host,
        model=result.model,
        start_s=start,
        end_s=env.now,
        rounds=result.rounds,
        bytes_sent=result.bytes_sent,
        downtime_s=result.downtime_s,
        switch_s=start + result.switch_s,
        degraded_s=result.degraded_s,
        stop_reason=result.stop_reason,
        per_round=result.per_round,
    )


@dataclass(frozen=True, slots=True)
class TransferRecord:
    """A finished transfer of ``FixedRateNetwork`` (times in s)."""

    src_host: Hashable
    dst_host: Hashable
    bytes: float
    start_s: float
    end_s: float
    tag: str


class FixedRateNetwork:
    """Transfers that each get a dedicated link of ``bandwidth_bps`` (no sharing between them).

    Parameters
    ----------
    env : simpy.Environment
        The simulation clock.
    bandwidth_bps : float
        Link rate, bit/s.
    latency_s : float
        Added to every transfer, s.
    """

    def __init__(
        self, env: simpy.Environment, bandwidth_bps: float, latency_s: float = 0.0
    ) -> None:
        if not bandwidth_bps > 0:
            raise ValueError(f"bandwidth_bps must be > 0, got {bandwidth_bps!r}")
        self.env = env
        self.bandwidth_bps = float(bandwidth_bps)
        self.latency_s = float(latency_s)
        self.finished: list[TransferRecord] = []

    def transfer(
        self,
        src_host: Hashable,
        dst_host: Hashable,
        nbytes: float,
        rate_cap_bps: float = math.inf,
        tag: str = "",
    ) -> simpy.Event:
        """An event that succeeds with a ``TransferRecord`` after latency + bytes / rate."""
        rate = min(self.bandwidth_bps, rate_cap_bps)
        return self.env.process(self._run(src_host, dst_host, nbytes, rate, tag))

    def _run(
        self, src: Hashable, dst: Hashable, nbytes: float, rate_bps: float, tag: str
    ) -> ProcessGenerator:
        """SimPy process: one transfer at a fixed rate."""
        start = self.env.now
        yield self.env.timeout(self.latency_s + nbytes * 8.0 / rate_bps)
        record = TransferRecord(src, dst, nbytes, start, self.env.now, tag)
        self.finished.append(record)
        return record

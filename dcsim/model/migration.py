"""Migration models as step planners that do not know where bandwidth comes from.

A *planner* says what to send next (``next_round``) and learns how long it took (``observe``).
Whoever drives it owns time and bandwidth: the SimPy process in ``dcsim.engine.migration`` runs
each round as a network flow whose rate follows max-min sharing, while ``simulate`` and
``simulate_on_link`` below drive it over a link of known rate, without SimPy. One planner type per
model of ``dcsim.config.migration.MigrationSpec``:

* ``PrecopyPlanner``: live pre-copy. Round 0 copies all RAM; round *i* copies the bytes dirtied
  during round *i*−1 (dirty rate × that round's transfer time, capped by the writable working set
  ``working_set × RAM``). After each round the remainder is compared with
  ``measured rate × max_downtime``, the measured rate being the round's bytes over its transfer
  time (QEMU's ``ram_save_live`` test, also SimGrid's); Xen's bounds (``max_rounds``, total sent
  > ``max_traffic_factor × RAM``) force an early stop. Then the guest is paused and the remainder
  sent (stop-and-copy); downtime = that transfer + ``resume_time``. Not modelled: Xen's skipping of
  pages dirtied again within a round, zero-page and compression savings, auto-converge throttling.
* ``PostcopyPlanner``: pause, switch execution (no RAM sent; downtime = ``resume_time``), then pull
  all RAM once while the guest runs, degraded, on the destination.
* ``ColdPlanner``: pause, send RAM + disk image, resume: all of it is downtime.
* ``CheckpointPlanner``: freeze, dump (RAM / ``checkpoint_rate``), send, restore (same rate) and
  resume: all of it is downtime.
* ``CloudsimPlanner``: CloudSim 3.0.3's fixed delay ``RAM / (host bandwidth / 2)`` with bandwidth in
  bytes/s; no network flow, no downtime, the guest degraded throughout.

Conventions. Sizes in bytes, rates of memory dirtying in bytes/s, network rates in bit/s (``_bps``),
times in seconds. ``rounds`` counts network copy rounds including the final stop-and-copy, so a
pre-copy with *k* live rounds reports *k* + 1.

Imports: dcsim.config.migration (no simpy, no other dcsim layer).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Literal, Protocol

from dcsim.config.migration import MigrationSpec

__all__ = [
    "CheckpointPlanner",
    "ClosedForm",
    "CloudsimPlanner",
    "ColdPlanner",
    "MigrationResult",
    "Phase",
    "Planner",
    "PostcopyPlanner",
    "PrecopyPlanner",
    "Round",
    "RoundRecord",
    "StopReason",
    "cloudsim_migration_time",
    "dirty_rate_function",
    "effective_dirty_rate",
    "make_planner",
    "precopy_closed_form",
    "simulate",
    "simulate_on_link",
    "summarize",
]

Phase = Literal["live", "stop", "post"]
"""Where the guest runs during a round: ``live`` on the source (degraded), ``stop`` nowhere
(paused: downtime), ``post`` on the destination (degraded until its pages arrive)."""

StopReason = Literal["converged", "max_rounds", "max_traffic", "cloudsim", ""]
"""Why pre-copy went to stop-and-copy; ``cloudsim`` for CloudSim's one-copy model, empty for the
other models."""


@dataclass(frozen=True, slots=True)
class Round:
    """One step a planner asks for.

    Attributes
    ----------
    index : int
        Position of the step, from 0.
    phase : Phase
        Where the guest runs meanwhile.
    nbytes : float
        Bytes to send over the network (0 for a step without transfer).
    transfer : bool
        Whether the step is a network copy round (counted in ``rounds``; may carry 0 bytes).
    local_s : float
        Time spent after the transfer off the network (resume, restore, dump), in seconds.
    switch_after : bool
        The guest runs on the destination once this step ends.
    label : str
        Human-readable name of the step.
    """

    index: int
    phase: Phase
    nbytes: float
    transfer: bool = True
    local_s: float = 0.0
    switch_after: bool = False
    label: str = ""


@dataclass(frozen=True, slots=True)
class RoundRecord:
    """What one step did: bytes sent, start (s from migration start), durations (s)."""

    index: int
    phase: Phase
    label: str
    transfer: bool
    bytes: float
    start_s: float
    transfer_s: float
    local_s: float
    switch_after: bool = False

    @property
    def end_s(self) -> float:
        """End of the step (s, from migration start)."""
        return self.start_s + self.transfer_s + self.local_s


@dataclass(frozen=True, slots=True)
class MigrationResult:
    """Outcome of one migration (times in s from its start, bytes over the network)."""

    model: str
    total_time_s: float
    downtime_s: float
    rounds: int
    bytes_sent: float
    degraded_s: float
    switch_s: float
    stop_reason: StopReason
    per_round: tuple[RoundRecord, ...]


class Planner(Protocol):
    """What every migration model offers to a driver."""

    model: str
    ram_bytes: float

    @property
    def rate_cap_bps(self) -> float:
        """Cap on the rate of the migration's flows (bit/s; ``inf`` = none)."""
        ...

    @property
    def stop_reason(self) -> StopReason:
        """Why pre-copy ended (empty while running and for non-pre-copy models)."""
        ...

    def next_round(self) -> Round | None:
        """The next step, or ``None`` when the migration is over."""
        ...

    def observe(self, duration_s: float, dirty_rate_Bps: float | None = None) -> None:
        """Feed back the transfer time (s) of the step just returned, and optionally the dirty
        rate (bytes/s) that held during it."""
        ...


class _Steps:
    """Shared bookkeeping: hand out steps one at a time, each observed before the next."""

    model = ""

    def __init__(self, spec: MigrationSpec, ram_bytes: float) -> None:
        if not math.isfinite(ram_bytes) or ram_bytes < 0:
            raise ValueError(f"ram_bytes must be finite and >= 0, got {ram_bytes!r}")
        self.spec = spec
        self.ram_bytes = float(ram_bytes)
        self._pending: Round | None = None
        self._queue: list[Round] = []
        self._index = 0

    @property
    def rate_cap_bps(self) -> float:
        cap = self.spec.bandwidth_cap
        return math.inf if cap is None else float(cap)

    @property
    def stop_reason(self) -> StopReason:
        return ""

    def _make(
        self,
        phase: Phase,
        nbytes: float,
        label: str,
        *,
        transfer: bool = True,
        local_s: float = 0.0,
        switch_after: bool = False,
    ) -> Round:
        step = Round(self._index, phase, float(nbytes), transfer, local_s, switch_after, label)
        self._index += 1
        return step

    def next_round(self) -> Round | None:
        if self._pending is not None:
            raise RuntimeError("observe() the previous round before asking for the next one")
        if not self._queue:
            return None
        self._pending = self._queue.pop(0)
        return self._pending

    def observe(self, duration_s: float, dirty_rate_Bps: float | None = None) -> None:
        if self._pending is None:
            raise RuntimeError("observe() called with no round in progress")
        if not duration_s >= 0:
            raise ValueError(f"duration_s must be >= 0, got {duration_s!r}")
        self._pending = None


class PrecopyPlanner(_Steps):
    """Live pre-copy, round by round (see the module docstring for the rules).

    Parameters
    ----------
    ram_bytes : float
        Guest RAM, bytes: the size of round 0.
    dirty_rate_Bps : float
        Bytes/s the guest dirties while it runs; ``observe`` may override it per round.
    params : MigrationSpec
        ``max_downtime``, ``max_rounds``, ``max_traffic_factor``, ``working_set``,
        ``resume_time`` and ``bandwidth_cap`` are used.
    """

    model = "precopy"

    def __init__(self, ram_bytes: float, dirty_rate_Bps: float, params: MigrationSpec) -> None:
        super().__init__(params, ram_bytes)
        if not dirty_rate_Bps >= 0:
            raise ValueError(f"dirty_rate_Bps must be >= 0, got {dirty_rate_Bps!r}")
        self.dirty_rate_Bps = float(dirty_rate_Bps)
        self.working_set_bytes = params.working_set * self.ram_bytes
        self.live_rounds = 0
        self.sent_bytes = 0.0
        self._reason: StopReason = ""
        self._queue.append(self._make("live", self.ram_bytes, label="full copy"))

    @property
    def stop_reason(self) -> StopReason:
        return self._reason

    def observe(self, duration_s: float, dirty_rate_Bps: float | None = None) -> None:
        step = self._pending
        super().observe(duration_s, dirty_rate_Bps)
        assert step is not None
        self.sent_bytes += step.nbytes
        if step.phase != "live":
            return
        self.live_rounds += 1
        rate = self.dirty_rate_Bps if dirty_rate_Bps is None else dirty_rate_Bps
        if not rate >= 0:
            raise ValueError(f"dirty_rate_Bps must be >= 0, got {rate!r}")
        remaining = min(rate * duration_s, self.working_set_bytes)
        # The rate "just observed": this round's bytes over its transfer time.
        measured_Bps = step.nbytes / duration_s if duration_s > 0 else math.inf
        spec = self.spec
        if remaining <= measured_Bps * spec.max_downtime:
            self._reason = "converged"
        elif spec.max_rounds and self.live_rounds >= spec.max_rounds:
            self._reason = "max_rounds"
        elif (
            spec.max_traffic_factor is not None
            and self.sent_bytes > spec.max_traffic_factor * self.ram_bytes
        ):
            self._reason = "max_traffic"
        if self._reason:
            self._queue.append(
                self._make(
                    "stop",
                    remaining,
                    local_s=spec.resume_time,
                    switch_after=True,
                    label="stop-and-copy",
                )
            )
        else:
            self._queue.append(self._make("live", remaining, label="dirty pages"))


class PostcopyPlanner(_Steps):
    """Post-copy: switch first (downtime = ``resume_time``), then pull all RAM once.

    Parameters
    ----------
    ram_bytes : float
        Guest RAM, bytes.
    params : MigrationSpec
        ``resume_time`` and ``bandwidth_cap`` are used.
    """

    model = "postcopy"

    def __init__(self, ram_bytes: float, params: MigrationSpec) -> None:
        super().__init__(params, ram_bytes)
        self._queue.append(
            self._make(
                "stop",
                0.0,
                transfer=False,
                local_s=params.resume_time,
                switch_after=True,
                label="switch-over",
            )
        )
        self._queue.append(self._make("post", self.ram_bytes, label="post-copy pull"))


class ColdPlanner(_Steps):
    """Cold migration: pause, send RAM and disk image, resume; everything is downtime.

    Parameters
    ----------
    ram_bytes, disk_bytes : float
        Guest RAM and disk image to copy, bytes (``disk_bytes`` = 0 with shared storage).
    params : MigrationSpec
        ``resume_time`` (the start on the destination) and ``bandwidth_cap`` are used.
    """

    model = "cold"

    def __init__(self, ram_bytes: float, params: MigrationSpec, disk_bytes: float = 0.0) -> None:
        super().__init__(params, ram_bytes)
        if not disk_bytes >= 0:
            raise ValueError(f"disk_bytes must be >= 0, got {disk_bytes!r}")
        self.disk_bytes = float(disk_bytes)
        self._queue.append(
            self._make(
                "stop",
                self.ram_bytes + self.disk_bytes,
                local_s=params.resume_time,
                switch_after=True,
                label="RAM and disk image",
            )
        )


class CheckpointPlanner(_Steps):
    """Container checkpoint/restore: freeze, dump, send, restore, resume; all of it is downtime.

    Parameters
    ----------
    ram_bytes : float
        Memory of the container, bytes (the checkpoint image size).
    params : MigrationSpec
        ``checkpoint_rate`` (dump and restore, bytes/s; ``None`` = streamed, no extra time),
        ``resume_time`` and ``bandwidth_cap`` are used.
    """

    model = "checkpoint"

    def __init__(self, ram_bytes: float, params: MigrationSpec) -> None:
        super().__init__(params, ram_bytes)
        rate = params.checkpoint_rate
        io_s = 0.0 if rate is None else self.ram_bytes / rate
        if io_s > 0:
            self._queue.append(
                self._make("stop", 0.0, transfer=False, local_s=io_s, label="freeze and dump")
            )
        self._queue.append(
            self._make(
                "stop",
                self.ram_bytes,
                local_s=io_s + params.resume_time,
                switch_after=True,
                label="transfer, restore, resume",
            )
        )


def cloudsim_migration_time(ram_bytes: float, host_bandwidth_bps: float) -> float:
    """CloudSim 3.0.3's migration delay, s: ``RAM / (bandwidth / 2)`` with bandwidth in bytes/s.

    CloudSim writes it ``ram_MB / (bw_kbit / (2 * 8000))``: 1024 MB at 1 Gbit/s → 16.384 s.
    """
    if not host_bandwidth_bps > 0:
        raise ValueError(f"host_bandwidth_bps must be > 0, got {host_bandwidth_bps!r}")
    return ram_bytes / (host_bandwidth_bps / 8.0 / 2.0)


class CloudsimPlanner(_Steps):
    """CloudSim 3.0.3: one fixed delay, no network flow, no downtime (the guest is degraded).

    Parameters
    ----------
    ram_bytes : float
        Guest RAM, bytes.
    host_bandwidth_bps : float
        Bandwidth of the destination host, bit/s.
    params : MigrationSpec
        Only carried along (CloudSim has no parameters here).
    """

    model = "cloudsim"

    def __init__(self, ram_bytes: float, host_bandwidth_bps: float, params: MigrationSpec) -> None:
        super().__init__(params, ram_bytes)
        delay = cloudsim_migration_time(self.ram_bytes, host_bandwidth_bps)
        self._queue.append(
            self._make(
                "live",
                0.0,
                transfer=False,
                local_s=delay,
                switch_after=True,
                label="CloudSim delay",
            )
        )


def make_planner(
    spec: MigrationSpec,
    ram_bytes: float,
    dirty_rate_Bps: float | None = None,
    *,
    disk_bytes: float = 0.0,
    host_bandwidth_bps: float | None = None,
) -> Planner:
    """The planner of ``spec.model`` for one guest.

    Parameters
    ----------
    spec : MigrationSpec
        Model and parameters.
    ram_bytes : float
        Guest RAM, bytes.
    dirty_rate_Bps : float, optional
        Initial dirty rate, bytes/s (pre-copy); default ``spec.dirty_rate``.
    disk_bytes : float
        Disk image to copy, bytes (cold migration only).
    host_bandwidth_bps : float, optional
        Host link rate, bit/s; required by the ``cloudsim`` model.

    Raises
    ------
    ValueError
        ``cloudsim`` without ``host_bandwidth_bps``.
    """
    rate = spec.dirty_rate if dirty_rate_Bps is None else dirty_rate_Bps
    return _FACTORIES[spec.model](spec, ram_bytes, rate, disk_bytes, host_bandwidth_bps)


def _cloudsim(
    spec: MigrationSpec, ram: float, _rate: float, _disk: float, bw_bps: float | None
) -> Planner:
    if bw_bps is None:
        raise ValueError("the cloudsim migration model needs host_bandwidth_bps")
    return CloudsimPlanner(ram, bw_bps, spec)


_Factory = Callable[[MigrationSpec, float, float, float, float | None], Planner]
_FACTORIES: dict[str, _Factory] = {
    "precopy": lambda spec, ram, rate, _disk, _bw: PrecopyPlanner(ram, rate, spec),
    "postcopy": lambda spec, ram, _rate, _disk, _bw: PostcopyPlanner(ram, spec),
    "cold": lambda spec, ram, _rate, disk, _bw: ColdPlanner(ram, spec, disk),
    "checkpoint": lambda spec, ram, _rate, _disk, _bw: CheckpointPlanner(ram, spec),
    "cloudsim": _cloudsim,
}


def effective_dirty_rate(
    spec: MigrationSpec, cpu_activity: float, base_Bps: float | None = None
) -> float:
    """Dirty rate in bytes/s of a guest at ``cpu_activity`` (0..1 of its requested CPU).

    ``base_Bps`` (default ``spec.dirty_rate``) is scaled by the activity when
    ``spec.dirty_scales_with_cpu``, as in SimGrid, where an idle VM dirties nothing.
    """
    base = spec.dirty_rate if base_Bps is None else base_Bps
    if not spec.dirty_scales_with_cpu:
        return base
    return base * min(max(cpu_activity, 0.0), 1.0)


def dirty_rate_function(
    spec: MigrationSpec, activity_fn: Callable[[float], float], base_Bps: float | None = None
) -> Callable[[float], float]:
    """A ``t_s -> bytes/s`` dirty-rate function from a ``t_s -> CPU activity (0..1)`` function,
    applying ``effective_dirty_rate`` (for ``dcsim.engine.migration.migration_process``)."""
    return lambda t_s: effective_dirty_rate(spec, activity_fn(t_s), base_Bps)


def summarize(
    model: str, records: Sequence[RoundRecord], stop_reason: StopReason = ""
) -> MigrationResult:
    """Totals of a finished migration from its step records (times from migration start)."""
    total = max((r.end_s for r in records), default=0.0)
    downtime = sum((r.transfer_s + r.local_s for r in records if r.phase == "stop"), 0.0)
    degraded = sum((r.transfer_s + r.local_s for r in records if r.phase != "stop"), 0.0)
    switches = [r.end_s for r in records if r.switch_after]
    return MigrationResult(
        model=model,
        total_time_s=total,
        downtime_s=downtime,
        rounds=sum(1 for r in records if r.transfer),
        bytes_sent=sum(r.bytes for r in records),
        degraded_s=degraded,
        switch_s=switches[0] if switches else total,
        stop_reason=stop_reason,
        per_round=tuple(records),
    )


RateFn = Callable[[Round, Sequence[RoundRecord]], float]


def simulate(planner: Planner, rate_fn: RateFn, latency_s: float = 0.0) -> MigrationResult:
    """Drive ``planner`` over a link whose rate each round is ``rate_fn(round, records_so_far)``.

    Parameters
    ----------
    planner : Planner
        A fresh planner.
    rate_fn : callable
        Link rate for a round, bit/s (the planner's ``rate_cap_bps`` is applied on top).
    latency_s : float
        Added to every network round, including an empty stop-and-copy, s.

    Returns
    -------
    MigrationResult
    """
    records: list[RoundRecord] = []
    t = 0.0
    while (step := planner.next_round()) is not None:
        transfer_s = 0.0
        if step.transfer:
            rate = min(rate_fn(step, records), planner.rate_cap_bps)
            if not rate > 0:
                raise ValueError(f"link rate must be > 0 bit/s, got {rate!r}")
            transfer_s = step.nbytes * 8.0 / rate + latency_s
        planner.observe(transfer_s)
        records.append(
            RoundRecord(
                step.index,
                step.phase,
                step.label,
                step.transfer,
                step.nbytes,
                t,
                transfer_s,
                step.local_s,
                step.switch_after,
            )
        )
        t += transfer_s + step.local_s
    return summarize(planner.model, records, planner.stop_reason)


def simulate_on_link(
    planner: Planner, bandwidth_bps: float, latency_s: float = 0.0
) -> MigrationResult:
    """Drive ``planner`` over a dedicated link of constant rate ``bandwidth_bps`` (bit/s)."""
    return simulate(planner, lambda _step, _records: bandwidth_bps, latency_s)


@dataclass(frozen=True, slots=True)
class ClosedForm:
    """Pre-copy totals from the geometric series (see ``precopy_closed_form``)."""

    live_rounds: int
    bytes_sent: float
    total_time_s: float
    downtime_s: float


def precopy_closed_form(
    ram_bytes: float,
    dirty_rate_Bps: float,
    bandwidth_bps: float,
    max_downtime_s: float,
    resume_s: float = 0.0,
    max_rounds: int = 0,
) -> ClosedForm:
    """Pre-copy over a constant link for a constant dirty rate below it (no latency, no cap).

    With M = RAM, b = link rate in bytes/s, ρ = d/b < 1, live round *i* sends M·ρⁱ in M·ρⁱ/b
    seconds, and after round *i* the remainder is M·ρⁱ⁺¹. Pre-copy stops after *k* live rounds,
    the least k ≥ 1 with M·ρᵏ ≤ b·max_downtime, i.e. k = max(1, ⌈ln(b·T_d/M) / ln ρ⌉), capped by
    ``max_rounds``. Then (Akoush et al., MASCOTS 2010):

    bytes = M·(1 − ρᵏ⁺¹)/(1 − ρ),  total = bytes/b + resume,  downtime = M·ρᵏ/b + resume.

    Raises
    ------
    ValueError
        If d ≥ b (the series does not converge; pre-copy ends on its round or traffic bound).
    """
    b = bandwidth_bps / 8.0
    rho = dirty_rate_Bps / b
    if not 0 <= rho < 1:
        raise ValueError("the closed form needs 0 <= dirty rate < bandwidth")
    m = ram_bytes
    threshold = b * max_downtime_s
    if rho == 0 or m * rho <= threshold:
        k = 1
    else:
        k = max(1, math.ceil(math.log(threshold / m) / math.log(rho)))
    if max_rounds:
        k = min(k, max_rounds)
    sent = m * (1 - rho ** (k + 1)) / (1 - rho)
    return ClosedForm(
        live_rounds=k,
        bytes_sent=sent,
        total_time_s=sent / b + resume_s,
        downtime_s=m * rho**k / b + resume_s,
    )

"""The :class:`TraceData` type and the small helpers the trace readers and the store share.

Owns: :class:`TraceData` (utilisation series on a regular grid), the read-only marker ``_ro``,
the error helpers ``_fail``/``_issue`` (raise :class:`dcsim.errors.ConfigError` with at most
``_MAX_ISSUES`` issues) and ``_concat`` (stack several days as separate guests).

Imports: numpy and dcsim.errors only. Both :mod:`dcsim.workload.readers` and
:mod:`dcsim.workload.traces` import this module; it imports neither, so there is no cycle.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

import numpy as np
from numpy.typing import NDArray

from dcsim.errors import ConfigError, Issue

__all__ = ["F32", "F64", "TraceData"]

F32 = NDArray[np.float32]
F64 = NDArray[np.float64]

_MAX_ISSUES = 10


def _ro(a: Any) -> Any:
    if isinstance(a, np.ndarray):
        a.setflags(write=False)
    return a


@dataclass(frozen=True, slots=True)
class TraceData:
    """A set of utilisation series on a regular time grid.

    Attributes
    ----------
    name, day
        Trace name (``"planetlab"``) and day or month label (``"20110303"``; ``None`` = all days).
    util
        (n_guests, n_samples) float32 CPU utilisation, fractions in [0, 1]; sample ``k`` is the
        instant ``k · interval_s``.
    interval_s
        Seconds between samples.
    guest_names
        n_guests display names, in trace order.
    mem_util
        (n_guests, n_samples) float32 memory utilisation fractions, or ``None``.
    vcpus, ram_bytes, mips_per_vcpu
        (n_guests,) sizes the trace gives (int64 cores, float64 bytes, float64 MIPS), or ``None``.
    source
        Attribution line.
    """

    name: str
    util: F32
    interval_s: float
    guest_names: list[str]
    day: str | None = None
    mem_util: F32 | None = None
    vcpus: NDArray[np.int64] | None = None
    ram_bytes: F64 | None = None
    mips_per_vcpu: F64 | None = None
    source: str = ""

    @property
    def n_guests(self) -> int:
        """Number of series."""
        return int(self.util.shape[0])

    @property
    def n_samples(self) -> int:
        """Samples per series."""
        return int(self.util.shape[1])

    def subset(self, rows: NDArray[np.intp]) -> TraceData:
        """The trace restricted to ``rows`` (indices into the guest axis, in the given order)."""

        def pick(a: Any) -> Any:
            return None if a is None else _ro(np.ascontiguousarray(a[rows]))

        return replace(
            self,
            util=pick(self.util),
            guest_names=[self.guest_names[i] for i in rows.tolist()],
            mem_util=pick(self.mem_util),
            vcpus=pick(self.vcpus),
            ram_bytes=pick(self.ram_bytes),
            mips_per_vcpu=pick(self.mips_per_vcpu),
        )


def _fail(issues: list[Issue]) -> None:
    if issues:
        raise ConfigError(issues[:_MAX_ISSUES])


def _issue(message: str, field: str = "path") -> Issue:
    return Issue(field, message)


def _concat(parts: list[TraceData], name: str) -> TraceData:
    """Stack traces of several days as separate guests; shorter ones hold their last sample."""
    if len(parts) == 1:
        return parts[0]
    interval = parts[0].interval_s
    if any(abs(p.interval_s - interval) > 1e-9 for p in parts):
        _fail([_issue(f"trace {name!r}: days have different sample intervals")])
    s = max(p.n_samples for p in parts)

    def pad(a: F32) -> F32:
        return a if a.shape[1] == s else np.pad(a, ((0, 0), (0, s - a.shape[1])), mode="edge")

    def cat(attr: str) -> Any:
        vals = [getattr(p, attr) for p in parts]
        if any(v is None for v in vals):
            return None
        if attr in ("util", "mem_util"):
            vals = [pad(v) for v in vals]
        return _ro(np.concatenate(vals))

    return TraceData(
        name=name, util=cat("util"), interval_s=interval,
        guest_names=[f"{p.day}/{g}" for p in parts for g in p.guest_names], day=None,
        mem_util=cat("mem_util"), vcpus=cat("vcpus"), ram_bytes=cat("ram_bytes"),
        mips_per_vcpu=cat("mips_per_vcpu"), source=parts[0].source,
    )

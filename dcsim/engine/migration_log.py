"""The run's finished migrations, in completion order (``Simulation.migration_records``).

A migration process appends its ``MigrationRecord`` (``append``). CloudSim-model migrations
that end together (``cloudsim_migrations._complete``; a quarter of a million a day at ten times the
PlanetLab data center) are kept as a block of columns instead (``add_cloudsim``): records are
built from them only when the log is iterated, and the ``migrations`` table reads the columns
directly (``columns``). Either way the log reads as the same sequence of records.

Imports: numpy, dcsim.engine.migration (lazily, when records are built).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import NDArray

if TYPE_CHECKING:
    from dcsim.engine.migration import MigrationRecord

I64 = NDArray[np.intp]
F64 = NDArray[np.float64]

#: Columns of ``MigrationLog.columns``, in the ``migrations`` table's order (its
#: ``duration_s`` is ``end_s - start_s``, computed by the table).
COLUMNS = ("guest", "source", "destination", "model", "start_s", "end_s", "rounds",
           "bytes_sent", "downtime_s", "stop_reason")


class _CloudSimBlock:
    """CloudSim-model migrations that started at ``start`` and ended at ``end`` (s), one copy
    of each guest's RAM (``bytes_sent``), no downtime, degraded the whole ``delay``."""

    __slots__ = ("bytes_sent", "delay", "destinations", "end", "guests", "sources", "start")

    def __init__(self, guests: I64, sources: I64, destinations: I64, start: float, end: float,
                 delay: float, bytes_sent: F64) -> None:
        self.guests = guests
        self.sources = sources
        self.destinations = destinations
        self.start = start
        self.end = end
        self.delay = delay
        self.bytes_sent = bytes_sent

    def records(self) -> Iterator[MigrationRecord]:
        from dcsim.engine.migration import MigrationRecord

        for g, src, dst, b in zip(self.guests.tolist(), self.sources.tolist(),
                                  self.destinations.tolist(), self.bytes_sent.tolist(),
                                  strict=True):
            yield MigrationRecord(
                guest=g, source=src, destination=dst, model="cloudsim", start_s=self.start,
                end_s=self.end, rounds=1, bytes_sent=b, downtime_s=0.0, switch_s=self.end,
                degraded_s=self.delay, stop_reason="cloudsim", per_round=())


class MigrationLog:
    """Finished migrations in completion order; iterates as ``MigrationRecord``s."""

    __slots__ = ("_n", "_parts")

    def __init__(self) -> None:
        self._parts: list[Any] = []  # MigrationRecord or _CloudSimBlock
        self._n = 0

    def append(self, record: MigrationRecord) -> None:
        """One finished migration."""
        self._parts.append(record)
        self._n += 1

    def add_cloudsim(self, guests: Sequence[int] | I64, sources: Sequence[int] | I64,
                     destinations: Sequence[int] | I64, start: float, end: float, delay: float,
                     bytes_sent: Sequence[float] | F64) -> None:
        """CloudSim-model migrations that ended together, in their order (see
        ``_CloudSimBlock``)."""
        if len(guests):
            self._parts.append(_CloudSimBlock(
                np.asarray(guests, dtype=np.intp), np.asarray(sources, dtype=np.intp),
                np.asarray(destinations, dtype=np.intp), start, end, delay,
                np.asarray(bytes_sent, dtype=np.float64)))
            self._n += len(guests)

    def __len__(self) -> int:
        return self._n

    def __bool__(self) -> bool:
        return self._n > 0

    def __iter__(self) -> Iterator[Any]:  # MigrationRecords (read as Any, as the list was)
        for p in self._parts:
            if isinstance(p, _CloudSimBlock):
                yield from p.records()
            else:
                yield p

    def bytes_sent(self) -> list[float]:
        """Bytes sent by each migration, in order."""
        out: list[float] = []
        for p in self._parts:
            if isinstance(p, _CloudSimBlock):
                out.extend(p.bytes_sent.tolist())
            else:
                out.append(p.bytes_sent)
        return out

    def columns(self) -> dict[str, Any]:
        """``COLUMNS``, one entry per migration in order (the records' fields): lists, or
        when every migration is a CloudSim-model one, the numeric columns as arrays (the
        same values and the dtypes a table infers from the lists: int64, float64)."""
        if self._parts and all(isinstance(p, _CloudSimBlock) for p in self._parts):
            blocks: list[_CloudSimBlock] = self._parts
            n = self._n
            return {
                "guest": np.concatenate([b.guests for b in blocks]).astype(np.int64),
                "source": np.concatenate([b.sources for b in blocks]).astype(np.int64),
                "destination": np.concatenate([b.destinations for b in blocks]
                                              ).astype(np.int64),
                "model": ["cloudsim"] * n,
                "start_s": np.repeat([b.start for b in blocks], [len(b.guests) for b in blocks]),
                "end_s": np.repeat([b.end for b in blocks], [len(b.guests) for b in blocks]),
                "rounds": np.ones(n, dtype=np.int64),
                "bytes_sent": np.concatenate([b.bytes_sent for b in blocks]),
                "downtime_s": np.zeros(n),
                "stop_reason": ["cloudsim"] * n,
            }
        out: dict[str, list[Any]] = {c: [] for c in COLUMNS}
        for p in self._parts:
            if isinstance(p, _CloudSimBlock):
                k = len(p.guests)
                out["guest"].extend(p.guests.tolist())
                out["source"].extend(p.sources.tolist())
                out["destination"].extend(p.destinations.tolist())
                out["model"].extend(["cloudsim"] * k)
                out["start_s"].extend([p.start] * k)
                out["end_s"].extend([p.end] * k)
                out["rounds"].extend([1] * k)
                out["bytes_sent"].extend(p.bytes_sent.tolist())
                out["downtime_s"].extend([0.0] * k)
                out["stop_reason"].extend(["cloudsim"] * k)
            else:
                for c in COLUMNS:
                    out[c].append(getattr(p, c))
        return out

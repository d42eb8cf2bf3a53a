"""The run's finished migrations, in completion order (``Simulation.migration_records``).

A migration process appends its ``MigrationRecord`` (``append``). CloudSim-model migrations
that end together (``cloudsim_migrations._complete``; a quarter of a million a day at ten times the
PlanetLab data center) are kept as a block of columns instead (``add_cloudsim``): records are
built from them only when the log is iterated, and the ``migrations`` table reads the columns
directly (``columns``). Either way the log reads as the same sequence of records.

Imports: dcsim.engine.migration (lazily, when records are built).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from dcsim.engine.migration import MigrationRecord

#: Columns of ``MigrationLog.columns``, in the ``migrations`` table's order (its
#: ``duration_s`` is ``end_s - start_s``, computed by the table).
COLUMNS = ("guest", "source", "destination", "model", "start_s", "end_s", "rounds",
           "bytes_sent", "downtime_s", "stop_reason")


class _CloudSimBlock:
    """CloudSim-model migrations that started at ``start`` and ended at ``end`` (s), one copy
    of each guest's RAM (``bytes_sent``), no downtime, degraded the whole ``delay``."""

    __slots__ = ("bytes_sent", "delay", "destinations", "end", "guests", "sources", "start")

    def __init__(self, guests: list[int], sources: list[int], destinations: list[int],
                 start: float, end: float, delay: float, bytes_sent: list[float]) -> None:
        self.guests = guests
        self.sources = sources
        self.destinations = destinations
        self.start = start
        self.end = end
        self.delay = delay
        self.bytes_sent = bytes_sent

    def records(self) -> Iterator[MigrationRecord]:
        from dcsim.engine.migration import MigrationRecord

        for g, src, dst, b in zip(self.guests, self.sources, self.destinations,
                                  self.bytes_sent, strict=True):
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

    def add_cloudsim(self, guests: list[int], sources: list[int], destinations: list[int],
                     start: float, end: float, delay: float, bytes_sent: list[float]) -> None:
        """CloudSim-model migrations that ended together, in their order (see
        ``_CloudSimBlock``)."""
        if guests:
            self._parts.append(_CloudSimBlock(guests, sources, destinations, start, end, delay,
                                              bytes_sent))
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
                out.extend(p.bytes_sent)
            else:
                out.append(p.bytes_sent)
        return out

    def columns(self) -> dict[str, list[Any]]:
        """``COLUMNS`` as lists, one entry per migration in order (the records' fields)."""
        out: dict[str, list[Any]] = {c: [] for c in COLUMNS}
        for p in self._parts:
            if isinstance(p, _CloudSimBlock):
                n = len(p.guests)
                out["guest"].extend(p.guests)
                out["source"].extend(p.sources)
                out["destination"].extend(p.destinations)
                out["model"].extend(["cloudsim"] * n)
                out["start_s"].extend([p.start] * n)
                out["end_s"].extend([p.end] * n)
                out["rounds"].extend([1] * n)
                out["bytes_sent"].extend(p.bytes_sent)
                out["downtime_s"].extend([0.0] * n)
                out["stop_reason"].extend(["cloudsim"] * n)
            else:
                for c in COLUMNS:
                    out[c].append(getattr(p, c))
        return out

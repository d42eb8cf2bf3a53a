"""Grid carbon intensity series: reading, storing and aligning them to the simulation clock.

A series is a list of instants (seconds since 1970-01-01 UTC, strictly increasing) and
intensities (g CO2-eq/kWh, finite, >= 0). Each value holds from its instant to the next (the
last one for one median step). ``load_series`` finds a stored series by name: the user store
(``<trace store>/carbon/<name>.npz``, written by ``dcsim traces import carbon``) first, then
the excerpts shipped in ``dcsim/data/carbon`` (see its README: origin and terms). ``read_file``
reads a CSV or Parquet file with a timestamp and an intensity column; a bad row is refused with
the file and line.

``pieces`` turns a series into the intensity of each stretch of simulated time
``[0, duration)``: breakpoints (s) and values. Stepwise: the series' own instants. Linear
(``interpolation: linear``): the linear interpolation averaged over each scheduling interval
(its value at the interval's middle, exact for a linear function). A series that does not cover
``[start, start + duration]`` is refused.

Imports: numpy, pyarrow (Parquet only, when read), dcsim.errors.
"""

from __future__ import annotations

import csv
import datetime as dt
import math
from importlib import resources
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from dcsim.errors import ConfigError, Issue

F64 = NDArray[np.float64]

__all__ = ["Series", "integral_at", "load_series", "mean_over", "pieces", "read_file",
           "save_series", "stored_series"]


class Series:
    """Instants (s since the epoch, UTC) and intensities (g CO2-eq/kWh)."""

    def __init__(self, t: F64, g_per_kwh: F64, source: str = "") -> None:
        self.t = np.asarray(t, dtype=np.float64)
        self.v = np.asarray(g_per_kwh, dtype=np.float64)
        self.source = source

    def step_s(self) -> float:
        """The median spacing of the instants, s (how long the last value holds)."""
        return float(np.median(np.diff(self.t))) if self.t.shape[0] > 1 else 0.0


def _issue(where: str, message: str) -> ConfigError:
    return ConfigError([Issue(where, message)])


def check(t: F64, v: F64, where: str, lines: list[int] | None = None) -> None:
    """Refuse non-finite or negative intensities and instants that do not increase."""
    def line(i: int) -> str:
        return f"{where}:{lines[i]}" if lines is not None else f"{where}[{i}]"

    if t.shape[0] == 0:
        raise _issue(where, "the series has no rows")
    bad = np.flatnonzero(~np.isfinite(v) | (v < 0))
    if bad.shape[0]:
        i = int(bad[0])
        raise _issue(line(i), f"intensity {v[i]!r}: expected a finite number >= 0 (g/kWh)")
    back = np.flatnonzero(np.diff(t) <= 0)
    if back.shape[0]:
        i = int(back[0]) + 1
        raise _issue(line(i), "timestamps must increase strictly (a repeated or earlier time)")


def read_file(path: Path, time_column: str, value_column: str, tz: dt.tzinfo) -> Series:
    """A series from a CSV or Parquet file; naive timestamps are read in ``tz``."""
    where = str(path)
    if not path.is_file():
        raise _issue(where, "no such file")
    if path.suffix.lower() in (".parquet", ".pq"):
        import pyarrow.parquet as pq

        table = pq.read_table(path)
        cols = table.column_names
        for c in (time_column, value_column):
            if c not in cols:
                raise _issue(where, f"no column {c!r} (columns: {', '.join(cols)})")
        raw_t = [str(x) if x is not None else "" for x in table.column(time_column).to_pylist()]
        raw_v = table.column(value_column).to_pylist()
        lines = [i + 1 for i in range(len(raw_t))]  # row numbers
    else:
        with path.open(newline="", encoding="utf-8") as f:
            reader = csv.reader(f)
            header = next(reader, None)
            if header is None:
                raise _issue(where, "empty file")
            header = [h.strip() for h in header]
            for c in (time_column, value_column):
                if c not in header:
                    raise _issue(f"{where}:1", f"no column {c!r} (columns: {', '.join(header)})")
            it, iv = header.index(time_column), header.index(value_column)
            raw_t, raw_v, lines = [], [], []
            for n, row in enumerate(reader, start=2):
                if not row or all(not x.strip() for x in row):
                    continue
                raw_t.append(row[it].strip() if it < len(row) else "")
                raw_v.append(row[iv].strip() if iv < len(row) else "")
                lines.append(n)
    t = np.empty(len(raw_t))
    v = np.empty(len(raw_t))
    for i, (ts, val) in enumerate(zip(raw_t, raw_v, strict=True)):
        try:
            stamp = dt.datetime.fromisoformat(ts)
        except ValueError:
            raise _issue(f"{where}:{lines[i]}", f"timestamp {ts!r}: expected ISO 8601 "
                         "(e.g. 2020-03-02 00:30:00)") from None
        t[i] = (stamp.replace(tzinfo=tz) if stamp.tzinfo is None else stamp).timestamp()
        try:
            v[i] = float(val) if val is not None and val != "" else math.nan
        except (TypeError, ValueError):
            v[i] = math.nan
    check(t, v, where, lines)
    return Series(t, v, where)


def save_series(series: Series, path: Path) -> Path:
    """Write the compact form: instants (int64 s) and intensities (float32 g/kWh), compressed."""
    path.parent.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(path, t=np.round(series.t).astype(np.int64),
                        v=series.v.astype(np.float32), source=np.asarray(series.source))
    return path


def _read_npz(path: Path, where: str = "") -> Series:
    from dcsim.workload.npzcheck import load_carbon_npz  # every field checked, at ``where``

    return Series(*load_carbon_npz(path, where))


def user_store() -> Path:
    """Where ``dcsim traces import carbon`` writes: ``<user trace store>/carbon``."""
    from dcsim.workload.traces import CARBON_DIR, user_trace_dir

    return user_trace_dir() / CARBON_DIR


def package_store() -> Path:
    return Path(str(resources.files("dcsim.data"))) / "carbon"  # not under traces/


def stored_series() -> dict[str, Path]:
    """Every stored series by name (the user store shadows the shipped excerpts)."""
    out: dict[str, Path] = {}
    for root in (package_store(), user_store()):
        if root.is_dir():
            for p in sorted(root.glob("*.npz")):
                out[p.stem] = p
    return out


def describe(path: Path) -> tuple[str, str, str, str, str]:
    """First and last instant, points, range of intensities and source of a stored series."""
    s = _read_npz(path)
    a = dt.datetime.fromtimestamp(float(s.t[0]), dt.UTC)
    b = dt.datetime.fromtimestamp(float(s.t[-1]), dt.UTC)
    return (f"{a:%Y-%m-%d %H:%M}", f"{b:%Y-%m-%d %H:%M}", str(s.t.shape[0]),
            f"{s.v.min():.0f}-{s.v.max():.0f}", s.source)


def load_series(name: str, where: str) -> Series:
    """The stored series ``name`` (ConfigError at ``where`` if there is none)."""
    found = stored_series()
    if name not in found:
        known = ", ".join(sorted(found)) or "none"
        raise _issue(where, f"no stored carbon series {name!r} (stored: {known}; import one "
                     "with dcsim traces import carbon FILE --name NAME)")
    return _read_npz(found[name], where)


def _utc(t: float) -> str:
    """``t`` (s since 1970 UTC) as ``YYYY-MM-DD HH:MM``, or where it lies beyond the calendar
    (a clock.start near year 9999 plus the duration)."""
    try:
        return f"{dt.datetime.fromtimestamp(t, dt.UTC):%Y-%m-%d %H:%M}"
    except (OverflowError, OSError, ValueError):
        return "after 9999-12-31" if t > 0 else "before 0001-01-01"


def pieces(series: Series, start_s: float, duration: float, interval: float,
           interpolation: str, where: str) -> tuple[F64, F64]:
    """Breakpoints ``b`` (s of simulated time, ``b[0] = 0``, increasing, < duration) and the
    intensity ``v[k]`` from ``b[k]`` to ``b[k + 1]`` (the last to ``duration``)."""
    end = start_s + duration
    last_until = series.t[-1] + series.step_s()
    if series.t[0] > start_s or last_until < end:
        raise _issue(where, f"the series covers {_utc(series.t[0])} to {_utc(last_until)} UTC, "
                     f"the run needs {_utc(start_s)} to {_utc(end)} UTC (clock.start + "
                     "duration)")
    if interpolation == "linear":
        n = max(1, math.ceil(duration / interval))
        b = np.arange(n, dtype=np.float64) * interval
        mid = start_s + (b + np.minimum(b + interval, duration)) / 2.0
        return b, np.interp(mid, series.t, series.v)
    rel = series.t - start_s
    k0 = int(np.searchsorted(rel, 0.0, side="right")) - 1  # the point in force at t = 0
    inside = np.flatnonzero((rel > 0.0) & (rel < duration))
    b = np.concatenate([[0.0], rel[inside]])
    v = np.concatenate([[series.v[k0]], series.v[inside]])
    return b, v


def mean_over(series: Series, a: float, b: float) -> float:
    """Mean intensity of the stepwise ``series`` over instants ``[a, b]`` (s since the epoch),
    g/kWh: ``(integral_at(b) − integral_at(a)) / (b − a)``, so before the series' first instant
    its first value holds and after its last step its last value (the same convention as every
    other window mean); the value in force at ``a`` when ``b <= a``."""
    if b > a:
        lo, hi = integral_at(series, np.asarray([a, b]))
        return float((hi - lo) / (b - a))
    k = int(np.searchsorted(series.t, a, side="right")) - 1
    return float(series.v[min(max(k, 0), series.t.shape[0] - 1)])


def integral_at(series: Series, x: F64) -> F64:
    """∫ intensity dt from the series' first instant to each instant of ``x`` (s since the
    epoch), g·s/kWh; before the first instant the first value extends back, after the last
    step the last value goes on (so means over any window are defined)."""
    t = series.t
    knots = np.append(t, t[-1] + series.step_s())
    cum = np.concatenate([[0.0], np.cumsum(series.v * np.diff(knots))])
    x = np.asarray(x, dtype=np.float64)
    inside = np.interp(x, knots, cum)
    before = (x - knots[0]) * series.v[0]
    after = cum[-1] + (x - knots[-1]) * series.v[-1]
    out: F64 = np.where(x < knots[0], before, np.where(x > knots[-1], after, inside))
    return out

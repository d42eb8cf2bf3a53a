"""Grid carbon intensity series: reading, storing and aligning them to the simulation clock.

A series is a list of instants (seconds since 1970-01-01 UTC, strictly increasing) and
intensities (g CO2-eq/kWh, finite, >= 0). Each value holds from its instant to the next (the
last one for one median step). ``load_series`` finds a stored series by name: the user store
(``<trace store>/carbon/<name>.npz``, written by ``dcsim traces import carbon``) first, then
the excerpts shipped in ``dcsim/data/carbon`` (see its README: origin and terms). ``read_file``
reads a CSV (UTF-8) or Parquet file with a timestamp and an intensity column (numbers, at most
``MAX_INTENSITY_G_PER_KWH``; whole-second timestamps); a bad file or row is refused at the
config path of ``file:`` with the file and line.

``pieces`` turns a series into the intensity of each stretch of simulated time
``[0, duration)``: breakpoints (s) and values. Stepwise: the series' own instants. Linear
(``interpolation: linear``): the linear interpolation averaged over each scheduling interval
(its value at the interval's middle, exact for a linear function). A series that does not cover
``[start, start + duration]`` is refused.

Imports: numpy, pyarrow (Parquet only, when read), dcsim.errors, dcsim.config.carbon (the
intensity bound), dcsim.config.safeyaml (bounded reading), dcsim.workload.safeio (``shown``).
"""

from __future__ import annotations

import datetime as dt
import math
from importlib import resources
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from dcsim.config.carbon import MAX_INTENSITY_G_PER_KWH, local_time
from dcsim.config.safeyaml import csv_rows, read_input_text, regular_file
from dcsim.errors import ConfigError, Issue
from dcsim.workload.safeio import shown

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


MAX_CARBON_FILE_BYTES = 256 * 1024**2
"""Largest carbon-intensity file read, bytes (a year of 5-minute points is about 4 MB)."""


def check(t: F64, v: F64, where: str, lines: list[str] | None = None) -> None:
    """Refuse intensities that are not finite, negative or above
    :data:`~dcsim.config.carbon.MAX_INTENSITY_G_PER_KWH`, and instants that do not increase.
    Issues are at ``where``; ``lines[i]`` (if given) locates row i in the message."""
    def at(i: int) -> str:
        return f"{lines[i]}: " if lines is not None else f"point {i}: "

    if t.shape[0] == 0:
        raise _issue(where, "the series has no rows")
    bad = np.flatnonzero(~np.isfinite(v) | (v < 0) | (v > MAX_INTENSITY_G_PER_KWH))
    if bad.shape[0]:
        i = int(bad[0])
        raise _issue(where, f"{at(i)}intensity {float(v[i]):g}: expected a finite number "
                     f">= 0 and <= {MAX_INTENSITY_G_PER_KWH:,.0f} g/kWh (lignite, the most "
                     "carbon-intensive generation, emits about 1,200)")
    back = np.flatnonzero(np.diff(t) <= 0)
    if back.shape[0]:
        i = int(back[0]) + 1
        raise _issue(where, f"{at(i)}timestamps must increase strictly (a repeated or earlier "
                     "time)")


def _readable(path: Path, where: str) -> None:
    """Refuse (at ``where``) what is not a regular file of bounded size: a missing path, a
    folder, a FIFO or a device (reading ``/dev/zero`` would never end)."""
    try:
        regular_file(path, "carbon-intensity file", MAX_CARBON_FILE_BYTES)
    except ConfigError as exc:
        raise exc.at(where) from None


def _parquet_columns(path: Path, time_column: str, value_column: str, where: str
                     ) -> tuple[list[object], list[object], list[str]]:
    """Raw timestamps, intensities and row labels of a Parquet file; its intensity column must
    be numeric (booleans are not intensities)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    src = str(path)
    try:
        table = pq.read_table(path)
    except (pa.ArrowException, OSError) as exc:
        raise _issue(where, f"{src}: not a readable Parquet file ({type(exc).__name__})"
                     ) from None
    cols = table.column_names
    for c in (time_column, value_column):
        if c not in cols:
            raise _issue(where, f"{src}: no column {shown(c)} (columns: "
                         f"{', '.join(map(shown, cols))})")
    vtype = table.schema.field(value_column).type
    if not (pa.types.is_integer(vtype) or pa.types.is_floating(vtype)
            or pa.types.is_decimal(vtype)):
        raise _issue(where, f"{src}: column {shown(value_column)} holds {vtype} values; "
                     "expected numbers (g/kWh)")
    raw_t: list[object] = table.column(time_column).to_pylist()
    raw_v: list[object] = table.column(value_column).to_pylist()
    return raw_t, raw_v, [f"{src} row {i}" for i in range(len(raw_t))]


def _csv_columns(path: Path, time_column: str, value_column: str, where: str
                 ) -> tuple[list[object], list[object], list[str]]:
    """Raw timestamps, intensities and ``file:line`` labels of a CSV file (UTF-8)."""
    src = str(path)
    try:
        records = csv_rows(read_input_text(path, "carbon-intensity file",
                                           MAX_CARBON_FILE_BYTES), src)
    except ConfigError as exc:
        raise exc.at(where) from None
    if not records:
        raise _issue(where, f"{src}: empty file; expected a header row")
    header = [h.strip() for h in records[0][1]]
    for c in (time_column, value_column):
        if c not in header:
            raise _issue(where, f"{src}:1: no column {shown(c)} (columns: "
                         f"{', '.join(map(shown, header))})")
    it, iv = header.index(time_column), header.index(value_column)
    raw_t: list[object] = []
    raw_v: list[object] = []
    labels: list[str] = []
    for n, row in records[1:]:
        if not row or all(not x.strip() for x in row):
            continue
        raw_t.append(row[it].strip() if it < len(row) else "")
        raw_v.append(row[iv].strip() if iv < len(row) else "")
        labels.append(f"{src}:{n}")
    return raw_t, raw_v, labels


def _instant(raw: object, tz: dt.tzinfo, where: str, at: str) -> float:
    """A timestamp cell as s since the epoch; naive ones in ``tz``; whole seconds only (the
    store keeps int64 seconds, so fractions would collide or shift silently)."""
    if isinstance(raw, dt.datetime):
        stamp = raw
    else:
        text = "" if raw is None else str(raw)
        if not text:
            raise _issue(where, f"{at}: empty timestamp cell")
        try:
            stamp = dt.datetime.fromisoformat(text)
        except ValueError:
            raise _issue(where, f"{at}: timestamp {shown(text)}: expected ISO 8601 "
                         "(e.g. 2020-03-02 00:30:00)") from None
    if stamp.microsecond:
        raise _issue(where, f"{at}: timestamp {stamp.isoformat(sep=' ')} has a fraction of a "
                     "second; give whole seconds (a series is stored at 1 s resolution)")
    try:
        # a wall-clock time the zone skips is refused, not moved an hour on (onto the next
        # row's time: the series then looked non-increasing one line later)
        local = local_time(stamp, tz)
    except ValueError as exc:
        raise _issue(where, f"{at}: timestamp {exc}") from None
    try:
        return local.timestamp()
    except (OverflowError, OSError, ValueError):
        raise _issue(where, f"{at}: timestamp {stamp.isoformat(sep=' ')} is out of range"
                     ) from None


def _intensity(raw: object, where: str, at: str) -> float:
    """An intensity cell as a float (range checked by :func:`check`)."""
    if raw is None or raw == "":
        raise _issue(where, f"{at}: empty intensity cell")
    if isinstance(raw, bool):  # a CSV never yields one; a Parquet column is type-checked
        raise _issue(where, f"{at}: intensity {raw}: not a number")
    try:
        return float(raw)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise _issue(where, f"{at}: intensity is not a number: {shown(raw)}") from None


def read_file(path: Path, time_column: str, value_column: str, tz: dt.tzinfo,
              where: str = "") -> Series:
    """A series from a CSV (UTF-8) or Parquet file; naive timestamps are read in ``tz``.
    A bad file or row is a ConfigError at ``where`` (the config path of ``file:``; empty for
    ``dcsim traces import``) whose message names the file and the line (CSV) or row."""
    _readable(path, where)
    if path.suffix.lower() == ".npz":
        raise _issue(where, f"{path}: a .npz file; expected CSV or Parquet (a series imported "
                     "with dcsim traces import carbon is named with carbon.series)")
    if path.suffix.lower() in (".parquet", ".pq"):
        raw_t, raw_v, labels = _parquet_columns(path, time_column, value_column, where)
    else:
        raw_t, raw_v, labels = _csv_columns(path, time_column, value_column, where)
    if not labels:
        raise _issue(where, f"{path}: a header but no rows")
    t = np.empty(len(raw_t))
    v = np.empty(len(raw_t))
    for i, (ts, val) in enumerate(zip(raw_t, raw_v, strict=True)):
        t[i] = _instant(ts, tz, where, labels[i])
        v[i] = _intensity(val, where, labels[i])
    check(t, v, where, labels)
    return Series(t, v, str(path))


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
    series = _read_npz(found[name], where)  # its fields (dcsim.workload.npzcheck)
    check(series.t, series.v, where)  # its values, within the bounds (an inf imported before)
    return series


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

"""Tables of samples: the generic per-sample trace format (CSV or Parquet) and the table
helpers the other readers share.

:func:`read_generic` reads one row per guest and sample (columns :data:`GENERIC_COLUMNS`) onto a
regular grid; :func:`_read_table`, :func:`_numeric`, :func:`_where` and :func:`_check_range`
parse and check CSV/Parquet tables for it, for the Bitbrains reader
(:mod:`dcsim.workload.readers`) and for arrival traces (:mod:`dcsim.workload.arrivals`). The
bounds of a trace (:data:`MAX_INTERVAL_S`, :data:`MAX_GRID_CELLS`, :data:`MAX_TIME_S`,
:data:`MAX_SPAN_S`, guest sizes) live here, where traces are read, and the checks of dcsim's own
``.npz`` files (:mod:`dcsim.workload.npzcheck`) apply the same ones. Bad input raises
:class:`dcsim.errors.ConfigError` naming the file and line.

Imports: numpy, pandas (imported by the functions that parse), dcsim.errors,
dcsim.workload.{safeio, tracedata}. Reads files; never writes.
"""

from __future__ import annotations

import io
import re
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
from numpy.typing import NDArray

from dcsim.errors import Issue
from dcsim.workload.safeio import read_trace_bytes, shown, trace_file
from dcsim.workload.tracedata import _MAX_ISSUES, F32, F64, TraceData, _fail, _issue, _ro

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["GENERIC_COLUMNS", "MAX_GRID_CELLS", "MAX_INTERVAL_S", "MAX_SPAN_S", "MAX_TIME_S",
           "read_generic"]

_TOL = 1e-9


def _check_range(values: F64, what: str, where: Callable[[int], str], hi: float) -> list[Issue]:
    """Issues for non-finite, negative or > ``hi`` values; ``where(i)`` locates element i."""
    bad = np.flatnonzero(~np.isfinite(values) | (values < 0) | (values > hi + _TOL))
    issues = []
    for i in bad[:_MAX_ISSUES].tolist():
        v = values[i]
        reason = "is not finite" if not np.isfinite(v) else (
            "is negative" if v < 0 else f"is above {hi:g}"
        )
        issues.append(_issue(f"{where(i)}: {what} {v:g} {reason}"))
    return issues



def _read_table(path: Path, sep: str = ",") -> tuple[pd.DataFrame, bool]:
    """All columns as strings (stripped); returns (frame, is_csv). Line of row i = i + 2."""
    import pandas as pd

    if not path.exists():
        _fail([_issue(f"{path}: no such file")])
    trace_file(path)  # a regular file of bounded size (a FIFO would block pandas forever)
    is_csv = not path.name.lower().endswith((".parquet", ".pq"))
    try:
        if is_csv:
            df = pd.read_csv(
                io.BytesIO(read_trace_bytes(path)), sep=sep, dtype=str, keep_default_na=False,
                skip_blank_lines=False, skipinitialspace=True, compression=None,
            )
            df.columns = [str(c).strip() for c in df.columns]
        else:
            df = pd.read_parquet(path)
    except pd.errors.EmptyDataError:
        _fail([_issue(f"{path}: file is empty")])
    except (pd.errors.ParserError, OSError, ValueError, UnicodeDecodeError) as exc:
        _fail([_issue(f"{path}: cannot be parsed ({type(exc).__name__})")])
    if len(df) == 0:
        _fail([_issue(f"{path}: has a header but no data rows")])
    return df, is_csv


def _numeric(
    df: pd.DataFrame, col: str, path: Path, is_csv: bool, issues: list[Issue],
    allow_empty: bool = False,
) -> F64:
    """Column ``col`` as float64; non-numbers become issues naming the line (CSV) or row."""
    import pandas as pd

    s = df[col]
    if is_csv or s.dtype == object:
        text = s.astype(str).str.strip()
        vals = pd.to_numeric(text, errors="coerce").to_numpy(dtype=np.float64, copy=True)
        empty = (text == "").to_numpy()
        bad = np.isnan(vals) & ~(empty & allow_empty) & (text.str.lower() != "nan").to_numpy()
        bad |= empty & (not allow_empty)
        for i in np.flatnonzero(bad)[:_MAX_ISSUES].tolist():
            where = f"line {i + 2}" if is_csv else f"row {i}"
            cell = text.iloc[i]
            msg = "is empty" if cell == "" else "is not a number"
            issues.append(_issue(f"{path} {where}: {col} {shown(cell)} {msg}" if cell else
                                 f"{path} {where}: {col} {msg}"))
        if allow_empty:
            vals[empty] = np.nan
        return vals
    return s.to_numpy(dtype=np.float64, na_value=np.nan)


def _where(path: Path, is_csv: bool) -> Callable[[int], str]:
    return (lambda i: f"{path} line {i + 2}") if is_csv else (lambda i: f"{path} row {i}")


MAX_INTERVAL_S = 7 * 86400.0
"""Longest sample interval of a trace, s (one week; the shipped traces use 300 s): a longer
grid step is refused when a trace is read or imported, and when a compact one is loaded."""
MAX_GRID_CELLS = 200_000_000
"""Most guest × sample cells a generic trace may expand to (float32: 800 MB)."""
MAX_TIME_S = 1e11
"""Largest ``time_s`` of a generic trace, s (about 3,170 years): room for Unix-epoch seconds
(1.7e9 in 2024) while keeping the grid arithmetic far from overflow (1e300 overflowed numpy)."""
MAX_SPAN_S = 100 * 365.25 * 86400.0
"""Longest span (last − first ``time_s``) of a generic trace, s: 100 years, far beyond any
recorded workload (a longer one is a unit mistake, e.g. milliseconds)."""
_SIZE_MAX = {"vcpus": 4096.0, "ram_mib": 1024.0**3, "mips": 1e7}
"""Largest guest size a trace may give: vCPUs, RAM (MiB, 1 PiB), MIPS per vCPU."""

GENERIC_COLUMNS = {
    "guest": "guest name or id (required)",
    "time_s": "sample time in seconds (required); samples lie on a regular grid",
    "cpu": "CPU utilisation as a fraction in [0, 1] (this or cpu_pct is required)",
    "cpu_pct": "CPU utilisation in percent, [0, 100]",
    "memory": "memory utilisation as a fraction in [0, 1] (optional)",
    "memory_pct": "memory utilisation in percent (optional)",
    "vcpus": "cores of the guest (optional, > 0, first row of each guest counts)",
    "ram_mib": "RAM of the guest in MiB (optional, > 0)",
    "mips": "MIPS per vCPU (optional, > 0)",
}


def read_generic(path: str | Path, name: str = "csv") -> TraceData:
    """Read the generic per-sample format from CSV (comma-separated, header row) or Parquet.

    One row per guest and sample; columns are listed in :data:`GENERIC_COLUMNS` (others are
    refused). The grid step is the most common gap between consecutive samples of a guest; every
    time must lie on the grid ``min(time_s) + k·step``. Within a guest's first and last sample,
    missing grid points are interpolated linearly; outside them the guest's utilisation is 0.
    Guests keep the order of their first row.

    Returns
    -------
    TraceData
        util (and mem_util when given) (n_guests, n_grid) fractions.
    """
    p = Path(path)
    df, is_csv = _read_table(p)
    issues: list[Issue] = []
    cols = set(df.columns)
    unknown = sorted(cols - set(GENERIC_COLUMNS))
    # pandas names an empty header cell "Unnamed: <index>"
    blank = {c: int(m.group(1)) + 1 for c in unknown
             if is_csv and (m := re.fullmatch(r"Unnamed: (\d+)", c))}
    unknown = [c for c in unknown if c not in blank]
    issues += [_issue(f"{p} line 1: column {k} of the header is empty (a trailing comma?)")
               for k in sorted(blank.values())]
    if unknown:
        issues.append(_issue(
            f"{p}: unknown column(s) {', '.join(map(shown, unknown))}; "
            f"allowed: {', '.join(GENERIC_COLUMNS)}"
        ))
    issues += [_issue(f"{p}: missing column {need!r}") for need in ("guest", "time_s")
               if need not in cols]
    for a, b in (("cpu", "cpu_pct"), ("memory", "memory_pct")):
        if a in cols and b in cols:
            issues.append(_issue(f"{p}: give either {a!r} or {b!r}, not both"))
    if "cpu" not in cols and "cpu_pct" not in cols:
        issues.append(_issue(f"{p}: missing column 'cpu' (fraction) or 'cpu_pct' (percent)"))
    _fail(issues)

    where = _where(p, is_csv)
    guests = df["guest"].astype(str).str.strip().to_numpy()
    issues += [_issue(f"{where(i)}: guest is empty")
               for i in np.flatnonzero(guests == "")[:_MAX_ISSUES].tolist()]
    t = _numeric(df, "time_s", p, is_csv, issues)
    cpu_col = "cpu" if "cpu" in cols else "cpu_pct"
    cpu = _numeric(df, cpu_col, p, is_csv, issues)
    mem_col = "memory" if "memory" in cols else ("memory_pct" if "memory_pct" in cols else None)
    mem = _numeric(df, mem_col, p, is_csv, issues) if mem_col else None
    sizes = {c: _numeric(df, c, p, is_csv, issues) for c in ("vcpus", "ram_mib", "mips")
             if c in cols}
    _fail(issues)
    issues += _check_range(t, "time_s", where, MAX_TIME_S)
    if not issues and float(t.max() - t.min()) > MAX_SPAN_S:
        last = int(np.argmax(t))
        issues.append(_issue(f"{where(last)}: time_s {t[last]:g} makes the trace span "
                             f"{t[last] - t.min():g} s, more than 100 years ({MAX_SPAN_S:g} s); "
                             "time_s is in seconds"))
    cpu_hi = 1.0 if cpu_col == "cpu" else 100.0
    issues += _check_range(cpu, cpu_col, where, cpu_hi)
    if mem is not None and mem_col is not None:
        issues += _check_range(mem, mem_col, where, 1.0 if mem_col == "memory" else 100.0)
    for c, v in sizes.items():
        hi = _SIZE_MAX[c]
        for i in np.flatnonzero(~((v > 0) & (v <= hi)))[:_MAX_ISSUES].tolist():
            issues.append(_issue(f"{where(i)}: {c} {v[i]:g} must be finite, > 0 and <= {hi:g}"))
        if c == "vcpus":
            for i in np.flatnonzero((v > 0) & (v <= hi) & (v != np.round(v)))[:_MAX_ISSUES]:
                issues.append(_issue(f"{where(int(i))}: vcpus {v[i]:g} must be a whole number"))
    _fail(issues)
    if cpu_col == "cpu_pct":
        cpu = cpu / 100.0
    if mem is not None and mem_col == "memory_pct":
        mem = mem / 100.0

    names, gidx = np.unique(guests, return_inverse=True)
    first_row = np.full(len(names), len(guests), dtype=np.int64)
    np.minimum.at(first_row, gidx, np.arange(len(guests)))
    order = np.argsort(first_row, kind="stable")
    rank = np.empty_like(order)
    rank[order] = np.arange(len(order))
    g = rank[gidx]

    step = _grid_step(g, t)
    if step > MAX_INTERVAL_S:  # else a trace imported here would be refused when loaded
        _fail([_issue(f"{p}: the samples are {step:g} s apart (the most common gap "
                      f"between a guest's samples); at most {MAX_INTERVAL_S:g} s (a week)")])
    t0 = float(t.min())
    kf = (t - t0) / step
    k = np.rint(kf).astype(np.int64)
    off = np.flatnonzero(np.abs(kf - k) > 1e-6)
    for i in off[:_MAX_ISSUES].tolist():
        issues.append(_issue(
            f"{where(i)}: time_s {t[i]:g} is not on the {step:g} s grid starting at {t0:g}"
        ))
    key = g * (int(k.max()) + 1) + k
    uniq, counts = np.unique(key, return_counts=True)
    for j in np.flatnonzero(counts > 1)[:_MAX_ISSUES].tolist():
        dup = np.flatnonzero(key == uniq[j])
        issues.append(_issue(
            f"{where(int(dup[1]))}: guest {guests[dup[1]]!r} already has a sample at time_s "
            f"{t[dup[1]]:g} ({where(int(dup[0]))})"
        ))
    _fail(issues)

    n, s = len(names), int(k.max()) + 1
    if n * s > MAX_GRID_CELLS:
        last = int(np.argmax(t))
        _fail([_issue(f"{where(last)}: time_s {t[last]:g} makes the trace span {s:,} samples of "
                      f"{step:g} s for {n:,} guest(s); at most {MAX_GRID_CELLS:,} samples in "
                      "all (a trace that long or that sparse is a mistake)")])
    util = _grid_fill(g, k, cpu, n, s)
    mem_util = _grid_fill(g, k, mem, n, s) if mem is not None else None
    first = first_row[order]
    vcpus = sizes["vcpus"][first].astype(np.int64) if "vcpus" in sizes else None
    ram = sizes["ram_mib"][first] * 1024.0**2 if "ram_mib" in sizes else None
    mips = sizes["mips"][first] if "mips" in sizes else None
    return TraceData(
        name=name, util=_ro(util), interval_s=step,
        guest_names=[str(x) for x in names[order]], mem_util=_ro(mem_util),
        vcpus=_ro(vcpus), ram_bytes=_ro(ram), mips_per_vcpu=_ro(mips),
        source=f"user trace {p.name}",
    )


def _grid_step(g: NDArray[np.intp], t: F64) -> float:
    """The most common gap between consecutive samples of a guest (ties: the smallest)."""
    order = np.lexsort((t, g))
    gs, ts = g[order], t[order]
    gaps = np.diff(ts)[(np.diff(gs) == 0)]
    gaps = gaps[gaps > 0]
    if gaps.size == 0:
        times = np.unique(t)
        return float(np.min(np.diff(times))) if times.size > 1 else 1.0
    vals, counts = np.unique(np.round(gaps, 9), return_counts=True)
    return float(vals[np.argmax(counts)])


def _grid_fill(g: NDArray[np.intp], k: NDArray[np.int64], v: F64, n: int, s: int) -> F32:
    """(n, s) array: samples at (g, k), linear in between per guest, 0 outside each span."""
    out = np.zeros((n, s), dtype=np.float32)
    order = np.lexsort((k, g))
    g, k, v = g[order], k[order], v[order]
    starts = np.flatnonzero(np.r_[True, g[1:] != g[:-1]])
    ends = np.r_[starts[1:], len(g)]
    grid = np.arange(s)
    if len(starts) and np.all(ends - starts == s):  # complete grid: no interpolation needed
        out[g, k] = v
        return out
    for a, b in zip(starts.tolist(), ends.tolist(), strict=True):
        kk = k[a:b]
        span = grid[kk[0]: kk[-1] + 1]
        out[g[a], span] = np.interp(span, kk, v[a:b])
    return out

"""Readers of raw trace formats: PlanetLab, Google 2011, Bitbrains GWA-T-12, generic CSV/Parquet.

Every reader returns a :class:`dcsim.workload.tracedata.TraceData`: utilisation fractions of
``n_guests`` series on a regular grid of ``interval_s`` seconds, plus optional memory
utilisation and guest sizes.

    * ``planetlab``: a folder with one file per VM, one integer percent per line (CoMon, 300 s,
      288 lines a day). Guest order is Python ``sorted()`` of the file names, names verbatim
      (some contain spaces). A folder of day folders is also accepted (``day`` picks one).
    * ``google``: ``GCD_VMs.tar.gz`` (or its extracted folder): files ``vm_<job>_<day>`` with
      288 lines ``cpu_pct mem_pct``. ``day`` is ``"1"`` … ``"10"``. Memory above 100 % (a known
      quirk of 12 files) is clipped to 100 %.
    * ``bitbrains``: a folder of GWA-T-12 per-VM files (``<id>.csv`` or ``<id>.csv.gz``, fields
      separated by ``;``), or a folder of month folders (``day="2013-8"``). See
      :func:`read_bitbrains` for how irregular timestamps, zero rows and size changes are handled.
    * ``csv``: the generic format, see :func:`read_generic`.

Owns the parsing and validation helpers of these formats (also used by
:mod:`dcsim.workload.arrivals` for CSV/Parquet tables) and :data:`READERS`.
Bad input (missing file, non-numeric value, wrong columns, utilisation out of range, empty file)
raises :class:`dcsim.errors.ConfigError` naming the file and line.

Imports: numpy, pandas (CSV/Parquet parsing, imported by the readers that parse them, so that
replaying a packaged trace does not import it), dcsim.errors, dcsim.workload.tracedata. Must not
import :mod:`dcsim.workload.traces` (which re-exports these names). Reads files; never writes.
"""

from __future__ import annotations

import io
import re
import tarfile
from collections.abc import Callable, Iterable
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
from numpy.typing import NDArray

from dcsim.errors import ConfigError, Issue
from dcsim.workload.safeio import MAX_DECOMPRESSED_BYTES, read_trace_bytes, shown, trace_file
from dcsim.workload.tracedata import (
    _MAX_ISSUES,
    F32,
    F64,
    TraceData,
    _concat,
    _fail,
    _issue,
    _ro,
)

if TYPE_CHECKING:
    import pandas as pd

__all__ = [
    "GENERIC_COLUMNS",
    "READERS",
    "read_bitbrains",
    "read_generic",
    "read_google",
    "read_planetlab",
]

PLANETLAB_SOURCE = (
    "PlanetLab CPU utilisation (CoMon project), as distributed with CloudSim; "
    "Beloglazov & Buyya, CCPE 24(13), 2012"
)
GOOGLE_SOURCE = (
    "Google cluster-data 2011-2 (CC-BY 4.0), per-job daily series from "
    "HiPro-IT/CPU-and-Memory-resource-usage-from-Google-Cluster-Data"
)
BITBRAINS_SOURCE = (
    "GWA-T-12 Bitbrains Rnd (Grid Workloads Archive, TU Delft); Shen, van Beek & Iosup, "
    "CCGrid 2015"
)
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


def _need_folder(folder: Path) -> None:
    """Refuse ``folder`` unless it is a folder, saying what it is instead."""
    if folder.is_dir():
        return
    what = ("is a file, not a folder (pass the folder holding one file per VM)"
            if folder.exists() else "no such folder")
    _fail([_issue(f"{folder}: {what}")])


# --------------------------------------------------------------------------- PlanetLab


def _parse_column_file(data: bytes, label: str, ncol: int) -> F64:
    """Whitespace-separated numbers, ``ncol`` per line -> (lines, ncol) float64; refuses junk."""
    try:
        flat = np.array(data.split()).astype(np.float64)
        lines = [ln for ln in data.splitlines() if ln.strip()]
        # one field per line is implied by the count; more columns need a per-line check
        if flat.size and len(lines) * ncol == flat.size and (
            ncol == 1 or all(len(ln.split()) == ncol for ln in lines)
        ):
            return flat.reshape(-1, ncol)
    except ValueError:
        pass
    # Slow path, only for bad files: find the offending lines.
    issues: list[Issue] = []
    rows: list[list[float]] = []
    for k, raw in enumerate(data.splitlines(), start=1):
        fields = raw.split()
        if not fields:
            continue
        if len(fields) != ncol:
            issues.append(_issue(f"{label} line {k}: expected {ncol} number(s), got "
                                 f"{len(fields)} field(s)"))
            continue
        try:
            rows.append([float(f) for f in fields])
        except ValueError:
            bad = next(f for f in fields if not _is_float(f)).decode("utf-8", "replace")
            issues.append(_issue(f"{label} line {k}: {shown(bad)} is not a number"))
    if not rows and not issues:
        issues.append(_issue(f"{label}: file is empty"))
    _fail(issues)
    return np.asarray(rows, dtype=np.float64)


def _is_float(b: bytes) -> bool:
    try:
        float(b)
    except ValueError:
        return False
    return True


def _line_of(data: bytes, index: int, ncol: int) -> int:
    """1-based line number of the ``index``-th non-blank line."""
    count = -1
    for k, raw in enumerate(data.splitlines(), start=1):
        if raw.strip():
            count += 1
            if count == index:
                return k
    return index + 1


def _read_percent_files(
    files: Iterable[tuple[str, str, Callable[[], bytes]]], ncol: int, clip_cols: tuple[int, ...]
) -> tuple[list[str], list[F64]]:
    """Parse (name, label, reader) files of percent columns; check ranges and equal lengths."""
    names: list[str] = []
    series: list[F64] = []
    issues: list[Issue] = []
    length: int | None = None
    for name, label, read in files:
        try:
            data = read()
        except OSError as exc:
            issues.append(_issue(f"{label}: cannot read ({exc.strerror or exc})"))
            continue
        except ConfigError as exc:  # not a regular file, too large, corrupt gzip
            issues.extend(exc.issues)
            continue
        try:
            arr = _parse_column_file(data, label, ncol)
        except ConfigError as exc:
            issues.extend(exc.issues)
            continue
        def where(i: int, d: bytes = data, lab: str = label) -> str:
            return f"{lab} line {_line_of(d, i, ncol)}"

        for c in range(ncol):
            hi = np.inf if c in clip_cols else 100.0
            issues.extend(_check_range(arr[:, c], "utilisation", where, hi))
        if length is None:
            length = arr.shape[0]
        elif arr.shape[0] != length:
            issues.append(_issue(
                f"{label}: has {arr.shape[0]} samples, the files before it have {length}"
            ))
            continue
        names.append(name)
        series.append(arr)
        if len(issues) >= _MAX_ISSUES:
            break
    _fail(issues)
    return names, series


def _visible_files(folder: Path) -> list[Path]:
    return sorted(
        (p for p in folder.iterdir() if p.is_file() and not p.name.startswith(".")),
        key=lambda p: p.name,
    )


def read_planetlab(path: str | Path, day: str | None = None) -> TraceData:
    """Read a PlanetLab day folder (or a folder of day folders with ``day``).

    Parameters
    ----------
    path
        Folder of per-VM files, or its parent when ``day`` names the sub-folder.
    day
        Day folder name (``"20110303"``); with ``path`` a folder of day folders and no ``day``,
        every day is read and concatenated (names ``"<day>/<file>"``).

    Returns
    -------
    TraceData
        util (n_vms, 288) fractions, ``interval_s = 300``.
    """
    root = Path(path)
    folder = root / day if day is not None else root
    _need_folder(folder)
    subdirs = sorted(p.name for p in folder.iterdir() if p.is_dir())
    if day is None and subdirs and not _visible_files(folder):
        return _concat([read_planetlab(folder, d) for d in subdirs], "planetlab")
    files = _visible_files(folder)
    if not files:
        _fail([_issue(f"{folder}: no trace files in folder")])
    names, series = _read_percent_files(
        ((p.name, str(p), partial(read_trace_bytes, p)) for p in files), ncol=1, clip_cols=()
    )
    util = np.stack([s[:, 0] for s in series]).astype(np.float32) / np.float32(100.0)
    return TraceData(
        name="planetlab", util=_ro(util), interval_s=300.0, guest_names=names,
        day=day if day is not None else folder.name, source=PLANETLAB_SOURCE,
    )


# --------------------------------------------------------------------------- Google


_GOOGLE_NAME = re.compile(r"^vm_(\d+)_(\d+)$")


def read_google(path: str | Path, day: str | None = None) -> TraceData:
    """Read the Google 2011 GCD VM series from ``GCD_VMs.tar.gz`` or its extracted folder.

    Parameters
    ----------
    path
        The tar.gz archive, or a folder of ``vm_<job>_<day>`` files.
    day
        ``"1"`` … ``"10"``: only the series of that day; ``None``: all 1,600.

    Returns
    -------
    TraceData
        util and mem_util (n, 288) fractions (memory clipped to 1), ``interval_s = 300``,
        guests sorted by (day, job id), named ``vm_<job>_<day>``.
    """
    p = Path(path)
    entries: dict[str, tuple[str, Callable[[], bytes]]] = {}
    if p.is_dir():
        for f in _visible_files(p):
            entries[f.name] = (str(f), partial(read_trace_bytes, f))
    elif p.is_file():
        try:
            with tarfile.open(p, "r:*") as tar:
                # read in archive order: random access into a gzip stream rewinds it each time
                for member in tar:
                    base = member.name.rsplit("/", 1)[-1]
                    if member.isfile() and _GOOGLE_NAME.match(base):
                        entries[base] = (f"{p}:{member.name}", _bytes_reader(tar, member))
        except (tarfile.TarError, OSError, EOFError) as exc:
            _fail([_issue(f"{p}: not a readable tar archive ({exc})")])
    else:
        _fail([_issue(f"{p}: no such file or folder")])
    keyed = []
    for base in entries:
        m = _GOOGLE_NAME.match(base)
        if m and (day is None or int(m.group(2)) == int(day)):
            keyed.append(((int(m.group(2)), int(m.group(1))), base))
    keyed.sort()
    if not keyed:
        what = f"day {day}" if day is not None else "any day"
        _fail([_issue(f"{p}: no vm_<job>_<day> files for {what}")])
    names, series = _read_percent_files(
        ((b, entries[b][0], entries[b][1]) for _, b in keyed), ncol=2, clip_cols=(1,)
    )
    arr = np.stack(series).astype(np.float32) / np.float32(100.0)
    return TraceData(
        name="google", util=_ro(np.ascontiguousarray(arr[:, :, 0])), interval_s=300.0,
        guest_names=names, day=day,
        mem_util=_ro(np.ascontiguousarray(np.minimum(arr[:, :, 1], np.float32(1.0)))),
        source=GOOGLE_SOURCE,
    )


def _bytes_reader(tar: tarfile.TarFile, member: tarfile.TarInfo) -> Callable[[], bytes]:
    if member.size > MAX_DECOMPRESSED_BYTES:
        _fail([_issue(f"{member.name}: {member.size:,} bytes in the archive; at most "
                      f"{MAX_DECOMPRESSED_BYTES:,}")])
    f = tar.extractfile(member)
    data = f.read() if f is not None else b""
    return lambda: data


# --------------------------------------------------------------------------- tables


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


# --------------------------------------------------------------------------- Bitbrains

_BB_COLS = {
    "Timestamp [ms]": "t",
    "CPU cores": "cores",
    "CPU capacity provisioned [MHZ]": "mhz",
    "CPU usage [%]": "cpu_pct",
    "Memory capacity provisioned [KB]": "mem_kb",
    "Memory usage [KB]": "mem_used_kb",
}


def _bitbrains_file(path: Path) -> dict[str, F64]:
    """One GWA-T-12 file as arrays (``;``-separated, optionally gzipped); refuses bad values."""
    import pandas as pd

    raw = read_trace_bytes(path)
    if not raw.strip():
        _fail([_issue(f"{path}: file is empty")])
    buf = io.BytesIO(raw)
    try:
        df = pd.read_csv(buf, sep=";", skipinitialspace=True, skip_blank_lines=False)
    except (pd.errors.ParserError, ValueError, UnicodeDecodeError) as exc:
        _fail([_issue(f"{path}: cannot be parsed ({type(exc).__name__})")])
    df.columns = [str(c).strip() for c in df.columns]
    missing = [c for c in _BB_COLS if c not in df.columns]
    if missing:
        _fail([_issue(f"{path}: missing column(s) {', '.join(map(repr, missing))}")])
    if len(df) == 0:
        _fail([_issue(f"{path}: has a header but no data rows")])
    issues: list[Issue] = []
    out: dict[str, F64] = {}
    fast = all(pd.api.types.is_numeric_dtype(df[c]) for c in _BB_COLS)
    if not fast:  # re-read as text to locate the bad lines
        buf.seek(0)
        df = pd.read_csv(buf, sep=";", skipinitialspace=True, dtype=str, keep_default_na=False,
                         skip_blank_lines=False)
        df.columns = [str(c).strip() for c in df.columns]
    for col, short in _BB_COLS.items():
        out[short] = (_numeric(df, col, path, True, issues) if not fast
                      else df[col].to_numpy(dtype=np.float64))
    _fail(issues)
    where = _where(path, True)
    for short in ("t", "cores", "mhz", "cpu_pct", "mem_kb", "mem_used_kb"):
        issues += _check_range(out[short], short if short != "cpu_pct" else "CPU usage [%]",
                               where, np.inf)
    _fail(issues)
    return out


def _mode_positive(x: F64) -> float:
    pos = x[x > 0]
    if pos.size == 0:
        return 0.0
    vals, counts = np.unique(pos, return_counts=True)
    return float(vals[np.argmax(counts)])


def read_bitbrains(path: str | Path, day: str | None = None, step_s: float = 300.0,
                   files: list[Path] | None = None) -> TraceData:
    """Read GWA-T-12 Bitbrains per-VM files and resample them onto one ``step_s`` grid.

    Parameters
    ----------
    path
        Folder of ``<id>.csv[.gz]`` files, or a folder of month folders with ``day="2013-8"``.
    day
        Month folder name, if ``path`` holds month folders.
    step_s
        Grid step in seconds (the trace's nominal 300 s).
    files
        Read only these files (default: every ``*.csv``/``*.csv.gz`` in the folder).

    Returns
    -------
    TraceData
        util, mem_util (n_vms, n_grid), ``vcpus``, ``ram_bytes`` and ``mips_per_vcpu`` per VM.

    Notes
    -----
    * VMs are ordered by numeric file id; names are the ids.
    * The grid starts at the earliest timestamp of all files rounded down to ``step_s`` and ends
      at the latest; grid point ``k`` takes the row nearest to it (repeated timestamps: the last
      row). A grid point with no row within 1.5 steps, or whose row has zero capacity (the VM
      was off), gets utilisation 0.
    * CPU utilisation is ``CPU usage [%]`` of the row (relative to the row's own capacity);
      memory utilisation is usage / provisioned RAM of the row. Both are clipped to [0, 1]
      (the raw data exceed 100 % in a few rows).
    * Sizes are each VM's most common non-zero value over the file (132 of the 250 Rnd VMs
      change RAM during the month): ``vcpus`` = cores, ``ram_bytes`` = KB × 1024,
      ``mips_per_vcpu`` = provisioned MHz / cores (1 MHz taken as 1 MIPS, as CloudSim does).
    """
    root = Path(path)
    folder = root / day if day is not None else root
    if files is None:
        _need_folder(folder)
        files = [p for p in folder.iterdir()
                 if p.is_file() and p.name.endswith((".csv", ".csv.gz"))]
        if not files:
            subdirs = sorted(p.name for p in folder.iterdir() if p.is_dir())
            hint = f" (month folders: {', '.join(subdirs)}; pass day)" if subdirs else ""
            _fail([_issue(f"{folder}: no <id>.csv or <id>.csv.gz files{hint}")])

    def vm_key(p: Path) -> tuple[int, str]:
        stem = p.name.split(".")[0]
        return (int(stem), stem) if stem.isdigit() else (1 << 62, stem)

    files = sorted(files, key=vm_key)
    issues: list[Issue] = []
    tables: list[dict[str, F64]] = []
    for f in files:
        try:
            tables.append(_bitbrains_file(f))
        except ConfigError as exc:
            issues.extend(exc.issues)
        if len(issues) >= _MAX_ISSUES:
            break
    _fail(issues)
    t_min = min(float(tb["t"].min()) for tb in tables)
    t_max = max(float(tb["t"].max()) for tb in tables)
    t0 = np.floor(t_min / step_s) * step_s
    n_grid = int(np.floor((t_max - t0) / step_s)) + 1
    grid = t0 + step_s * np.arange(n_grid)
    n = len(tables)
    util = np.zeros((n, n_grid), dtype=np.float32)
    mem = np.zeros((n, n_grid), dtype=np.float32)
    vcpus = np.zeros(n, dtype=np.int64)
    ram = np.zeros(n)
    mips = np.zeros(n)
    for i, tb in enumerate(tables):
        order = np.argsort(tb["t"], kind="stable")
        t = tb["t"][order]
        # keep the last row of each repeated timestamp
        keep = np.r_[t[1:] != t[:-1], True]
        t = t[keep]
        cols = {c: v[order][keep] for c, v in tb.items()}
        j = np.clip(np.searchsorted(t, grid), 1, len(t) - 1) if len(t) > 1 else np.zeros(
            n_grid, dtype=np.intp)
        if len(t) > 1:
            left_closer = (grid - t[j - 1]) <= (t[j] - grid)
            j = np.where(left_closer, j - 1, j)
        near = np.abs(t[j] - grid) <= 1.5 * step_s
        on = near & (cols["mhz"][j] > 0) & (cols["mem_kb"][j] > 0)
        cpu = np.clip(cols["cpu_pct"][j] / 100.0, 0.0, 1.0)
        with np.errstate(divide="ignore", invalid="ignore"):
            m = np.clip(cols["mem_used_kb"][j] / cols["mem_kb"][j], 0.0, 1.0)
        util[i] = np.where(on, cpu, 0.0)
        mem[i] = np.where(on, np.nan_to_num(m), 0.0)
        vcpus[i] = int(_mode_positive(cols["cores"]))
        ram[i] = _mode_positive(cols["mem_kb"]) * 1024.0
        per_core = cols["mhz"] / np.where(cols["cores"] > 0, cols["cores"], np.inf)
        mips[i] = _mode_positive(per_core)
    return TraceData(
        name="bitbrains", util=_ro(util), interval_s=step_s,
        guest_names=[vm_key(f)[1] for f in files], day=day, mem_util=_ro(mem),
        vcpus=_ro(vcpus), ram_bytes=_ro(ram), mips_per_vcpu=_ro(mips), source=BITBRAINS_SOURCE,
    )


READERS: dict[str, Callable[..., TraceData]] = {
    "planetlab": read_planetlab,
    "google": read_google,
    "bitbrains": read_bitbrains,
    "csv": lambda path, day=None: read_generic(path),
}
"""Readers of raw formats by trace name: ``reader(path, day) -> TraceData``."""


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

Owns the parsing helpers of these formats and :data:`READERS`; the generic format and the
table helpers (also used by :mod:`dcsim.workload.arrivals`) are :mod:`dcsim.workload.tables`.
Bad input (missing file, non-numeric value, wrong columns, utilisation out of range, empty file)
raises :class:`dcsim.errors.ConfigError` naming the file and line.

Imports: numpy, pandas (CSV/Parquet parsing, imported by the readers that parse them, so that
replaying a packaged trace does not import it), dcsim.errors,
dcsim.workload.{safeio, tables, tracedata}. Must not import :mod:`dcsim.workload.traces` (which
re-exports these names). Reads files; never writes.
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

from dcsim.errors import ConfigError, Issue
from dcsim.workload.safeio import MAX_DECOMPRESSED_BYTES, read_trace_bytes, shown
from dcsim.workload.tables import GENERIC_COLUMNS, _check_range, _numeric, _where, read_generic
from dcsim.workload.tracedata import (
    _MAX_ISSUES,
    F64,
    TraceData,
    _concat,
    _fail,
    _issue,
    _ro,
)

if TYPE_CHECKING:
    pass

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


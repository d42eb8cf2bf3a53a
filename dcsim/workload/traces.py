"""The compact trace store and the lookup of shipped or imported traces.

Raw formats are read by :mod:`dcsim.workload.readers` (``planetlab``, ``google``, ``bitbrains``,
``csv``); the :class:`TraceData` type lives in :mod:`dcsim.workload.tracedata`. This module
re-exports both, so ``from dcsim.workload.traces import read_planetlab, TraceData`` keeps working.

Compact store
    ``<root>/<trace name>/<day>.npz`` (``np.savez_compressed``; utilisation quantised to integer
    percent or to 1e-4, names as a unicode array, no pickles). Roots searched, first hit wins:
    the user store (``$DCSIM_TRACE_DIR``, else ``$XDG_DATA_HOME/dcsim/traces``, else
    ``~/.local/share/dcsim/traces``, resolved at call time) and the package's ``dcsim/data/traces``.

Bad input (missing file, unknown trace or day, not a compact trace) raises
:class:`dcsim.errors.ConfigError` naming the file.

Imports: numpy, dcsim.workload.{tracedata, readers, tables, npzcheck, safeio}. Reads files;
never writes except in :func:`save_compact`, which the importer CLI and the packing script
call.
"""

from __future__ import annotations

import errno
import os
import re
from dataclasses import dataclass, replace
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from dcsim.errors import ConfigError
from dcsim.workload.npzcheck import load_compact_checked
from dcsim.workload.readers import BITBRAINS_SOURCE as BITBRAINS_SOURCE
from dcsim.workload.readers import GOOGLE_SOURCE as GOOGLE_SOURCE
from dcsim.workload.readers import PLANETLAB_SOURCE as PLANETLAB_SOURCE
from dcsim.workload.readers import (
    READERS,
    read_bitbrains,
    read_google,
    read_planetlab,
)

# The readers, their attribution lines and private parsing helpers stay importable from here
# (dcsim.workload.arrivals imports the helpers from this module).
from dcsim.workload.safeio import check_npz
from dcsim.workload.tables import GENERIC_COLUMNS, read_generic
from dcsim.workload.tables import _check_range as _check_range
from dcsim.workload.tables import _numeric as _numeric
from dcsim.workload.tables import _read_table as _read_table
from dcsim.workload.tables import _where as _where
from dcsim.workload.tracedata import F32, TraceData, _concat, _fail, _issue

__all__ = [
    "GENERIC_COLUMNS",
    "READERS",
    "TraceData",
    "TraceInfo",
    "available_traces",
    "clear_cache",
    "load_compact",
    "load_trace",
    "package_trace_dir",
    "read_bitbrains",
    "read_generic",
    "read_google",
    "read_planetlab",
    "save_compact",
    "user_trace_dir",
]


# --------------------------------------------------------------------------- compact store


def _quantise(x: F32, percent: bool) -> tuple[NDArray[Any], float]:
    if percent:
        q = np.rint(x.astype(np.float64) * 100.0)
        if np.allclose(q / 100.0, x, atol=1e-6):
            return q.astype(np.uint8), 100.0
    return np.rint(x.astype(np.float64) * 10000.0).astype(np.uint16), 10000.0


def save_compact(trace: TraceData, path: str | Path, *, exclusive: bool = False) -> Path:
    """Write ``trace`` as a compressed ``.npz`` (integer percent if exact, else steps of 1e-4).

    Returns the path written. The file holds no pickles; :func:`load_compact` reads it.
    ``exclusive``: never replace a file at ``path`` (``FileExistsError`` if one is there, or
    appears while writing: the finished file is published with a hard link, which fails on an
    existing name, instead of a rename, which replaces it).
    """
    p = Path(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    cpu, cpu_scale = _quantise(trace.util, percent=True)
    arrays: dict[str, Any] = {
        "cpu": cpu, "cpu_scale": np.float64(cpu_scale),
        "names": np.array(trace.guest_names, dtype=str),
        "interval_s": np.float64(trace.interval_s),
        "name": np.array(trace.name), "day": np.array(trace.day or ""),
        "source": np.array(trace.source),
    }
    if trace.mem_util is not None:
        arrays["mem"], scale = _quantise(trace.mem_util, percent=True)
        arrays["mem_scale"] = np.float64(scale)
    for key in ("vcpus", "ram_bytes", "mips_per_vcpu"):
        val = getattr(trace, key)
        if val is not None:
            arrays[key] = val
    tmp = p.with_name(f".{p.name}.tmp-{os.getpid()}.npz")
    try:
        np.savez_compressed(tmp, **arrays)
        if exclusive:
            try:
                os.link(tmp, p)
            except FileExistsError:
                raise
            except OSError:  # a file system without hard links: check, then rename
                if p.exists() or p.is_symlink():
                    raise FileExistsError(errno.EEXIST, "file exists", str(p)) from None
                os.replace(tmp, p)
        else:
            os.replace(tmp, p)
    finally:
        tmp.unlink(missing_ok=True)
    return p


def load_compact(path: str | Path, where: str = "path") -> TraceData:
    """Read a ``.npz`` written by :func:`save_compact`, every field checked
    (:func:`dcsim.workload.npzcheck.load_compact_checked`); ConfigError at ``where`` (the
    config field that named the file: ``path``, or ``name`` for a stored trace)."""
    return load_compact_checked(path, where)


def user_trace_dir() -> Path:
    """The user trace store: ``$DCSIM_TRACE_DIR``, else ``$XDG_DATA_HOME/dcsim/traces``, else
    ``~/.local/share/dcsim/traces`` (resolved now, not at import)."""
    env = os.environ.get("DCSIM_TRACE_DIR")
    if env:
        return Path(env).expanduser()
    xdg = os.environ.get("XDG_DATA_HOME")
    base = Path(xdg).expanduser() if xdg else Path.home() / ".local" / "share"
    return base / "dcsim" / "traces"


def package_trace_dir() -> Path:
    """The traces shipped inside the package (``dcsim/data/traces``)."""
    return Path(str(resources.files("dcsim.data"))) / "traces"


def _roots() -> list[Path]:
    return [user_trace_dir(), package_trace_dir()]


#: A trace's name in a store, and a day label: one plain path component (no separators, no
#: ``.``/``..``, nothing hidden), so that a name never reaches outside the store.
STORE_NAME = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.\-]{0,127}")


#: The store's folder of grid carbon-intensity series (``dcsim.workload.carbon``), not a trace.
CARBON_DIR = "carbon"


def _store_days(name: str) -> tuple[Path | None, list[str]]:
    """(folder, sorted day labels) of stored trace ``name`` in the first root that has it."""
    if not STORE_NAME.fullmatch(name) or name == CARBON_DIR:
        return None, []  # never a folder outside the stores
    for root in _roots():
        folder = root / name
        if folder.is_dir():
            days = sorted(p.name[:-4] for p in folder.glob("*.npz")
                          if not p.name.endswith(".tmp.npz"))
            if days:
                return folder, _sort_days(days)
    return None, []


def _sort_days(days: list[str]) -> list[str]:
    def key(d: str) -> tuple[int, ...]:
        nums = re.findall(r"\d+", d)
        return tuple(int(x) for x in nums) if nums else (1 << 62,)

    return sorted(days, key=lambda d: (key(d), d))


@dataclass(frozen=True, slots=True)
class TraceInfo:
    """One stored trace, as ``dcsim traces list`` shows it."""

    name: str
    days: list[str]
    guests: int
    samples: int
    interval_s: float
    has_memory: bool
    has_sizes: bool
    source: str
    location: str
    problem: str = ""  # why a day file could not be read ("" when every day was)


def available_traces() -> list[TraceInfo]:
    """Every trace in the user store and the package (user copies shadow shipped ones)."""
    seen: dict[str, TraceInfo] = {}
    for root in _roots():
        if not root.is_dir():
            continue
        for folder in sorted(p for p in root.iterdir() if p.is_dir()):
            if folder.name in seen or folder.name == CARBON_DIR:
                continue
            days = _sort_days([p.name[:-4] for p in folder.glob("*.npz")
                               if not p.name.endswith(".tmp.npz")])
            if not days:
                continue
            guests, samples, interval, mem, sizes, source = 0, 0, 0.0, False, False, ""
            problem = ""
            for d in days:
                try:
                    with np.load(check_npz(folder / f"{d}.npz"), allow_pickle=False) as z:
                        shape = z["cpu"].shape
                        guests += int(shape[0])
                        samples = max(samples, int(shape[1]))
                        interval = float(z["interval_s"])
                        mem = mem or "mem" in z.files
                        sizes = sizes or "vcpus" in z.files
                        source = str(z["source"])
                # a damaged day is listed as such (loading it says what is wrong, field by
                # field: dcsim.workload.npzcheck); the listing goes on
                except ConfigError as exc:
                    problem = f"{d}.npz: {exc.issues[0].message}"
                except Exception as exc:
                    problem = f"{d}.npz: {type(exc).__name__}: {exc}"
                if problem:
                    break
            seen[folder.name] = TraceInfo(folder.name, days, guests, samples, interval, mem,
                                          sizes, source, str(root), problem)
    return [seen[k] for k in sorted(seen)]


_CACHE: dict[tuple[Any, ...], TraceData] = {}


def clear_cache() -> None:
    """Forget every trace loaded so far."""
    _CACHE.clear()


def _stamp(p: Path) -> int:
    try:
        return p.stat().st_mtime_ns
    except OSError:
        return -1


def load_trace(name: str, day: str | None = None, path: str | Path | None = None) -> TraceData:
    """Load a trace by name (from the stores) or from ``path`` (raw format or compact ``.npz``).

    Parameters
    ----------
    name
        Stored trace name (``planetlab``, ``google``, ``bitbrains-sample``, anything imported),
        or, with ``path``, the reader to use (``planetlab``, ``google``, ``bitbrains``, ``csv``).
    day
        One day/month label; ``None`` = all days, concatenated as separate guests.
    path
        A raw trace file or folder, a ``.csv``/``.parquet`` file or a compact ``.npz``.

    Returns
    -------
    TraceData
        Read-only arrays; results are cached per (name, day, path, file mtime).

    Raises
    ------
    ConfigError
        Unknown trace or day, unreadable or malformed files.
    """
    if path is not None:
        p = Path(path)
        key: tuple[Any, ...] = ("path", name, day, str(p.resolve()), _stamp(p))
        hit = _CACHE.get(key)
        if hit is None:
            lower = p.name.lower()
            if lower.endswith(".npz"):
                hit = load_compact(p)
            elif name in READERS:
                hit = READERS[name](p, day)
            elif lower.endswith((".csv", ".csv.gz", ".parquet", ".pq")):
                hit = read_generic(p, name=name)
            else:
                _fail([_issue(
                    f"{p}: cannot tell the format; use name one of {', '.join(READERS)}, "
                    "or a .csv/.parquet/.npz file"
                )])
            assert hit is not None
            _CACHE[key] = hit
        return hit
    folder, days = _store_days(name)
    key = ("store", name, day, str(folder))
    hit = _CACHE.get(key)
    if hit is not None:
        return hit
    if folder is None:
        known = [t.name for t in available_traces()]
        hint = ""
        if name == "bitbrains":
            hint = (" (its terms do not allow shipping it: import your copy with "
                    "`dcsim traces import bitbrains PATH`; a 5-VM excerpt ships as "
                    "'bitbrains-sample')")
        _fail([_issue(
            f"unknown trace {name!r}{hint}; available: {', '.join(known) or 'none'}", "name"
        )])
    assert folder is not None
    if day is not None and day not in days:
        _fail([_issue(f"trace {name!r} has no day {day!r}; days: {', '.join(days)}", "day")])
    parts = [_load_day(folder, d) for d in ([day] if day is not None else days)]
    hit = _concat(parts, name) if day is None else parts[0]
    _CACHE[key] = hit
    return hit


def _load_day(folder: Path, day: str) -> TraceData:
    f = folder / f"{day}.npz"
    key = ("file", str(f), _stamp(f))
    hit = _CACHE.get(key)
    if hit is None:
        hit = replace(load_compact(f, "name"), name=folder.name, day=day)
        _CACHE[key] = hit
    return hit

"""Field-by-field checks of dcsim's own ``.npz`` files: compact traces and carbon series.

A compact trace (``dcsim traces import``, the shipped ``dcsim/data/traces``) and a stored carbon
series (``dcsim traces import carbon``, ``dcsim/data/carbon``) are zip archives of ``.npy``
arrays that anyone can edit. Before any value is used, every field the loaders read is checked:
present, of the expected dtype kind and number of dimensions, shapes consistent between arrays,
finite and in range. A bad file raises :class:`dcsim.errors.ConfigError` with one
:class:`Issue` per bad field at the config path that named the file (``where``: e.g. ``path``
or ``name``, which the config layer prefixes with ``guests[0].workload``), each message reading
``<file>: <field> ...: expected ...``. The checks are whole-array numpy reductions (min/max);
locating the first bad element is done only once a check failed, so a good file costs a few
passes over its arrays.

Imports: numpy, dcsim.errors, dcsim.workload.{safeio, tracedata, tables (size bounds)}.
"""

from __future__ import annotations

import zipfile
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from dcsim.errors import ConfigError, Issue
from dcsim.workload.safeio import check_npz
from dcsim.workload.tables import _SIZE_MAX, MAX_GRID_CELLS, MAX_INTERVAL_S
from dcsim.workload.tracedata import _MAX_ISSUES, TraceData, _ro

__all__ = ["MAX_INTERVAL_S", "MAX_SCALE", "load_carbon_npz", "load_compact_checked"]

MAX_SCALE = 1e9
"""Largest ``cpu_scale``/``mem_scale`` (stored units per full utilisation; dcsim writes 100 or
10000)."""
_INT = "iu"
_NUM = "iuf"
_TOL = 1e-9  # relative slack on "<= scale": the readers' tolerance on a fraction
# instants a calendar can show (datetime's years 1 to 9999), s since 1970-01-01 UTC
_T_MIN, _T_MAX = -62135596800, 253402300799
_KIND = {"i": "integers", "u": "integers", "f": "numbers", "U": "text"}


def _what(a: NDArray[Any]) -> str:
    """How an array looks, for a message: ``a float64 scalar``, ``a 3-D uint8 array (1, 2, 30)``."""
    if a.ndim == 0:
        return f"a {a.dtype} scalar"
    return f"a {a.ndim}-D {a.dtype} array of shape {tuple(int(d) for d in a.shape)}"


def _entries(n: int) -> str:
    return f"{n} entry" if n == 1 else f"{n} entries"


class _Fields:
    """The members of one open archive, each checked once; issues collect in :attr:`issues`."""

    def __init__(self, z: Any, path: Path, where: str) -> None:
        self.z, self.path, self.where = z, path, where
        self.files = set(z.files)
        self.issues: list[Issue] = []
        self.grid: tuple[int, int] | None = None  # (guests, samples) of a well-formed cpu

    def bad(self, message: str) -> None:
        self.issues.append(Issue(self.where, f"{self.path}: {message}"))

    def array(self, key: str, kinds: str, ndim: int, expected: str,
              required: bool = True) -> NDArray[Any] | None:
        """Member ``key`` if its dtype kind is in ``kinds`` and it has ``ndim`` dimensions;
        else None (an issue is noted when it is required or present but malformed)."""
        if key not in self.files:
            if required:
                self.bad(f"missing field {key!r} ({expected})")
            return None
        a: NDArray[Any] = self.z[key]
        if a.dtype.kind not in kinds or a.ndim != ndim:
            self.bad(f"{key} is {_what(a)}; expected {expected}")
            return None
        return a

    def text(self, key: str) -> str | None:
        a = self.array(key, "U", 0, "a text scalar")
        return None if a is None else str(a)

    def number(self, key: str, hi: float, expected: str) -> float | None:
        """A numeric scalar in ``(0, hi]`` (finite), else None with an issue."""
        a = self.array(key, _NUM, 0, f"a number scalar: {expected}")
        if a is None:
            return None
        v = float(a)
        if not (0.0 < v <= hi):  # NaN fails too
            self.bad(f"{key} {v:g}: expected {expected}")
            return None
        return v

    def fractions(self, key: str, scale_key: str, n: int | None, s: int | None,
                  required: bool) -> NDArray[np.float32] | None:
        """(guests, samples) utilisation: ``key`` / ``scale_key``, checked to lie in [0, 1]."""
        kinds = "integers or numbers"
        a = self.array(key, _NUM, 2, f"a 2-D array of {kinds} (guests × samples)", required)
        if key in self.files and scale_key not in self.files:
            self.bad(f"missing field {scale_key!r} (the units of {key} per full utilisation)")
        if scale_key in self.files and key not in self.files:
            self.bad(f"{scale_key} without {key}")
        scale = (self.number(scale_key, MAX_SCALE, f"a finite number > 0 and <= {MAX_SCALE:g} "
                             f"(units of {key} per full utilisation)")
                 if scale_key in self.files else None)
        if a is None:
            return None
        if n is not None and s is not None and a.shape != (n, s):
            self.bad(f"{key} has shape {tuple(a.shape)}; expected ({n}, {s}) like cpu")
            return None
        if a.shape[0] == 0 or a.shape[1] == 0:
            self.bad(f"{key} has shape {tuple(a.shape)}; expected at least one guest (row) "
                     "and one sample (column)")
            return None
        if a.shape[0] * a.shape[1] > MAX_GRID_CELLS:
            self.bad(f"{key} has {a.shape[0] * a.shape[1]:,} cells; at most {MAX_GRID_CELLS:,}")
            return None
        if n is None:
            self.grid = (int(a.shape[0]), int(a.shape[1]))
        if scale is None:
            return None
        top = scale * (1.0 + _TOL)
        lo, hi = a.min(), a.max()
        if not (lo >= 0 and hi <= top):  # a NaN anywhere makes min and max NaN: fails too
            with np.errstate(invalid="ignore"):
                flat = int(np.argmax(~((a >= 0) & (a <= top))))
            g, k = (int(i) for i in np.unravel_index(flat, a.shape))
            self.bad(f"{key}[{g}, {k}] (guest {g}, sample {k}) is {float(a[g, k]):g}; expected "
                     f"0 to {scale_key} {scale:g} (utilisation 0 to 1)")
            return None
        util: NDArray[np.float32] = a.astype(np.float32) / np.float32(scale)
        return util

    def per_guest(self, key: str, n: int | None, kinds: str, hi: float,
                  expected: str) -> NDArray[Any] | None:
        """Optional (guests,) sizes in ``(0, hi]``."""
        a = self.array(key, kinds, 1, f"a 1-D array of {expected}, one per guest", False)
        if a is None:
            return None
        if n is not None and a.shape[0] != n:
            self.bad(f"{key} has {_entries(a.shape[0])}; expected one per guest ({n}, the rows "
                     "of cpu)")
            return None
        if a.shape[0] and not (a.min() > 0 and a.max() <= hi):
            with np.errstate(invalid="ignore"):
                i = int(np.argmax(~((a > 0) & (a <= hi))))
            self.bad(f"{key}[{i}] is {float(a[i]):g}; expected {expected}, > 0 and <= {hi:g}")
            return None
        return a


@contextmanager
def _open(path: Path, where: str) -> Iterator[Any]:
    """``np.load`` of a checked archive (size caps, no pickles); ConfigError at ``where``, also
    for a member that does not decompress or parse (a bad CRC, a damaged ``.npy`` header)."""
    try:
        with np.load(check_npz(path), allow_pickle=False) as z:
            yield z
    except ConfigError as exc:
        raise exc.at(where) from None
    except (OSError, EOFError, ValueError, zipfile.BadZipFile, zlib.error) as exc:
        raise ConfigError(Issue(where, f"{path}: not a readable dcsim .npz file "
                                f"({type(exc).__name__}: {exc})")) from None


def _done(f: _Fields) -> None:
    if f.issues:
        raise ConfigError(f.issues[:_MAX_ISSUES])


def load_compact_checked(path: str | Path, where: str = "path") -> TraceData:
    """A compact trace (:func:`dcsim.workload.traces.save_compact`'s format), every field checked.

    Fields: ``cpu`` (guests × samples, integers or numbers in ``[0, cpu_scale]``),
    ``cpu_scale`` (finite, ``(0, MAX_SCALE]``), ``names`` (one text per guest),
    ``interval_s`` (s, ``(0, MAX_INTERVAL_S]``), ``name``, ``day``, ``source`` (text); optional
    ``mem``/``mem_scale`` (like cpu, same shape), ``vcpus`` (integers), ``ram_bytes``,
    ``mips_per_vcpu`` (one per guest, > 0 and at most the readers' bounds). Raises
    ConfigError at ``where`` naming the file and each bad field.
    """
    p = Path(path)
    with _open(p, where) as z:
        f = _Fields(z, p, where)
        util = f.fractions("cpu", "cpu_scale", None, None, True)
        n, s = f.grid if f.grid is not None else (None, None)
        mem = f.fractions("mem", "mem_scale", n, s, False)
        names = f.array("names", "U", 1, "a 1-D text array, one name per guest")
        if names is not None and n is not None and names.shape[0] != n:
            f.bad(f"names has {_entries(names.shape[0])}; expected one per guest ({n}, the rows "
                  "of cpu)")
        interval = f.number("interval_s", MAX_INTERVAL_S, "seconds between samples, a finite "
                            f"number > 0 and <= {MAX_INTERVAL_S:g} (a week)")
        vcpus = f.per_guest("vcpus", n, _INT, _SIZE_MAX["vcpus"], "whole numbers of cores")
        ram = f.per_guest("ram_bytes", n, _NUM, _SIZE_MAX["ram_mib"] * 1024.0**2, "bytes")
        mips = f.per_guest("mips_per_vcpu", n, _NUM, _SIZE_MAX["mips"], "MIPS per vCPU")
        name, day, source = f.text("name"), f.text("day"), f.text("source")
        _done(f)
        assert util is not None
        assert names is not None
        assert interval is not None
        return TraceData(
            name=str(name), util=_ro(util), interval_s=interval, guest_names=names.tolist(),
            day=day or None, mem_util=_ro(mem),
            vcpus=_ro(None if vcpus is None else vcpus.astype(np.int64)),
            ram_bytes=_ro(None if ram is None else ram.astype(np.float64)),
            mips_per_vcpu=_ro(None if mips is None else mips.astype(np.float64)),
            source=str(source),
        )


def load_carbon_npz(path: str | Path, where: str) -> tuple[NDArray[np.float64],
                                                          NDArray[np.float64], str]:
    """A stored carbon series (``t``: instants, s since 1970 UTC, strictly increasing, within
    years 1-9999; ``v``: g CO2-eq/kWh, finite, >= 0, one per instant; ``source``: text), every
    field checked; ConfigError at ``where`` naming the file and each bad field."""
    p = Path(path)
    with _open(p, where) as z:
        f = _Fields(z, p, where)
        t = f.array("t", _NUM, 1, "a 1-D array of instants (s since 1970-01-01 UTC)")
        v = f.array("v", _NUM, 1, "a 1-D array of intensities (g CO2-eq/kWh)")
        source = f.text("source")
        if t is not None and t.shape[0] == 0:
            f.bad("t is empty; expected at least one instant")
        elif t is not None and v is not None and v.shape != t.shape:
            f.bad(f"v has {_entries(v.shape[0])}; expected one per instant of t ({t.shape[0]})")
        elif t is not None and v is not None:
            t64 = t.astype(np.float64)
            v64 = v.astype(np.float64)
            if not (t64.min() >= _T_MIN and t64.max() <= _T_MAX):
                with np.errstate(invalid="ignore"):
                    i = int(np.argmax(~((t64 >= _T_MIN) & (t64 <= _T_MAX))))
                f.bad(f"t[{i}] is {t64[i]:.0f}; expected an instant within years 1 to 9999 "
                      "(s since 1970-01-01 UTC)")
            elif t64.shape[0] > 1 and not (np.diff(t64) > 0).all():
                i = int(np.argmax(np.diff(t64) <= 0)) + 1
                f.bad(f"t[{i}] is {t64[i]:.0f}, not after t[{i - 1}] {t64[i - 1]:.0f}; expected "
                      "strictly increasing instants")
            if not (v64.min() >= 0 and np.isfinite(v64.max())):
                with np.errstate(invalid="ignore"):
                    i = int(np.argmax(~(np.isfinite(v64) & (v64 >= 0))))
                f.bad(f"v[{i}] is {v64[i]:g}; expected a finite intensity >= 0 (g CO2-eq/kWh)")
        _done(f)
        assert t is not None
        assert v is not None
        assert source is not None
        return t.astype(np.float64), v.astype(np.float64), source

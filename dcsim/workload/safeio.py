"""Bounded reading of trace files: regular files only, sizes checked, decompression capped.

Every trace, arrival, topology and failure-trace file a config names goes through here (or
through :func:`dcsim.config.safeyaml.regular_file`): a FIFO or a device such as ``/dev/zero`` is
refused before it is opened (reading it would never end), a file above :data:`MAX_FILE_BYTES`
is refused, a ``.gz`` is decompressed in chunks and refused once it exceeds
:data:`MAX_DECOMPRESSED_BYTES` (a gzip bomb) or if it is truncated or corrupt, and a ``.npz``
(a zip archive) is checked member by member against the same cap before numpy reads it (pickles
are never loaded: ``allow_pickle=False`` everywhere). Errors are ``ConfigError`` naming the file.

:func:`shown` decides whether a piece of file content may appear in an error message: only short
tokens without the punctuation of credentials or paths, so that pointing a trace path at an
arbitrary file (``/etc/shadow``) never prints its lines.

Imports: dcsim.errors, dcsim.config.safeyaml.
"""

from __future__ import annotations

import gzip
import re
import zipfile
import zlib
from pathlib import Path

from dcsim.config.safeyaml import regular_file
from dcsim.errors import ConfigError, Issue

__all__ = [
    "MAX_DECOMPRESSED_BYTES",
    "MAX_FILE_BYTES",
    "check_npz",
    "read_trace_bytes",
    "shown",
    "trace_file",
]

MAX_FILE_BYTES = 2 * 1024**3
"""Largest trace file read (bytes, as stored)."""
MAX_DECOMPRESSED_BYTES = 2 * 1024**3
"""Largest decompressed content of a ``.gz`` or ``.npz`` (bytes)."""
_CHUNK = 1 << 20
_SAFE_TOKEN = re.compile(r"^[\w.+\-% ]{0,24}$")


def _fail(path: str | Path, message: str) -> ConfigError:
    return ConfigError(Issue("", f"{path}: {message}"))


def trace_file(path: str | Path, what: str = "trace file") -> Path:
    """``path`` if it is a regular file of at most :data:`MAX_FILE_BYTES`; else ConfigError."""
    try:
        return regular_file(path, what, MAX_FILE_BYTES)
    except ConfigError as exc:
        raise ConfigError(exc.issues) from None


def read_trace_bytes(path: str | Path, what: str = "trace file") -> bytes:
    """The content of a trace file, decompressed when it ends in ``.gz`` (bounded, checked)."""
    p = trace_file(path, what)
    try:
        if not p.name.lower().endswith(".gz"):
            return p.read_bytes()
        parts: list[bytes] = []
        total = 0
        with gzip.open(p, "rb") as fh:
            while chunk := fh.read(_CHUNK):
                total += len(chunk)
                if total > MAX_DECOMPRESSED_BYTES:
                    raise _fail(p, f"decompresses to more than {MAX_DECOMPRESSED_BYTES:,} "
                                "bytes (refused)")
                parts.append(chunk)
        return b"".join(parts)
    except (EOFError, gzip.BadGzipFile, zlib.error) as exc:
        raise _fail(p, f"truncated or corrupt gzip file ({type(exc).__name__})") from None
    except OSError as exc:
        raise _fail(p, f"cannot read ({exc.strerror or type(exc).__name__})") from None


def check_npz(path: str | Path) -> Path:
    """``path`` if it is a regular zip of ``.npy`` members within the decompressed-size cap."""
    p = trace_file(path, "compact trace")
    try:
        with zipfile.ZipFile(p) as z:
            total = 0
            for info in z.infolist():
                if not info.filename.endswith(".npy"):
                    raise _fail(p, f"unexpected member {shown(info.filename)} (not an array)")
                total += max(info.file_size, _declared_bytes(z, info))
            if total > MAX_DECOMPRESSED_BYTES:
                raise _fail(p, f"arrays total {total:,} bytes; at most {MAX_DECOMPRESSED_BYTES:,}")
    except (zipfile.BadZipFile, EOFError, OSError, ValueError) as exc:
        raise _fail(p, f"not a readable .npz archive ({type(exc).__name__})") from None
    return p


def _declared_bytes(z: zipfile.ZipFile, info: zipfile.ZipInfo) -> int:
    """Bytes the ``.npy`` header of a member says its array holds; refuses object arrays."""
    from numpy.lib import format as npy

    with z.open(info) as fh:
        version = npy.read_magic(fh)
        if version == (1, 0):
            shape, _, dtype = npy.read_array_header_1_0(fh)
        else:
            shape, _, dtype = npy.read_array_header_2_0(fh)
    if dtype.hasobject:
        raise ValueError("object arrays (pickles) are refused")
    n = 1
    for d in shape:
        n *= int(d)
    return n * dtype.itemsize


def shown(text: object) -> str:
    """``repr(text)`` if it is a short plain token, else a placeholder (never echo file lines)."""
    s = str(text)
    return repr(s) if _SAFE_TOKEN.match(s) else f"<{len(s)} characters not shown>"

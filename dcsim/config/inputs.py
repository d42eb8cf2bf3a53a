"""The files a config reads, each with its size and SHA-256.

A config names its own input files with the fields ``path`` (a trace workload's file or folder,
an arrival table, a topology), ``file`` (a carbon intensity series) and ``trace`` (a host
failure trace); relative names are relative to the config's folder. The same config with other
bytes in those files is another experiment, so a run's ``manifest.json`` lists them
(``inputs``) and a sweep's hash includes them (a sweep does not resume over changed inputs).
A plugin's parameter that names a file is declared with :data:`InputPath` (a ``str`` marked
:class:`InputFile`); ``dcsim.validate`` finds those fields in the plugin's params models, checks
the files exist and passes them here as ``extra`` (config path → name as written).

Digests are cached per process by (file, inode, size, modification and change times), so a
sweep hashes each file once per worker.

Imports: hashlib, os, pathlib, typing (no dcsim package).
"""

from __future__ import annotations

import hashlib
import os
import typing
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any

#: config keys whose string values name a file (see the module docstring)
FILE_KEYS = frozenset({"path", "file", "trace"})
_CHUNK = 1 << 20
_cache: dict[tuple[str, int, int, int, int], str] = {}


@dataclass(frozen=True)
class InputFile:
    """Marks a plugin parameter whose value names an input file or folder (see
    :data:`InputPath`): the run's manifest and a sweep's hash then include its digest."""


InputPath = Annotated[str, InputFile()]
"""A plugin parameter naming an input file or folder (relative names: to the config's folder)."""


def input_fields(model: type[Any]) -> list[tuple[str, str]]:
    """``(attribute, key as written)`` of a pydantic model's fields declared :data:`InputPath`,
    also inside ``Optional``/unions (the key is the field's alias where one is set)."""

    def marked(tp: Any) -> bool:
        if typing.get_origin(tp) is Annotated and any(
                isinstance(m, InputFile) for m in tp.__metadata__):
            return True
        return any(marked(a) for a in typing.get_args(tp))

    fields = getattr(model, "model_fields", {})
    return [(name, f.alias or name) for name, f in fields.items()
            if any(isinstance(m, InputFile) for m in f.metadata) or marked(f.annotation)]


def resolve_input(name: str, base_dir: Path | None) -> Path:
    """Where a file named in a config is: relative names are relative to ``base_dir``."""
    p = Path(name)
    return p if p.is_absolute() or base_dir is None else base_dir / p


def input_files(config_json: dict[str, Any], base_dir: Path | None,
                extra: Mapping[str, str] | None = None) -> dict[str, dict[str, Any]]:
    """``{config path: {"path": as written, "bytes": size, "sha256": hex}}`` for every file or
    folder the config names that exists, plus ``extra`` (config path → name: plugins' files).
    A file's digest is its SHA-256; a folder's is the SHA-256 of each file's relative name, a
    NUL byte and the file's SHA-256, by sorted name."""
    out: dict[str, dict[str, Any]] = {}

    def walk(node: Any, where: str) -> None:
        if isinstance(node, dict):
            for key, value in node.items():
                here = f"{where}.{key}" if where else str(key)
                if key in FILE_KEYS and isinstance(value, str):
                    entry = _describe(value, base_dir)
                    if entry is not None:
                        out[here] = entry
                else:
                    walk(value, here)
        elif isinstance(node, list):
            for i, value in enumerate(node):
                walk(value, f"{where}[{i}]")

    walk(config_json, "")
    for where, name in sorted((extra or {}).items()):
        entry = _describe(name, base_dir)
        if entry is not None:
            out[where] = entry
    return out


def _describe(name: str, base_dir: Path | None) -> dict[str, Any] | None:
    p = resolve_input(name, base_dir)
    if p.is_file():  # its own SHA-256 (what sha256sum prints)
        st = p.stat()
        return {"path": name, "bytes": st.st_size, "sha256": _file_digest(p, st)}
    if p.is_dir():
        files = sorted(f for f in p.rglob("*") if f.is_file())
    else:
        return None  # a shipped name, not a file (validation refuses a missing file)
    h = hashlib.sha256()  # a folder: its files' names and digests, by sorted name
    size = 0
    for f in files:
        h.update(f.relative_to(p).as_posix().encode("utf-8") + b"\0")
        st = f.stat()
        size += st.st_size
        h.update(bytes.fromhex(_file_digest(f, st)))
    return {"path": name, "bytes": size, "sha256": h.hexdigest()}


def _file_digest(f: Path, st: os.stat_result) -> str:
    key = (str(f.resolve()), st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns)
    hit = _cache.get(key)
    if hit is None:
        h = hashlib.sha256()
        with f.open("rb") as fh:
            while chunk := fh.read(_CHUNK):
                h.update(chunk)
        hit = _cache[key] = h.hexdigest()
    return hit

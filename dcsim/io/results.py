"""Writing a run's results folder atomically, with its provenance.

Layout of a run folder::

    summary.json        one number per metric, null where the run's mode has no such quantity
    timeseries.parquet  one row per scheduling interval
    guests.parquet      one row per guest that arrived
    migrations.parquet  one row per migration
    <table>.parquet     every other table of the contract (hosts, jobs, network, flows, links,
                        failures, …), empty with its schema when the run has nothing to record
    config.yaml         the validated config with every default filled in
    resolved.yaml       the catalog entries the run used (host models, profiles, guest types)
    manifest.json       dcsim version, scenario id (config hash), seed, package versions, status,
                        input files with their SHA-256 (``dcsim.config.inputs``)

The files, columns, dtypes and units are the results contract, ``dcsim.metrics.contract``:
every run writes the same ones, whatever its mode. Everything is written into a hidden sibling
folder and swapped into place at the end, so a crash never leaves a half-written results folder
behind; which folders may be written or replaced, and how, is ``dcsim.io.outdir``'s business.

Imports: json, yaml, dcsim.metrics.{result, contract}, dcsim.io.{outdir, parquet} (pyarrow;
pandas only for tables already built as DataFrames).
"""

from __future__ import annotations

import json
import platform
import shutil
import sys
from functools import cache
from importlib import metadata
from pathlib import Path
from typing import Any

import yaml

from dcsim.io.outdir import RUN_KIND, check_out_dir, clean_leftovers, commit_dir, new_tmp_dir
from dcsim.io.parquet import write_table
from dcsim.metrics.contract import TABLES, conform
from dcsim.metrics.result import Result

__all__ = ["environment_versions", "write_run", "yaml_text"]


def environment_versions() -> dict[str, str]:
    """Versions of Python and of the packages a result depends on (a fresh dict each call)."""
    return dict(_versions())


@cache
def _versions() -> dict[str, str]:
    # read once per process: ~10 ms of package metadata parsing, which every run of a sweep paid
    out = {"python": sys.version.split()[0], "platform": platform.platform()}
    for pkg in ("dcsim", "numpy", "scipy", "simpy", "networkx", "pandas", "pyarrow", "pydantic"):
        try:
            out[pkg] = metadata.version(pkg)
        except metadata.PackageNotFoundError:
            out[pkg] = "unknown"
    return out


def _json_default(o: Any) -> Any:
    if hasattr(o, "item"):
        return o.item()
    raise TypeError(f"cannot serialise {type(o).__name__}")


def dump_json(obj: Any, path: Path) -> None:
    """Write ``obj`` as pretty, key-sorted JSON (NaN refused)."""
    path.write_text(json.dumps(obj, indent=2, sort_keys=True, default=_json_default,
                               allow_nan=False) + "\n", encoding="utf-8")


#: libyaml's emitter with PyYAML's safe representer, when PyYAML was built with libyaml
_C_DUMPER: type | None = getattr(yaml, "CSafeDumper", None)


def _plain_text(s: object) -> bool:
    return isinstance(s, str) and s.isascii() and s.isprintable()


def _same_in_c(data: Any) -> bool:
    """Whether libyaml's emitter writes ``data`` byte for byte as PyYAML's Python emitter does.

    Tested (``tests/unit/io/test_yaml_text.py``) for a dict of dicts and lists of None, bools,
    ints, floats and printable ASCII strings, with mapping keys such strings of 1 to 99
    characters. The two differ elsewhere: an empty key or one of 128+ characters is a ``? key``
    in PyYAML and a simple key in libyaml; a long double-quoted string (control or non-ASCII
    characters) is folded by PyYAML only; a document that is a plain scalar ends with ``...`` in
    PyYAML only.
    """
    if not isinstance(data, dict):
        return False
    stack = [data]
    while stack:
        v = stack.pop()
        if isinstance(v, dict):
            for k, x in v.items():
                if not (_plain_text(k) and 0 < len(k) < 100):
                    return False
                stack.append(x)
        elif isinstance(v, list):
            stack.extend(v)
        elif not (v is None or isinstance(v, bool | int | float) or _plain_text(v)):
            return False
    return True


def yaml_text(data: Any) -> str:
    """``yaml.safe_dump(data, sort_keys=False)``, the same text; through libyaml's emitter when
    it writes ``data`` identically (5x faster: resolved.yaml of the CloudSim PlanetLab config is
    118 kB, 0.22 s of CPU in Python)."""
    if _C_DUMPER is not None and _same_in_c(data):
        return yaml.dump(data, Dumper=_C_DUMPER, sort_keys=False)
    return yaml.safe_dump(data, sort_keys=False)


def _clean(summary: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for k, v in summary.items():
        if isinstance(v, float) and v != v:  # NaN → null
            out[k] = None
        else:
            out[k] = v
    return out


def write_run(result: Result, out: str | Path, *, overwrite: bool = False) -> Path:
    """Write ``result`` to the folder ``out`` atomically; returns the folder.

    ``out`` must be new, empty, or (with ``overwrite``) a dcsim run's results folder; anything
    else raises ``ConfigError`` on ``--out`` and nothing is written (``dcsim.io.outdir``).
    """
    final = Path(out)
    check_out_dir(final, overwrite=overwrite)
    clean_leftovers(final)
    tmp = new_tmp_dir(final)
    try:
        written: list[str] = []

        def parquet(table: Any, name: str) -> None:
            write_table(table, tmp / name)
            written.append(name)

        conform(result)
        dump_json(_clean(result.summary), tmp / "summary.json")
        written.append("summary.json")
        for name in TABLES:  # as stored: a table not built yet is written without pandas
            parquet(result.raw(name), f"{name}.parquet")
        (tmp / "config.yaml").write_text(yaml_text(result.config), encoding="utf-8")
        (tmp / "resolved.yaml").write_text(yaml_text(result.resolved), encoding="utf-8")
        written += ["config.yaml", "resolved.yaml", "manifest.json"]
        dump_json({**result.manifest, "kind": RUN_KIND, "files": sorted(written)},
                  tmp / "manifest.json")
        check_out_dir(final, overwrite=overwrite)  # again: the folder may have changed meanwhile
        commit_dir(tmp, final)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return final

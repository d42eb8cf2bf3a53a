"""The results folder of a sweep: append-only, atomic, resumable.

Layout of ``DIR``::

    manifest.json       kind, store version, sweep hash, name, source, parameters, counts, versions
    sweep.yaml          the config as run (overrides applied, sweep section included)
    points.csv          one row per point: index, id, parameter values, config hash, seed
    runs/<point_id>-rep<k>.parquet   one row per finished run (ok or error), written atomically
    runs.parquet        every run, one row each, ordered by point and replication (rebuilt)
    summary.csv         mean, std, 95 % CI and n per point and metric (see dcsim.experiments.stats)

A run file is written to a hidden temporary name in ``runs/``, flushed to disk and renamed with
``os.replace``, so a SIGKILL or Ctrl-C at any moment leaves either the whole file or nothing; the
hidden leftovers are removed the next time the store is opened. ``runs.parquet`` and
``summary.csv`` are derived from ``runs/`` and rebuilt (atomically too) when a sweep starts, ends
or is interrupted, so they can always be regenerated. The manifest pins the sweep hash: opening a
folder with a different hash is refused unless ``overwrite`` is set, which deletes only the files
listed above.

Imports: pandas, pyarrow, yaml, dcsim.errors, dcsim.io.results.
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from dcsim.errors import ConfigError, Issue

__all__ = ["STORE_VERSION", "SweepStore", "atomic_write_bytes", "is_sweep_folder", "order_columns"]

STORE_VERSION = 1
MANIFEST = "manifest.json"
RUNS_DIR = "runs"
RUNS_TABLE = "runs.parquet"
SUMMARY = "summary.csv"
_OWNED = (MANIFEST, "sweep.yaml", "points.csv", RUNS_TABLE, SUMMARY, "plots")

#: Columns that come first and last in ``runs.parquet``; parameters and metrics go between.
FRONT = ("point", "point_id", "replication", "seed")
BACK = ("status", "error", "run_wall_s", "scenario_id", "config_hash", "dcsim_version")


def _tmp_name(final: Path) -> Path:
    return final.parent / f".{final.name}.tmp-{os.getpid()}"


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def atomic_write_bytes(final: Path, data: bytes) -> None:
    """Write ``data`` to ``final`` through a temporary file and ``os.replace``."""
    tmp = _tmp_name(final)
    try:
        with open(tmp, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, final)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def _atomic_parquet(table: pa.Table, final: Path) -> None:
    tmp = _tmp_name(final)
    try:
        pq.write_table(table, tmp)
        _fsync(tmp)
        os.replace(tmp, final)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def _atomic_csv(df: pd.DataFrame, final: Path) -> None:
    atomic_write_bytes(final, df.to_csv(index=False).encode("utf-8"))


def is_sweep_folder(path: Path) -> bool:
    """Whether ``path`` holds a sweep's manifest."""
    return (Path(path) / MANIFEST).is_file()


def _parquet_safe(df: pd.DataFrame) -> pd.DataFrame:
    """Object columns holding several value types (``[1, "auto"]``) become strings."""
    out = df.copy()
    for col in out.columns:
        if out[col].dtype != object:
            continue
        kinds = {type(v) for v in out[col] if v is not None and not (isinstance(v, float)
                                                                    and v != v)}
        if len(kinds - {int, float}) and len(kinds) > 1:
            out[col] = out[col].map(lambda v: None if v is None else str(v))
    return out


def order_columns(df: pd.DataFrame, params: Iterable[str]) -> pd.DataFrame:
    """Front metadata, parameters (in sweep order), metrics, back metadata."""
    params = [p for p in params if p in df.columns]
    front = [c for c in FRONT if c in df.columns]
    back = [c for c in BACK if c in df.columns]
    fixed = set(front) | set(params) | set(back) | {"key"}
    metrics = [c for c in df.columns if c not in fixed]
    return df[front + params + metrics + back]


class SweepStore:
    """One sweep's results folder (see the module docstring for its layout)."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)
        self.runs_dir = self.root / RUNS_DIR

    # ------------------------------------------------------------------ opening

    @classmethod
    def open(cls, root: str | Path, manifest: dict[str, Any], *, overwrite: bool = False,
             extra_files: dict[str, bytes] | None = None) -> SweepStore:
        """Open ``root`` for the sweep described by ``manifest`` (must hold ``sweep_hash``).

        A new or empty folder is initialised; a folder of the same sweep is resumed; anything
        else raises ``ConfigError`` (exit 2 in the CLI) naming ``--out``.

        Parameters
        ----------
        root : the results folder.
        manifest : what ``manifest.json`` holds for this sweep.
        overwrite : delete the store files of a different sweep in ``root`` and start afresh.
        extra_files : name → bytes written once, when the folder is initialised.
        """
        store = cls(Path(root))
        mpath = store.root / MANIFEST
        if mpath.is_file():
            old = store.manifest()
            if old.get("sweep_hash") != manifest["sweep_hash"]:
                if not overwrite:
                    raise ConfigError(Issue(
                        "--out",
                        f"{store.root} holds the results of a different sweep (sweep hash "
                        f"{old.get('sweep_hash')}, this sweep {manifest['sweep_hash']}): the "
                        "config, its sweep section or a --set override changed. Pick another "
                        "--out folder, or pass --overwrite to delete those results first."))
                store._clear()
            else:
                store._clean_temporaries()
                store.runs_dir.mkdir(exist_ok=True)
                return store
        elif store.root.exists() and any(not p.name.startswith(".")
                                         for p in store.root.iterdir()):
            raise ConfigError(Issue("--out", f"{store.root} exists, is not empty and is not a "
                                    "dcsim sweep folder (no manifest.json); pick another --out"))
        store.root.mkdir(parents=True, exist_ok=True)
        for name, data in (extra_files or {}).items():
            atomic_write_bytes(store.root / name, data)
        # The manifest last: a folder with a manifest is always a complete, resumable store.
        store.runs_dir.mkdir(exist_ok=True)
        atomic_write_bytes(mpath, (json.dumps(manifest, indent=2, sort_keys=True, allow_nan=False)
                                   + "\n").encode("utf-8"))
        return store

    def _clear(self) -> None:
        for name in (*_OWNED, RUNS_DIR):
            p = self.root / name
            if p.is_dir():
                shutil.rmtree(p)
            else:
                p.unlink(missing_ok=True)

    def _clean_temporaries(self) -> None:
        for folder in (self.root, self.runs_dir):
            if folder.is_dir():
                for p in folder.iterdir():
                    if p.name.startswith(".") and ".tmp-" in p.name and p.is_file():
                        p.unlink(missing_ok=True)

    def manifest(self) -> dict[str, Any]:
        """The folder's ``manifest.json``."""
        try:
            data: dict[str, Any] = json.loads((self.root / MANIFEST).read_text("utf-8"))
        except (OSError, ValueError) as exc:
            raise ConfigError(Issue("RESULTS", f"{self.root} is not a readable sweep folder "
                                    f"({exc})")) from None
        return data

    # ------------------------------------------------------------------ runs

    def run_path(self, key: str) -> Path:
        """Where the run called ``key`` is stored."""
        return self.runs_dir / f"{key}.parquet"

    def finished(self, retry_errors: bool = False) -> set[str]:
        """Keys of the runs already stored (without failed ones if ``retry_errors``)."""
        keys: set[str] = set()
        if not self.runs_dir.is_dir():
            return keys
        for p in self.runs_dir.glob("*.parquet"):
            if p.name.startswith("."):
                continue
            if retry_errors:
                try:
                    status = pq.read_table(p, columns=["status"]).column(0)[0].as_py()
                except (OSError, pa.ArrowException, KeyError):
                    continue  # unreadable: run it again (os.replace overwrites it)
                if status != "ok":
                    continue
            keys.add(p.name.removesuffix(".parquet"))
        return keys

    def append(self, row: dict[str, Any]) -> Path:
        """Store one finished run (a row with a ``key``) atomically; returns its file."""
        final = self.run_path(str(row["key"]))
        clean = {k: (None if isinstance(v, float) and v != v else v) for k, v in row.items()}
        _atomic_parquet(pa.Table.from_pylist([clean]), final)
        return final

    def read_runs(self, params: Iterable[str] = ()) -> pd.DataFrame:
        """Every stored run, one row each, ordered by point and replication."""
        rows: list[dict[str, Any]] = []
        if self.runs_dir.is_dir():
            for p in sorted(self.runs_dir.glob("*.parquet")):
                if p.name.startswith("."):
                    continue
                try:
                    rows.extend(pq.read_table(p).to_pylist())
                except (OSError, pa.ArrowException):
                    continue  # cannot happen with atomic writes; such a run is simply redone
        df = pd.DataFrame(rows)
        if df.empty:
            return pd.DataFrame(columns=[*FRONT, *params, *BACK])
        df = df.sort_values(["point", "replication"], kind="stable").reset_index(drop=True)
        return order_columns(df, params)

    def consolidate(self, params: Iterable[str] = ()) -> pd.DataFrame:
        """Rebuild ``runs.parquet`` from ``runs/`` (atomically) and return the table."""
        df = self.read_runs(params)
        table = pa.Table.from_pandas(_parquet_safe(df), preserve_index=False)
        _atomic_parquet(table, self.root / RUNS_TABLE)
        return df

    def write_summary(self, summary: pd.DataFrame) -> Path:
        """Write ``summary.csv`` atomically."""
        path = self.root / SUMMARY
        _atomic_csv(summary, path)
        return path

    def write_points(self, points: pd.DataFrame) -> Path:
        """Write ``points.csv`` atomically."""
        path = self.root / "points.csv"
        _atomic_csv(points, path)
        return path

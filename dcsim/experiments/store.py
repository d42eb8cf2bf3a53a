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
hidden leftovers are removed the next time the store is opened. Each run file carries Parquet
page checksums and is read back in full when a sweep resumes: a truncated or corrupt file, or
one whose seed or config hash is not the plan's (another sweep's run), does not count as done and
is run again. ``runs.parquet`` and ``summary.csv`` are derived from ``runs/`` and rebuilt
(atomically too) when a sweep starts, ends or is interrupted, so they can always be regenerated.

One writer per folder: opening takes the folder's lock (``dcsim.experiments.lock``) and a second
writer is refused until :meth:`SweepStore.close`. The manifest pins the sweep hash: opening a
folder with a different hash is refused unless ``overwrite`` is set, which deletes only the files
the store created (the files listed above, run files named like runs, ``plot-sweep``'s figures
in ``plots/``), and only in a folder whose manifest says ``kind: dcsim-sweep``; files of yours in
the folder stay.

Imports: dcsim.errors, dcsim.experiments.lock, dcsim.io.atomic, dcsim.io.figures; pyarrow and
pandas only where a method reads or writes a table (a sweep's parent forks its workers and
submits their first runs before it pays for them).
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from dcsim.errors import ConfigError, Issue
from dcsim.experiments.lock import SweepLock
from dcsim.io.atomic import atomic_write_bytes, temporary_of
from dcsim.io.atomic import temporary_name as _tmp_name
from dcsim.io.figures import FIGURES_LEDGER, figures_ledger_file, written_figures

if TYPE_CHECKING:
    import pandas as pd
    import pyarrow as pa

__all__ = ["STORE_VERSION", "SweepStore", "atomic_write_bytes", "done_keys", "is_sweep_folder",
           "order_columns", "parquet_bytes"]

STORE_VERSION = 1
MANIFEST = "manifest.json"
RUNS_DIR = "runs"
RUNS_TABLE = "runs.parquet"
SUMMARY = "summary.csv"
SWEEP_KIND = "dcsim-sweep"
_OWNED = ("sweep.yaml", "points.csv", RUNS_TABLE, SUMMARY)  # and MANIFEST, deleted last
_RUN_FILE = re.compile(r"^p\d+-[0-9a-f]+-rep\d+\.parquet$")
PLOTS_DIR = "plots"  # plot-sweep's figures, listed in its ledger (dcsim.io.figures)
#: what a run's ``seed`` and ``config_hash`` must be, by run key
Expected = Mapping[str, tuple[int, str]]

#: Columns that come first and last in ``runs.parquet``; parameters and metrics go between.
FRONT = ("point", "point_id", "replication", "seed")
BACK = ("status", "error", "run_wall_s", "scenario_id", "config_hash", "dcsim_version")
#: Columns every run row has (``dcsim.experiments.executors`` writes them, ok or failed); a
#: file in ``runs/`` without them is not a run (a user's table), read or deleted as such.
RUN_COLUMNS = ("key", *FRONT, "status")


def _tmp_of(name: str, owned: Callable[[str], bool]) -> bool:
    """Whether ``name`` is a temporary dcsim writes for a file ``owned`` says is dcsim's
    (``.<base>.tmp-<pid>``): a user's ``.notes.tmp-1`` is not one."""
    tmp = temporary_of(name)
    return tmp is not None and owned(tmp[0])


def _is_run_name(name: str) -> bool:
    """Whether ``name`` is named like a run file (``p<i>-<hash>-rep<k>.parquet``)."""
    return bool(_RUN_FILE.match(name))


def _is_run_file(p: Path) -> bool:
    """Whether ``p`` is a run file dcsim wrote: a one-row Parquet table with the run columns
    (:data:`RUN_COLUMNS`) whose ``key`` is the file's name (a user's file named like a run, of
    any other content, is not)."""
    import pyarrow.parquet as pq

    try:
        with pq.ParquetFile(p) as pf:
            names = set(pf.schema_arrow.names)
            if pf.metadata.num_rows != 1 or not names.issuperset(RUN_COLUMNS):
                return False
            keys = pf.read(columns=["key"]).column("key").to_pylist()
    except Exception:  # not Parquet, unreadable: not ours to delete
        return False
    return bool(keys == [p.stem])


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


#: How a run's one-row file is encoded: page checksums (a torn file is found on reading), but no
#: column statistics, dictionaries or compression, which a one-row file does not use and whose
#: encoding cost most of its CPU (``runs.parquet``, what users read, keeps pyarrow's defaults).
RUN_FILE_OPTIONS: dict[str, Any] = {"write_page_checksum": True, "write_statistics": False,
                                    "use_dictionary": False, "compression": "NONE"}


def parquet_bytes(table: pa.Table) -> bytes:
    """``table`` as a run file (:data:`RUN_FILE_OPTIONS`), in memory: the bytes
    ``pq.write_table(table, path, **RUN_FILE_OPTIONS)`` writes, with less CPU (no file system
    layer)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    sink = pa.BufferOutputStream()
    pq.write_table(table, sink, **RUN_FILE_OPTIONS)
    return bytes(sink.getvalue().to_pybytes())


def _atomic_parquet(table: pa.Table, final: Path) -> None:
    import pyarrow.parquet as pq

    tmp = _tmp_name(final)
    try:
        pq.write_table(table, tmp, write_page_checksum=True)
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


def _checked(rows: list[dict[str, Any]], key: str,
             expected: Expected | None) -> dict[str, Any] | None:
    """The one row of run ``key``'s file, or None if the file holds anything else (another
    table, a row without the run columns or with another key) or (with ``expected``) another
    sweep's run."""
    if len(rows) != 1 or any(c not in rows[0] for c in RUN_COLUMNS) or rows[0]["key"] != key:
        return None
    row: dict[str, Any] = rows[0]
    if expected is not None:
        want = expected.get(key)
        if want is None or (row.get("seed"), row.get("config_hash")) != want:
            return None  # another sweep's run (or another plan's): not this sweep's result
    return row


def done_keys(stored: Mapping[str, dict[str, Any]], retry_errors: bool = False) -> set[str]:
    """The keys of ``stored`` (run key → row) that count as done: all, or the ``ok`` ones if
    ``retry_errors``."""
    return {k for k, row in stored.items() if not (retry_errors and row.get("status") != "ok")}


class SweepStore:
    """One sweep's results folder (see the module docstring for its layout)."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)
        self.runs_dir = self.root / RUNS_DIR
        self._lock: SweepLock | None = None

    # ------------------------------------------------------------------ opening

    @classmethod
    def open(cls, root: str | Path, manifest: dict[str, Any], *, overwrite: bool = False,
             extra_files: dict[str, bytes] | None = None) -> SweepStore:
        """Open ``root`` for the sweep described by ``manifest`` (must hold ``sweep_hash``).

        A new or empty folder is initialised; a folder of the same sweep is resumed; anything
        else raises ``ConfigError`` (exit 2 in the CLI) naming ``--out``. The returned store
        holds the folder's lock: call :meth:`close` when done.

        Parameters
        ----------
        root : the results folder.
        manifest : what ``manifest.json`` holds for this sweep.
        overwrite : delete the store files of a different dcsim sweep in ``root`` and start
            afresh.
        extra_files : name → bytes written once, when the folder is initialised.
        """
        store = cls(Path(root))
        store._state(manifest, overwrite)  # refuse before creating anything (no lock file)
        store.root.mkdir(parents=True, exist_ok=True)
        store._lock = SweepLock.acquire(store.root)
        try:
            state = store._state(manifest, overwrite)  # again, now that we are the only writer
            mpath = store.root / MANIFEST
            if state == "resume":
                store._clean_temporaries()
            else:
                if state == "clear":
                    store._clear()
                # The manifest first: from that instant the folder is a resumable store of this
                # sweep, so an interrupt after it leaves what the same command resumes, and one
                # before it leaves the folder as it found it (at most a hidden temporary).
                atomic_write_bytes(mpath, (json.dumps(manifest, indent=2, sort_keys=True,
                                                      allow_nan=False) + "\n").encode("utf-8"))
            store.runs_dir.mkdir(exist_ok=True)
            for name, data in (extra_files or {}).items():  # written once (resumed: if missing)
                if not (store.root / name).exists():
                    atomic_write_bytes(store.root / name, data)
        except BaseException:
            store.close()
            raise
        return store

    def _state(self, manifest: dict[str, Any], overwrite: bool) -> str:
        """``init``, ``resume`` or ``clear``; raises ``ConfigError`` for a folder to refuse."""
        root = self.root
        if root.exists() and not root.is_dir():
            raise ConfigError(Issue("--out", f"{root} exists and is not a folder; pick another "
                                    "--out"))
        if (root / MANIFEST).is_file():
            self._check_layout()
            old = self.manifest("--out")
            if old.get("kind") != SWEEP_KIND:
                raise ConfigError(Issue(
                    "--out", f"{root} holds a manifest.json that is not a dcsim sweep's (kind "
                    f"{old.get('kind')!r}); dcsim never deletes what it did not write, even "
                    "with --overwrite: pick another --out"))
            if old.get("sweep_hash") == manifest["sweep_hash"]:
                if old.get("dcsim_version") == manifest.get("dcsim_version"):
                    return "resume"
                if not overwrite:  # same config, other code: its runs and ours would mix
                    raise ConfigError(Issue(
                        "--out", f"{root} holds this sweep's runs made by dcsim "
                        f"{old.get('dcsim_version')}; this is dcsim "
                        f"{manifest.get('dcsim_version')}, whose numbers may differ, so they "
                        "are not resumed into one summary. Pick another --out folder, or pass "
                        "--overwrite to delete those results first."))
                return "clear"
            if not overwrite:
                raise ConfigError(Issue(
                    "--out",
                    f"{root} holds the results of a different sweep (sweep hash "
                    f"{old.get('sweep_hash')}, this sweep {manifest['sweep_hash']}): the "
                    "config, its sweep section, a --set override or a file it reads changed. "
                    "Pick another --out folder, or pass --overwrite to delete those results "
                    "first."))
            return "clear"
        if root.exists() and any(not p.name.startswith(".") for p in root.iterdir()):
            raise ConfigError(Issue("--out", f"{root} exists, is not empty and is not a "
                                    "dcsim sweep folder (no manifest.json); pick another --out"))
        if not root.exists():  # made with its parents: the first that exists must take it
            from dcsim.io.outdir import check_can_create

            check_can_create(root)
        return "init"

    def _check_layout(self) -> None:
        """Refuse (``--out``) a sweep folder whose store names hold something dcsim does not
        write there: a folder or link where it keeps a file, a file or link where it keeps a
        folder. Resuming would fail half-way, and clearing it would stop after deleting some
        files, or delete what is not dcsim's."""
        for name in (*_OWNED, MANIFEST):
            p = self.root / name
            if p.is_symlink() or (p.exists() and not p.is_file()):
                raise ConfigError(Issue("--out", f"{p} is not a file dcsim wrote (a folder, a "
                                        "link or a special file); dcsim never deletes what it "
                                        "did not write: pick another --out"))
        for name in (RUNS_DIR, PLOTS_DIR):
            p = self.root / name
            if p.is_symlink() or (p.exists() and not p.is_dir()):
                raise ConfigError(Issue("--out", f"{p} is not the folder dcsim keeps there (a "
                                        "file or a link): pick another --out"))

    def close(self) -> None:
        """Release the folder's lock (idempotent)."""
        lock, self._lock = self._lock, None
        if lock is not None:
            lock.release()

    def _clear(self) -> None:
        """Delete what this store created (never foreign files); the manifest last.

        A file is dcsim's by what it is, not only by its name: a run file reads back as one
        run row of its own key, a figure is in the ledger ``dcsim plot-sweep`` keeps, a
        temporary is ``.<one of these names>.tmp-<pid>``."""
        for name in _OWNED:
            (self.root / name).unlink(missing_ok=True)
        plots = self.root / PLOTS_DIR
        figures = written_figures(plots)

        def run_file(p: Path) -> bool:
            return _is_run_name(p.name) and _is_run_file(p)

        def figure(p: Path) -> bool:
            return p.name in figures or (p.name == FIGURES_LEDGER and figures_ledger_file(plots))

        owners: tuple[tuple[Path, Callable[[Path], bool], Callable[[str], bool]], ...] = (
            (self.runs_dir, run_file, _is_run_name), (plots, figure, figures.__contains__))
        for folder, ours, owned in owners:
            if not folder.is_dir() or folder.is_symlink():
                continue
            for p in folder.iterdir():
                if (p.is_file() and not p.is_symlink()
                        and (ours(p) or _tmp_of(p.name, owned))):
                    p.unlink(missing_ok=True)
            if not any(folder.iterdir()):
                folder.rmdir()
        (self.root / MANIFEST).unlink(missing_ok=True)

    def _clean_temporaries(self) -> None:
        """Remove temporary files of a writer that died (we hold the lock: nobody else writes):
        only temporaries of dcsim's own file names (a user's ``.notes.tmp-1`` is kept)."""
        top = {*_OWNED, MANIFEST}
        for folder, owned in ((self.root, top.__contains__),
                              (self.runs_dir, _is_run_name)):
            if folder.is_dir():
                for p in folder.iterdir():
                    if _tmp_of(p.name, owned) and p.is_file() and not p.is_symlink():
                        p.unlink(missing_ok=True)

    def manifest(self, where: str = "RESULTS") -> dict[str, Any]:
        """The folder's ``manifest.json`` (a JSON object; else ``ConfigError`` at ``where``)."""
        try:
            data = json.loads((self.root / MANIFEST).read_text("utf-8"))
        except (OSError, ValueError) as exc:
            raise ConfigError(Issue(where, f"{self.root} is not a readable sweep folder "
                                    f"({exc})")) from None
        if not isinstance(data, dict):
            raise ConfigError(Issue(where, f"{self.root / MANIFEST} is not a dcsim manifest "
                                    f"(a JSON {type(data).__name__}, not an object)"))
        return data

    # ------------------------------------------------------------------ runs

    def run_path(self, key: str) -> Path:
        """Where the run called ``key`` is stored."""
        return self.runs_dir / f"{key}.parquet"

    def _read_run(self, p: Path, expected: Expected | None) -> dict[str, Any] | None:
        """The row of run file ``p``, or None if it is unreadable, corrupt or not the plan's."""
        import pyarrow as pa
        import pyarrow.parquet as pq

        try:
            rows = pq.read_table(p, page_checksum_verification=True).to_pylist()
        except (OSError, pa.ArrowException, ValueError):
            return None  # truncated or corrupt: run it again (os.replace overwrites the file)
        return _checked(rows, p.name.removesuffix(".parquet"), expected)

    def _run_files(self) -> list[Path]:
        """The files of ``runs/`` named like run files (a user's ``foo.parquet`` is not read)."""
        if not self.runs_dir.is_dir():
            return []
        return sorted(p for p in self.runs_dir.iterdir()
                      if _is_run_name(p.name) and p.is_file())

    def stored_runs(self, expected: Expected | None = None,
                    known: Mapping[str, Any] | None = None) -> dict[str, dict[str, Any]]:
        """Run key → row of every run file that reads back in full and checks out (see
        :meth:`finished`), in file-name order; failed runs included. Files whose key is in
        ``known`` are not read."""
        out: dict[str, dict[str, Any]] = {}
        for p in self._run_files():
            key = p.name.removesuffix(".parquet")
            if known is None or key not in known:
                row = self._read_run(p, expected)
                if row is not None:
                    out[key] = row
        return out

    def catch_up(self, stored: dict[str, dict[str, Any]],
                 expected: Expected | None = None) -> None:
        """Add to ``stored`` the run files it lacks (read as :meth:`stored_runs` reads them).

        For the way out of an interrupted sweep: Ctrl-C or SIGTERM can land inside
        :meth:`append` after the run's file is in place but before its row is put in
        ``stored``; the tables rebuilt from ``stored`` must still count that run."""
        stored.update(self.stored_runs(expected, known=stored))

    def finished(self, retry_errors: bool = False,
                 expected: Expected | None = None) -> set[str]:
        """Keys of the runs already stored, each read back in full and checked.

        A file that cannot be read whole (truncated, corrupt: Parquet page checksums), or whose
        ``seed``/``config_hash`` differ from ``expected[key]``, is not counted; nor are failed
        runs if ``retry_errors``.
        """
        return done_keys(self.stored_runs(expected), retry_errors)

    def append(self, row: dict[str, Any],
               stored: dict[str, dict[str, Any]] | None = None) -> Path:
        """Store one finished run (a row with a ``key``) atomically; returns its file.

        ``stored`` (run key → row, as :meth:`stored_runs` gives): the row is also put there as
        it reads back from its file (NaN as None, numpy scalars as Python values), so that a
        caller holding every run of the folder can rebuild the tables without reading ``runs/``
        again (:meth:`read_runs` with ``rows``).
        """
        import pyarrow as pa

        key = str(row["key"])
        final = self.run_path(key)
        clean = {k: (None if isinstance(v, float) and v != v else v) for k, v in row.items()}
        table = pa.Table.from_pylist([clean])
        atomic_write_bytes(final, parquet_bytes(table))
        if stored is not None:
            stored[key] = table.to_pylist()[0]
        return final

    def read_runs(self, params: Iterable[str] = (), expected: Expected | None = None,
                  rows: Mapping[str, dict[str, Any]] | None = None) -> pd.DataFrame:
        """Every stored run (readable, and the plan's if ``expected``), ordered by point and
        replication.

        ``rows``: run key → row of every run file in the folder, as :meth:`stored_runs` and
        :meth:`append` give them; the table is then built from them, the same as from the files,
        without reading ``runs/`` again (only the folder's one writer, which holds its lock, can
        know that it has them all).
        """
        import pandas as pd

        if rows is None:
            found = [r for p in self._run_files() if (r := self._read_run(p, expected)) is not None]
        else:  # the files' order: by file name
            found = [r for key, row in sorted(rows.items(), key=lambda kv: self.run_path(kv[0]))
                     if (r := _checked([row], key, expected)) is not None]
        df = pd.DataFrame(found)
        if df.empty:
            return pd.DataFrame(columns=[*FRONT, *params, *BACK])
        df = df.sort_values(["point", "replication"], kind="stable").reset_index(drop=True)
        return order_columns(df, params)

    def consolidate(self, params: Iterable[str] = (), expected: Expected | None = None,
                    rows: Mapping[str, dict[str, Any]] | None = None) -> pd.DataFrame:
        """Rebuild ``runs.parquet`` from ``runs/`` (or from ``rows``, see :meth:`read_runs`)
        atomically and return the table."""
        import pyarrow as pa

        df = self.read_runs(params, expected, rows)
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

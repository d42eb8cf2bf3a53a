"""``dcsim traces``: list the available traces and import users' own copies into the store.

``traces_app`` is a typer app; the main CLI mounts it with ``app.add_typer(traces_app,
name="traces")``. Commands:

* ``dcsim traces list``: every stored trace (name, days, guests, samples, memory/sizes, source)
  and carbon-intensity series; a damaged file of a store is named after the tables.
* ``dcsim traces import KIND PATH [--out DIR] [--name NAME]``: read raw files of KIND
  (``bitbrains``, ``planetlab``, ``google``, ``csv``, ``carbon``) and write them in the compact
  form to ``DIR/NAME/<day>.npz`` (carbon: ``DIR/carbon/NAME.npz``; default DIR: the user store,
  ``$DCSIM_TRACE_DIR`` or ``~/.local/share/dcsim/traces``), where
  :func:`dcsim.workload.traces.load_trace` and the carbon store find them.

Bad input is refused as by every other command (``dcsim.console.guard``): ``error:`` and each
problem with the option or argument it concerns (``--name``, ``--out``, ``--timezone``,
``KIND``, ``PATH``) on standard error, exit 2, nothing written; every day is read before the
first is written, and a file already in the store is never replaced.

Imports: typer, rich, dcsim.console, dcsim.errors, dcsim.io.outdir, dcsim.workload (the trace
readers only when a command runs, so that building the CLI stays cheap).
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from dcsim.errors import ConfigError, Issue

if TYPE_CHECKING:
    from dcsim.workload.traces import TraceData

__all__ = ["traces_app"]

traces_app = typer.Typer(help="Workload traces: list the available ones, import your own.",
                         no_args_is_help=True)
_KINDS = ("bitbrains", "planetlab", "google", "csv", "carbon")
_NAMES = ("1-128 letters, digits, '_', '.' or '-', not starting with '.' or '-'")


@traces_app.command("list")
def list_traces() -> None:
    """Show every trace dcsim can load (user store first, then the shipped ones)."""
    from rich.markup import escape
    from rich.table import Table

    from dcsim.console import out
    from dcsim.workload.carbon import describe, stored_series
    from dcsim.workload.traces import available_traces, user_trace_dir

    table = Table(title="dcsim traces")
    for col in ("name", "days", "guests", "samples", "step", "memory", "sizes"):
        table.add_column(col, no_wrap=True)
    table.add_column("source", overflow="fold")
    damaged: list[str] = []  # files of the stores that cannot be read: said after the tables
    for info in available_traces():
        days = info.days if len(info.days) <= 4 else [*info.days[:2], "…", info.days[-1]]
        if info.problem:
            damaged.append(f"trace {info.name!r} ({info.location}): {info.problem}")
            continue
        table.add_row(
            info.name, f"{len(info.days)}: {', '.join(days)}", str(info.guests),
            str(info.samples), f"{info.interval_s:g} s", "yes" if info.has_memory else "",
            "yes" if info.has_sizes else "", info.source.split(";")[0].split(" (")[0],
        )
    out.print(table)
    carbon = Table(title="carbon-intensity series (datacenters\\[i].carbon.series)")
    for col in ("name", "from (UTC)", "to (UTC)", "points", "g/kWh"):
        carbon.add_column(col, no_wrap=True)
    for sname, spath in stored_series().items():
        try:
            carbon.add_row(sname, *describe(spath)[:4])
        except Exception as exc:  # a damaged series: said, not fatal to the listing
            why = exc.issues[0].message if isinstance(exc, ConfigError) else \
                f"{type(exc).__name__}: {exc}"
            damaged.append(f"carbon series {sname!r}: {why}")
    out.print(carbon)
    for line in damaged:
        out.print(f"[bold yellow]unreadable[/]: {escape(line)}", highlight=False, soft_wrap=True)
    out.print(f"user store: {escape(str(user_trace_dir()))}", highlight=False)


def _days(kind: str, path: Path) -> list[str | None]:
    """Day labels to import from ``path``: sub-folders (or Google's day numbers), else one."""
    if kind == "google":
        names = ([p.name for p in path.iterdir()] if path.is_dir() else [])
        found = sorted({int(m.group(1)) for n in names if (m := re.search(r"_(\d+)$", n))})
        return [str(d) for d in found] if found else [str(d) for d in range(1, 11)]
    if kind in ("bitbrains", "planetlab") and path.is_dir():
        subdirs = sorted(p.name for p in path.iterdir() if p.is_dir())
        files = [p for p in path.iterdir() if p.is_file() and not p.name.startswith(".")]
        if subdirs and not files:
            return list(subdirs)
    return [None]


def _read(kind: str, path: Path, day: str | None) -> TraceData:
    """One day of ``path`` (``ConfigError`` at ``PATH`` for a problem of the files)."""
    from dcsim.workload.traces import read_bitbrains, read_generic, read_google, read_planetlab

    try:
        if kind == "bitbrains":
            return read_bitbrains(path, day)
        if kind == "planetlab":
            return read_planetlab(path, day)
        if kind == "google":
            return read_google(path, day)
        return read_generic(path)
    except ConfigError as exc:  # the readers name the trace spec's field; here it is PATH
        raise exc.at("PATH") from None


def _new_files(targets: list[Path]) -> None:
    """Refuse, before anything is read: a store path dcsim could not create (``--out`` a file,
    or a folder it may not write in), or a file already there (an earlier import or someone
    else's file, never replaced)."""
    from dcsim.io.outdir import check_can_create

    for target in targets:
        if target.exists() or target.is_symlink():
            raise ConfigError(Issue("--name", f"{target} exists: choose another --name, or "
                                    "remove it yourself (dcsim never replaces a file it did "
                                    "not write)"))
        check_can_create(target)


def _write(save: Callable[[], object], target: Path) -> None:
    """``save()`` the new file at ``target``; its store problems at ``--out``/``--name``."""
    try:
        save()
    except FileExistsError:  # appeared since the check: still not ours to replace
        _new_files([target])
        raise
    except OSError as exc:  # a store dcsim may not write (permissions, name too long)
        raise ConfigError(Issue("--out", f"cannot write {target}: "
                                f"{exc.strerror or exc}")) from None


@traces_app.command("import")
def import_trace(
    kind: Annotated[str, typer.Argument(help="bitbrains | planetlab | google | csv | carbon")],
    path: Annotated[Path, typer.Argument(help="your copy of the raw trace (file or folder)")],
    out: Annotated[Path | None, typer.Option(help="store folder (default: the user store)")]
    = None,
    name: Annotated[str | None, typer.Option(help="name to store it under (default: KIND)")]
    = None,
    time_column: Annotated[str, typer.Option(help="carbon: the timestamp column")] = "timestamp",
    value_column: Annotated[str, typer.Option(help="carbon: the g CO2-eq/kWh column")]
    = "g_per_kwh",
    timezone: Annotated[str, typer.Option(help="carbon: IANA time zone of naive timestamps")]
    = "UTC",
) -> None:
    """Convert raw trace files into dcsim's compact form in the user store."""
    from dcsim.console import guard

    if kind == "carbon":
        guard(lambda: _import_carbon(path, out, name, time_column, value_column, timezone))
    else:
        guard(lambda: _import_trace(kind, path, out, name))


def _import_trace(kind: str, path: Path, out: Path | None, name: str | None) -> None:
    from rich.markup import escape

    from dcsim.console import out as stdout
    from dcsim.workload.traces import STORE_NAME, save_compact, user_trace_dir

    if kind not in _KINDS:
        raise ConfigError(Issue("KIND", f"unknown trace kind {kind!r}; use one of "
                                f"{', '.join(_KINDS)}"))
    if not path.exists():
        raise ConfigError(Issue("PATH", f"{path}: no such file or folder"))
    store = (out or user_trace_dir()).expanduser()
    label = name or kind
    if not STORE_NAME.fullmatch(label) or label == "carbon":
        raise ConfigError(Issue("--name", f"{label!r} is not a trace name: use {_NAMES} (it "
                                "names a folder inside the store)"))
    days = _days(kind, path)
    stems = [day or (path.name.split(".")[0] if kind != "csv" else "all") for day in days]
    bad = [s for s in stems if not STORE_NAME.fullmatch(s)]
    if bad:
        raise ConfigError(Issue("PATH", f"{path}: {bad[0]!r} cannot name a day file in the "
                                f"store (use {_NAMES}); rename it"))
    targets = [store / label / f"{stem}.npz" for stem in stems]
    _new_files(targets)
    traces = [_read(kind, path, day) for day in days]  # all read before the first is written
    for trace, stem, target in zip(traces, stems, targets, strict=True):
        _write(functools.partial(save_compact, trace, target, exclusive=True), target)
        stdout.print(f"{escape(label)}/{escape(stem)}: {trace.n_guests} guests × "
                     f"{trace.n_samples} samples every {trace.interval_s:g} s → "
                     f"{escape(str(target))}", highlight=False)


def _import_carbon(path: Path, out: Path | None, name: str | None, time_column: str,
                   value_column: str, timezone: str) -> None:
    """``dcsim traces import carbon FILE``: a grid carbon-intensity series (CSV or Parquet) to
    ``<store>/carbon/<name>.npz``, where configs name it (``datacenters[i].carbon.series``)."""
    from rich.markup import escape

    from dcsim.config.carbon import zone
    from dcsim.console import out as stdout
    from dcsim.workload.carbon import read_file, save_series, user_store
    from dcsim.workload.traces import STORE_NAME

    label = name or path.name.split(".")[0]
    if not STORE_NAME.fullmatch(label):
        raise ConfigError(Issue("--name", f"{label!r} is not a series name: use {_NAMES}"))
    try:
        tz = zone(timezone)
    except ValueError as exc:
        raise ConfigError(Issue("--timezone", str(exc))) from None
    target = ((out.expanduser() / "carbon") if out is not None else user_store()) / f"{label}.npz"
    _new_files([target])  # before reading
    try:
        series = read_file(path, time_column, value_column, tz)
    except ConfigError as exc:  # the file's own problems: each names the file (and line)
        raise exc.at("PATH") from None
    _write(lambda: save_series(series, target), target)
    stdout.print(f"carbon/{escape(label)}: {series.t.shape[0]} points, "
                 f"{series.v.min():.0f}-{series.v.max():.0f} g/kWh → {escape(str(target))}",
                 highlight=False)

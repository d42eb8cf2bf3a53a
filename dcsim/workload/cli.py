"""``dcsim traces``: list the available traces and import users' own copies into the store.

``traces_app`` is a typer app; the main CLI mounts it with ``app.add_typer(traces_app,
name="traces")``. Commands:

* ``dcsim traces list``: every stored trace (name, days, guests, samples, memory/sizes, source).
* ``dcsim traces import KIND PATH [--out DIR] [--name NAME]``: read raw files of KIND
  (``bitbrains``, ``planetlab``, ``google``, ``csv``) and write them in the compact form to
  ``DIR/NAME/<day>.npz`` (default DIR: the user store, ``$DCSIM_TRACE_DIR`` or
  ``~/.local/share/dcsim/traces``), where :func:`dcsim.workload.traces.load_trace` finds them.

This module may print (rich). Imports: typer, rich, dcsim.errors, dcsim.workload.traces (rich
and the trace readers only when a command runs, so that building the CLI stays cheap).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from dcsim.errors import ConfigError

if TYPE_CHECKING:
    from dcsim.workload.traces import TraceData

__all__ = ["traces_app"]

traces_app = typer.Typer(help="Workload traces: list the available ones, import your own.",
                         no_args_is_help=True)
_KINDS = ("bitbrains", "planetlab", "google", "csv", "carbon")


@traces_app.command("list")
def list_traces() -> None:
    """Show every trace dcsim can load (user store first, then the shipped ones)."""
    from rich.console import Console
    from rich.markup import escape
    from rich.table import Table

    from dcsim.errors import ConfigError
    from dcsim.workload.traces import available_traces, user_trace_dir

    console = Console()
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
    console.print(table)
    from dcsim.workload.carbon import describe, stored_series

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
    console.print(carbon)
    for line in damaged:
        console.print(f"[bold yellow]unreadable[/]: {escape(line)}", highlight=False,
                      soft_wrap=True)
    console.print(f"user store: {user_trace_dir()}")


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
    from dcsim.workload.traces import read_bitbrains, read_generic, read_google, read_planetlab

    if kind == "bitbrains":
        return read_bitbrains(path, day)
    if kind == "planetlab":
        return read_planetlab(path, day)
    if kind == "google":
        return read_google(path, day)
    return read_generic(path)


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
    from rich.console import Console
    from rich.markup import escape

    from dcsim.workload.traces import STORE_NAME, save_compact, user_trace_dir

    console = Console()
    if kind == "carbon":
        _import_carbon(console, path, out, name, time_column, value_column, timezone)
        return
    if kind not in _KINDS:
        console.print(f"[red]unknown trace kind {kind!r}; use one of {', '.join(_KINDS)}[/]")
        raise typer.Exit(2)
    if not path.exists():
        console.print(f"[red]{path}: no such file or folder[/]")
        raise typer.Exit(2)
    store = (out or user_trace_dir()).expanduser()
    label = name or kind
    if not STORE_NAME.fullmatch(label) or label == "carbon":
        console.print(f"[red]--name: {escape(repr(label))} is not a trace name: use 1-128 "
                      "letters, digits, '_', '.' or '-', not starting with '.' or '-' (it names "
                      "a folder inside the store)[/]")
        raise typer.Exit(2)
    days = _days(kind, path)
    stems = [day or (path.name.split(".")[0] if kind != "csv" else "all") for day in days]
    bad = [s for s in stems if not STORE_NAME.fullmatch(s)]
    if bad:
        console.print(f"[red]{escape(str(path))}: {escape(repr(bad[0]))} cannot name a day file "
                      "in the store (letters, digits, '_', '.', '-'; not starting with '.' or "
                      "'-'); rename it[/]")
        raise typer.Exit(2)
    targets = [store / label / f"{stem}.npz" for stem in stems]
    _check_targets(console, store, targets)
    traces = []  # every day read before the first is written: a bad one writes nothing
    for day in days:
        try:
            traces.append(_read(kind, path, day))
        except ConfigError as exc:
            for issue in exc.issues:
                console.print(f"[red]{escape(issue.message)}[/]")
            raise typer.Exit(2) from None  # bad input, like every other command
    for trace, stem, target in zip(traces, stems, targets, strict=True):
        try:
            save_compact(trace, target, exclusive=True)
        except FileExistsError:  # appeared since the check: still not ours to replace
            _exists(console, target)
        except OSError as exc:  # a store dcsim may not write (permissions, name too long)
            console.print(f"[red]--out: cannot write {escape(str(target))}: "
                          f"{escape(exc.strerror or str(exc))}[/]")
            raise typer.Exit(2) from None
        console.print(f"{label}/{stem}: {trace.n_guests} guests × {trace.n_samples} samples "
                      f"every {trace.interval_s:g} s → {target}")


def _exists(console: Any, target: Path) -> None:
    from rich.markup import escape

    console.print(f"[red]{escape(str(target))} exists: choose another --name, or remove it "
                  "yourself (dcsim never replaces a file it did not write)[/]")
    raise typer.Exit(2)


def _check_targets(console: Any, store: Path, targets: list[Path]) -> None:
    """Refuse (exit 2) before reading anything: a day file that exists (an earlier import or
    someone else's file), or a store path through an existing file (``--out`` a file)."""
    from rich.markup import escape

    for target in targets:
        for folder in (target.parent, *target.parent.parents):  # up to the first that exists
            if folder.exists():
                if not folder.is_dir():
                    console.print(f"[red]--out: {escape(str(folder))} is a file, not a "
                                  "folder[/]")
                    raise typer.Exit(2)
                break
        if target.exists() or target.is_symlink():
            _exists(console, target)


def _import_carbon(console: Any, path: Path, out: Path | None, name: str | None,
                   time_column: str, value_column: str, timezone: str) -> None:
    """``dcsim traces import carbon FILE``: a grid carbon-intensity series (CSV or Parquet) to
    ``<store>/carbon/<name>.npz``, where configs name it (``datacenters[i].carbon.series``)."""
    from rich.markup import escape

    from dcsim.config.carbon import zone
    from dcsim.workload.carbon import read_file, save_series, user_store
    from dcsim.workload.traces import STORE_NAME

    label = name or path.name.split(".")[0]
    if not STORE_NAME.fullmatch(label):
        console.print(f"[red]--name: {escape(repr(label))} is not a series name: use 1-128 "
                      "letters, digits, '_', '.' or '-', not starting with '.' or '-'[/]")
        raise typer.Exit(2)
    try:
        tz = zone(timezone)
    except ValueError as exc:
        console.print(f"[red]--timezone: {escape(str(exc))}[/]")
        raise typer.Exit(2) from None
    target = ((out.expanduser() / "carbon") if out is not None else user_store()) / f"{label}.npz"
    # before reading: --out a file, or a series of that name already there (never replaced)
    _check_targets(console, target.parent, [target])
    try:
        series = read_file(path, time_column, value_column, tz)
    except ConfigError as exc:  # the file's own problems: each names the file (and line)
        for issue in exc.issues:
            console.print(f"[red]{escape(str(issue))}[/]")
        raise typer.Exit(2) from None
    try:
        save_series(series, target)
    except OSError as exc:  # a store dcsim may not write (permissions, name too long)
        console.print(f"[red]--out: cannot write {escape(str(target))}: "
                      f"{escape(exc.strerror or str(exc))}[/]")
        raise typer.Exit(2) from None
    console.print(f"carbon/{label}: {series.t.shape[0]} points, "
                  f"{series.v.min():.0f}-{series.v.max():.0f} g/kWh → {target}")

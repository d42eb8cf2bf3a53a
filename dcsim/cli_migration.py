"""``dcsim migration``: simulate one guest migration between two hosts on one dedicated link.

The command runs the real migration process (``dcsim.engine.migration.migration_process``) over a
``FixedRateNetwork`` and prints total time, downtime, rounds and bytes sent (a rich table, or JSON
with ``--json``). Values carry units as in config files (``4GiB``, ``100MB/s``, ``10Gbps``,
``300ms``); a value that does not parse is refused with a message naming the option and exit code 2.

``register(app)`` adds the command to the main typer app; this module prints, so only the CLI
layer imports it.

Imports: typer, click, rich, simpy, pydantic, dcsim.units, dcsim.config.migration,
dcsim.engine.migration; all but typer and the model names only when the command runs, so that
building the CLI (``dcsim --help``) stays cheap.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import TYPE_CHECKING, Annotated, Any, NoReturn

import typer

from dcsim.config.migration_models import MIGRATION_MODELS

if TYPE_CHECKING:
    from dcsim.config.migration import MigrationSpec
    from dcsim.engine.migration import MigrationRecord

__all__ = ["migration_command", "register", "run_migration"]


def _units(name: str, bare: bool = True) -> Callable[[Any], float]:
    """A typer ``parser`` from the ``dcsim.units`` parser called ``name`` (imported when used).

    Strings are parsed (a plain number too, in SI units, if ``bare``), defaults (already in SI
    units) pass through, and the parser's message (a ``ValueError``) reaches the user.
    """

    def convert(value: Any) -> float:
        if not isinstance(value, str):
            return float(value)
        from dcsim import units

        parse: Callable[[Any], float] = getattr(units, name)
        if bare:
            try:
                return parse(float(value))
            except ValueError:
                pass
        return parse(value)

    return convert


def _model(value: Any) -> str:
    if value not in MIGRATION_MODELS:
        raise ValueError(f"expected one of {', '.join(MIGRATION_MODELS)}; got {value!r}")
    return str(value)


_SIZE = _units("parse_size", bare=False)
_BYTERATE = _units("parse_byterate")
_BITRATE = _units("parse_bitrate")
_DURATION = _units("parse_duration")
_FRACTION = _units("parse_fraction")


def run_migration(
    spec: MigrationSpec,
    ram_bytes: float,
    bandwidth_bps: float,
    *,
    disk_bytes: float = 0.0,
    latency_s: float = 0.0,
) -> MigrationRecord:
    """Simulate one migration of a ``ram_bytes`` guest over a dedicated ``bandwidth_bps`` link."""
    import simpy

    from dcsim.engine.migration import FixedRateNetwork, MigrationRecord, migration_process

    env = simpy.Environment()
    network = FixedRateNetwork(env, bandwidth_bps, latency_s)
    proc = env.process(
        migration_process(
            env,
            network,
            ram_bytes,
            None,
            "source",
            "destination",
            spec,
            guest="guest",
            disk_bytes=disk_bytes,
            host_bandwidth_bps=bandwidth_bps,
        )
    )
    env.run()
    record = proc.value
    assert isinstance(record, MigrationRecord)
    return record


def _seconds(t: float) -> str:
    return f"{t * 1e3:,.1f} ms" if t < 1.0 else f"{t:,.3f} s"


def _bytes(n: float) -> str:
    for unit, size in (("GiB", 1024.0**3), ("MiB", 1024.0**2), ("KiB", 1024.0)):
        if n >= size:
            return f"{n / size:,.2f} {unit} ({n:,.0f} B)"
    return f"{n:,.0f} B"


def _fail(*problems: str) -> NoReturn:
    """Report invalid options on stderr and exit with code 2, as click does for bad values."""
    from rich.console import Console

    err = Console(stderr=True)
    for problem in problems:
        err.print(f"[red]Error:[/red] {problem}", highlight=False)
    raise typer.Exit(2)


def migration_command(
    ram: Annotated[
        float,
        typer.Option("--ram", parser=_SIZE, metavar="SIZE", help="guest RAM, e.g. 4GiB or 870MB"),
    ],
    bandwidth: Annotated[
        float,
        typer.Option("--bandwidth", parser=_BITRATE, metavar="RATE", help="link rate, e.g. 10Gbps"),
    ],
    dirty_rate: Annotated[
        float,
        typer.Option(
            "--dirty-rate",
            parser=_BYTERATE,
            metavar="RATE",
            show_default="0B/s",
            help="memory dirtying rate, e.g. 100MB/s",
        ),
    ] = 0.0,
    model: Annotated[
        str,
        typer.Option("--model", parser=_model, metavar="|".join(MIGRATION_MODELS), help="model"),
    ] = "precopy",
    max_downtime: Annotated[
        float,
        typer.Option(
            "--max-downtime",
            parser=_DURATION,
            metavar="DURATION",
            show_default="300ms",
            help="pre-copy stops when the rest fits in this downtime",
        ),
    ] = 0.3,
    max_rounds: Annotated[
        int,
        typer.Option(
            "--max-rounds", min=0, help="pre-copy rounds before stop-and-copy, 0 = no limit"
        ),
    ] = 30,
    working_set: Annotated[
        float,
        typer.Option(
            "--working-set",
            parser=_FRACTION,
            metavar="FRACTION",
            show_default="0.9",
            help="writable working set, fraction of RAM (cap on dirty bytes per round)",
        ),
    ] = 0.9,
    disk: Annotated[
        float,
        typer.Option(
            "--disk",
            parser=_SIZE,
            metavar="SIZE",
            show_default="0B",
            help="disk image copied by cold migration",
        ),
    ] = 0.0,
    bandwidth_cap: Annotated[
        float | None,
        typer.Option(
            "--bandwidth-cap",
            parser=_BITRATE,
            metavar="RATE",
            help="rate cap of the migration flows (QEMU's default: 128MiB/s); default none",
        ),
    ] = None,
    resume_time: Annotated[
        float,
        typer.Option(
            "--resume-time",
            parser=_DURATION,
            metavar="DURATION",
            show_default="9ms",
            help="time to resume the guest on the destination",
        ),
    ] = 0.009,
    json_out: Annotated[bool, typer.Option("--json", help="print JSON instead of a table")] = False,
) -> None:
    """Simulate one migration between two hosts on one link: total time, downtime, rounds, bytes."""
    from pydantic import ValidationError
    from rich.console import Console
    from rich.table import Table

    from dcsim.config.migration import MigrationSpec

    try:
        spec = MigrationSpec(
            model=model,
            max_downtime=max_downtime,
            max_rounds=max_rounds,
            working_set=working_set,
            dirty_rate=dirty_rate,
            bandwidth_cap=bandwidth_cap,
            resume_time=resume_time,
        )
    except ValidationError as exc:
        _fail(
            *(
                f"--{str(err['loc'][0]).replace('_', '-')}: {err['msg']}"
                if err["loc"]
                else str(err["msg"])
                for err in exc.errors()
            )
        )
    if ram <= 0:
        _fail("--ram: must be > 0")
    if bandwidth <= 0:
        _fail("--bandwidth: must be > 0")
    rec = run_migration(spec, ram, bandwidth, disk_bytes=disk)
    if json_out:
        out = {
            "model": rec.model,
            "total_time_s": rec.duration_s,
            "downtime_s": rec.downtime_s,
            "rounds": rec.rounds,
            "bytes_sent": rec.bytes_sent,
            "stop_reason": rec.stop_reason,
        }
        typer.echo(json.dumps(out))
        return
    table = Table(title=f"{rec.model} migration", show_header=False)
    table.add_column("quantity", style="bold")
    table.add_column("value", justify="right")
    table.add_row("total time", _seconds(rec.duration_s))
    table.add_row("downtime", _seconds(rec.downtime_s))
    table.add_row("rounds", str(rec.rounds))
    table.add_row("bytes sent", _bytes(rec.bytes_sent))
    if rec.stop_reason:
        table.add_row("pre-copy ended by", rec.stop_reason.replace("_", " "))
    Console().print(table)


def register(app: typer.Typer) -> None:
    """Add ``migration`` to ``app``."""
    app.command("migration")(migration_command)

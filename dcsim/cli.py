"""The ``dcsim`` command line: a thin layer over the Python API, and the only module that prints.

Exit codes: 0 success, 2 bad input (config, unit, trace, topology, an --out folder dcsim may not
write; every problem listed with its config path, nothing written), 1 an unexpected internal
error, 130 interrupted (Ctrl-C), 143 terminated (SIGTERM, handled like Ctrl-C). The consoles
and the error guard are shared with the mounted sub-commands through ``dcsim.console``.

No traceback ever reaches the user: :class:`_Guarded` (the click group of every command, sub-groups
included) turns any exception that escapes a command into one line and exit code 1 (2 for dcsim's
``ConfigError``); ``dcsim --debug CMD`` or ``DCSIM_DEBUG=1`` prints the traceback as well.

Imports: typer, rich, dcsim (the API), dcsim.console, and the command modules it mounts.
"""

from __future__ import annotations

import gc
import json
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.markup import escape
from typer.core import TyperGroup

from dcsim.console import (
    DEBUG,
    QUICK_EXIT,
    end_startup,
    err,
    guard,
    out,
    report_escaped,
    startup_without_gc,
)
from dcsim.errors import Terminated

if TYPE_CHECKING:
    from rich.table import Table


class _Guarded(TyperGroup):
    """The ``dcsim`` group: any exception escaping a command becomes one line and an exit code."""

    def invoke(self, ctx: Any) -> Any:  # a click Context (vendored by typer)
        try:
            return super().invoke(ctx)
        except (typer.Exit, typer.Abort, typer.TyperException, SystemExit):  # usage errors too
            raise
        except KeyboardInterrupt as exc:
            term = isinstance(exc, Terminated)
            err.print("terminated" if term else "interrupted")
            raise typer.Exit(143 if term else 130) from None
        except Exception as exc:
            raise typer.Exit(report_escaped(exc)) from None


app = typer.Typer(
    name="dcsim",
    help="Discrete-event simulator of virtualized data centers.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    cls=_Guarded,
)
_guard = guard  # the shared guard of every command (dcsim.console)


def _print_version(value: bool) -> None:
    """``--version``: print ``dcsim <version>`` and stop (before any command runs)."""
    if value:
        from dcsim.version import __version__

        out.print(f"dcsim {__version__}", highlight=False)
        raise typer.Exit()


@app.callback()
def _options(
    version: Annotated[bool, typer.Option(
        "--version", help="print dcsim's version and exit", is_eager=True,
        callback=_print_version)] = False,
    debug: Annotated[bool, typer.Option(
        "--debug", help="show the traceback of an unexpected error (also DCSIM_DEBUG=1)")] = False,
    force: Annotated[bool, typer.Option(
        "--force", help="run configs whose estimated memory or time exceeds the machine, with a "
        "warning (also DCSIM_FORCE=1)")] = False,
) -> None:
    """Discrete-event simulator of virtualized data centers."""
    import warnings

    from dcsim.config.cost import CostWarning
    from dcsim.errors import InertWarning
    from dcsim.plugins import PluginWarning

    if debug:
        DEBUG["on"] = True
    if force:
        os.environ["DCSIM_FORCE"] = "1"  # inherited by sweep workers, which parse again

    warnings.filterwarnings("always", category=CostWarning)
    warnings.filterwarnings("always", category=PluginWarning)
    warnings.filterwarnings("always", category=InertWarning)
    previous = warnings.showwarning

    def route(message: Warning | str, category: type[Warning], *a: Any, **k: Any) -> None:
        if issubclass(category, CostWarning | PluginWarning | InertWarning):
            err.print(f"[bold yellow]warning:[/] {escape(str(message))}", highlight=False,
                      soft_wrap=True)
        else:
            previous(message, category, *a, **k)

    warnings.showwarning = route


ConfigArg = Annotated[
    Path | None,
    typer.Argument(help="YAML config; default: the shipped configs/default.yaml",
                   show_default=False),
]
SetOpt = Annotated[
    list[str] | None,
    typer.Option("--set", "-s", metavar="PATH=VALUE",
                 help="override a config value: dotted.path=value (repeatable)"),
]
AllowRejOpt = Annotated[bool, typer.Option(
    "--allow-rejections",
    help="run although some trace-sized guests fit on no host (a warning; they are rejected "
    "and counted)")]


def _warn_rejections(sc: Any) -> None:
    """Print the trace-sized guests that fit on no host (allowed by --allow-rejections)."""
    import dcsim

    for issue in dcsim.api.trace_rejections(sc):  # dcsim.api: imported by load_config
        err.print(f"[bold yellow]warning[/]: {issue.path}: {issue.message}", highlight=False)


def _summary_table(summary: dict[str, Any]) -> Table:
    from rich.table import Table

    from dcsim.metrics.contract import summary_doc

    docs = summary_doc()
    table = Table(title="summary", show_header=True, header_style="bold")
    table.add_column("metric")
    table.add_column("value", justify="right")
    table.add_column("meaning", style="dim")
    for key, value in summary.items():
        if isinstance(value, float) and value != value:
            continue  # NaN: a quantity this run's mode does not have (null in summary.json)
        shown = f"{value:,.4g}" if isinstance(value, float) else str(value)
        table.add_row(key, shown, docs.get(key, ""))
    return table


@app.command()
def run(
    config: ConfigArg = None,
    out_dir: Annotated[Path | None, typer.Option(
        "--out", "-o", help="results folder; default results/<name>")] = None,
    seed: Annotated[int | None, typer.Option(help="replace the config's seed")] = None,
    set_: SetOpt = None,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="print only the folder")] = False,
    check: Annotated[bool, typer.Option(help="check capacity invariants at every step")] = False,
    overwrite: Annotated[bool, typer.Option(
        "--overwrite", help="replace --out if it holds an earlier dcsim run's results")] = False,
    allow_rejections: AllowRejOpt = False,
) -> None:
    """Simulate a config and write its results folder.

    The folder must be new or empty, or hold an earlier dcsim run's results and --overwrite be
    given; anything else is refused before the simulation (exit 2).
    """
    from rich.progress import (
        BarColumn,
        Progress,
        TaskProgressColumn,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )

    import dcsim
    from dcsim.io.outdir import check_out_dir
    from dcsim.io.results import write_run

    def go() -> Path:
        overrides = list(set_ or [])
        if seed is not None:
            overrides.append(f"seed={seed}")
        sc = dcsim.load_config(config, overrides, allow_rejections=allow_rejections)
        if allow_rejections:
            _warn_rejections(sc)
        if sc.config.sweep is not None:
            err.print("note: dcsim run runs the config alone; its sweep: section is for "
                      "dcsim sweep", highlight=False)
        dest = out_dir if out_dir is not None else Path("results") / sc.config.name
        check_out_dir(dest, overwrite=overwrite)  # refused before the simulation, not after
        with Progress(TextColumn("{task.description}"), BarColumn(), TaskProgressColumn(),
                      TimeElapsedColumn(), TimeRemainingColumn(), console=err, transient=True,
                      disable=quiet) as progress:
            task = progress.add_task(f"simulating {sc.config.name} ({sc.n_hosts} hosts, "
                                     f"{sc.n_guests} guests)", total=sc.config.duration)
            # no third-party code (plugins, agents): the quick exit, and what the simulation's
            # set-up and the result build is frozen too (their objects, e.g. a plugin's open
            # file with buffered writes, are left to the collector and the teardown as usual)
            quick = sc.config.agents is None and not _plugins_ran()
            if not quick:
                _collect_from_here()

            def tick(t: float) -> None:
                _collect_from_here()  # the first interval: the simulation is set up
                progress.update(task, completed=t)

            result = dcsim.run(sc, check_invariants=check, progress=tick)
            _collect_from_here()  # (a run shorter than one interval)
            if quick:
                gc.freeze()  # the result lives to the end: writing it need not traverse it
            progress.update(task, completed=sc.config.duration)
            folder = write_run(result, dest, overwrite=overwrite)
            QUICK_EXIT["on"] = quick
        if quiet:
            out.print(str(folder))
        else:
            out.print(_summary_table(result.summary))
            out.print(f"results written to [bold]{folder}[/]")
        return folder

    _guard(go)


@app.command()
def validate(config: ConfigArg = None, set_: SetOpt = None,
             allow_rejections: AllowRejOpt = False) -> None:
    """Check a config (schema, units, catalogs, traces, capacity) without running it.

    With a sweep: section, every point of the sweep too (as dcsim sweep checks them); a value
    that changes nothing is then said only if it does in every point.
    """
    import dcsim
    from dcsim.errors import say_inert

    overrides = list(set_ or [])
    sc = _guard(lambda: dcsim.load_config(config, overrides, allow_rejections=allow_rejections,
                                          warn_inert=False))
    sweep = sc.config.sweep is not None
    if not sweep:  # a sweep says its own: those that change nothing in any point
        say_inert(sc.inert)
    if allow_rejections:
        _guard(lambda: _warn_rejections(sc))
    out.print(f"[green]ok[/]: {sc.config.name} — {sc.n_hosts} hosts, {sc.n_guests} guests, "
              f"scenario id {sc.scenario_id}")
    if sweep:
        from dcsim.experiments.sweep import plan_sweep

        plan = _guard(lambda: plan_sweep(config, overrides, allow_rejections=allow_rejections))
        out.print(f"[green]ok[/]: sweep {plan.name} — {len(plan.points)} points × "
                  f"{plan.replications} replications = {plan.n_runs} runs"
                  + (f", {len(plan.skipped)} points skipped by constraints" if plan.skipped
                     else "") + " (dcsim sweep --dry-run lists them)", soft_wrap=True)


@app.command()
def schema(
    indent: Annotated[int, typer.Option(help="JSON indentation (0-16 spaces)", min=0,
                                        max=16)] = 2,
) -> None:
    """Print the JSON Schema of the config file format."""
    from dcsim.config.schema import Config

    sys.stdout.write(json.dumps(Config.model_json_schema(), indent=indent) + "\n")


@app.command()
def plot(
    results: Annotated[Path, typer.Argument(help="a run's results folder")],
    out_dir: Annotated[Path | None, typer.Option("--out", "-o", help="default: RESULTS")] = None,
    overwrite: Annotated[bool, typer.Option(
        "--overwrite",
        help="replace same-named files dcsim did not draw (refused otherwise)")] = False,
) -> None:
    """Draw a run's time series (power, active hosts, utilisation) as PNG and PDF."""
    from dcsim.experiments.plots import plot_run

    paths = _guard(lambda: plot_run(results, out_dir, overwrite=overwrite))
    for p in paths:
        out.print(str(p))


@app.command("plugins")
def plugins_cmd() -> None:
    """List what configs can name, built-in and from installed plugins.

    Policies, workload kinds, power models, virtualization profiles and engine extensions,
    each with where it comes from (built in, or a plugin of the entry-point group
    dcsim.plugins), and the plugins that failed to load.
    """
    from rich.table import Table

    from dcsim.plugins import load_plugins, registered

    infos = _guard(load_plugins)
    table = Table(title="registered", title_justify="left")
    for col in ("family", "name", "from"):
        table.add_column(col)
    for family, name, origin in _guard(registered):
        table.add_row(family, escape(name), escape(origin))
    out.print(table)
    if not infos:
        out.print("no plugins installed (entry-point group dcsim.plugins)")
    for info in infos:
        state = "[green]loaded[/]" if info.status == "loaded" else "[red]not loaded[/]"
        what = f"{len(info.entries)} entries" if info.status == "loaded" else escape(info.error)
        out.print(f"plugin {escape(info.name)} ({escape(info.distribution)}, "
                  f"{escape(info.value)}): {state}: {what}", highlight=False)


def _mount_optional() -> None:
    """Sub-commands contributed by other modules, mounted when present."""
    try:
        from dcsim.cli_traces import traces_app
    except ImportError:
        pass
    else:
        app.add_typer(traces_app, name="traces", help="List shipped traces; import your own.")
    try:
        from dcsim.cli_migration import register
    except ImportError:
        pass
    else:
        register(app)
    try:
        from dcsim.experiments.cli import register as register_sweep
    except ImportError:
        pass
    else:
        register_sweep(app)


_mount_optional()


def _flowed(doc: str) -> str:
    """A docstring as help text: each paragraph on one line (typer's rich help keeps a
    docstring's line breaks, which then break lines again mid-sentence on a narrower screen)."""
    paragraphs = [" ".join(line.strip() for line in block.splitlines())
                  for block in doc.strip().split("\n\n")]
    return "\n\n".join(paragraphs)


def _flow_help(typer_app: typer.Typer) -> None:
    """Give every command of ``typer_app`` and its groups without an explicit ``help=`` its
    docstring, flowed (:func:`_flowed`)."""
    import inspect

    for info in typer_app.registered_commands:
        doc = inspect.getdoc(info.callback) if info.callback is not None else None
        if info.help is None and doc:
            info.help = _flowed(doc)
    for group in typer_app.registered_groups:
        if group.typer_instance is not None:
            _flow_help(group.typer_instance)


_flow_help(app)


_TERM = {"seen": False}


def _on_sigterm(signum: int, frame: object) -> None:
    _TERM["seen"] = True
    raise Terminated


def _collect_from_here() -> None:
    """End of ``dcsim run``'s start-up (see :func:`main`), at the simulation's first scheduling
    interval: freeze what start-up and the simulation's set-up built (modules, classes, config
    models, the loaded scenario, the engine's state, the compiled kernels loaded at t = 0: it
    lives to the end of the process) out of every later collection, and turn the cycle
    collector back on (:func:`dcsim.console.end_startup`). Called again at every interval; only
    the first call acts."""
    end_startup()


def _plugins_ran() -> bool:
    """Whether a plugin's code was imported in this process (``dcsim.plugins``)."""
    from dcsim.plugins import plugins

    return bool(plugins())


def _exit_now() -> None:
    """End a successful ``dcsim run`` or ``dcsim sweep`` without the interpreter's teardown,
    which only frees memory the process gives back anyway (deallocating every module, array and
    object: ~0.1 s of CPU after a CloudSim PlanetLab day, ~0.15 s after a sweep). The atexit
    handlers still run (libraries' and plugins' clean-ups) and the standard streams are
    flushed; every file the command wrote is closed and its folder committed by then. Not
    after a command that imported a plugin or an agent (their files may still hold buffered
    writes), nor under a profiler or tracer
    (``python -m cProfile -m dcsim run ...`` writes its statistics after ``main`` returns), nor
    with another thread still running or standard streams that cannot be flushed: the normal
    exit takes over as before."""
    import atexit
    import threading

    if threading.active_count() > 1 or sys.getprofile() is not None \
            or sys.gettrace() is not None:  # a profiler or tracer writes its output at exit
        return
    atexit._run_exitfuncs()
    try:
        sys.stdout.flush()
        sys.stderr.flush()
    except (OSError, ValueError):  # a closed pipe: the normal exit reports it as usual
        return
    os._exit(0)


def _command(args: list[str]) -> str | None:
    """The command of ``dcsim [OPTIONS] COMMAND ...``: the first word that is not an option."""
    return next((a for a in args if not a.startswith("-")), None)


def _asks_for_help(args: list[str]) -> bool:
    """Whether ``dcsim ARGS`` prints a help screen: no arguments, ``--help``, or a group alone.

    Only a speed hint (a miss costs ~0.07 s, a false hit ~0.05 s): see :func:`main`.
    """
    groups = {g.name for g in app.registered_groups}
    return not args or "--help" in args or (len(args) == 1 and args[0] in groups)


def main() -> None:
    """The ``dcsim`` command, run by the console script through :func:`dcsim.entry.main` (SIGTERM
    is handled like Ctrl-C).

    BLAS and OpenMP get one thread unless the environment says otherwise (``dcsim.threads``).
    A SIGTERM that arrives before a command runs (while typer parses the arguments or loads a
    command lazily) is turned by typer into exit 130 without a word; it still exits 143
    ("terminated"), like one that arrives during the command. When the arguments ask for a help
    screen, typer's help formatter is imported without its markdown and traceback renderers,
    which dcsim's help does not use (``dcsim.help_formatter``; same text, ~0.07 s less CPU).
    For ``dcsim run`` the cycle collector is off from here until the simulation's first scheduling
    interval (:func:`_collect_from_here`; until the simulation starts where plugin or agent code
    runs), and for ``dcsim sweep`` until its runs start (the workers forked, or the first serial
    run; ~0.05-0.09 s less per sweep): start-up (imports, typer's parameter adapters, config models,
    the loaded config) and the simulation's set-up (its state, the placement at t = 0, the compiled
    kernels and numba's modules loaded then) build ~90,000 container objects that nearly all live to
    the end (the CloudSim PlanetLab day), which the collector would otherwise traverse again and
    again, and once frozen they leave the
    simulation's full collections too (~0.25 s CPU less per run). The few cycles dropped until
    then stay (~1 MB): collecting them first would cost a full pass (~0.05 s). Without plugin
    or agent code the result is frozen as well before the folder is written. After a ``dcsim
    run`` that wrote its folder, or a ``dcsim sweep`` all of whose runs succeeded, ``main`` does
    not return: the process ends through :func:`_exit_now`.
    """
    import signal

    from dcsim.threads import one_thread_each

    one_thread_each()  # before numpy is imported (dcsim.threads)
    if _command(sys.argv[1:]) in ("run", "sweep"):
        startup_without_gc()  # until the simulation is set up, or the sweep's runs start
    signal.signal(signal.SIGTERM, _on_sigterm)
    QUICK_EXIT["on"] = False  # only the command about to run may ask for it
    if _asks_for_help(sys.argv[1:]):
        from dcsim.help_formatter import load_help_formatter

        load_help_formatter()
    try:
        app()
    except SystemExit as exc:
        if _TERM["seen"] and exc.code == 130:
            err.print("terminated")
            raise SystemExit(143) from None
        if exc.code in (0, None) and QUICK_EXIT["on"] and not _plugins_ran():
            _exit_now()
        raise
    except KeyboardInterrupt:  # raised outside typer's own handling (before or after app)
        err.print("terminated" if _TERM["seen"] else "interrupted")
        raise SystemExit(143 if _TERM["seen"] else 130) from None

"""The sweep commands of the ``dcsim`` CLI: ``sweep``, ``report`` and ``plot-sweep``.

``dcsim.cli`` mounts them through :func:`register`. Like ``dcsim.cli`` this is a thin, printing
layer over the Python API (``dcsim.experiments.sweep.run_sweep``, ``report.format_table``,
``sweep_plots.plot_sweep``); bad input becomes exit code 2 with every problem listed, via
``dcsim.console.guard``.

Exit codes of ``dcsim sweep``: 0 every run ok; 1 the sweep finished but some runs failed (their
tracebacks are in the ``error`` column of ``runs.parquet``); 2 bad input (config, sweep section,
an ``--out`` folder holding another sweep); 130 interrupted (finished runs are kept; run the same
command again to resume).

Imports: typer, rich, dcsim.console, dcsim.errors, dcsim.experiments.* (never dcsim.cli, which
mounts this module).
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

if TYPE_CHECKING:
    from dcsim.config.sweep import SweepPlan

__all__ = ["plot_sweep_cmd", "register", "report_cmd", "sweep_cmd"]


def sweep_cmd(
    config: Annotated[Path | None, typer.Argument(
        help="YAML config with a `sweep:` section; default: the shipped default config",
        show_default=False)] = None,
    out_dir: Annotated[Path | None, typer.Option(
        "--out", "-o", help="results folder; default results/<name>-sweep")] = None,
    executor: Annotated[str, typer.Option(
        "--executor", "-e", help="serial | processes | dask")] = "processes",
    workers: Annotated[int | None, typer.Option(
        "--workers", "-w", help="worker processes; default: every core",
        show_default=False)] = None,
    scheduler: Annotated[str | None, typer.Option(
        "--scheduler", help="Dask scheduler address tcp://HOST:PORT (with --executor dask); "
        "without it a LocalCluster of --workers processes is started")] = None,
    set_: Annotated[list[str] | None, typer.Option(
        "--set", "-s", metavar="PATH=VALUE",
        help="override a config value: dotted.path=value (repeatable)")] = None,
    retry_errors: Annotated[bool, typer.Option(
        "--retry-errors", help="run failed runs again when resuming")] = False,
    overwrite: Annotated[bool, typer.Option(
        "--overwrite", help="if --out holds a different sweep, delete its results first")] = False,
    dry_run: Annotated[bool, typer.Option(
        "--dry-run", help="validate every point and list them; run and write nothing")] = False,
    allow_rejections: Annotated[bool, typer.Option(
        "--allow-rejections",
        help="run points although some trace-sized guests fit on no host (they are rejected "
        "and counted in guests_rejected)")] = False,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="no progress bar or table")] = False,
) -> None:
    """Run every point of a config's sweep section, resumably, and summarise the replications.

    Running the same command again resumes: finished runs are skipped. A changed config or sweep
    is refused for an existing --out folder (pick another, or --overwrite).
    """
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )

    from dcsim.console import QUICK_EXIT, end_startup, err, out
    from dcsim.console import guard as _guard
    from dcsim.experiments.sweep import plan_sweep, run_sweep

    overrides = list(set_ or [])
    if dry_run:
        plan = _guard(lambda: plan_sweep(config, overrides,
                                         allow_rejections=allow_rejections))
        _print_plan(plan)
        return

    progress = Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                        TextColumn("elapsed"), TimeElapsedColumn(), TextColumn("eta"),
                        TimeRemainingColumn(), console=err, transient=False, disable=quiet)
    state: dict[str, Any] = {"task": None, "errors": 0}

    def on_start(plan: SweepPlan, total: int, todo: int) -> None:
        end_startup()  # the sweep is checked and its workers started (dcsim.cli.main)
        if not quiet:
            done = total - todo
            err.print(f"sweep [bold]{plan.name}[/]: {len(plan.points)} points × "
                      f"{plan.replications} replications = {total} runs"
                      + (f", {len(plan.skipped)} points skipped by constraints"
                         if plan.skipped else "")
                      + (f"; {done} already done, resuming" if done else ""), highlight=False)
        state["task"] = progress.add_task("running", total=total, completed=total - todo)
        progress.start()  # its refresh thread only now: the workers are forked by then

    def on_run(row: dict[str, Any]) -> None:
        if row["status"] != "ok":
            state["errors"] += 1
        desc = "running" + (f" ([red]{state['errors']} failed[/])" if state["errors"] else "")
        progress.update(state["task"], advance=1, description=desc)

    def go() -> Any:
        try:
            return run_sweep(config, out_dir, executor=executor, workers=workers,
                             scheduler=scheduler, overrides=overrides, retry_errors=retry_errors,
                             overwrite=overwrite, allow_rejections=allow_rejections,
                             on_start=on_start, on_run=on_run)
        finally:
            progress.stop()

    outcome = _guard(go)
    failed = int((outcome.runs["status"] != "ok").sum()) if len(outcome.runs) else 0
    if quiet:
        out.print(str(outcome.root))
    else:
        from dcsim.experiments.report import SweepResults, format_table
        from dcsim.experiments.store import SweepStore

        # the tables the sweep just built, not the folder read back (~5 ms per run file)
        results = SweepResults(outcome.root, SweepStore(outcome.root).manifest(), outcome.runs,
                               outcome.summary)
        sys.stdout.write(format_table(results))
        per_run = outcome.run_wall_s / outcome.ran if outcome.ran else 0.0
        out.print(f"{outcome.ran} runs in {outcome.wall_s:.1f} s ({per_run:.3f} s each in the "
                  f"workers), {outcome.already_done} resumed; results in [bold]{outcome.root}[/]",
                  highlight=False)
    if failed:
        first = outcome.runs[outcome.runs["status"] != "ok"].iloc[0]
        last_line = str(first["error"]).strip().splitlines()[-1] if first["error"] else ""
        err.print(f"[bold red]{failed} run(s) failed[/] (status=error; tracebacks in the 'error' "
                  f"column of runs.parquet), e.g. {first['point_id']} rep {first['replication']}:"
                  f" {last_line}", highlight=False, soft_wrap=True)
        raise typer.Exit(1)
    # the folder is complete and the workers are gone: no teardown at exit, unless third-party
    # code ran here (an agent in a serial sweep; dcsim.cli.main checks for plugins)
    QUICK_EXIT["on"] = all(p.config.get("agents") is None for p in outcome.plan.points)


def _print_plan(plan: SweepPlan) -> None:
    from rich.table import Table

    from dcsim.console import out

    table = Table(title=f"sweep {plan.name}: {len(plan.points)} points × {plan.replications} "
                  f"replications = {plan.n_runs} runs (sweep hash {plan.sweep_hash})")
    table.add_column("point")
    for name in plan.param_names:
        table.add_column(name)
    table.add_column("config hash", style="dim")
    for p in plan.points:
        table.add_row(p.point_id, *(str(p.params[n]) for n in plan.param_names), p.config_hash)
    out.print(table)
    if plan.skipped:
        out.print(f"{len(plan.skipped)} points skipped by constraints")


def report_cmd(
    results: Annotated[Path, typer.Argument(help="a sweep results folder")],
    fmt: Annotated[str, typer.Option("--format", "-f", help="markdown | latex")] = "markdown",
    metrics: Annotated[str | None, typer.Option(
        "--metrics", "-m", help="comma-separated metrics (or 'all'); default: energy, SLA, hosts",
        show_default=False)] = None,
) -> None:
    """Print a sweep's mean ± 95 % confidence interval per point as a Markdown or LaTeX table."""
    from dcsim.console import guard as _guard
    from dcsim.errors import ConfigError, Issue
    from dcsim.experiments.report import format_table, load_results

    def go() -> str:
        if fmt not in ("markdown", "latex"):
            raise ConfigError(Issue("--format", f"expected markdown or latex, got {fmt!r}"))
        chosen = [m.strip() for m in metrics.split(",") if m.strip()] if metrics else None
        return format_table(load_results(results), chosen, fmt)  # type: ignore[arg-type]

    sys.stdout.write(_guard(go))


def plot_sweep_cmd(
    results: Annotated[Path, typer.Argument(help="a sweep results folder")],
    x: Annotated[str, typer.Option("--x", help="parameter on the x axis")],
    y: Annotated[str, typer.Option("--y", help="metric on the y axis (comma-separated: one "
                                   "panel each)")],
    hue: Annotated[str | None, typer.Option("--hue", help="one line per value of this "
                                            "parameter")] = None,
    where: Annotated[list[str] | None, typer.Option(
        "--where", help="keep points with PARAM=VALUE (repeatable)")] = None,
    out_dir: Annotated[Path | None, typer.Option("--out", "-o",
                                                 help="default: RESULTS/plots")] = None,
    logx: Annotated[bool | None, typer.Option(
        "--logx/--linx", help="log2 or linear x axis; default: log2 when x spans ≥ 16×",
        show_default=False)] = None,
    overwrite: Annotated[bool, typer.Option(
        "--overwrite",
        help="replace same-named files dcsim did not draw (refused otherwise)")] = False,
) -> None:
    """Plot a metric of a sweep against a parameter, with 95 % CI error bars (PNG and PDF)."""
    from dcsim.console import guard as _guard
    from dcsim.console import out
    from dcsim.errors import ConfigError, Issue
    from dcsim.experiments.sweep_plots import plot_sweep

    def go() -> list[Path]:
        filters: dict[str, str] = {}
        for item in where or []:
            if "=" not in item:
                raise ConfigError(Issue("--where", f"expected PARAM=VALUE, got {item!r}"))
            k, _, v = item.partition("=")
            if k.strip() in filters:  # --where p=1 --where p=1.5: no point has both values
                raise ConfigError(Issue("--where", f"{k.strip()} is given twice "
                                        f"({k.strip()}={filters[k.strip()]}, {item.strip()}); "
                                        "give each parameter once"))
            filters[k.strip()] = v.strip()
        metrics = [m.strip() for m in y.split(",") if m.strip()]
        return plot_sweep(results, x, metrics, hue=hue, where=filters, out_dir=out_dir,
                          logx=logx, overwrite=overwrite)

    for p in _guard(go):
        out.print(str(p), soft_wrap=True)


def register(app: typer.Typer) -> None:
    """Add ``sweep``, ``report`` and ``plot-sweep`` to the ``dcsim`` app."""
    app.command("sweep")(sweep_cmd)
    app.command("report")(report_cmd)
    app.command("plot-sweep")(plot_sweep_cmd)

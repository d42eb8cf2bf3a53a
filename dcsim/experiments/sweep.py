"""Running a sweep end to end: expand, open the store, skip finished runs, execute, summarise.

:func:`run_sweep` is the Python entry point behind ``dcsim sweep``. It validates every point
before the first run (``dcsim.config.sweep``), opens or resumes the results folder
(``dcsim.experiments.store``), runs what is missing on the chosen executor
(``dcsim.experiments.executors``), stores each run the moment it finishes, and at the end (or on
Ctrl-C, or when an executor fails) rebuilds ``runs.parquet`` and ``summary.csv``
(``dcsim.experiments.stats``) from the rows it holds: each run file is read once, when the folder
is opened, and each row it stores is kept as it reads back from its file (the same tables as
reading ``runs/`` again). Progress is reported through callbacks; this module prints nothing.

Imports: yaml, dcsim.config.{load, sweep}, dcsim.experiments.{executors, store},
dcsim.io.results; pandas (and dcsim.experiments.stats) only once the first runs are under way:
with the ``processes`` executor the parent forks its workers and hands them their first runs
before it imports pandas (~0.3 s of CPU), and writes ``points.csv`` while they run; a sweep with
replications imports scipy.special then too (its confidence intervals, ~0.15 s), not after the
last run.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml

from dcsim.config.sweep import SweepPlan, expand_sweep, load_sweep
from dcsim.errors import Inert, say_inert
from dcsim.experiments.executors import RunTask, make_executor
from dcsim.experiments.store import Expected, SweepStore, done_keys

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["SweepOutcome", "default_out", "finalize", "overridden_by_sweep", "plan_sweep",
           "points_table", "run_sweep", "tasks_of"]


@dataclass
class SweepOutcome:
    """What :func:`run_sweep` did.

    Attributes
    ----------
    root : the results folder.
    plan : the expanded sweep.
    total : runs in the plan.
    already_done : runs found in the store and skipped.
    ran : runs executed now; ``errors`` of them failed.
    wall_s : wall time of this call, s.
    run_wall_s : sum of the executed runs' own wall times (validation + simulation), s.
    runs, summary : the rebuilt ``runs.parquet`` and ``summary.csv`` tables.
    """

    root: Path
    plan: SweepPlan
    total: int
    already_done: int
    ran: int
    errors: int
    wall_s: float
    run_wall_s: float
    runs: pd.DataFrame
    summary: pd.DataFrame


def default_out(plan: SweepPlan) -> Path:
    """``results/<name>-sweep`` (next to ``dcsim run``'s ``results/<name>``)."""
    return Path("results") / f"{plan.name}-sweep"


def plan_sweep(config: str | Path | dict[str, Any] | None,
               overrides: list[str] | None = None, *,
               allow_rejections: bool = False) -> SweepPlan:
    """Expand and validate a sweep from a YAML path, a raw dict or ``None`` (the default config).

    ``allow_rejections`` accepts points whose trace-sized guests fit on no host (they are
    rejected on arrival and counted, ``guests_rejected``); without it such a point is refused.
    """
    import functools

    from dcsim.validate import parse_config

    # a value that changes nothing is said once for the sweep, if it does in every point
    # (expand_sweep), not for each point
    parse = functools.partial(parse_config, allow_rejections=allow_rejections, warn_inert=False)
    if isinstance(config, dict):
        from dcsim.config.load import apply_overrides

        plan = expand_sweep(apply_overrides(config, overrides or []), parse=parse)
    else:
        plan = load_sweep(None if config is None else str(config), overrides, parse=parse)
    say_inert(overridden_by_sweep(overrides or [], plan.param_names))
    return plan


def overridden_by_sweep(overrides: list[str], params: tuple[str, ...]) -> list[Inert]:
    """The ``--set PATH=VALUE`` overrides that change nothing because every point of the sweep
    sets ``PATH`` or a path above it (the sweep's value replaces the override's)."""
    out = []
    for item in overrides:
        key = item.partition("=")[0].strip()
        above = next((p for p in params if key == p or key.startswith((f"{p}.", f"{p}["))), None)
        if above is not None:
            out.append(Inert(f"--set {key}", f"changes nothing: the sweep sets {above} at "
                             "every point"))
    return out


def points_table(plan: SweepPlan) -> pd.DataFrame:
    """One row per point: ``point, point_id``, parameters, ``config_hash, seed``."""
    import pandas as pd

    rows = [{"point": p.index, "point_id": p.point_id, **p.params,
             "config_hash": p.config_hash, "seed": p.seed} for p in plan.points]
    return pd.DataFrame(rows, columns=["point", "point_id", *plan.param_names,
                                       "config_hash", "seed"])


def tasks_of(plan: SweepPlan, skip: set[str] | None = None, *,
             allow_rejections: bool = False, longest_first: bool = False) -> list[RunTask]:
    """The plan's runs as executor tasks, point-major, without the keys in ``skip``.

    ``longest_first``: the points with the largest cost estimate (``SweepPoint.est_seconds``)
    first, points of equal estimate in plan order. A parallel sweep then ends on its cheapest
    runs instead of, say, its largest data center's (the longest-processing-time rule); the
    results do not depend on the order.
    """
    skip = skip or set()
    runs = list(plan.runs())
    if longest_first:
        runs.sort(key=lambda r: -r.point.est_seconds)  # stable: plan order among equals
    return [RunTask(r.key, r.point.index, r.point.point_id, r.replication, r.seed,
                    dict(r.point.params), r.config(), r.point.config_hash, plan.source,
                    allow_rejections)
            for r in runs if r.key not in skip]


def _manifest(plan: SweepPlan) -> dict[str, Any]:
    from dcsim.io.results import environment_versions
    from dcsim.version import __version__

    return {
        "kind": "dcsim-sweep",
        "store_version": 1,
        "sweep_hash": plan.sweep_hash,
        "name": plan.name,
        "source": plan.source,
        "parameters": list(plan.param_names),
        "n_points": len(plan.points),
        "replications": plan.replications,
        "n_runs": plan.n_runs,
        "skipped_by_constraints": len(plan.skipped),
        "dcsim_version": __version__,
        "versions": environment_versions(),
    }


def finalize(store: SweepStore, params: list[str], expected: Expected | None = None,
             rows: Mapping[str, dict[str, Any]] | None = None
             ) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Rebuild ``runs.parquet`` and ``summary.csv`` from the stored runs (the plan's only, if
    ``expected`` maps each run key to its seed and config hash).

    ``rows``: every run file's row by run key (``SweepStore.stored_runs`` when the folder was
    opened, updated by each ``SweepStore.append``): the same tables, without reading the files
    again.
    """
    from dcsim.experiments.stats import summarize

    runs = store.consolidate(params, expected, rows)
    summary = summarize(runs, params)
    store.write_summary(summary)
    return runs, summary


def run_sweep(
    config: str | Path | dict[str, Any] | None,
    out: str | Path | None = None,
    *,
    executor: str = "processes",
    workers: int | None = None,
    scheduler: str | None = None,
    overrides: list[str] | None = None,
    retry_errors: bool = False,
    overwrite: bool = False,
    allow_rejections: bool = False,
    on_start: Callable[[SweepPlan, int, int], None] | None = None,
    on_run: Callable[[dict[str, Any]], None] | None = None,
) -> SweepOutcome:
    """Run (or resume) the sweep of ``config`` into the folder ``out``.

    Parameters
    ----------
    config : YAML path, raw config dict, or ``None`` for the shipped default config.
    out : results folder; default ``results/<name>-sweep``.
    executor : ``serial``, ``processes`` (default; every local core) or ``dask``.
    workers : worker processes (``processes``, local ``dask``); default: ``os.cpu_count()``.
    scheduler : ``tcp://host:port`` of an existing Dask scheduler (``dask`` only).
    overrides : ``dotted.path=value`` strings applied before expansion (part of the sweep hash).
    retry_errors : run failed runs again instead of keeping their error rows.
    overwrite : delete a different sweep's results in ``out`` instead of refusing.
    allow_rejections : run points whose trace-sized guests fit on no host (rejected and
        counted) instead of refusing the sweep; not part of the sweep's identity.
    on_start : called with ``(plan, total runs, runs to do)`` before the first run.
    on_run : called with each finished run's row.

    Returns
    -------
    SweepOutcome

    Raises
    ------
    ConfigError
        Bad config or sweep section (every point checked first), or an ``out`` folder that holds
        another sweep. Nothing is run or written then.
    """
    t0 = time.perf_counter()
    ex = make_executor(executor, workers, scheduler)
    if not ex.forks():
        ex.start()  # spawned workers import while the sweep is checked
    try:
        plan = plan_sweep(config, overrides, allow_rejections=allow_rejections)
        manifest = _manifest(plan)
        # forked workers: once the sweep is checked and its manifest made, so that they inherit
        # what that loaded (modules, catalogs, package versions) instead of loading it again at
        # their first run; before the folder is opened (its lock is not theirs)
        ex.limit(plan.n_runs)  # no more workers than the sweep has runs
        ex.start()
        root = Path(out) if out is not None else default_out(plan)
        sweep_yaml = yaml.safe_dump(plan.raw, sort_keys=False).encode("utf-8")
        store = SweepStore.open(root, manifest, overwrite=overwrite,
                                extra_files={"sweep.yaml": sweep_yaml})
        try:  # the store holds the folder's lock until close()
            return _run_open(store, plan, ex, retry_errors, on_start, on_run, t0,
                             allow_rejections)
        finally:
            store.close()
    finally:
        ex.stop()  # workers a finished sweep did not shut down (bad input, nothing to run)


def _run_open(store: SweepStore, plan: SweepPlan, ex: Any, retry_errors: bool,
              on_start: Callable[[SweepPlan, int, int], None] | None,
              on_run: Callable[[dict[str, Any]], None] | None, t0: float,
              allow_rejections: bool) -> SweepOutcome:
    params = list(plan.param_names)
    expected = {r.key: (r.seed, r.point.config_hash) for r in plan.runs()}
    # Every run file's row, read once: what is done, and (kept up to date by each append below:
    # we hold the folder's lock, nobody else writes it) what runs.parquet is rebuilt from.
    stored = store.stored_runs(expected)
    done = done_keys(stored, retry_errors)
    # in parallel, the costliest points first (serial: plan order, the same total time)
    tasks = tasks_of(plan, done, allow_rejections=allow_rejections,
                     longest_first=ex.name != "serial")
    if on_start is not None:
        on_start(plan, plan.n_runs, len(tasks))
    prepared = False

    def prepare() -> None:
        """The pandas part of opening the sweep, done while the first runs run; and, for
        replicated points, the import their confidence intervals need at the end."""
        nonlocal prepared
        store.write_points(points_table(plan))
        prepared = True
        if plan.replications > 1:
            from dcsim.experiments.stats import load_quantiles

            load_quantiles()
        if done:  # a resumed sweep starts from a consistent runs.parquet
            finalize(store, params, expected, stored)

    ran = errors = 0
    run_wall = 0.0
    try:
        if not tasks:
            prepare()
        with ex if tasks else contextlib.nullcontext(ex):
            for row in ex.run(tasks, prepare) if tasks else ():
                store.append(row, stored)
                ran += 1
                errors += row["status"] != "ok"
                run_wall += float(row.get("run_wall_s") or 0.0)
                if on_run is not None:
                    on_run(row)
        # inside the guard: an interrupt while the tables are rebuilt rebuilds them on the way
        # out (they were missing after a Ctrl-C right after the last run: session-17 audit)
        runs, summary = finalize(store, params, expected, stored)
    except BaseException:
        with contextlib.suppress(Exception):  # runs that finished during prepare()
            for row in getattr(ex, "finished_unseen", list)():
                store.append(row, stored)
        with contextlib.suppress(Exception):  # keep the original error; the files stay valid
            store.catch_up(stored, expected)  # a run whose file landed as the interrupt did
            if not prepared:
                store.write_points(points_table(plan))
            finalize(store, params, expected, stored)
        raise
    return SweepOutcome(store.root, plan, plan.n_runs, len(done), ran, errors,
                        time.perf_counter() - t0, run_wall, runs, summary)

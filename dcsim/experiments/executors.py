"""Running the runs of a sweep: serially, on a local process pool, or on a Dask cluster.

Every executor runs the same top-level function, :func:`execute`, on a picklable :class:`RunTask`
and yields the rows as runs finish (in any order); the caller stores them. ``execute`` never
raises for a failing simulation: the row then has ``status="error"`` and the traceback, so one bad
run does not stop a sweep. Results do not depend on the executor: a run is a pure function of its
config (the engine draws every random number from the config's seed), so serial, processes and
Dask give the same metrics bit for bit; only wall times differ.

At most :data:`WINDOW` runs per worker are in flight at once, so a Ctrl-C or a lost worker
loses little work and memory stays flat for sweeps of any size; :data:`PREPARE_WINDOW` per worker
while the parent prepares its tables (``while_waiting``), which it does without collecting rows.

* ``processes``: :class:`concurrent.futures.ProcessPoolExecutor`. On Linux the workers are
  forked (:meth:`ProcessExecutor.start`, once the sweep is checked) from a parent that has just
  imported the run path (:data:`WORKER_IMPORTS`, ~0.3 s of CPU): they import nothing, share its
  pages and inherit what checking loaded (one import per sweep, not one per worker). What the
  parent built is frozen at the fork (``gc.freeze``, undone in the parent): a worker's cycle
  collector never traverses it (nor copies its pages by touching them), and a worker collects
  cycles even if the parent's collector was off (``dcsim sweep``'s start-up). Forks only
  while the parent runs no other thread (one holding a lock at the fork would leave it held in
  the child); otherwise, and on other systems, workers are spawned (before the sweep is checked)
  and import the run path in their initializer (safe with threads, the same everywhere). Either
  way they are the parent's own children and serve every run of the sweep. They ignore SIGINT
  and SIGTERM; the parent handles Ctrl-C and SIGTERM alike and kills them. No orphans: each
  worker exits when the parent is gone, however it died (SIGKILL included): the kernel's
  parent-death signal on Linux, and everywhere a watchdog thread that checks ``os.getppid()``
  every 0.2 s (:func:`exit_with_parent`). With spawned workers the multiprocessing resource
  tracker then sees its last user go and exits too (forked ones need none).
* ``dask``: a ``distributed.Client`` to ``scheduler`` (``tcp://host:port``) or, without one, to a
  ``LocalCluster(n_workers=workers, processes=True, threads_per_worker=1)``. The workers need
  dcsim installed and the config's relative trace files at the same path. The workers of a
  local cluster get the same parent watchdog (a remote cluster's workers are not ours). A
  local cluster has no dashboard, its scheduler's HTTP server a free local port (not 8787),
  and a Ctrl-C or SIGTERM while it starts is held until it is up, then handled as usual
  (:func:`interrupts_held`).

Imports: concurrent.futures, multiprocessing, dcsim.api, dcsim.config.load, dcsim.threads (dask
lazily).
"""

from __future__ import annotations

import contextlib
import ctypes
import gc
import importlib
import os
import re
import signal
import sys
import threading
import time
import traceback
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Any, Literal, Protocol

from dcsim.threads import one_thread_each

__all__ = [
    "EXECUTORS",
    "PREPARE_WINDOW",
    "WINDOW",
    "DaskExecutor",
    "Executor",
    "ProcessExecutor",
    "RunTask",
    "SerialExecutor",
    "execute",
    "interrupts_held",
    "make_executor",
]

ExecutorName = Literal["serial", "processes", "dask"]
EXECUTORS: tuple[str, ...] = ("serial", "processes", "dask")

WINDOW = 4
"""Runs handed out per worker at a time: a few queued behind each running one, so none waits
for the parent between runs. The queued ones are cancelled on an interrupt (nothing is lost)."""

PREPARE_WINDOW = 32
"""Runs handed out per worker before the parent's ``while_waiting`` (importing pandas and
scipy.special, writing ``points.csv``: ~0.5 s of CPU, up to twice that in wall time while the
workers hold the cores), during which it hands out nothing: at :data:`WINDOW` the workers ran
dry after 4 runs of a 6-hour default sweep (~0.1 s each) and waited up to 0.15 s."""


def _first_batch(workers: int, while_waiting: Callable[[], None] | None) -> int:
    """How many runs an executor hands out before it first waits: :data:`PREPARE_WINDOW` per
    worker when the parent prepares meanwhile (``while_waiting``), else :data:`WINDOW`."""
    return (PREPARE_WINDOW if while_waiting is not None else WINDOW) * workers


@dataclass(frozen=True)
class RunTask:
    """Everything a worker needs for one run (plain data, cheap to pickle).

    Attributes
    ----------
    key : ``<point_id>-rep<k>``, the run's name in the store.
    point, point_id, replication, seed : where the run sits in the sweep.
    params : the point's parameter values (copied into the row).
    config : the raw run config (seed set); validated again in the worker.
    config_hash : hash of the point config without its seed.
    source : the config file's path (relative trace paths are resolved against its folder).
    allow_rejections : run although trace-sized guests fit on no host (they are rejected and
        counted), as ``dcsim run --allow-rejections``.
    """

    key: str
    point: int
    point_id: str
    replication: int
    seed: int
    params: dict[str, Any]
    config: dict[str, Any]
    config_hash: str
    source: str | None
    allow_rejections: bool = False


def _short_traceback() -> str:
    """The current traceback with this installation's folder removed from file names."""
    text = traceback.format_exc()
    root = str(Path(__file__).resolve().parents[2]) + os.sep
    return text.replace(root, "")


def execute(task: RunTask) -> dict[str, Any]:
    """Run one task and return its result row (never raises for a failing run).

    Returns
    -------
    dict
        ``key, point, point_id, replication, seed``, the parameters, every summary metric,
        ``status`` (``ok`` or ``error``), ``error`` (traceback or None), ``scenario_id``,
        ``config_hash``, ``dcsim_version`` and ``run_wall_s`` (wall time of validation plus
        simulation in the worker, s).
    """
    from dcsim.version import __version__

    t0 = time.perf_counter()
    row: dict[str, Any] = {
        "key": task.key, "point": task.point, "point_id": task.point_id,
        "replication": task.replication, "seed": task.seed,
    }
    row.update(task.params)
    metrics: dict[str, Any] = {}
    scenario_id: str | None = None
    try:
        from dcsim.api import run
        from dcsim.validate import parse_config

        sc = parse_config(task.config, source=task.source,
                          allow_rejections=task.allow_rejections,
                          warn_inert=False)  # said once, by the sweep's plan
        scenario_id = sc.scenario_id
        metrics = dict(run(sc).summary)
        status, error = "ok", None
    except Exception:  # a failing run is recorded, never fatal to the sweep
        status, error = "error", _short_traceback()
    row.update(metrics)
    row.update({"status": status, "error": error, "scenario_id": scenario_id,
                "config_hash": task.config_hash, "dcsim_version": __version__,
                "run_wall_s": time.perf_counter() - t0})
    return row


class Executor(Protocol):
    """Runs tasks and yields their rows as they finish; a context manager owning its workers.

    ``start()`` may be called before entering, to get workers going early; ``stop()`` releases
    whatever is still running (idempotent; after a normal ``__exit__`` there is nothing left).
    """

    name: str
    workers: int

    def start(self) -> None: ...

    def limit(self, runs: int) -> None: ...

    def forks(self) -> bool: ...

    def stop(self) -> None: ...

    def __enter__(self) -> Executor: ...

    def __exit__(self, et: type[BaseException] | None, ev: BaseException | None,
                 tb: TracebackType | None) -> None: ...

    def run(self, tasks: Iterable[RunTask],
            while_waiting: Callable[[], None] | None = None) -> Iterator[dict[str, Any]]: ...


class SerialExecutor:
    """Runs each task in this process, in order."""

    name = "serial"

    def __init__(self) -> None:
        self.workers = 1

    def start(self) -> None:
        """Nothing to start: runs happen in this process."""

    def limit(self, runs: int) -> None:
        """One process whatever the number of runs."""

    def forks(self) -> bool:
        """No workers to fork."""
        return False

    def stop(self) -> None:
        """Nothing to stop."""

    def __enter__(self) -> SerialExecutor:
        return self

    def __exit__(self, et: type[BaseException] | None, ev: BaseException | None,
                 tb: TracebackType | None) -> None:
        return None

    def run(self, tasks: Iterable[RunTask],
            while_waiting: Callable[[], None] | None = None) -> Iterator[dict[str, Any]]:
        """Yield ``execute(task)`` for each task in order (``while_waiting()`` first)."""
        if while_waiting is not None:
            while_waiting()
        for task in tasks:
            yield execute(task)


_PR_SET_PDEATHSIG = 1
_WATCHING = False


def exit_with_parent(parent_pid: int, interval_s: float = 0.2) -> None:
    """In a worker: exit at once when the process ``parent_pid`` (our parent) is gone.

    Linux sends SIGKILL on the parent's death (``prctl(PR_SET_PDEATHSIG)``); a daemon thread
    polling ``os.getppid()`` covers other systems and any case the kernel signal misses. Idempotent.
    """
    global _WATCHING
    if _WATCHING:
        return
    _WATCHING = True
    if sys.platform.startswith("linux"):
        try:
            libc = ctypes.CDLL(None, use_errno=True)
            libc.prctl(_PR_SET_PDEATHSIG, int(signal.SIGKILL), 0, 0, 0)
        except (OSError, AttributeError):
            pass
    if os.getppid() != parent_pid:  # the parent died before we got here
        os._exit(1)

    def watch() -> None:
        while os.getppid() == parent_pid:
            time.sleep(interval_s)
        os._exit(1)  # orphaned: nobody will collect our results

    threading.Thread(target=watch, name="dcsim-parent-watchdog", daemon=True).start()


def _watch_if_child(parent_pid: int) -> bool:
    """On a Dask worker: the parent watchdog, only if ``parent_pid`` really is our parent."""
    if os.getppid() != parent_pid:
        return False
    exit_with_parent(parent_pid)
    return True


#: The run path of ``execute`` (pydantic models, numpy, the engine; about 0.3 s of CPU): imported
#: by the parent before it forks the workers, or by each spawned worker when it starts, before
#: its first task, while the parent still checks the sweep (``ProcessExecutor.start``).
WORKER_IMPORTS = ("dcsim.api", "dcsim.validate", "dcsim.engine.dispatch",
                  "dcsim.engine.simulation")


def _worker_init(parent_pid: int, preload: tuple[str, ...] = ()) -> None:
    """Worker initializer: Ctrl-C and SIGTERM are the parent's business; die with the parent;
    import ``preload`` now (a failure is left to the first task, which records it)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    gc.enable()  # a worker collects cycles, whatever the parent's start-up did (dcsim.console)
    exit_with_parent(parent_pid)
    for name in preload:
        try:
            importlib.import_module(name)
        except Exception:  # the run that needs it reports the error in its row
            break


def _ready() -> tuple[int, list[str]]:
    """A no-op task (one per worker makes the pool start them all at once): the worker's pid and
    which of ``WORKER_IMPORTS`` it has imported (all of them, once its initializer is done)."""
    return os.getpid(), [m for m in WORKER_IMPORTS if m in sys.modules]


def _can_fork() -> bool:
    """Whether workers may be forked from this process now: on Linux, with no other thread
    running (whatever another thread holds at the fork stays held in the child)."""
    return sys.platform.startswith("linux") and threading.active_count() == 1


class ProcessExecutor:
    """A local pool of ``workers`` processes (default: every core), forked where possible.

    ``fork``: None (default) forks on Linux when this process runs no other thread, else spawns;
    False always spawns.
    """

    name = "processes"

    def __init__(self, workers: int | None = None, fork: bool | None = None) -> None:
        self.workers = workers or os.cpu_count() or 1
        self.fork = fork
        self.method: str | None = None  # "fork" or "spawn" once started
        self._pool: ProcessPoolExecutor | None = None
        self._saved_env: dict[str, str | None] = {}
        self._interrupted: list[Future[dict[str, Any]]] = []

    def start(self) -> None:
        """Start every worker now (idempotent): forked from this process once it has imported
        ``WORKER_IMPORTS``, or spawned, each importing them in its initializer.

        ``run_sweep`` calls it before the sweep is checked when the workers are spawned (their
        imports overlap the parent's work instead of delaying the first runs), after it when
        they are forked (:meth:`forks`: they inherit what checking loaded), and always before
        the sweep's folder is opened and its lock taken (a forked worker would share it).
        """
        if self._pool is not None:
            return
        import multiprocessing

        fork = self.fork is not False and _can_fork()
        preload: tuple[str, ...] = WORKER_IMPORTS
        if fork:
            for name in WORKER_IMPORTS:  # the parent needs most of them to check the sweep
                try:
                    importlib.import_module(name)
                except Exception:  # the run that needs it reports the error in its row
                    break
            preload = ()
            fork = _can_fork()  # an import may have started a thread
        self.method = "fork" if fork else "spawn"
        # One BLAS/OpenMP thread per worker (as Dask's nanny does): the workers already use every
        # core, extra threads only compete. Spawned children inherit the environment at spawn.
        self._saved_env = one_thread_each()
        self._pool = ProcessPoolExecutor(max_workers=self.workers,
                                         mp_context=multiprocessing.get_context(self.method),
                                         initializer=_worker_init,
                                         initargs=(os.getpid(), preload))
        # spawn: a worker per task while none is idle; fork: all of them at the first task,
        # before the pool's manager thread starts. Frozen at the fork, what the parent built
        # so far is never traversed by a worker's collector, whose passes would otherwise touch
        # (and so copy) every page of it; the parent gets its collector's view back.
        frozen_before = gc.get_freeze_count()
        if fork:
            gc.freeze()
        try:
            for _ in range(self.workers):
                self._pool.submit(_ready)
        finally:
            if fork and frozen_before == 0:
                gc.unfreeze()

    def limit(self, runs: int) -> None:
        """Start no more workers than ``runs`` (the rest would only wait); no effect once
        started (spawned workers start before the sweep is checked, its runs unknown)."""
        if self._pool is None:
            self.workers = max(1, min(self.workers, runs))

    def forks(self) -> bool:
        """Whether :meth:`start` would fork the workers now (else it spawns them)."""
        return self.fork is not False and _can_fork()

    def stop(self) -> None:
        """Kill the workers if they are still there (bad input, nothing to run, interrupted)."""
        self._close(kill=True)

    def __enter__(self) -> ProcessExecutor:
        self.start()
        return self

    def __exit__(self, et: type[BaseException] | None, ev: BaseException | None,
                 tb: TracebackType | None) -> None:
        self._close(kill=et is not None)

    def _close(self, kill: bool) -> None:
        pool, self._pool = self._pool, None
        for k, v in self._saved_env.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
        self._saved_env = {}
        if pool is None:
            return
        if not kill:
            pool.shutdown(wait=True)
            return
        # Interrupted or failed: drop queued work and stop the runs in flight now.
        procs = list(getattr(pool, "_processes", {}).values())
        pool.shutdown(wait=False, cancel_futures=True)
        for p in procs:
            p.kill()  # workers ignore SIGTERM
        # The pool's manager thread reaps the killed workers too; a worker it reaped first still
        # looks alive (exit code None) until that thread records its exit. Wait for both.
        manager = getattr(pool, "_executor_manager_thread", None)
        if manager is not None:
            manager.join(timeout=5)
        deadline = time.monotonic() + 5.0
        for p in procs:
            p.join(timeout=max(0.0, deadline - time.monotonic()))
            while p.exitcode is None and time.monotonic() < deadline:
                time.sleep(0.01)

    def finished_unseen(self) -> list[dict[str, Any]]:
        """Rows of the runs that finished while ``while_waiting`` (see :meth:`run`) was
        interrupted, which ``run`` could not yield: the caller stores them on its way out.
        Emptied by the call."""
        futures, self._interrupted = self._interrupted, []
        return [f.result() for f in futures
                if f.done() and not f.cancelled() and f.exception() is None]

    def run(self, tasks: Iterable[RunTask],
            while_waiting: Callable[[], None] | None = None) -> Iterator[dict[str, Any]]:
        """Yield rows as runs finish, with at most ``WINDOW × workers`` runs in flight;
        ``while_waiting()`` is called once, here, as soon as the first ``PREPARE_WINDOW ×
        workers`` runs are handed out (the runs that finish meanwhile are yielded after it, or
        kept for :meth:`finished_unseen` if it raises)."""
        assert self._pool is not None, "use ProcessExecutor as a context manager"
        pool = self._pool
        window = _first_batch(self.workers, while_waiting)
        pending: set[Future[dict[str, Any]]] = set()
        it = iter(tasks)
        exhausted = False
        while True:
            while not exhausted and len(pending) < window:
                task = next(it, None)
                if task is None:
                    exhausted = True
                else:
                    pending.add(pool.submit(execute, task))
            if not pending:
                return
            if while_waiting is not None:
                call, while_waiting = while_waiting, None
                window = WINDOW * self.workers
                try:
                    call()
                except BaseException:  # Ctrl-C, SIGTERM: keep what finished meanwhile
                    self._interrupted = list(pending)
                    raise
            done, pending = wait(pending, return_when=FIRST_COMPLETED)
            for fut in done:
                try:
                    row = fut.result()
                except BrokenProcessPool as exc:
                    from dcsim.errors import SimulationError

                    raise SimulationError(
                        "a worker process died (killed, out of memory, or a script that calls "
                        "run_sweep without an `if __name__ == '__main__':` guard); the finished "
                        "runs are stored: run the same sweep again to resume") from exc
                yield row


class DaskExecutor:
    """Runs on a Dask cluster: ``scheduler`` address, or a new ``LocalCluster`` of processes."""

    name = "dask"

    def __init__(self, workers: int | None = None, scheduler: str | None = None) -> None:
        self.workers = workers or os.cpu_count() or 1
        self.scheduler = scheduler
        self._client: Any = None
        self._cluster: Any = None

    def start(self) -> None:
        """The cluster is started (or connected to) on entering."""

    def limit(self, runs: int) -> None:
        """A local cluster of no more workers than ``runs``; no effect on a cluster that is
        running (a scheduler's, or ours once entered)."""
        if self._cluster is None and self._client is None and not self.scheduler:
            self.workers = max(1, min(self.workers, runs))

    def forks(self) -> bool:
        """Dask starts its own worker processes."""
        return False

    def stop(self) -> None:
        """Close the client and a local cluster if they are still open."""
        self.__exit__(None, None, None)

    def __enter__(self) -> DaskExecutor:
        try:
            distributed: Any = importlib.import_module("distributed")
        except ImportError as exc:  # pragma: no cover - depends on the installation
            from dcsim.errors import ConfigError, Issue

            raise ConfigError(Issue("--executor", "dask needs the 'distributed' package: "
                                    "pip install 'dcsim[distributed]'")) from exc
        if self.scheduler:
            try:
                self._client = distributed.Client(self.scheduler, timeout=CONNECT_TIMEOUT_S)
            except (OSError, TimeoutError, ValueError) as exc:
                from dcsim.errors import ConfigError, Issue

                raise ConfigError(Issue("--scheduler", f"cannot connect to the Dask scheduler "
                                        f"{self.scheduler!r}: {exc}")) from None
            info = self._client.scheduler_info()
            self.workers = max(1, len(info.get("workers", {})))
        else:
            # Ctrl-C or SIGTERM while the cluster starts would leave it half-started, closed
            # only at exit, with Dask's tracebacks ("Nanny failed to start"): held until it is
            # up and ours to close (a second one is not held)
            with interrupts_held():
                # no dashboard; the scheduler's HTTP server (health and metrics routes, always
                # started) on a free local port instead of Dask's default 8787, which a second
                # sweep, or anything else, may hold
                self._cluster = distributed.LocalCluster(
                    n_workers=self.workers, threads_per_worker=1, processes=True,
                    dashboard_address=None, silence_logs=40,
                    scheduler_kwargs={"dashboard": False, "dashboard_address": "127.0.0.1:0"})
                self._client = distributed.Client(self._cluster)
                self._client.run(_watch_if_child, os.getpid())  # our workers die with us
        return self

    def __exit__(self, et: type[BaseException] | None, ev: BaseException | None,
                 tb: TracebackType | None) -> None:
        # Forgotten before closing, so that nothing closes them twice: a Ctrl-C inside the
        # first close left a half-closed cluster whose second close (``stop``) waited forever
        # (session-17 sweep audit); each close is bounded in time too.
        client, cluster = self._client, self._cluster
        self._client = self._cluster = None
        try:
            if client is not None:
                client.close(timeout=CLOSE_TIMEOUT_S)
        finally:
            if cluster is not None:
                cluster.close(timeout=CLOSE_TIMEOUT_S)

    def run(self, tasks: Iterable[RunTask],
            while_waiting: Callable[[], None] | None = None) -> Iterator[dict[str, Any]]:
        """Yield rows as runs finish, with at most ``WINDOW × workers`` runs in flight;
        ``while_waiting()`` is called once, here, as soon as the first ``PREPARE_WINDOW ×
        workers`` runs are handed out."""
        as_completed: Any = importlib.import_module("distributed").as_completed
        assert self._client is not None, "use DaskExecutor as a context manager"
        client = self._client
        window = WINDOW * self.workers
        it = iter(tasks)
        first = [client.submit(execute, t, pure=False)
                 for t in _take(it, _first_batch(self.workers, while_waiting))]
        if not first:
            return
        if while_waiting is not None:
            while_waiting()
        in_flight = len(first)
        queue = as_completed(first)
        for fut in queue:
            row: dict[str, Any] = fut.result()
            fut.release()
            in_flight -= 1
            for t in _take(it, window - in_flight):
                queue.add(client.submit(execute, t, pure=False))
                in_flight += 1
            yield row


@contextlib.contextmanager
def interrupts_held() -> Iterator[None]:
    """Hold Ctrl-C (SIGINT) and SIGTERM until the block ends, then deliver the first one held to
    the handler that was in place (the same one again, while held, is delivered at once: a
    second Ctrl-C still interrupts a block that hangs). Outside the main thread, where handlers
    cannot be set, the block runs as it is."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    kinds = (signal.SIGINT, signal.SIGTERM)
    saved: dict[int, Any] = {k: signal.getsignal(k) for k in kinds}
    held: list[int] = []

    def restore() -> None:
        for k, h in saved.items():
            signal.signal(k, h if h is not None else signal.SIG_DFL)

    def deliver(signum: int) -> None:
        handler = saved[signum]
        if callable(handler):
            handler(signum, None)
        elif handler == signal.SIG_DFL:
            os.kill(os.getpid(), signum)  # the default action, now that it is restored

    def hold(signum: int, frame: object) -> None:
        if signum in held:  # asked again: now
            restore()
            deliver(signum)
        else:
            held.append(signum)

    for k in kinds:
        signal.signal(k, hold)
    try:
        yield
    finally:
        restore()
        if held:  # also when the block failed: the interrupt is what was asked for
            deliver(held[0])


def _take(it: Iterator[RunTask], n: int) -> list[RunTask]:
    out: list[RunTask] = []
    for _ in range(n):
        task = next(it, None)
        if task is None:
            break
        out.append(task)
    return out


WORKERS_PER_CORE = 4
"""``--workers`` allowed per core for local workers: runs are CPU-bound, so beyond one per
core workers only take turns, while each holds its own memory (a 2-core machine once started
4,525 of them for ``--workers 100000`` before running out of memory)."""
MIN_MOST_WORKERS = 8
"""... but never fewer than this many allowed (small machines, tests of the pool)."""

_SCHEDULER = re.compile(r"^(tcp|tls|ws|wss|ucx|inproc)://[A-Za-z0-9._\-\[\]:%]+(:\d{1,5})?/?$")
CONNECT_TIMEOUT_S = 10
"""How long to wait for a Dask scheduler before refusing the address (s)."""
CLOSE_TIMEOUT_S = 10.0
"""How long a Dask client or local cluster may take to close (s)."""


def _probe(address: str) -> None:
    """Open and close a TCP connection to ``tcp://HOST:PORT``; ConfigError if it fails."""
    import socket

    from dcsim.errors import ConfigError, Issue

    hostport = address.removeprefix("tcp://").rstrip("/")
    host, _, port = hostport.rpartition(":")
    if not host or not port.isdigit():
        raise ConfigError(Issue("--scheduler", f"expected tcp://HOST:PORT, got {address!r}"))
    try:
        with socket.create_connection((host.strip("[]"), int(port)), timeout=CONNECT_TIMEOUT_S):
            pass
    except (OSError, ValueError) as exc:
        raise ConfigError(Issue("--scheduler", f"cannot connect to the Dask scheduler "
                                f"{address!r}: {exc}")) from None


def make_executor(name: str, workers: int | None = None,
                  scheduler: str | None = None) -> SerialExecutor | ProcessExecutor | DaskExecutor:
    """The executor called ``name`` (``serial``, ``processes`` or ``dask``)."""
    from dcsim.errors import ConfigError, Issue

    if workers is not None and workers < 1:
        raise ConfigError(Issue("--workers", f"must be at least 1, got {workers}"))
    cores = os.cpu_count() or 1
    most = max(WORKERS_PER_CORE * cores, MIN_MOST_WORKERS)
    if workers is not None and workers > most and not scheduler:
        raise ConfigError(Issue("--workers", f"at most {most} on this machine "
                                f"({WORKERS_PER_CORE} per core, {cores} cores), got {workers}: "
                                "each worker is a process with its own memory, and more of "
                                "them than cores only take turns"))
    if scheduler and name != "dask":
        raise ConfigError(Issue("--scheduler", f"only used with --executor dask (got {name})"))
    if scheduler and not _SCHEDULER.match(scheduler):
        raise ConfigError(Issue("--scheduler", f"expected a Dask scheduler address such as "
                                f"tcp://HOST:PORT, got {scheduler!r}"))
    if scheduler and scheduler.startswith("tcp://"):
        _probe(scheduler)  # refuse an unreachable scheduler before any folder is written
    if name == "serial":
        return SerialExecutor()
    if name == "processes":
        return ProcessExecutor(workers)
    if name == "dask":
        return DaskExecutor(workers, scheduler)
    raise ConfigError(Issue("--executor", f"unknown executor {name!r}; expected one of "
                            f"{', '.join(EXECUTORS)}"))

"""Warm workers: the process pool starts before the sweep is checked, imports once, and never
outlives the sweep, whatever the sweep does (bad input, nothing to run, a normal end).

Workers are children of this test process, so ``multiprocessing.active_children()`` lists every
one still alive. On Linux they are forked from this process after it imported the run path
(none of them imports it again), unless another thread runs here; else spawned.
"""

from __future__ import annotations

import multiprocessing
import threading
from pathlib import Path

import pytest
from sweep_helpers import SMALL_SWEEP, tiny

from dcsim.errors import ConfigError
from dcsim.experiments.executors import WORKER_IMPORTS, ProcessExecutor, _can_fork, _ready
from dcsim.experiments.sweep import run_sweep


def _alive() -> list[multiprocessing.process.BaseProcess]:
    return multiprocessing.active_children()  # also reaps the finished ones


@pytest.mark.parametrize("fork", [None, False])
def test_start_spawns_every_worker_and_each_imports_the_run_path_once(fork: bool | None) -> None:
    # forked unless asked not to, or another thread runs in this test process (then spawned;
    # the sweep CLI's own processes are forked: test_sweep_orphans)
    expected = "fork" if fork is None and _can_fork() else "spawn"
    ex = ProcessExecutor(2, fork=fork)
    ex.start()
    try:
        assert ex.method == expected
        pool = ex._pool
        assert pool is not None
        assert len(pool._processes) == 2  # both started by start(), before any task
        pids = set()
        for _ in range(4):
            pid, imported = pool.submit(_ready).result(timeout=120)
            pids.add(pid)
            assert imported == list(WORKER_IMPORTS)  # done by the initializer
        assert pids <= set(pool._processes)
        ex.start()  # idempotent: the same pool
        assert ex._pool is pool
    finally:
        ex.stop()
    assert ex._pool is None
    assert not _alive()


def test_no_fork_while_another_thread_runs() -> None:
    # a thread holding a lock at the fork would leave it held in the child: spawn instead
    stop = threading.Event()
    other = threading.Thread(target=stop.wait)
    other.start()
    try:
        assert not _can_fork()
        ex = ProcessExecutor(2)
        ex.start()
        try:
            assert ex.method == "spawn"
            assert ex._pool is not None
            assert ex._pool.submit(_ready).result(timeout=120)[1] == list(WORKER_IMPORTS)
        finally:
            ex.stop()
    finally:
        stop.set()
        other.join()
    assert not _alive()


def test_bad_config_leaves_no_worker_behind(tmp_path: Path) -> None:
    cfg = tiny(SMALL_SWEEP)
    cfg["guests"][0]["ram"] = "lots"
    with pytest.raises(ConfigError):
        run_sweep(cfg, tmp_path / "out", executor="processes", workers=2)
    assert not (tmp_path / "out").exists()  # refused before anything was written
    assert not _alive()


def test_sweep_with_nothing_left_to_run_leaves_no_worker_behind(tmp_path: Path) -> None:
    cfg = tiny({"grid": {"guests[0].count": [1, 2]}, "replications": 1}, duration="30m")
    first = run_sweep(cfg, tmp_path / "out", executor="processes", workers=2)
    assert (first.ran, first.errors) == (2, 0)
    assert not _alive()
    again = run_sweep(cfg, tmp_path / "out", executor="processes", workers=2)
    assert (again.already_done, again.ran) == (2, 0)
    assert not _alive()

"""Warm workers: the process pool starts before the sweep is checked, imports once, and never
outlives the sweep, whatever the sweep does (bad input, nothing to run, a normal end).

Workers are children of this test process, so ``multiprocessing.active_children()`` lists every
one still alive. On Linux they are forked from this process after it imported the run path
(none of them imports it again), unless another thread runs here; else spawned.
"""

from __future__ import annotations

import json
import multiprocessing
import subprocess
import sys
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


#: a fresh parent as run_sweep does it (workers forked first, then the sweep checked); one run
#: of the default config in a worker; the modules that run imported
_FIRST_RUN = """
import json, sys
from dcsim.experiments.executors import ProcessExecutor, execute

def probe(task):
    before = set(sys.modules)
    row = execute(task)
    return row["status"], sorted(set(sys.modules) - before)

if __name__ == "__main__":
    ex = ProcessExecutor(1)
    ex.start()
    from dcsim.experiments.sweep import plan_sweep, tasks_of
    task = tasks_of(plan_sweep(None, ["duration=1h"]))[0]
    with ex:
        print(json.dumps([ex.method, *ex._pool.submit(probe, task).result()]))
"""


def test_a_forked_workers_first_run_imports_no_package_again() -> None:
    # every package the run path needs is imported once, by the parent, before the fork: a
    # worker's first run imports at most a few small dcsim modules and the stdlib's codecs
    repo = Path(__file__).resolve().parents[3]
    out = subprocess.run([sys.executable, "-c", _FIRST_RUN], cwd=repo, capture_output=True,
                         text=True, check=True, env={"PYTHONPATH": str(repo), "PATH": ""})
    method, status, imported = json.loads(out.stdout.strip().splitlines()[-1])
    assert (method, status) == ("fork", "ok")
    packages = {m.split(".")[0] for m in imported} - {"dcsim"}
    assert packages <= set(sys.stdlib_module_names), sorted(packages)
    assert not [m for m in imported if m.startswith("numpy")]

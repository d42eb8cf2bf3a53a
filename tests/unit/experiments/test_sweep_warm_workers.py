"""Warm workers: the process pool imports once and never outlives the sweep, whatever the sweep
does (bad input, nothing to run, a normal end).

Workers are children of this test process, so ``multiprocessing.active_children()`` lists every
one still alive. On Linux they are forked from this process after it imported the run path and
checked the sweep (none of them imports or loads that again), unless another thread runs here;
else spawned (before the sweep is checked, so that their imports overlap it).
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


#: a process pool started in a fresh interpreter (this test process may run other threads,
#: which rule out forking), with the collector on or off; what the parent and each worker see
_GC_AT_FORK = """
import gc, json, sys
from dcsim.experiments.executors import ProcessExecutor

def state():
    return gc.isenabled(), gc.get_freeze_count()

if __name__ == "__main__":
    if sys.argv[1] == "off":
        gc.disable()
    ex = ProcessExecutor(2)
    ex.start()
    try:
        workers = [list(ex._pool.submit(state).result(timeout=120)) for _ in range(2)]
        print(json.dumps({"method": ex.method, "parent": list(state()), "workers": workers}))
    finally:
        ex.stop()
"""


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="workers are forked on Linux")
@pytest.mark.parametrize("collector", ["on", "off"])
def test_forked_workers_collect_cycles_but_never_the_parents_objects(collector: str) -> None:
    # frozen at the fork: a worker's collections never traverse (and copy) the pages of what it
    # inherited; the parent's own collector sees them again; a worker collects cycles even when
    # the parent had turned its collector off (dcsim sweep does, during start-up)
    repo = Path(__file__).resolve().parents[3]
    out = subprocess.run([sys.executable, "-c", _GC_AT_FORK, collector], cwd=repo,
                         capture_output=True, text=True, check=True,
                         env={"PYTHONPATH": str(repo), "PATH": ""})
    seen = json.loads(out.stdout.strip().splitlines()[-1])
    assert seen["method"] == "fork"
    assert seen["parent"] == [collector == "on", 0]  # as it was, nothing left frozen
    for enabled, frozen in seen["workers"]:
        assert enabled is True
        assert frozen > 10_000  # the parent's objects (modules, classes, ...)


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


#: a processes sweep of the default config in a fresh interpreter; each run reports the modules
#: it imported and whether the package versions (the manifest's) were already known in its worker
_FIRST_RUNS = """
import json, sys
import dcsim.experiments.executors as E
from dcsim.experiments.sweep import run_sweep

real = E.execute

def probe(task):
    from dcsim.io.results import _versions
    known = _versions.cache_info().currsize
    before = set(sys.modules)
    row = real(task)
    row.update(imported=json.dumps(sorted(set(sys.modules) - before)), versions_known=known)
    return row

E.execute = probe  # forked workers look it up here
if __name__ == "__main__":
    from dcsim.config.load import load_raw
    cfg = load_raw("configs/default.yaml")
    cfg.update(duration="1h", sweep={"grid": {"placement.name": ["first_fit", "best_fit"]},
                                     "replications": 2})
    o = run_sweep(cfg, sys.argv[1], executor="processes", workers=2)
    print(json.dumps({"method": "fork" if E._can_fork() else "?", "parent": sorted(sys.modules),
                      "runs": o.runs[["status", "imported", "versions_known"]].to_dict("records")}))
"""


def test_forked_workers_inherit_what_checking_the_sweep_loaded(tmp_path: Path) -> None:
    # run_sweep forks the workers once the sweep is checked and its manifest made: a worker's
    # first run loads again none of the modules the parent has (only engine modules the parent
    # never needs) and no package metadata
    repo = Path(__file__).resolve().parents[3]
    out = subprocess.run([sys.executable, "-c", _FIRST_RUNS, str(tmp_path / "out")], cwd=repo,
                         capture_output=True, text=True, check=True,
                         env={"PYTHONPATH": str(repo), "PATH": ""})
    report = json.loads(out.stdout.strip().splitlines()[-1])
    assert report["method"] == "fork"
    parent = set(report["parent"])
    runs = report["runs"]
    assert len(runs) == 4
    assert {r["status"] for r in runs} == {"ok"}
    assert all(r["versions_known"] == 1 for r in runs)
    imported = set().union(*(json.loads(r["imported"]) for r in runs))
    assert imported & parent == set()
    packages = {m.split(".")[0] for m in imported} - {"dcsim"}
    assert packages <= set(sys.stdlib_module_names), sorted(packages)

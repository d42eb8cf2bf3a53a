"""``dcsim run`` and ``dcsim sweep`` as processes: the cycle collector during start-up, and the
exit.

``dcsim.cli.main`` turns the collector off when the command is ``run`` or ``sweep``.
``dcsim.cli._collect_from_here`` freezes what start-up and the simulation's set-up built and
turns it back on at the simulation's first scheduling interval; the result is frozen too before
the folder is written. A sweep turns it back on (frozen likewise) once its runs start; its
forked workers collect from their first run, and start-up's objects are frozen in them too.
A successful ``run`` then leaves through ``dcsim.cli._exit_now``: atexit handlers run and the
streams are flushed, but the interpreter's teardown (freeing every object) is skipped. Issue 15
(start-up CPU); no timing here (``experiments/benchmarks/planetlab.py`` prints the figures).
Each check runs in a fresh interpreter: these are per-process states.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import REPO

# records gc's state inside load_config and at the start of the simulation; reports from an
# atexit handler (which must still run) and from the __del__ of an object only ``sys`` holds,
# which runs only in the interpreter's teardown
PROBE = """
import atexit, gc, json, sys
import dcsim, dcsim.api, dcsim.cli
seen = {}
load, run = dcsim.api.load_config, dcsim.api.run
def probe_load(*a, **k):
    seen['load_enabled'] = gc.isenabled()
    return load(*a, **k)
def probe_run(*a, **k):
    seen['run_enabled'], seen['frozen'] = gc.isenabled(), gc.get_freeze_count()
    tick = k['progress']
    def probe_tick(t):
        if 'tick_frozen' not in seen:
            seen['tick_before'] = gc.isenabled()
            tick(t)
            seen['tick_enabled'], seen['tick_frozen'] = gc.isenabled(), gc.get_freeze_count()
        else:
            tick(t)
    k['progress'] = probe_tick
    result = run(*a, **k)
    seen['after_run_enabled'] = gc.isenabled()
    return result
dcsim.load_config, dcsim.run = probe_load, probe_run
import dcsim.io.results
write = dcsim.io.results.write_run
def probe_write(*a, **k):
    seen['write_tracked'] = len(gc.get_objects())
    return write(*a, **k)
dcsim.io.results.write_run = probe_write
import os
class Teardown:  # says when it is freed, on a copy of fd 1 (sys.stdout is gone by then)
    def __del__(self, write=os.write, fd=os.dup(1)):
        write(fd, b'TEARDOWN\\n')
sys.teardown_probe = Teardown()  # freed when the teardown clears sys (no cycle holds it)
atexit.register(lambda: print(json.dumps({**seen, 'end_enabled': gc.isenabled()})))  # no flush
sys.argv = ['dcsim', *sys.argv[1:]]
dcsim.cli.main()
"""


def _probe(*args: str, before: str = "") -> tuple[int, dict[str, object], bool]:
    """Exit code, what the probe saw, whether the interpreter's teardown ran (``before``: code
    run first)."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONUNBUFFERED"}  # buffered stdout
    proc = subprocess.run([sys.executable, "-c", before + PROBE, *args], cwd=REPO,
                          capture_output=True, text=True, env=env)
    lines = proc.stdout.strip().splitlines()
    seen = json.loads(next(line for line in lines if line.startswith("{")))
    return proc.returncode, seen, "TEARDOWN" in lines


@pytest.mark.parametrize("options", [[], ["--debug"]])
def test_run_loads_without_the_collector_and_simulates_with_it(tmp_path: Path,
                                                               options: list[str]) -> None:
    code, seen, teardown = _probe(*options, "run", "configs/default.yaml", "--set",
                                  "duration=10m", "-o", str(tmp_path / "out"), "-q")
    assert code == 0
    assert seen["load_enabled"] is False  # start-up: off
    assert seen["run_enabled"] is False  # and while the simulation is set up
    assert seen["tick_before"] is False
    assert seen["tick_enabled"] is True  # on from the first scheduling interval
    assert seen["tick_frozen"] > 10_000  # start-up's objects (modules, models, ...) frozen
    assert seen["frozen"] == 0
    assert seen["after_run_enabled"] is True
    assert seen["write_tracked"] < 20  # the result frozen before writing (~240 objects if not)
    assert seen["end_enabled"] is True
    assert (tmp_path / "out" / "summary.json").is_file()
    assert not teardown  # left through os._exit, after the atexit handler above ran


def _sweep_config(tmp_path: Path) -> Path:
    import yaml

    cfg = yaml.safe_load((REPO / "configs" / "default.yaml").read_text())
    cfg["duration"] = "20m"
    cfg["sweep"] = {"grid": {"guests[0].count": [2, 3]}}
    path = tmp_path / "s.yaml"
    path.write_text(yaml.safe_dump(cfg, sort_keys=False))
    return path


@pytest.mark.parametrize("executor", ["serial", "processes"])
def test_a_successful_sweep_skips_the_teardown(tmp_path: Path, executor: str) -> None:
    out = tmp_path / "out"
    code, seen, teardown = _probe("sweep", str(_sweep_config(tmp_path)), "-o", str(out), "-q",
                                  "--executor", executor, "--workers", "2")
    assert code == 0
    assert seen["end_enabled"] is True  # the atexit handler ran
    assert not teardown  # left through os._exit
    assert len(list((out / "runs").glob("*.parquet"))) == 2
    assert (out / "runs.parquet").is_file()
    assert (out / "summary.csv").is_file()


# a sweep in a fresh interpreter: gc's state while the sweep is checked, in each run (the
# simulation's process: this one for serial, a worker for processes) and in the parent as it
# stores each row
SWEEP_PROBE = """
import atexit, gc, json, os, sys
import dcsim.cli
import dcsim.experiments.executors as E
import dcsim.experiments.store as ST
import dcsim.experiments.sweep as S
seen = {'parent': os.getpid()}
plan = S.plan_sweep
def probe_plan(*a, **k):
    seen['plan_enabled'] = gc.isenabled()
    return plan(*a, **k)
S.plan_sweep = probe_plan
real = E.execute
def probe(task):  # forked workers find it in this (inherited) __main__
    row = real(task)
    row.update(gc_enabled=gc.isenabled(), gc_frozen=gc.get_freeze_count(), pid=os.getpid())
    return row
E.execute = probe
append = ST.SweepStore.append
def probe_append(self, row, *a, **k):
    seen.setdefault('store_enabled', gc.isenabled())
    seen.setdefault('store_frozen', gc.get_freeze_count())
    return append(self, row, *a, **k)
ST.SweepStore.append = probe_append
atexit.register(lambda: print(json.dumps({**seen, 'end_enabled': gc.isenabled()})))
sys.argv = ['dcsim', *sys.argv[1:]]
dcsim.cli.main()
"""


@pytest.mark.parametrize("executor", ["serial", "processes"])
def test_a_sweep_is_checked_without_the_collector_and_runs_with_it(tmp_path: Path,
                                                                    executor: str) -> None:
    import pandas as pd

    out = tmp_path / "out"
    proc = subprocess.run([sys.executable, "-c", SWEEP_PROBE, "sweep",
                           str(_sweep_config(tmp_path)), "-o", str(out), "-q", "--executor",
                           executor, "--workers", "2"], cwd=REPO, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    seen = json.loads(next(line for line in proc.stdout.splitlines() if line.startswith("{")))
    assert seen["plan_enabled"] is False  # start-up, the sweep's checking included: off
    assert seen["store_enabled"] is True  # on once the runs are under way
    assert seen["store_frozen"] > 10_000  # start-up's objects (modules, models, ...) frozen
    assert seen["end_enabled"] is True
    runs = pd.read_parquet(out / "runs.parquet")
    assert len(runs) == 2
    assert runs["gc_enabled"].tolist() == [True, True]  # every run collects cycles
    # and never traverses start-up's objects: frozen in this process (serial), or in the
    # parent just before it forked the worker (processes)
    assert (runs["gc_frozen"] > 10_000).all()
    in_parent = (runs["pid"] == seen["parent"]).tolist()
    assert in_parent == ([True, True] if executor == "serial" else [False, False])


def test_a_sweep_with_failed_runs_exits_1_the_usual_way(tmp_path: Path) -> None:
    fail = ("import dcsim.api\n"
            "def failing(*a, **k):\n    raise RuntimeError('a failing run')\n"
            "dcsim.api.run = failing\n")  # every run fails (serial: in this process)
    code, _, teardown = _probe("sweep", str(_sweep_config(tmp_path)), "-o",
                               str(tmp_path / "out"), "-q", "--executor", "serial", before=fail)
    assert code == 1
    assert teardown
    assert len(list((tmp_path / "out" / "runs").glob("*.parquet"))) == 2  # failed runs stored


def test_a_refused_config_exits_2_the_usual_way(tmp_path: Path) -> None:
    code, _, teardown = _probe("run", "configs/default.yaml", "--set", "duration=-1h",
                               "-o", str(tmp_path / "out"), "-q")
    assert code == 2
    assert teardown
    assert not (tmp_path / "out").exists()


def test_other_commands_keep_the_collector_and_the_usual_exit() -> None:
    code, seen, teardown = _probe("validate", "configs/default.yaml")
    assert code == 0
    assert seen["load_enabled"] is True
    assert "frozen" not in seen
    assert teardown


def test_the_printed_folder_reaches_a_pipe(tmp_path: Path) -> None:
    proc = subprocess.run([sys.executable, "-m", "dcsim", "run", "configs/default.yaml",
                           "--set", "duration=10m", "-o", str(tmp_path / "out"), "-q"],
                          cwd=REPO, capture_output=True, text=True)
    assert proc.returncode == 0
    assert proc.stdout == f"{tmp_path / 'out'}\n"


def test_a_profiled_run_still_writes_its_profile(tmp_path: Path) -> None:
    # cProfile writes its statistics after the module returns: the quick exit must not skip it
    prof = tmp_path / "run.prof"
    proc = subprocess.run([sys.executable, "-m", "cProfile", "-o", str(prof), "-m", "dcsim",
                           "run", "configs/default.yaml", "--set", "duration=10m", "-o",
                           str(tmp_path / "out"), "-q"], cwd=REPO, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    assert prof.stat().st_size > 0


THREADS = """
import os, sys
import dcsim.cli
imported = 'numpy' in sys.modules  # before main: too late to choose OpenBLAS's threads after
sys.argv = ['dcsim', 'validate', 'configs/default.yaml']
try:
    dcsim.cli.main()
except SystemExit:
    pass
print(imported, os.environ.get('OPENBLAS_NUM_THREADS'), os.environ.get('OMP_NUM_THREADS'),
      os.environ.get('MKL_NUM_THREADS'))
"""


@pytest.mark.parametrize(("given", "seen"), [(None, "1"), ("3", "3")])
def test_one_blas_thread_unless_the_user_says(given: str | None, seen: str) -> None:
    env = {k: v for k, v in os.environ.items()
           if k not in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")}
    if given is not None:
        env["OPENBLAS_NUM_THREADS"] = given
    proc = subprocess.run([sys.executable, "-c", THREADS], cwd=REPO, capture_output=True,
                          text=True, env=env)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.split()[-4:] == ["False", seen, "1", "1"]


def test_a_ctrl_c_while_the_cli_is_imported_is_exit_130_without_a_traceback() -> None:
    # SIGINT in a command's first ~0.1-0.3 s (typer and the command modules being imported)
    # printed a Python traceback and exit 1 or -2 (session-17 sweep audit). dcsim.entry imports
    # the CLI inside a guard; here the import itself raises KeyboardInterrupt.
    code = ("import builtins, sys\n"
            "real = builtins.__import__\n"
            "def imp(name, *a, **k):\n"
            "    if name == 'dcsim.cli':\n"
            "        raise KeyboardInterrupt\n"
            "    return real(name, *a, **k)\n"
            "builtins.__import__ = imp\n"
            "sys.argv = ['dcsim', '--help']\n"
            "from dcsim.entry import main\n"
            "main()\n")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          cwd=REPO, timeout=60)
    assert proc.returncode == 130, proc.stderr
    assert proc.stderr == "interrupted\n"

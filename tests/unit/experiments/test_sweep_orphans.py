"""No orphans: a sweep's workers go when the sweep goes, however it goes (issue 13, processes).

Before: SIGKILL or SIGTERM on ``dcsim sweep`` (processes executor) left the workers and the
multiprocessing resource tracker alive forever. The sweep runs in its own session here, so every
process it starts is found by session id in /proc (Linux only). On Linux the processes
executor forks its workers (children with the sweep's own command line); Dask spawns them.
"""

from __future__ import annotations

import importlib.util
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pyarrow.parquet as pq
import pytest
import yaml
from sweep_helpers import tiny

from dcsim.experiments.sweep import run_sweep

pytestmark = pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="needs Linux /proc")

REPO = Path(__file__).resolve().parents[3]
ENV = {**os.environ, "PYTHONPATH": str(REPO)}


def _stat(pid: int) -> list[str] | None:
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return text.rpartition(")")[2].split()  # state, ppid, pgrp, session, ...


def _session(sid: int) -> dict[int, str]:
    """Live (not zombie) processes of session ``sid``: pid → command line."""
    found: dict[int, str] = {}
    for d in Path("/proc").iterdir():
        if not d.name.isdigit():
            continue
        st = _stat(int(d.name))
        if st is None or st[0] == "Z" or int(st[3]) != sid:
            continue
        try:
            cmd = (d / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        found[int(d.name)] = cmd
    return found


def _start(cfg: dict, tmp_path: Path, executor: str,
           quiet: bool = True) -> tuple[subprocess.Popen[bytes], Path]:
    path = tmp_path / "s.yaml"
    path.write_text(yaml.safe_dump(cfg, sort_keys=False))
    out = tmp_path / "out"
    proc = subprocess.Popen([sys.executable, "-m", "dcsim", "sweep", str(path), "--out", str(out),
                             "--executor", executor, "--workers", "2",
                             *(["--quiet"] if quiet else [])], env=ENV,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                            start_new_session=True)
    return proc, out


def _wait_for_workers(proc: subprocess.Popen[bytes], n: int, how: str) -> dict[int, str]:
    """The sweep's processes once ``n`` workers run: ``how`` "spawn" (their command line runs
    multiprocessing's spawn_main) or "fork" (children with the sweep's own command line)."""
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and proc.poll() is None:
        procs = _session(proc.pid)
        kids = {p: c for p, c in procs.items() if p != proc.pid}
        if how == "spawn":
            workers = [p for p, c in kids.items() if "spawn_main" in c]
        else:
            workers = [p for p, c in kids.items() if c == procs.get(proc.pid)
                       and (st := _stat(p)) is not None and int(st[1]) == proc.pid]
        if len(workers) >= n:
            return kids
        time.sleep(0.05)
    raise AssertionError(f"the sweep's {how} workers never started (exit {proc.poll()})")


def _wait_gone(pids: set[int], sid: int, seconds: float) -> dict[int, str]:
    """Processes of ``pids`` or of session ``sid`` still alive after ``seconds``."""
    deadline = time.monotonic() + seconds
    while True:
        left = {p: c for p, c in _session(sid).items()}
        left.update({p: "?" for p in pids if (st := _stat(p)) is not None and st[0] != "Z"})
        if not left or time.monotonic() > deadline:
            return left
        time.sleep(0.05)


def _slow_sweep() -> dict:
    return tiny({"grid": {"guests[0].count": [1, 2, 3, 4]}, "replications": 4},
                duration="1d", interval="1m")


@pytest.mark.parametrize("executor", ["processes", "dask"])
def test_sigkill_leaves_no_process_behind(tmp_path: Path, executor: str) -> None:
    if executor == "dask" and importlib.util.find_spec("distributed") is None:
        pytest.skip("distributed is not installed")
    proc, _ = _start(_slow_sweep(), tmp_path, executor)
    try:
        kids = _wait_for_workers(proc, 2, "fork" if executor == "processes" else "spawn")
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        left = _wait_gone(set(kids), proc.pid, 10.0)
        assert not left, f"still alive 10 s after SIGKILL: {left}"
    finally:
        for pid in _session(proc.pid):  # never leave our own mess behind, even on failure
            os.kill(pid, signal.SIGKILL)


def test_sigterm_keeps_finished_runs_and_resume_completes(tmp_path: Path) -> None:
    # six runs of ~0.4 s on two workers: SIGTERM, sent once the first run is stored, lands
    # while the others run (with 12 h runs of ~0.1 s the sweep could end before it did)
    cfg = tiny({"grid": {"guests[0].count": [1, 2]}, "replications": 3},
               duration="2d", interval="1m")
    proc, out = _start(cfg, tmp_path, "processes", quiet=False)  # with the progress bar
    try:
        kids = _wait_for_workers(proc, 2, "fork")  # forked before the bar's thread started
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and proc.poll() is None:
            if (out / "runs").is_dir() and any((out / "runs").glob("*.parquet")):
                break
            time.sleep(0.02)
        assert proc.poll() is None, "the sweep ended before SIGTERM"
        proc.send_signal(signal.SIGTERM)  # `kill PID`: to the parent only
        _, stderr = proc.communicate(timeout=60)
        assert proc.returncode == 143, stderr.decode()
        assert b"Traceback" not in stderr
        left = _wait_gone(set(kids), proc.pid, 10.0)
        assert not left, f"still alive 10 s after SIGTERM: {left}"
    finally:
        for pid in _session(proc.pid):
            os.kill(pid, signal.SIGKILL)
    kept = sorted((out / "runs").glob("*.parquet"))
    assert 1 <= len(kept) < 6
    for p in kept:
        assert pq.read_table(p).num_rows == 1
    assert not [p for p in (out / "runs").iterdir() if p.name.startswith(".")]
    assert pq.read_table(out / "runs.parquet").num_rows == len(kept)  # rebuilt on the way out
    outcome = run_sweep(tmp_path / "s.yaml", out, executor="serial")
    assert (outcome.already_done, outcome.ran) == (len(kept), 6 - len(kept))

"""A Dask sweep interrupted while its local cluster starts, and the cluster's ports.

Before: a SIGTERM (or Ctrl-C) while ``LocalCluster`` started its workers left the cluster
half-started; Dask closed it at exit and printed its tracebacks ("Nanny failed to start") after
dcsim's "terminated". And the scheduler's HTTP server took port 8787 although dcsim asks for no
dashboard (a second sweep then found it taken).
"""

from __future__ import annotations

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

from dcsim.errors import Terminated
from dcsim.experiments.executors import interrupts_held

REPO = Path(__file__).resolve().parents[3]
ENV = {**os.environ, "PYTHONPATH": str(REPO)}


# ---------------------------------------------------------------- interrupts_held, by hand ----


def _held(*signums: int, then: str = "") -> list[str]:
    """Raise ``signums`` inside ``interrupts_held``, then finish the block (``then="fail"``:
    by a ValueError); what the block got done."""
    done: list[str] = []
    with interrupts_held():
        for s in signums:
            signal.raise_signal(s)
        time.sleep(0.01)  # handlers run between bytecodes: an interrupt not held raises here
        if then == "fail":
            raise ValueError("the block's own error")
        done.append("rest of the block")
    return done


def test_the_block_runs_to_its_end_first() -> None:
    got: list[str] = []

    def block() -> None:
        with interrupts_held():
            signal.raise_signal(signal.SIGINT)
            time.sleep(0.01)
            got.append("rest of the block")

    with pytest.raises(KeyboardInterrupt):
        block()
    assert got == ["rest of the block"]  # held: raised on the way out
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler  # restored


def test_the_same_interrupt_twice_is_delivered_at_once() -> None:
    got: list[str] = []

    def block() -> None:
        with interrupts_held():
            signal.raise_signal(signal.SIGINT)
            signal.raise_signal(signal.SIGINT)
            time.sleep(0.01)
            got.append("rest of the block")

    with pytest.raises(KeyboardInterrupt):
        block()
    assert got == []


def test_sigterm_goes_to_the_handler_that_was_there() -> None:
    seen: list[int] = []

    def on_term(signum: int, frame: object) -> None:
        seen.append(signum)
        raise Terminated

    before = signal.signal(signal.SIGTERM, on_term)
    try:
        with pytest.raises(Terminated):
            _held(signal.SIGTERM)
        assert seen == [signal.SIGTERM]  # once, after the block
        assert signal.getsignal(signal.SIGTERM) is on_term
    finally:
        signal.signal(signal.SIGTERM, before)


def test_an_interrupt_held_while_the_block_fails_still_comes() -> None:
    with pytest.raises(KeyboardInterrupt) as exc:
        _held(signal.SIGINT, then="fail")
    assert isinstance(exc.value.__context__, ValueError)


def test_nothing_held_nothing_delivered() -> None:
    assert _held() == ["rest of the block"]
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler


# ---------------------------------------------------------------- dcsim sweep -e dask --------

#: ``dcsim sweep`` with a SIGTERM sent to itself as the first of Dask's nannies starts (so
#: exactly while ``LocalCluster`` starts its workers), and the scheduler's HTTP port on stderr.
SCRIPT = """
import os, signal, sys
import distributed
from distributed.nanny import Nanny
start = Nanny.start_unsafe
async def start_unsafe(self):
    if os.environ.get("TERM_AT_NANNY") and not getattr(Nanny, "_termed", False):
        Nanny._termed = True
        os.kill(os.getpid(), signal.SIGTERM)
    return await start(self)
Nanny.start_unsafe = start_unsafe
from distributed import LocalCluster
init = LocalCluster.__init__
def logged_init(self, *a, **k):
    init(self, *a, **k)
    ports = sorted(s.getsockname()[1] for s in self.scheduler.http_server._sockets.values())
    sys.stderr.write(f"HTTP {ports}\\n")
LocalCluster.__init__ = logged_init
sys.argv = ["dcsim", *sys.argv[1:]]
from dcsim.cli import main
main()
"""


def _sweep(tmp_path: Path, term: bool) -> tuple[subprocess.CompletedProcess[str], Path]:
    path = tmp_path / "s.yaml"
    path.write_text(yaml.safe_dump(tiny({"replications": 2}), sort_keys=False))
    out = tmp_path / "out"
    env = {**ENV, **({"TERM_AT_NANNY": "1"} if term else {})}
    proc = subprocess.run([sys.executable, "-c", SCRIPT, "sweep", str(path), "--out", str(out),
                           "--executor", "dask", "--workers", "1", "--quiet"],
                          env=env, capture_output=True, text=True, timeout=180,
                          start_new_session=True)
    return proc, out


def test_sigterm_while_the_cluster_starts_ends_clean(tmp_path: Path) -> None:
    pytest.importorskip("distributed")
    proc, out = _sweep(tmp_path, term=True)
    assert proc.returncode == 143, proc.stderr
    assert "Traceback" not in proc.stderr, proc.stderr
    assert "Nanny failed" not in proc.stderr, proc.stderr
    assert proc.stderr.rstrip().endswith("terminated"), proc.stderr
    # the sweep's folder is valid and empty of runs, and the same command completes it
    assert pq.read_table(out / "runs.parquet").num_rows == 0
    again, _ = _sweep(tmp_path, term=False)
    assert again.returncode == 0, again.stderr
    assert pq.read_table(out / "runs.parquet").num_rows == 2


def test_the_scheduler_leaves_port_8787_alone(tmp_path: Path) -> None:
    pytest.importorskip("distributed")
    proc, _ = _sweep(tmp_path, term=False)
    assert proc.returncode == 0, proc.stderr
    line = next(x for x in proc.stderr.splitlines() if x.startswith("HTTP "))
    ports = [int(p) for p in line.split("[", 1)[1].rstrip("]").split(",") if p.strip()]
    assert ports, line
    assert 8787 not in ports, line

"""Serial, process-pool and Dask execution give the same rows, bit for bit (wall times aside)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from sweep_helpers import SMALL_SWEEP, tiny

from dcsim.errors import ConfigError
from dcsim.experiments.executors import make_executor
from dcsim.experiments.sweep import run_sweep

WALL = ["wall_s", "run_wall_s"]


def _rows(tmp_path: Path, executor: str) -> pd.DataFrame:
    out = tmp_path / executor
    outcome = run_sweep(tiny(SMALL_SWEEP), out, executor=executor, workers=2)
    assert (outcome.ran, outcome.errors) == (8, 0)
    return pd.read_parquet(out / "runs.parquet").drop(columns=WALL)


def test_executors_give_identical_rows(tmp_path: Path) -> None:
    pytest.importorskip("distributed")
    serial = _rows(tmp_path, "serial")
    assert len(serial) == 8
    pd.testing.assert_frame_equal(serial, _rows(tmp_path, "processes"), check_exact=True)
    pd.testing.assert_frame_equal(serial, _rows(tmp_path, "dask"), check_exact=True)
    summaries = [pd.read_csv(tmp_path / e / "summary.csv") for e in ("serial", "processes")]
    summaries = [s[~s["metric"].isin(["events"])] for s in summaries]
    pd.testing.assert_frame_equal(*summaries)


@pytest.mark.parametrize(("args", "path"), [
    (("threads", None, None), "--executor"),
    (("processes", 0, None), "--workers"),
    (("serial", None, "tcp://localhost:8786"), "--scheduler"),
])
def test_bad_executor_options(args: tuple[str, int | None, str | None], path: str) -> None:
    with pytest.raises(ConfigError) as exc:
        make_executor(*args)
    assert exc.value.issues[0].path == path


def test_dask_executor_never_closes_a_cluster_twice() -> None:
    # A Ctrl-C inside the cluster's close at the end of a sweep, then run_sweep's final stop():
    # the second close of the half-closed cluster waited forever (session-17 sweep audit).
    from dcsim.experiments.executors import CLOSE_TIMEOUT_S, DaskExecutor

    calls: list[tuple[str, object]] = []

    class Fake:
        def __init__(self, name: str, interrupt: bool) -> None:
            self.name, self.interrupt = name, interrupt

        def close(self, timeout: object = None) -> None:
            calls.append((self.name, timeout))
            if self.interrupt:  # the first close only (a second one would wait forever)
                self.interrupt = False
                raise KeyboardInterrupt

    ex = DaskExecutor(workers=1)
    ex._client, ex._cluster = Fake("client", False), Fake("cluster", True)
    with pytest.raises(KeyboardInterrupt):
        ex.__exit__(None, None, None)
    ex.stop()  # what run_sweep's finally does next: nothing left to close
    assert calls == [("client", CLOSE_TIMEOUT_S), ("cluster", CLOSE_TIMEOUT_S)]


def test_workers_beyond_four_per_core_are_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    # a 2-core machine started 4,525 processes for --workers 100000 before memory ran out
    import os

    from dcsim.experiments import executors

    monkeypatch.setattr(os, "cpu_count", lambda: 2)
    assert isinstance(make_executor("processes", 8), executors.ProcessExecutor)  # 8 = 4 x 2
    with pytest.raises(ConfigError) as exc:
        make_executor("processes", 9)
    [issue] = exc.value.issues
    assert issue.path == "--workers"
    assert issue.message.startswith("at most 8 on this machine (4 per core, 2 cores), got 9")
    monkeypatch.setattr(os, "cpu_count", lambda: 64)
    assert make_executor("dask", 256).workers == 256  # 4 x 64
    with pytest.raises(ConfigError):
        make_executor("dask", 257)


def test_no_more_workers_than_runs(tmp_path: Path) -> None:
    from dcsim.experiments import executors

    ex = make_executor("processes", 6)
    ex.limit(2)
    assert ex.workers == 2  # what start() gives the pool
    ex.limit(5)  # never raised again
    assert ex.workers == 2
    asked: list[int] = []
    real = executors.ProcessExecutor.limit

    def limit(self: executors.ProcessExecutor, runs: int) -> None:
        asked.append(runs)
        real(self, runs)

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(executors.ProcessExecutor, "limit", limit)
        out = run_sweep(tiny({"replications": 3}), tmp_path / "s", executor="processes",
                        workers=8)
    assert out.ran == 3
    assert asked == [3]  # run_sweep asks for no more workers than its 3 runs

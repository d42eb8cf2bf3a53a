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

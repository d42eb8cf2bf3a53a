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

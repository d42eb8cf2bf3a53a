"""``dcsim.io.parquet``: a table written without pandas is byte for byte the file pandas writes,
and ``Result``'s tables read back as the DataFrames the engine's arguments build."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

import dcsim
from dcsim.io import parquet
from dcsim.io.results import write_run
from dcsim.metrics.contract import TABLES, Column, conform
from dcsim.metrics.result import Frame, Result

REPO = Path(__file__).resolve().parents[3]

RUNS = [
    ("configs/planetlab-cloudsim.yaml", ["duration=2h"]),
    ("configs/default.yaml", ["duration=1h", "output.host_timeseries=true"]),
    ("configs/examples/faults.yaml", ["duration=6h"]),
    ("configs/examples/memory.yaml", ["duration=2h"]),
    ("configs/examples/carbon.yaml", ["duration=6h"]),
    ("configs/examples/consolidate-two-servers.yaml", []),
]


@pytest.mark.parametrize(("config", "overrides"), RUNS, ids=[c for c, _ in RUNS])
def test_written_tables_are_the_bytes_pandas_writes(tmp_path: Path, config: str,
                                                    overrides: list[str]) -> None:
    r = dcsim.run(REPO / config, overrides=overrides)
    frames = {n for n in TABLES if isinstance(r.raw(n), Frame)}
    assert "timeseries" in frames  # handed over unbuilt (memory accounting builds guests)
    write_run(r, tmp_path / "a")
    assert all(isinstance(r.raw(n), Frame) for n in frames)  # written without building them
    (tmp_path / "b").mkdir()
    for name in TABLES:
        df = getattr(r, name) if name in ("timeseries", "guests", "hosts") else r.tables[name]
        assert isinstance(df, pd.DataFrame)
        df.to_parquet(tmp_path / "b" / f"{name}.parquet", index=False)
        a = (tmp_path / "a" / f"{name}.parquet").read_bytes()
        b = (tmp_path / "b" / f"{name}.parquet").read_bytes()
        assert a == b, name


_C = {"x": Column("float64", "", ""), "n": Column("int64", "", ""),
      "s": Column("str", "", ""), "ok": Column("bool", "", "")}


def _frame(data: Any, columns: list[str] | None = None) -> Frame:
    f = Frame(data, columns)
    f.contract = _C
    return f


@pytest.mark.parametrize("frame", [
    _frame({"x": [0.5, np.nan, -0.0, np.inf], "n": np.arange(4, dtype=np.int32),
            "s": np.array(["a", "bé", "", "d"]), "ok": [True, False, True, True]}),
    _frame([(1.0, 2, "a", True), (float("nan"), 3, "b", False)], ["x", "n", "s", "ok"]),
    _frame({"n": [1, 2], "s": ["a", "b"], "ok": np.array([True, False])}),  # x missing: null
    _frame({}),  # an absent table: empty with its schema
    _frame({"x": [1.0], "n": [1.5], "s": ["a"], "ok": [True]}),  # n not integer: pandas' cast
    _frame({"x": [1.0], "n": [1], "s": ["a"], "ok": [True], "extra": [2]}),  # beyond contract
    _frame({"x": [1.0], "n": [1], "s": [7], "ok": [True]}),  # s not str: pandas' astype(str)
], ids=["columns", "rows", "missing-float", "empty", "float-int", "extra", "non-str"])
def test_frame_file_equals_pandas_file(tmp_path: Path, frame: Frame) -> None:
    parquet.write_table(frame, tmp_path / "a.parquet")
    frame.build().to_parquet(tmp_path / "b.parquet", index=False)
    assert (tmp_path / "a.parquet").read_bytes() == (tmp_path / "b.parquet").read_bytes()


def test_which_frames_pyarrow_writes_alone() -> None:
    ok = _frame({"x": [0.5], "n": [1], "s": ["a"], "ok": [True]})
    assert parquet._arrays(ok) is not None
    for bad in ({"x": [1.0], "n": [1.5], "s": ["a"], "ok": [True]},
                {"x": [1.0], "n": [1], "s": ["a"], "ok": [True], "extra": [2]},
                {"x": [1.0], "n": [1], "s": [7], "ok": [True]}):
        assert parquet._arrays(_frame(bad)) is None  # left to pandas


def test_result_tables_build_once_and_accept_dataframes() -> None:
    df = pd.DataFrame({"a": [1]})
    row = tuple(1 if c.dtype == "int64" else 0.5 for c in TABLES["timeseries"].values())
    r = Result(summary={}, timeseries=Frame([row], list(TABLES["timeseries"])), hosts=None,
               guests=None, tables={"migrations": Frame({
                   "guest": [3], "source": [1], "destination": [2], "model": ["m"],
                   "rounds": [1], "stop_reason": ["x"]})})
    conform(r)
    ts = r.timeseries
    assert ts is r.timeseries  # built once, then kept
    assert list(ts.columns) == list(TABLES["timeseries"])
    assert ts["active_hosts"].tolist() == [1]
    assert ts["active_hosts"].dtype == np.int64
    assert len(r.guests) == 0  # an absent table: empty with its columns
    assert list(r.guests.columns) == list(TABLES["guests"])
    mig = r.tables["migrations"]
    assert mig["guest"].tolist() == [3]
    assert mig["end_s"].isna().all()  # float columns the engine did not give: null
    assert {**r.tables}.keys() == set(TABLES) - {"timeseries", "guests", "hosts"}
    r.tables["extra"] = df
    assert r.tables["extra"] is df

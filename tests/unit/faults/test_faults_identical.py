"""With failures switched off the fault module changes nothing, bit for bit."""

from __future__ import annotations

import copy
from typing import Any

import pandas as pd
import pytest
import yaml

import dcsim
from dcsim.engine.extensions import EXTENSIONS, load_builtin


def _base(repo: Any) -> dict[str, Any]:
    cfg: dict[str, Any] = yaml.safe_load((repo / "configs" / "default.yaml").read_text())
    cfg["duration"] = "6h"
    return cfg


def _same(a: Any, b: Any, skip: tuple[str, ...] = ("wall_s",)) -> None:
    # every quantity the run without the fault module produced (its fault keys are null)
    keys = [k for k in a.summary if k not in skip and not pd.isna(a.summary[k])]
    assert {k: a.summary[k] for k in keys} == pytest.approx(
        {k: b.summary[k] for k in keys}, rel=0, abs=0, nan_ok=True)
    pd.testing.assert_frame_equal(a.timeseries, b.timeseries, check_exact=True)
    pd.testing.assert_frame_equal(a.guests, b.guests, check_exact=True)


def _run_without(cfg: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> Any:
    load_builtin()
    with monkeypatch.context() as m:
        m.delitem(EXTENSIONS._items, "faults")
        return dcsim.run(copy.deepcopy(cfg))


@pytest.mark.parametrize("section", [
    None,
    # failures that never happen within the run, and no snapshots
    {"hosts": {"ttf": {"kind": "constant", "value": "30d"}}},
    # an empty trace
    "trace",
    # no failures, but snapshots every 30 min: they read the state and never change it (only
    # the count of SimPy events grows, by the snapshot instants)
    {"racks": {"size": 4, "ttf": {"kind": "constant", "value": "30d"},
               "repair": {"kind": "constant", "value": "1h"}},
     "snapshots": {"interval": "30m", "kind": "incremental", "batches": 6}},
])
def test_no_failures_is_bit_identical(repo: Any, tmp_path: Any, section: Any,
                                      monkeypatch: pytest.MonkeyPatch) -> None:
    cfg = _base(repo)
    ref = _run_without(cfg, monkeypatch)
    if section == "trace":
        (tmp_path / "empty.csv").write_text("host,fail_s,repair_s\n")
        section = {"hosts": {"trace": str(tmp_path / "empty.csv")}}
    if section is not None:
        cfg["faults"] = section
    res = dcsim.run(cfg)
    snapshots = section is not None and "snapshots" in section
    _same(ref, res, ("wall_s", "events") if snapshots else ("wall_s",))
    if section is not None:
        assert res.summary["host_failures"] == 0
        assert res.summary["availability"] == 1.0
        assert res.summary["lost_work_mi"] == 0.0
    if snapshots:
        assert res.summary["snapshots_taken"] > 0
        assert res.summary["events"] > ref.summary["events"]

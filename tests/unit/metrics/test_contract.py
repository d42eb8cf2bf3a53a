"""One results contract: every mode writes exactly the contract's files, keys, columns, dtypes.

Each mode runs through the CLI (``dcsim run --out``) on a tiny config; the folder must hold
exactly ``dcsim.metrics.contract.FILES``, ``summary.json`` exactly the keys of ``SUMMARY``
(JSON null where the mode has no such quantity) and each table exactly its contract columns in
order with their dtypes. ``dcsim plot`` must then draw every folder.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
import yaml
from typer.testing import CliRunner

from dcsim.cli import app
from dcsim.metrics.contract import FILES, SUMMARY, TABLES, dtype_of
from tests.conftest import REPO, tiny_config

runner = CliRunner()


def _compat() -> dict[str, Any]:
    """The shipped CloudSim config cut to 4 hosts, 6 VMs (1000 and 500 MIPS) and 2 hours."""
    cfg = yaml.safe_load((REPO / "configs" / "planetlab-cloudsim.yaml").read_text())
    cfg["duration"] = "2h"
    for h in cfg["datacenters"][0]["hosts"]:
        h["count"] = 2
    cfg["guests"] = cfg["guests"][2:]
    for k, g in enumerate(cfg["guests"]):
        g["count"] = 3
        g["workload"]["selection"] = {"first": 3, "skip": 3 * k}
    return cfg


def _config(mode: str) -> dict[str, Any]:
    if mode == "compat":
        return _compat()
    if mode == "cloudsim-like":  # the default engine with CloudSim's assumptions
        cfg = _compat()
        del cfg["compat"]
        cfg["assumptions"] = "cloudsim-3.0.3"
        for g in cfg["guests"]:
            g["boot"] = False
        return cfg
    cfg = tiny_config()
    cfg["virtualization_profiles"] = {"nolayer": {"kind": "type1", "live_migration": True}}
    if mode == "consolidation":  # default semantics with migrations
        cfg["consolidation"] = {"policy": "thr-mmt-0.8"}
        cfg["guests"][0].update(count=2, workload={"kind": "constant", "utilization": 0.9})
    elif mode == "faults":
        cfg["faults"] = {"hosts": {"ttf": {"kind": "constant", "value": "20m"},
                                   "repair": {"kind": "constant", "value": "10m"}}}
    elif mode == "network":
        cfg["network"] = {"topology": {"kind": "star"}}
        cfg["consolidation"] = {"policy": "thr-mmt-0.8"}
    return cfg


MODES = ["default", "consolidation", "compat", "cloudsim-like", "faults", "network"]


@pytest.fixture(scope="module")
def folders(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    out = {}
    for mode in MODES:
        d = tmp_path_factory.mktemp(mode)
        src = d / "cfg.yaml"
        src.write_text(yaml.safe_dump(_config(mode)))
        res = runner.invoke(app, ["run", str(src), "--out", str(d / "run"), "-q"])
        assert res.exit_code == 0, (mode, res.output)
        out[mode] = d / "run"
    return out


@pytest.mark.parametrize("mode", MODES)
def test_every_mode_writes_exactly_the_contract(folders: dict[str, Path], mode: str) -> None:
    folder = folders[mode]
    assert sorted(p.name for p in folder.iterdir()) == sorted(FILES)
    summary = json.loads((folder / "summary.json").read_text())
    assert sorted(summary) == sorted(SUMMARY)
    for key, col in SUMMARY.items():
        v = summary[key]
        assert v is None or isinstance(v, (int, float)), (key, v)
        if col.dtype == "int64" and v is not None:
            assert isinstance(v, int), (key, v)
    for name, columns in TABLES.items():
        df = pd.read_parquet(folder / f"{name}.parquet")
        assert list(df.columns) == list(columns), (mode, name)
        got = {c: dtype_of(df[c]) for c in df.columns}
        assert got == {c: col.dtype for c, col in columns.items()}, (mode, name)


def test_null_marks_what_a_mode_does_not_have(folders: dict[str, Path]) -> None:
    """JSON null, never 0, for quantities a mode does not produce; values where it does."""
    comp = json.loads((folders["compat"] / "summary.json").read_text())
    dflt = json.loads((folders["default"] / "summary.json").read_text())
    flt = json.loads((folders["faults"] / "summary.json").read_text())
    net = json.loads((folders["network"] / "summary.json").read_text())
    assert comp["overall_sla_violation"] is not None
    assert dflt["overall_sla_violation"] is None
    assert comp["demand_mi"] > 0  # one engine: compat runs record offered load too
    assert dflt["demand_mi"] > 0
    assert dflt["availability"] is None
    assert flt["availability"] is not None
    assert dflt["mean_link_utilization"] is None
    assert net["mean_link_utilization"] is not None
    # 2 h with a failure every 20 min of each of the 2 hosts, repaired in 10 min: failures occur
    assert flt["host_failures"] >= 1


def test_compat_timeseries_and_migrations_are_filled(folders: dict[str, Path]) -> None:
    ts = pd.read_parquet(folders["compat"] / "timeseries.parquet")
    assert ts["power_it_w"].notna().all()
    summary = json.loads((folders["compat"] / "summary.json").read_text())
    # one energy: the time series integrates to the summary (CloudSim's rule included)
    joules = float((ts["power_it_w"] * ts["interval_s"]).sum())
    assert joules / 3.6e6 == pytest.approx(summary["energy_it_kwh"], rel=1e-9)
    # pue 1.0 in the shipped CloudSim config: facility power equals IT power
    assert (ts["power_facility_w"].iloc[:-1] == ts["power_it_w"].iloc[:-1]).all()
    assert (ts["active_hosts"] + ts["sleeping_hosts"] == 4).all()
    mig = pd.read_parquet(folders["compat"] / "migrations.parquet")
    assert len(mig) >= summary["migrations"]  # started ≥ finished
    guests = pd.read_parquet(folders["compat"] / "guests.parquet")
    assert len(guests) == 6


@pytest.mark.parametrize("mode", MODES)
def test_dcsim_plot_draws_every_results_folder(folders: dict[str, Path], mode: str,
                                               tmp_path: Path) -> None:
    res = runner.invoke(app, ["plot", str(folders[mode]), "--out", str(tmp_path)])
    assert res.exit_code == 0, res.output
    assert (tmp_path / "timeseries.png").stat().st_size > 0
    assert (tmp_path / "timeseries.pdf").stat().st_size > 0

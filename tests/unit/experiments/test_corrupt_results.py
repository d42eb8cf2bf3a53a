"""Results folders that are corrupt or of the wrong kind: refused with exit 2 naming RESULTS
(or --out), never exit 1 nor an empty table with exit 0 (session-17 input audit)."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
from sweep_helpers import tiny
from typer.testing import CliRunner

from dcsim.cli import app
from dcsim.experiments.sweep import run_sweep

runner = CliRunner()
SMALL = tiny({"grid": {"guests[0].count": [1, 2]}})


def _sweep(tmp_path: Path) -> Path:
    out = tmp_path / "sw"
    run_sweep(SMALL, out, executor="serial")
    return out


def _run(tmp_path: Path) -> Path:
    """A single run's results folder (the tiny config)."""
    import yaml

    from tests.conftest import tiny_config

    cfg = tmp_path / "c.yaml"
    cfg.write_text(yaml.safe_dump(tiny_config()))
    run = tmp_path / "run"
    assert runner.invoke(app, ["run", str(cfg), "--out", str(run), "-q"]).exit_code == 0
    return run


def _refused(args: list[str], *, where: str = "RESULTS") -> str:
    res = runner.invoke(app, args)
    assert res.exit_code == 2, res.output
    assert where in res.output, res.output
    return res.output


def test_a_manifest_that_is_not_an_object(tmp_path: Path) -> None:
    out = _sweep(tmp_path)
    (out / "manifest.json").write_text("[]")
    _refused(["report", str(out)])
    _refused(["plot-sweep", str(out), "--x", "guests[0].count", "--y", "energy_it_kwh"])
    _refused(["sweep", "--out", str(out), "-e", "serial", "-q"], where="--out")


def test_manifest_parameters_edited_by_hand(tmp_path: Path) -> None:
    out = _sweep(tmp_path)
    m = json.loads((out / "manifest.json").read_text())
    for bad in ("guests[0].count", None):
        m["parameters"] = bad
        (out / "manifest.json").write_text(json.dumps(m))
        assert "parameters" in _refused(["report", str(out)])


def test_manifest_naming_a_parameter_the_runs_lack(tmp_path: Path) -> None:
    # "parameters": ["nonexistent.param"] made report and plot-sweep fail with KeyError (exit 1)
    out = _sweep(tmp_path)
    m = json.loads((out / "manifest.json").read_text())
    m["parameters"] = ["guests[0].count", "nonexistent.param"]
    (out / "manifest.json").write_text(json.dumps(m))
    want = (f"RESULTS: {out / 'manifest.json'} names parameter(s) nonexistent.param that the "
            f"runs in {out / 'runs'} do not have (no such column)")
    for args in (["report", str(out)],
                 ["plot-sweep", str(out), "--x", "nonexistent.param", "--y", "energy_it_kwh"]):
        res = runner.invoke(app, args, terminal_width=400)
        assert res.exit_code == 2, res.output
        assert want in res.output
        assert "internal error" not in res.output
    assert not (out / "plots").exists()


def test_no_readable_run_is_an_error_not_an_empty_table(tmp_path: Path) -> None:
    out = _sweep(tmp_path)
    for f in (out / "runs").glob("*.parquet"):
        f.write_bytes(b"corrupt")
    assert "no readable finished run" in _refused(["report", str(out)])


def test_stray_tables_in_runs_are_not_runs(tmp_path: Path) -> None:
    # a user's one-row runs/foo.parquet ({'a': [1]}) was read as a run: n shown as 0/2 and a
    # column added; a table named like a run but without the run columns was read too
    out = _sweep(tmp_path)
    clean = runner.invoke(app, ["report", str(out), "-m", "all"])
    assert clean.exit_code == 0, clean.output
    key = "p0009-abcdef12-rep0"
    strays = {"foo.parquet": {"a": [1]}, f"{key}.parquet": {"key": [key], "a": [1]},
              "p0008-abcdef12-rep0.parquet": {"a": [1]}}
    for name, cols in strays.items():
        pd.DataFrame(cols).to_parquet(out / "runs" / name)
    res = runner.invoke(app, ["report", str(out), "-m", "all"])
    assert res.exit_code == 0, res.output
    assert res.output == clean.output
    assert " a |" not in res.output.splitlines()[0]
    # never deleted either, when --overwrite clears the folder for another sweep
    before = {n: (out / "runs" / n).read_bytes() for n in strays}
    run_sweep(tiny({"grid": {"guests[0].count": [1, 3]}}), out, executor="serial",
              overwrite=True)
    assert {n: (out / "runs" / n).read_bytes() for n in strays} == before


def test_report_on_a_run_folder_points_to_plot(tmp_path: Path) -> None:
    run = _run(tmp_path)
    assert "dcsim plot" in _refused(["report", str(run)])
    ts = pd.read_parquet(run / "timeseries.parquet")
    ts.drop(columns=["power_it_w"]).to_parquet(run / "timeseries.parquet")
    assert "power_it_w" in _refused(["plot", str(run)])
    ts.assign(active_hosts="many").to_parquet(run / "timeseries.parquet")
    assert "active_hosts" in _refused(["plot", str(run)])


def test_plot_out_that_is_a_file_or_unwritable(tmp_path: Path) -> None:
    run = _run(tmp_path)
    summary = run / "summary.json"
    before = summary.read_bytes()
    _refused(["plot", str(run), "--out", str(summary)], where="--out")  # was exit 1
    _refused(["plot", str(run), "--out", str(summary / "sub")], where="--out")
    _refused(["plot", str(run), "--out", "/proc/dcsim-plot"], where="--out")
    assert summary.read_bytes() == before

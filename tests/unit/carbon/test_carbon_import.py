"""`dcsim traces import carbon`: a user's full series goes to the store, configs name it, an
existing one is never replaced, a bad file is refused with its line."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

import dcsim
from dcsim.cli import app
from tests.unit.carbon.test_carbon import one_host


def test_import_list_and_use(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DCSIM_TRACE_DIR", str(tmp_path / "store"))
    raw = tmp_path / "berlin.csv"
    # naive Berlin timestamps (UTC+1 in January); other columns are ignored
    raw.write_text("when,ci,note\n2020-01-06 23:00,300,x\n2020-01-07 00:00,50,y\n"
                   "2020-01-07 01:00,50,z\n")
    runner = CliRunner()
    args = ["traces", "import", "carbon", str(raw), "--name", "mygrid", "--time-column", "when",
            "--value-column", "ci", "--timezone", "Europe/Berlin"]
    res = runner.invoke(app, args)
    assert res.exit_code == 0, res.output
    stored = tmp_path / "store" / "carbon" / "mygrid.npz"
    assert stored.is_file()
    listing = runner.invoke(app, ["traces", "list"])
    assert "mygrid" in listing.output
    assert "2020-01-06 22:00" in listing.output
    cfg = one_host(carbon={"series": "mygrid"})
    cfg.update(duration="1h", clock={"start": "2020-01-06 22:30"})
    # 0.075 kWh at 300 g/kWh, then 0.075 kWh at 50 (see test_carbon's alignment case)
    assert dcsim.run(cfg).summary["emissions_operational_kg"] == pytest.approx(0.02625,
                                                                                 rel=1e-12)
    # the same name again: refused, the stored series untouched
    before = stored.read_bytes()
    raw.write_text("when,ci\n2020-01-06 23:00,999\n2020-01-07 00:00,999\n")
    res = runner.invoke(app, args)
    assert res.exit_code == 2
    assert "exists" in res.output
    assert stored.read_bytes() == before


def test_import_refuses_a_bad_row_with_its_line(tmp_path: Path,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DCSIM_TRACE_DIR", str(tmp_path / "store"))
    raw = tmp_path / "bad.csv"
    raw.write_text("timestamp,g_per_kwh\n2020-01-06 00:00,100\n2020-01-06 00:30,NaN\n")
    res = CliRunner().invoke(app, ["traces", "import", "carbon", str(raw)])
    assert res.exit_code == 2
    assert "bad.csv:3" in res.output
    assert not (tmp_path / "store").exists()
    res = CliRunner().invoke(app, ["traces", "import", "carbon", str(raw), "--timezone",
                                   "Mars/Base"])
    assert res.exit_code == 2
    assert "unknown time zone" in res.output

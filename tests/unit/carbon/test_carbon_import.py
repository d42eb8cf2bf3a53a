"""`dcsim traces import carbon`: a user's full series goes to the store, configs name it, an
existing one is never replaced, a bad file is refused with its line."""

from __future__ import annotations

from pathlib import Path
from typing import Any

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


def _import(tmp_path: Path, raw: Path, *extra: str) -> Any:
    return CliRunner().invoke(app, ["traces", "import", "carbon", str(raw), "--name", "x",
                                    *extra], env={"COLUMNS": "1000"})


@pytest.mark.parametrize(("content", "fragment"), [
    (b"timestamp,g_per_kwh\n2020-01-06 00:00,1\xe9\n",
     "raw.csv line 2: byte 0xe9 is not UTF-8 text"),
    (b"timestamp,g_per_kwh\n2020-01-06 00:00," + b"1" * 140_000 + b"\n",
     "raw.csv line 2: not readable as CSV (a field longer than 131,072 characters)"),
    # 1e308 was stored and overflowed to inf in a run's sums
    (b"timestamp,g_per_kwh\n2020-01-06 00:00,1e308\n",
     "raw.csv:2: intensity 1e+308: expected a finite number >= 0 and <= 10,000 g/kWh"),
    # stored as whole seconds these were three equal instants
    (b"timestamp,g_per_kwh\n2020-01-01 00:00:00.1,1\n2020-01-01 00:00:00.2,2\n"
     b"2020-01-01 00:00:00.3,3\n",
     "raw.csv:2: timestamp 2020-01-01 00:00:00.100000 has a fraction of a second"),
], ids=["not-utf8", "long-field", "1e308", "sub-second"])
def test_import_refuses_bad_content_naming_the_file(tmp_path: Path,
                                                    monkeypatch: pytest.MonkeyPatch,
                                                    content: bytes, fragment: str) -> None:
    monkeypatch.setenv("DCSIM_TRACE_DIR", str(tmp_path / "store"))
    raw = tmp_path / "raw.csv"
    raw.write_bytes(content)
    res = _import(tmp_path, raw)
    assert res.exit_code == 2, res.output
    assert f"{raw.parent}/{fragment}" in res.output
    assert "--timezone" not in res.output  # the file is at fault, not the option
    assert "internal error" not in res.output
    assert not (tmp_path / "store").exists()
    assert raw.read_bytes() == content


def test_import_refuses_garbage_parquet_and_boolean_intensities(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    monkeypatch.setenv("DCSIM_TRACE_DIR", str(tmp_path / "store"))
    raw = tmp_path / "g.parquet"
    raw.write_bytes(b"garbage")
    res = _import(tmp_path, raw)
    assert res.exit_code == 2, res.output
    assert f"{raw}: not a readable Parquet file (ArrowInvalid)" in res.output
    assert "--timezone" not in res.output
    pq.write_table(pa.table({"timestamp": ["2020-01-06 00:00", "2020-01-06 01:00"],
                             "g_per_kwh": [True, False]}), raw)
    res = _import(tmp_path, raw)
    assert res.exit_code == 2, res.output  # they were stored as 1 and 0 g/kWh
    assert f"{raw}: column 'g_per_kwh' holds bool values; expected numbers" in res.output
    assert not (tmp_path / "store").exists()


def test_import_refuses_out_a_file(tmp_path: Path) -> None:
    raw = tmp_path / "good.csv"
    raw.write_text("timestamp,g_per_kwh\n2020-01-06 00:00,100\n2020-01-06 01:00,200\n")
    before = raw.read_bytes()
    # --out the input file itself: NotADirectoryError (internal error) before
    res = _import(tmp_path, raw, "--out", str(raw))
    assert res.exit_code == 2, res.output
    assert f"--out: {raw} is not a folder" in res.output
    assert raw.read_bytes() == before


def test_list_says_which_stored_files_are_unreadable(tmp_path: Path,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    """A damaged file in the user store (edited by hand, torn) no longer ends ``dcsim traces
    list`` in an internal error: the rest is listed, the damaged ones named after the tables."""
    import numpy as np

    store = tmp_path / "store"
    monkeypatch.setenv("DCSIM_TRACE_DIR", str(store))
    (store / "broken").mkdir(parents=True)
    np.savez(store / "broken" / "all.npz", interval_s=np.asarray(300.0))  # no cpu
    (store / "carbon").mkdir()
    (store / "carbon" / "torn.npz").write_bytes(b"PK\x03\x04 not a zip")
    res = CliRunner().invoke(app, ["traces", "list"], env={"COLUMNS": "200"})
    assert res.exit_code == 0, res.output
    assert "planetlab" in res.output  # the shipped traces and series are still listed
    assert "de-2020-spring" in res.output
    lines = [x for x in res.output.splitlines() if x.startswith("unreadable: ")]
    assert len(lines) == 2, res.output
    assert lines[0].startswith(f"unreadable: trace 'broken' ({store}): all.npz: ")
    assert "cpu" in lines[0]
    assert lines[1].startswith("unreadable: carbon series 'torn': ")

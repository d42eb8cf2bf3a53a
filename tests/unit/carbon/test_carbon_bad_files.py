"""A carbon file a config names (``datacenters[i].carbon.file``) that cannot be read as a series
is refused by ``dcsim validate`` and ``dcsim run`` with exit 2 at that config path, saying what is
wrong with the file (encoding, format, field size, value, timestamp, kind of path) in plain
words; never an internal error, never a Python repr. Also the intensity bound on constants and
on stored series."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import yaml
from typer.testing import CliRunner

from dcsim.cli import app
from tests.unit.carbon.test_carbon import one_host

HEAD = b"timestamp,g_per_kwh\n"
ROW = b"2020-01-06 00:00,100\n"
AT = "datacenters[0].carbon.file: "
WIDE = {"COLUMNS": "1000"}  # no line wrapping in the messages


def _parquet(path: Path, values: list[Any]) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    times = [f"2020-01-06 0{i}:00" for i in range(len(values))]
    pq.write_table(pa.table({"timestamp": times, "g_per_kwh": values}), path)


def _npz(path: Path) -> None:
    with path.open("wb") as fh:  # np.savez on a name would append .npz
        np.savez(fh, t=np.arange(3))


# (file name, how to make it, expected fragment after the config path)
CASES: list[tuple[str, Any, str]] = [
    ("latin.csv", HEAD + b"2020-01-06 00:00,1\xe9\n",
     "latin.csv line 2: byte 0xe9 is not UTF-8 text"),
    ("big.csv", HEAD + b"2020-01-06 00:00," + b"1" * 140_000 + b"\n",
     "big.csv line 2: not readable as CSV (a field longer than 131,072 characters)"),
    ("huge.csv", HEAD + b"2020-01-06 00:00,1e308\n2020-01-06 03:00,1e308\n",
     "huge.csv:2: intensity 1e+308: expected a finite number >= 0 and <= 10,000 g/kWh"),
    ("sub.csv", HEAD + b"2020-01-06 00:00:00.1,1\n2020-01-06 00:00:00.2,2\n",
     "sub.csv:2: timestamp 2020-01-06 00:00:00.100000 has a fraction of a second"),
    ("abc.csv", HEAD + ROW + b"2020-01-06 01:00,abc\n",
     "abc.csv:3: intensity is not a number: 'abc'"),
    ("nan.csv", HEAD + ROW + b"2020-01-06 01:00,nan\n",
     "nan.csv:3: intensity nan: expected a finite number"),
    ("empty.csv", HEAD + ROW + b"2020-01-06 01:00,\n", "empty.csv:3: empty intensity cell"),
    ("garbage.parquet", b"garbage", "garbage.parquet: not a readable Parquet file"),
    ("empty.parquet", b"", "empty.parquet: not a readable Parquet file"),
    ("bool.parquet", lambda p: _parquet(p, [True, False]),
     "bool.parquet: column 'g_per_kwh' holds bool values; expected numbers"),
    ("grid.npz", _npz, "grid.npz: a .npz file; expected CSV or Parquet"),
    ("folder", lambda p: p.mkdir(), "expected a carbon-intensity file, got a directory"),
    ("fifo", lambda p: os.mkfifo(p), "expected a regular carbon-intensity file, got a device"),
]


def _config(tmp_path: Path, carbon: dict[str, Any]) -> Path:
    cfg = one_host(carbon=carbon)
    cfg["clock"] = {"start": "2020-01-06 00:00"}
    path = tmp_path / "c.yaml"
    path.write_text(yaml.safe_dump(cfg))
    return path


@pytest.mark.parametrize(("name", "make", "fragment"), CASES, ids=[c[0] for c in CASES])
def test_validate_refuses_the_file_at_its_config_path(tmp_path: Path, name: str, make: Any,
                                                      fragment: str) -> None:
    f = tmp_path / name
    if isinstance(make, bytes):
        f.write_bytes(make)
    else:
        make(f)
    res = CliRunner().invoke(app, ["validate", str(_config(tmp_path, {"file": str(f)}))],
                             env=WIDE)
    assert res.exit_code == 2, res.output
    text = res.output
    # the config path first, then the file (its line or row) and what is wrong
    expected = AT + (f"{tmp_path}/{fragment}" if fragment.startswith(name) else fragment)
    assert expected in text
    assert "internal error" not in text
    assert "np.float64" not in text
    assert "Traceback" not in res.output


def test_run_refuses_a_huge_intensity_before_anything_is_written(tmp_path: Path) -> None:
    # 1e308 g/kWh passed validate and overflowed to inf at the end of the run
    f = tmp_path / "huge.csv"
    f.write_bytes(HEAD + b"2020-01-06 00:00,1e308\n2020-01-06 03:00,1e308\n")
    out = tmp_path / "out"
    res = CliRunner().invoke(app, ["run", str(_config(tmp_path, {"file": str(f)})), "--out",
                                   str(out), "-q"], env=WIDE)
    assert res.exit_code == 2, res.output
    assert AT in res.output
    assert not out.exists()


def test_an_empty_file_path_and_a_constant_above_the_bound_are_refused(tmp_path: Path) -> None:
    res = CliRunner().invoke(app, ["validate", str(_config(tmp_path, {"file": ""}))], env=WIDE)
    assert res.exit_code == 2, res.output
    # not "no such file": Path('') would be the config's own folder
    assert "datacenters[0].carbon.file: empty path: name a CSV or Parquet file" in res.output
    res = CliRunner().invoke(app, ["validate", str(_config(tmp_path, {"intensity": 20000}))],
                             env=WIDE)
    assert res.exit_code == 2, res.output
    assert ("datacenters[0].carbon.intensity: Input should be less than or equal to 10000"
            in res.output)


def test_a_stored_series_beyond_the_bound_is_refused(tmp_path: Path,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    # imported before the bound existed (a finite value above it: an inf is refused by the
    # file's own checks, dcsim.workload.npzcheck)
    store = tmp_path / "store" / "carbon"
    store.mkdir(parents=True)
    np.savez_compressed(store / "old.npz", t=np.asarray([1578268800, 1578279600]),
                        v=np.asarray([1e6, 1.0], dtype=np.float32), source=np.asarray("x"))
    monkeypatch.setenv("DCSIM_TRACE_DIR", str(tmp_path / "store"))
    res = CliRunner().invoke(app, ["validate", str(_config(tmp_path, {"series": "old"}))],
                             env=WIDE)
    assert res.exit_code == 2, res.output
    assert "datacenters[0].carbon.series: point 0: intensity 1e+06: expected a finite number" \
        in res.output


def test_a_time_the_zone_skips_is_refused_on_its_own_line(tmp_path: Path) -> None:
    """2020-03-29 02:30 does not exist in Europe/Berlin (02:00 → 03:00). Python moved it to
    03:30, onto the next row, and the refusal blamed line 4 ("must increase strictly")."""
    import datetime as dt
    from zoneinfo import ZoneInfo

    from dcsim.config.carbon import ClockSpec
    from dcsim.errors import ConfigError
    from dcsim.workload.carbon import read_file

    berlin = ZoneInfo("Europe/Berlin")
    p = tmp_path / "dst.csv"
    p.write_text("timestamp,g_per_kwh\n2020-03-29 01:30,100\n2020-03-29 02:30,110\n"
                 "2020-03-29 03:30,120\n")
    with pytest.raises(ConfigError) as exc:
        read_file(p, "timestamp", "g_per_kwh", berlin)
    why = ("2020-03-29 02:30:00 does not exist in Europe/Berlin (its clocks skip it at a "
           "daylight-saving change); write it in UTC, or with its offset (e.g. +01:00)")
    assert exc.value.issues[0].message == f"{p}:3: timestamp {why}"
    # the same rows in UTC, or with offsets, are read
    s = read_file(p, "timestamp", "g_per_kwh", dt.UTC)
    assert s.t.tolist() == [1585445400, 1585449000, 1585452600]
    p.write_text("timestamp,g_per_kwh\n2020-03-29 01:30+01:00,100\n2020-03-29 03:30+02:00,120\n")
    assert read_file(p, "timestamp", "g_per_kwh", berlin).t.tolist() == [1585441800, 1585445400]
    # clock.start likewise
    with pytest.raises(ValueError, match="does not exist in Europe/Berlin"):
        ClockSpec(start="2020-03-29 02:30", timezone="Europe/Berlin")
    assert ClockSpec(start="2020-03-29 03:30", timezone="Europe/Berlin").epoch_s() == 1585445400

"""Bad fault input is refused before the run, with the config path of the bad field."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

import dcsim
from dcsim.errors import ConfigError
from tests.conftest import tiny_config


def _with_trace(tmp_path: Path, text: str) -> dict[str, Any]:
    (tmp_path / "failures.csv").write_text(text)
    cfg = tiny_config()
    cfg["faults"] = {"hosts": {"trace": str(tmp_path / "failures.csv")}}
    return cfg


@pytest.mark.parametrize(("text", "expect"), [
    ("host,fail_s\n0,10\n", "missing column(s) repair_s"),
    ("host,fail_s,repair_s\nzero,10,5\n", "line 2: host 'zero' is not an integer"),
    ("host,fail_s,repair_s\n0,10,5\n1,abc,5\n", "line 3: fail_s 'abc'"),
    ("host,fail_s,repair_s\n7,10,5\n", "line 2: host 7 does not exist (0..1)"),
    ("host,fail_s,repair_s\n0,-1,5\n", "line 2: fail_s must be finite and >= 0"),
    ("host,fail_s,repair_s\n0,10,-5\n", "line 2: repair_s must be >= 0"),
    ("host,fail_s,repair_s\n0,10\n", "line 2: expected 3 fields, got 2"),
    ("host,fail_s,repair_s\n0,10,100\n0,50,5\n", "host 0 fails at 50 s while still down"),
    ("", "is empty"),
])
def test_malformed_trace_is_refused_with_its_path(tmp_path: Path, text: str,
                                                  expect: str) -> None:
    with pytest.raises(ConfigError) as info:
        dcsim.run(_with_trace(tmp_path, text))
    issues = info.value.issues
    assert [i.path for i in issues] == ["faults.hosts.trace"] * len(issues)
    assert any(expect in i.message for i in issues), [i.message for i in issues]


def test_missing_trace_file(tmp_path: Path) -> None:
    cfg = tiny_config()
    cfg["faults"] = {"hosts": {"trace": str(tmp_path / "nope.csv")}}
    with pytest.raises(ConfigError, match=r"faults\.hosts\.trace: failure trace not found"):
        dcsim.run(cfg)


def test_trace_path_is_relative_to_the_config(tmp_path: Path) -> None:
    import yaml

    (tmp_path / "f.csv").write_text("host,fail_s,repair_s,comment\n1,600,60,disk\n")
    cfg = tiny_config()
    cfg["faults"] = {"hosts": {"trace": "f.csv"}}
    (tmp_path / "c.yaml").write_text(yaml.safe_dump(cfg))
    r = dcsim.run(tmp_path / "c.yaml")
    assert r.summary["host_failures"] == 1


@pytest.mark.parametrize(("faults", "path"), [
    ({"hosts": {"ttf": {"kind": "exponential", "mean": "1d"}, "trace": "x.csv"}},
     "faults.hosts"),
    ({"hosts": {}}, "faults.hosts"),
    ({"storage": {"host": 9}}, "faults.storage.host"),
    ({"snapshots": {"groups": [3]}}, "faults.snapshots.groups[0]"),
    ({"racks": {"ttf": {"kind": "constant", "value": "1d"},
                "repair": {"kind": "constant", "value": "1h"}}}, "faults.racks.size"),
    ({"recovery": {"restart": "sometimes"}}, "faults.recovery.restart"),
    ({"snapshots": {"interval": "0s"}}, "faults.snapshots.interval"),
    ({"snapshots": {"kepp_last": 2}}, "faults.snapshots.kepp_last"),
])
def test_bad_fault_config_names_the_field(faults: dict[str, Any], path: str) -> None:
    cfg = tiny_config()
    cfg["faults"] = faults
    with pytest.raises(ConfigError) as info:
        dcsim.run(cfg)
    assert path in [i.path for i in info.value.issues], info.value.render()


@pytest.mark.parametrize(("content", "expect"), [
    # csv.Error "field larger than field limit" was an internal error
    (b"host,fail_s,repair_s\n0,600," + b"9" * 200_000 + b"\n",
     "faults.hosts.trace: failures.csv line 2: not readable as CSV (a field longer than "
     "131,072 characters)"),
    (b"host,fail_s,repair_s\n0,600,6\xe90\n",
     "failures.csv line 2: byte 0xe9 is not UTF-8 text"),
], ids=["long-field", "not-utf8"])
def test_unreadable_trace_exits_2_in_validate_and_run(tmp_path: Path, content: bytes,
                                                      expect: str) -> None:
    import yaml
    from typer.testing import CliRunner

    from dcsim.cli import app

    (tmp_path / "failures.csv").write_bytes(content)
    cfg = tiny_config()
    cfg["faults"] = {"hosts": {"trace": "failures.csv"}}
    (tmp_path / "c.yaml").write_text(yaml.safe_dump(cfg))
    out = tmp_path / "out"
    for args in (["validate"], ["run", "--out", str(out), "-q"]):
        res = CliRunner().invoke(app, [*args, str(tmp_path / "c.yaml")],
                                 env={"COLUMNS": "1000"})
        assert res.exit_code == 2, res.output
        assert expect in res.output
        assert "internal error" not in res.output
    assert not out.exists()
    assert (tmp_path / "failures.csv").read_bytes() == content


def test_a_trace_saved_with_a_byte_order_mark_is_read(tmp_path: Path) -> None:
    # spreadsheet programs write a UTF-8 BOM: it was read into the first column's name,
    # "missing column(s) host"
    (tmp_path / "failures.csv").write_bytes(b"\xef\xbb\xbfhost,fail_s,repair_s\n1,600,60\n")
    cfg = tiny_config()
    cfg["faults"] = {"hosts": {"trace": str(tmp_path / "failures.csv")}}
    assert dcsim.run(cfg).summary["host_failures"] == 1

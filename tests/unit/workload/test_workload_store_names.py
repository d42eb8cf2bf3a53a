"""Trace names never reach outside the trace store (issue 13, found item 8)."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from dcsim.cli_traces import traces_app
from dcsim.errors import ConfigError
from dcsim.workload.traces import load_trace, save_compact


def _files(root: Path) -> list[str]:
    return sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file())


@pytest.mark.parametrize("name", ["../../x", "..", ".", "a/b", "/dcsim-test-abs", ".hidden", "-x",
                                  "[red]x"])
def test_import_refuses_a_name_that_leaves_the_store(test_data: Path, tmp_path: Path,
                                                     user_store: Path, name: str) -> None:
    # dcsim traces import csv FILE --out st/a/b --name ../../x wrote st/x/all.npz
    store = tmp_path / "st" / "a" / "b"
    store.mkdir(parents=True)
    before = _files(tmp_path)
    res = CliRunner().invoke(traces_app, ["import", "csv", str(test_data / "generic" /
                                                              "small.csv"),
                                          "--out", str(store), "--name", name])
    assert res.exit_code == 2, res.output
    assert "--name" in res.output
    assert res.exception is None or isinstance(res.exception, SystemExit)
    assert _files(tmp_path) == before
    assert not Path("/dcsim-test-abs").exists()


def test_import_refuses_a_day_file_name_that_is_hidden(tmp_path: Path, user_store: Path,
                                                       test_data: Path) -> None:
    raw = tmp_path / ".20110303"  # a PlanetLab day file whose stem would be ''
    raw.write_bytes((test_data / "planetlab" / "20110303" /
                     sorted(p.name for p in (test_data / "planetlab" / "20110303").iterdir())[0]
                     ).read_bytes())
    res = CliRunner().invoke(traces_app, ["import", "planetlab", str(raw)])
    assert res.exit_code == 2, res.output
    assert not user_store.exists()


def test_a_config_trace_name_cannot_read_outside_the_stores(tmp_path: Path,
                                                            user_store: Path) -> None:
    # a compact trace two levels above the user store is not reachable as '../../outside'
    real = load_trace("bitbrains-sample")
    save_compact(real, tmp_path / "outside" / "d1.npz")
    user_store.mkdir(parents=True)
    assert load_trace("bitbrains-sample").n_guests == real.n_guests
    with pytest.raises(ConfigError, match="unknown trace"):
        load_trace("../outside")

"""`dcsim traces list` and `dcsim traces import`."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from dcsim.workload.cli import traces_app
from dcsim.workload.traces import load_trace


def test_import_bitbrains_into_user_store(test_data: Path, user_store: Path) -> None:
    runner = CliRunner()
    res = runner.invoke(traces_app, ["import", "bitbrains", str(test_data / "bitbrains")])
    assert res.exit_code == 0, res.output
    assert (user_store / "bitbrains" / "2013-8.npz").is_file()
    t = load_trace("bitbrains", "2013-8")
    assert t.guest_names == ["1", "123", "265"]
    assert t.vcpus is not None
    listing = runner.invoke(traces_app, ["list"])
    assert listing.exit_code == 0
    for name in ("bitbrains", "planetlab", "google"):
        assert name in listing.output


def test_import_other_kinds_and_out_dir(test_data: Path, tmp_path: Path,
                                        user_store: Path) -> None:
    runner = CliRunner()
    out = tmp_path / "elsewhere"
    res = runner.invoke(traces_app, ["import", "csv", str(test_data / "generic" / "small.csv"),
                                     "--out", str(out), "--name", "mine"])
    assert res.exit_code == 0, res.output
    assert (out / "mine" / "all.npz").is_file()
    res = runner.invoke(traces_app, ["import", "planetlab", str(test_data / "planetlab"),
                                     "--name", "pl-excerpt"])
    assert res.exit_code == 0, res.output
    assert load_trace("pl-excerpt", "20110303").n_guests == 3


def test_import_refuses_bad_input(tmp_path: Path, user_store: Path) -> None:
    runner = CliRunner()
    bad = tmp_path / "bad.csv"
    bad.write_text("guest,time_s,cpu\na,0,x\n")
    res = runner.invoke(traces_app, ["import", "csv", str(bad)])
    assert res.exit_code == 2  # bad input (was 1, against the CLI's exit-code contract)
    assert "line 2" in res.output
    assert runner.invoke(traces_app, ["import", "azure", str(bad)]).exit_code == 2
    assert runner.invoke(traces_app, ["import", "csv", str(tmp_path / "no")]).exit_code == 2
    assert not user_store.exists()

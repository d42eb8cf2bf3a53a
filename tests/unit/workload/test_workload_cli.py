"""`dcsim traces list` and `dcsim traces import`."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from dcsim.cli_traces import traces_app
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


def test_import_never_replaces_a_file(test_data: Path, tmp_path: Path) -> None:
    # A user's own file where the import would write, and an earlier import of the same name:
    # both refused with exit 2 and left byte for byte as they were (audit, session 17).
    runner = CliRunner()
    src = str(test_data / "generic" / "small.csv")
    out = tmp_path / "store"
    (out / "mine").mkdir(parents=True)
    theirs = out / "mine" / "all.npz"
    theirs.write_bytes(b"my own precious file")
    res = runner.invoke(traces_app, ["import", "csv", src, "--out", str(out), "--name", "mine"])
    assert res.exit_code == 2, res.output
    assert "exists" in res.output
    assert theirs.read_bytes() == b"my own precious file"
    assert sorted(p.name for p in (out / "mine").iterdir()) == ["all.npz"]  # no temporary left
    res = runner.invoke(traces_app, ["import", "csv", src, "--out", str(out), "--name", "t1"])
    assert res.exit_code == 0, res.output
    first = (out / "t1" / "all.npz").read_bytes()
    res = runner.invoke(traces_app, ["import", "csv", src, "--out", str(out), "--name", "t1"])
    assert res.exit_code == 2, res.output
    assert (out / "t1" / "all.npz").read_bytes() == first
    a_file = tmp_path / "README.txt"
    a_file.write_text("notes")
    for bad_out in (a_file, a_file / "sub"):  # --out a file, or under one: bad input
        res = runner.invoke(traces_app, ["import", "csv", src, "--out", str(bad_out)])
        assert res.exit_code == 2, res.output
        assert "--out" in res.output
    assert a_file.read_text() == "notes"


def test_save_compact_exclusive_refuses_an_existing_file(test_data: Path,
                                                        tmp_path: Path) -> None:
    from dcsim.workload.traces import read_generic, save_compact

    trace = read_generic(test_data / "generic" / "small.csv")
    target = tmp_path / "d1.npz"
    target.write_bytes(b"x")
    with pytest.raises(FileExistsError):
        save_compact(trace, target, exclusive=True)
    assert target.read_bytes() == b"x"
    assert [p.name for p in tmp_path.iterdir()] == ["d1.npz"]
    save_compact(trace, target)  # not exclusive: replaced (the shipped traces' packing)
    assert target.stat().st_size > 1


def test_import_writes_no_day_when_one_is_refused(test_data: Path, tmp_path: Path) -> None:
    # Two days to import, the second's file already there: refused before anything is read or
    # written, so the first day is not imported either (no half-done import).
    import shutil

    raw = tmp_path / "raw"
    for day in ("20110303", "20110304"):
        shutil.copytree(test_data / "planetlab" / "20110303", raw / day)
    out = tmp_path / "store"
    (out / "pl").mkdir(parents=True)
    (out / "pl" / "20110304.npz").write_bytes(b"someone's")
    res = CliRunner().invoke(traces_app, ["import", "planetlab", str(raw), "--out", str(out),
                                          "--name", "pl"])
    assert res.exit_code == 2, res.output
    assert sorted(p.name for p in (out / "pl").iterdir()) == ["20110304.npz"]
    assert (out / "pl" / "20110304.npz").read_bytes() == b"someone's"


def test_import_refusals_go_to_stderr_as_every_commands_do(tmp_path: Path,
                                                           user_store: Path) -> None:
    """``error:`` and the option or argument on standard error, exit 2, nothing on standard
    output and nothing written (before: red lines on standard output, no ``error:``)."""
    from dcsim.cli import app

    raw = tmp_path / "c.csv"
    raw.write_text("timestamp,g_per_kwh\n2020-01-06 00:00,abc\n")
    cases = [
        (["nope", str(raw)], "  - KIND: unknown trace kind 'nope'; use one of bitbrains, "
                             "planetlab, google, csv, carbon"),
        (["csv", str(tmp_path / "missing.csv")], f"  - PATH: {tmp_path / 'missing.csv'}: no "
                                                 "such file or folder"),
        (["csv", str(raw), "--name", ".x"], "  - --name: '.x' is not a trace name: use 1-128 "
                                            "letters, digits, '_', '.' or '-', not starting "
                                            "with '.' or '-' (it names a folder inside the "
                                            "store)"),
        (["carbon", str(raw)], f"  - PATH: {raw}:2: intensity is not a number: 'abc'"),
    ]
    for args, line in cases:
        res = CliRunner().invoke(app, ["traces", "import", *args], env={"COLUMNS": "300"})
        assert res.exit_code == 2, res.output
        assert res.stdout == ""
        assert res.stderr.splitlines() == ["error: invalid input (1 problem):", line], args
    assert not any(user_store.rglob("*.npz"))

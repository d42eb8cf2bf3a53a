"""``dcsim run``'s output folder: never destroyed, replaced atomically, leftovers cleaned.

Issue 13, found items 1, 2 and 5: ``--out`` over a user's folder, the project folder, a device,
``name: "."``; a kill or Ctrl-C between the renames that replace a results folder.
"""

from __future__ import annotations

import json
import os
import signal
import stat
import subprocess
import sys
import textwrap
import time
from pathlib import Path
from typing import Any

import pytest
import yaml
from typer.testing import CliRunner

import dcsim.io.outdir as outdir
from dcsim.cli import app
from dcsim.errors import ConfigError
from dcsim.io.owner import process_identity
from tests.conftest import tiny_config

runner = CliRunner()
REPO = Path(__file__).resolve().parents[3]


@pytest.fixture
def cfg(tmp_path: Path) -> Path:
    p = tmp_path / "cfg.yaml"
    p.write_text(yaml.safe_dump(tiny_config()))
    return p


@pytest.fixture
def no_sim(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Make any simulation fail the test: refusals must come before it starts."""
    import dcsim

    calls: list[int] = []

    def boom(*a: Any, **k: Any) -> Any:
        calls.append(1)
        raise AssertionError("the simulation started")

    monkeypatch.setattr(dcsim, "run", boom)
    return calls


def _run(*args: str) -> Any:
    return runner.invoke(app, ["run", *args])


def _tree(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*"))
            if p.is_file()}


# ----------------------------------------------------------------- refusals (items 1 and 2)


def test_user_folder_is_refused_and_kept(tmp_path: Path, cfg: Path, no_sim: list[int],
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    # mkdir d; echo x > d/thesis.tex; dcsim run configs/default.yaml --out d
    monkeypatch.chdir(tmp_path)
    (tmp_path / "d").mkdir()
    (tmp_path / "d" / "thesis.tex").write_text("x\n")
    res = _run(str(REPO / "configs" / "default.yaml"), "--out", "d")
    assert res.exit_code == 2, res.output
    assert "not a dcsim run's results folder" in res.output
    assert "Traceback" not in res.output
    assert (tmp_path / "d" / "thesis.tex").read_text() == "x\n"
    assert sorted(p.name for p in (tmp_path / "d").iterdir()) == ["thesis.tex"]
    # --overwrite does not make a foreign folder dcsim's
    res = _run(str(cfg), "--out", "d", "--overwrite")
    assert res.exit_code == 2, res.output
    assert (tmp_path / "d" / "thesis.tex").read_text() == "x\n"
    assert not no_sim


@pytest.mark.parametrize("where", ["cwd", "dot", "parent", "dotdot", "root"])
def test_cwd_and_its_parents_are_refused(tmp_path: Path, cfg: Path, no_sim: list[int],
                                         monkeypatch: pytest.MonkeyPatch, where: str) -> None:
    # dcsim run --out "$PWD" deleted the project
    project = tmp_path / "project"
    project.mkdir()
    (project / "README.md").write_text("mine")
    monkeypatch.chdir(project)
    target = {"cwd": str(project), "dot": ".", "parent": str(tmp_path), "dotdot": "..",
              "root": "/"}[where]
    before = _tree(tmp_path)
    res = _run(str(cfg), "--out", target, "--overwrite")
    assert res.exit_code == 2, res.output
    assert "--out" in res.output
    assert _tree(tmp_path) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["cfg.yaml", "project"]


def test_a_results_folder_that_is_the_cwd_is_refused(tmp_path: Path, cfg: Path,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    out = tmp_path / "r"
    assert _run(str(cfg), "--out", str(out), "-q").exit_code == 0
    monkeypatch.chdir(out)
    res = _run(str(cfg), "--out", str(out), "--overwrite")
    assert res.exit_code == 2, res.output
    assert "current folder" in res.output


def test_device_is_refused(cfg: Path, no_sim: list[int]) -> None:
    # as root, --out /dev/null replaced the device with a folder
    mode = os.stat("/dev/null").st_mode
    res = _run(str(cfg), "--out", "/dev/null", "--overwrite")
    assert res.exit_code == 2, res.output
    assert "not a folder" in res.output
    assert stat.S_ISCHR(os.stat("/dev/null").st_mode)
    assert os.stat("/dev/null").st_mode == mode


@pytest.mark.parametrize("kind", ["file", "fifo", "symlink", "file-parent"])
def test_files_fifos_links_are_refused(tmp_path: Path, cfg: Path, no_sim: list[int],
                                       kind: str) -> None:
    target = tmp_path / "t"
    if kind == "file":
        target.write_text("data")
    elif kind == "fifo":
        os.mkfifo(target)
    elif kind == "symlink":
        (tmp_path / "real").mkdir()
        target.symlink_to(tmp_path / "real")
    else:
        (tmp_path / "f").write_text("data")
        target = tmp_path / "f" / "sub"
    res = _run(str(cfg), "--out", str(target), "--overwrite")
    assert res.exit_code == 2, res.output
    assert "Traceback" not in res.output
    if kind == "file":
        assert target.read_text() == "data"
    if kind == "fifo":
        assert stat.S_ISFIFO(os.lstat(target).st_mode)
    if kind == "symlink":
        assert target.is_symlink()
        assert not any((tmp_path / "real").iterdir())


@pytest.mark.parametrize("name", [".", "..", "a/b", "../x", ".hidden", "-rf", ""])
def test_config_name_that_is_not_a_folder_name_is_refused(
        tmp_path: Path, no_sim: list[int], monkeypatch: pytest.MonkeyPatch, name: str) -> None:
    # name: "." made the default output folder results/ itself, replacing every earlier run
    monkeypatch.chdir(tmp_path)
    (tmp_path / "results" / "earlier").mkdir(parents=True)
    (tmp_path / "results" / "earlier" / "summary.json").write_text("{}")
    p = tmp_path / "cfg.yaml"
    p.write_text(yaml.safe_dump(tiny_config(name=name)))
    res = _run(str(p), "--overwrite")
    assert res.exit_code == 2, res.output
    assert "name:" in res.output
    assert (tmp_path / "results" / "earlier" / "summary.json").read_text() == "{}"
    assert sorted(p.name for p in (tmp_path / "results").iterdir()) == ["earlier"]


def test_rerun_needs_overwrite_and_replaces(tmp_path: Path, cfg: Path) -> None:
    out = tmp_path / "r"
    assert _run(str(cfg), "--out", str(out), "-q").exit_code == 0
    first = _tree(out)
    res = _run(str(cfg), "--out", str(out), "--seed", "5")
    assert res.exit_code == 2, res.output
    assert "--overwrite" in res.output
    assert _tree(out) == first
    res = _run(str(cfg), "--out", str(out), "--seed", "5", "--overwrite", "-q")
    assert res.exit_code == 0, res.output
    assert json.loads((out / "manifest.json").read_text())["seed"] == 5
    assert sorted(p.name for p in tmp_path.iterdir()) == ["cfg.yaml", "r"]  # no leftovers
    assert outdir.MARKER not in {p.name for p in out.iterdir()}


def test_overwrite_refuses_a_results_folder_holding_foreign_files(tmp_path: Path,
                                                                   cfg: Path) -> None:
    out = tmp_path / "r"
    assert _run(str(cfg), "--out", str(out), "-q").exit_code == 0
    assert runner.invoke(app, ["plot", str(out)]).exit_code == 0  # dcsim's own figures: fine
    (out / "notes.md").write_text("my notes")
    res = _run(str(cfg), "--out", str(out), "--overwrite")
    assert res.exit_code == 2, res.output
    assert "notes.md" in res.output
    assert (out / "notes.md").read_text() == "my notes"
    (out / "notes.md").unlink()
    assert _run(str(cfg), "--out", str(out), "--overwrite", "-q").exit_code == 0


def test_overwrite_keeps_figures_dcsim_did_not_draw(tmp_path: Path, cfg: Path,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    # cp -a r1 r3; echo MINE > r3/timeseries.png; echo notes > r3/timeseries.pdf; dcsim run
    # ... -o r3 --overwrite deleted both: only figures the ledger lists (dcsim plot drew them)
    # are dcsim's, and a hand-edited ledger naming another file does not make it dcsim's
    import dcsim
    from dcsim.io.figures import FIGURES_LEDGER

    out = tmp_path / "r"
    assert _run(str(cfg), "--out", str(out), "-q").exit_code == 0
    (out / "timeseries.png").write_bytes(b"MINE\n")
    (out / "timeseries.pdf").write_bytes(b"notes\n")
    calls: list[int] = []
    monkeypatch.setattr(dcsim, "run", lambda *a, **k: calls.append(1))
    for step in ("figures", "ledger"):
        if step == "ledger":
            (out / "notes.txt").write_bytes(b"notes\n")
            (out / FIGURES_LEDGER).write_text("notes.txt\n../cfg.yaml\n")
        before = _tree(out)
        res = runner.invoke(app, ["run", str(cfg), "--out", str(out), "--overwrite"],
                            terminal_width=400)
        assert res.exit_code == 2, res.output
        named = "timeseries.pdf, timeseries.png" if step == "figures" else \
            "notes.txt, timeseries.pdf, timeseries.png"
        assert f"--out: {out} holds files dcsim did not write ({named})" in res.output
        assert _tree(out) == before
    assert not calls  # refused before the simulation


def test_empty_folder_is_used(tmp_path: Path, cfg: Path) -> None:
    (tmp_path / "e").mkdir()
    assert _run(str(cfg), "--out", str(tmp_path / "e"), "-q").exit_code == 0
    assert (tmp_path / "e" / "summary.json").is_file()


def test_a_sweep_folder_is_not_a_run_folder(tmp_path: Path) -> None:
    (tmp_path / "s").mkdir()
    (tmp_path / "s" / "manifest.json").write_text(json.dumps({"kind": "dcsim-sweep"}))
    with pytest.raises(ConfigError, match="not a dcsim run"):
        outdir.check_out_dir(tmp_path / "s", overwrite=True)


# ----------------------------------------------------------------- atomic replace (item 5)


def _write_tree(folder: Path, tag: str) -> None:
    folder.mkdir()
    (folder / "summary.json").write_text(tag)
    (folder / "manifest.json").write_text(json.dumps({"kind": "dcsim-run", "tag": tag}))


_KILLER = textwrap.dedent("""
    import os, sys
    from pathlib import Path
    import dcsim.io.outdir as o
    final, mode = Path(sys.argv[1]), sys.argv[2]
    if mode == "fallback-between":
        o._exchange = lambda a, b: False
        real = os.rename
        def rename(a, b):
            real(a, b)
            if Path(b).name.startswith("." + final.name + ".old-"):
                os._exit(9)  # dies like SIGKILL between the two renames
        os.rename = rename
    elif mode == "after-exchange":
        real = o._exchange
        def exchange(a, b):
            assert real(a, b)
            os._exit(9)
        o._exchange = exchange
    tmp = o.new_tmp_dir(final)
    (tmp / "summary.json").write_text("new")
    (tmp / "manifest.json").write_text('{"kind": "dcsim-run", "tag": "new"}')
    if mode == "while-writing":
        os._exit(9)
    o.commit_dir(tmp, final)
""")


@pytest.mark.parametrize(("mode", "expect"), [("while-writing", "old"), ("fallback-between", "old"),
                                         ("after-exchange", "new"), ("complete", "new")])
def test_killed_replace_leaves_old_or_new_and_next_run_cleans(tmp_path: Path, mode: str,
                                                              expect: str) -> None:
    final = tmp_path / "out"
    _write_tree(final, "old")
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    proc = subprocess.run([sys.executable, "-c", _KILLER, str(final), mode], env=env,
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == (0 if mode == "complete" else 9), proc.stderr
    leftovers = sorted(p.name for p in tmp_path.iterdir() if p.name != "out")
    if mode == "fallback-between":
        assert not final.exists()  # the one state two plain renames cannot avoid under SIGKILL
        assert len(leftovers) == 2
    else:
        assert (final / "summary.json").read_text() == expect
    outdir.clean_leftovers(final)  # what the next run does first
    assert (final / "summary.json").read_text() == expect
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]
    assert sorted(p.name for p in final.iterdir()) == ["manifest.json", "summary.json"]


@pytest.mark.parametrize("exchange", [True, False])
def test_ctrl_c_during_replace_is_held_until_the_new_folder_is_in_place(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, exchange: bool) -> None:
    final = tmp_path / "out"
    _write_tree(final, "old")
    tmp = outdir.new_tmp_dir(final)
    (tmp / "summary.json").write_text("new")
    (tmp / "manifest.json").write_text('{"kind": "dcsim-run"}')
    real_exchange, real_rename = outdir._exchange, os.rename

    def ctrl_c_then_exchange(a: Path, b: Path) -> bool:
        os.kill(os.getpid(), signal.SIGINT)  # Ctrl-C arrives right before the swap
        return real_exchange(a, b) if exchange else False

    monkeypatch.setattr(outdir, "_exchange", ctrl_c_then_exchange)
    with pytest.raises(KeyboardInterrupt):
        outdir.commit_dir(tmp, final)
    monkeypatch.setattr(os, "rename", real_rename)
    assert (final / "summary.json").read_text() == "new"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]


def _wait_for_sigterm_handler(pid: int) -> None:
    """Wait until ``pid`` catches SIGTERM (bit 15 of SigCgt in /proc/PID/status, Linux)."""
    status = Path(f"/proc/{pid}/status")
    if not status.exists():
        time.sleep(5.0)
        return
    for _ in range(600):
        line = next((x for x in status.read_text().splitlines() if x.startswith("SigCgt:")), "")
        if line and int(line.split()[1], 16) & (1 << (signal.SIGTERM - 1)):
            return
        time.sleep(0.1)
    raise AssertionError("dcsim never installed its SIGTERM handler")


@pytest.mark.parametrize("delay", [0.0, 1.0])
def test_sigterm_mid_run_keeps_the_old_results_and_leaves_nothing(tmp_path: Path,
                                                                  delay: float) -> None:
    # delay 0: the signal lands while typer parses the arguments or loads the command (typer
    # would exit 130 silently); delay 1 s: inside the simulation
    out = tmp_path / "r"
    quick = tmp_path / "quick.yaml"
    quick.write_text(yaml.safe_dump(tiny_config()))
    assert _run(str(quick), "--out", str(out), "-q").exit_code == 0
    before = _tree(out)
    slow = tmp_path / "slow.yaml"  # many guests for a long time: seconds of simulation
    slow_cfg = tiny_config(duration="30d", interval="1m")
    slow_cfg["datacenters"][0]["hosts"][0]["count"] = 50
    slow_cfg["guests"][0]["count"] = 100
    slow.write_text(yaml.safe_dump(slow_cfg))
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    proc = subprocess.Popen([sys.executable, "-m", "dcsim", "run", str(slow), "--out", str(out),
                             "--overwrite", "-q"], env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    _wait_for_sigterm_handler(proc.pid)
    time.sleep(delay)  # the simulation itself takes tens of seconds
    assert proc.poll() is None, proc.communicate()
    proc.send_signal(signal.SIGTERM)
    _, stderr = proc.communicate(timeout=60)
    assert proc.returncode == 143, stderr
    assert "terminated" in stderr
    assert "Traceback" not in stderr
    assert _tree(out) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["quick.yaml", "r", "slow.yaml"]


# ----------------------------------------------------------------- leftovers of earlier runs


def _marked(folder: Path, ident: dict[str, Any]) -> None:
    folder.mkdir()
    (folder / "summary.json").write_text("partial")
    (folder / outdir.MARKER).write_text(json.dumps(ident))


def test_leftovers_are_cleaned_only_if_marked_and_their_writer_is_dead(tmp_path: Path,
                                                                       cfg: Path) -> None:
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    dead_ident = {**process_identity(), "pid": dead.pid, "start": None}
    live_ident = process_identity(os.getppid())
    _marked(tmp_path / f".r.tmp-{dead.pid}", dead_ident)  # killed run: removed
    _marked(tmp_path / ".r.tmp-1", live_ident)  # a run still writing: kept
    (tmp_path / f".r.tmp-{dead.pid + 1}").mkdir()  # no marker, not empty: not ours, kept
    (tmp_path / f".r.tmp-{dead.pid + 1}" / "x").write_text("x")
    _marked(tmp_path / f".other.tmp-{dead.pid}", dead_ident)  # another folder's: kept
    res = _run(str(cfg), "--out", str(tmp_path / "r"), "-q")
    assert res.exit_code == 0, res.output
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        ["cfg.yaml", "r", ".r.tmp-1", f".r.tmp-{dead.pid + 1}", f".other.tmp-{dead.pid}"])


def test_a_folder_that_only_looks_like_our_temporary_is_never_deleted(tmp_path: Path,
                                                                      cfg: Path) -> None:
    # the exact name this process would use for its temporary folder, but not dcsim's
    mine = tmp_path / f".r.tmp-{os.getpid()}"
    mine.mkdir()
    (mine / "data.csv").write_text("mine")
    res = _run(str(cfg), "--out", str(tmp_path / "r"), "-q")
    assert res.exit_code == 0, res.output
    assert (mine / "data.csv").read_text() == "mine"
    assert (tmp_path / "r" / "summary.json").is_file()
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(["cfg.yaml", "r", mine.name])


@pytest.mark.parametrize("where", ["long-name", "read-only", "under-a-file"])
def test_an_out_folder_dcsim_cannot_write_is_refused_before_the_run(tmp_path: Path,
                                                                    where: str) -> None:
    # These ran the whole simulation, then failed with exit 1 naming the hidden temporary
    # folder (session-17 input audit); now exit 2 naming --out, before anything is simulated.
    cfg = tmp_path / "c.yaml"
    cfg.write_text(yaml.safe_dump(tiny_config()))
    if where == "long-name":
        out = tmp_path / ("x" * 250)  # fits, but its temporary .NAME.tmp-PID does not
    elif where == "read-only":
        if os.geteuid() == 0:
            pytest.skip("root writes into read-only folders")
        ro = tmp_path / "ro"
        ro.mkdir()
        ro.chmod(stat.S_IRUSR | stat.S_IXUSR)
        out = ro / "out"
    else:
        (tmp_path / "afile").write_text("mine")
        out = tmp_path / "afile" / "out"
    before = sorted(p.name for p in tmp_path.iterdir())
    for cmd in (["run", str(cfg)], ["sweep", str(cfg), "-e", "serial"]):
        res = runner.invoke(app, [*cmd, "--out", str(out), "-q"])
        assert res.exit_code == 2, res.output
        assert "--out" in res.output
    assert sorted(p.name for p in tmp_path.iterdir()) == before


def test_schema_indent_is_bounded() -> None:
    # --indent 100000000 built a schema text of ~20 GB (session-17 input audit)
    assert runner.invoke(app, ["schema", "--indent", "100000000"]).exit_code == 2
    assert runner.invoke(app, ["schema", "--indent", "16"]).exit_code == 0


def test_overwrite_takes_a_killed_plots_temporaries_as_dcsims(tmp_path: Path, cfg: Path,
                                                              monkeypatch: pytest.MonkeyPatch
                                                              ) -> None:
    # a kill during `dcsim plot` leaves .timeseries.png.tmp-PID; run --overwrite refused the
    # folder for it. Its writer gone, it is dcsim's; while a process of that pid runs, not.
    import os
    import subprocess
    import sys

    import dcsim

    out = tmp_path / "r"
    assert _run(str(cfg), "--out", str(out), "-q").exit_code == 0
    gone = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, check=True)
    dead = int(gone.stdout)  # a pid that ran and ended (reused meanwhile: the test is stricter)
    calls: list[int] = []
    monkeypatch.setattr(dcsim, "run", lambda *a, **k: calls.append(1))
    live = out / f".timeseries.png.tmp-{os.getpid()}"
    live.write_bytes(b"half a figure")
    res = runner.invoke(app, ["run", str(cfg), "--out", str(out), "--overwrite"],
                        terminal_width=400)
    assert res.exit_code == 2, res.output
    assert f"holds files dcsim did not write ({live.name})" in res.output
    live.unlink()
    (out / f".timeseries.png.tmp-{dead}").write_bytes(b"half a figure")
    (out / f"..dcsim-figures.tmp-{dead}").write_bytes(b"timeseries.png\n")
    res = runner.invoke(app, ["run", str(cfg), "--out", str(out), "--overwrite"],
                        terminal_width=400)
    assert "did not write" not in res.output
    assert calls == [1]  # accepted: the simulation was asked for

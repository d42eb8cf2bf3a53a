"""Sweeps cannot mix or lose data (issue 13, found items 3, 4 and 6).

One writer per folder (lock, stale-safe), ``--overwrite`` deletes only what the store created and
only in a dcsim sweep folder, and a corrupt, truncated or foreign run file is run again on resume.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq
import pytest
import yaml
from sweep_helpers import tiny
from typer.testing import CliRunner

import dcsim.experiments.lock as lockmod
from dcsim.cli import app
from dcsim.errors import ConfigError
from dcsim.experiments.lock import LOCK_NAME, SweepLock
from dcsim.experiments.sweep import run_sweep

REPO = Path(__file__).resolve().parents[3]
ENV = {**os.environ, "PYTHONPATH": str(REPO)}
SMALL = tiny({"grid": {"guests[0].count": [1, 2]}, "replications": 2})


def _tree(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*"))
            if p.is_file()}


def _hold_lock(folder: Path) -> subprocess.Popen[str]:
    """Another process holding ``folder``'s lock until killed."""
    code = ("import sys, time; from pathlib import Path; "
            "from dcsim.experiments.lock import SweepLock; "
            "SweepLock.acquire(Path(sys.argv[1])); print('locked', flush=True); time.sleep(120)")
    proc = subprocess.Popen([sys.executable, "-c", code, str(folder)], env=ENV,
                            stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    assert proc.stdout.readline().strip() == "locked"
    return proc


# ----------------------------------------------------------------- item 3: one writer


def test_second_writer_of_a_running_sweep_is_refused(tmp_path: Path) -> None:
    # dcsim sweep … --overwrite --set seed=12 into the folder of a sweep still running mixed both
    cfg = tiny({"grid": {"guests[0].count": [1, 2]}, "replications": 4},
               duration="12h", interval="1m")
    path = tmp_path / "s.yaml"
    path.write_text(yaml.safe_dump(cfg, sort_keys=False))
    out = tmp_path / "out"
    first = subprocess.Popen([sys.executable, "-m", "dcsim", "sweep", str(path), "--out",
                              str(out), "--executor", "serial", "--quiet"], env=ENV,
                             stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and first.poll() is None:
        if (out / "runs").is_dir() and any((out / "runs").glob("*.parquet")):
            break
        time.sleep(0.01)
    assert first.poll() is None, "the first sweep ended before the second one started"
    res = CliRunner().invoke(app, ["sweep", str(path), "--out", str(out), "--executor",
                                   "serial", "--overwrite", "--set", "seed=12"])
    assert res.exit_code == 2, res.output
    assert "being written by another dcsim sweep" in res.output
    assert f"pid {first.pid}" in res.output
    _, stderr = first.communicate(timeout=300)
    assert first.returncode == 0, stderr
    runs = pd.read_parquet(out / "runs.parquet")
    assert len(runs) == 8
    assert not runs.duplicated(["point", "replication"]).any()
    again = run_sweep(path, out, executor="serial")  # the first sweep's own plan: all there
    assert (again.ran, again.already_done) == (0, 8)
    assert not (out / LOCK_NAME).exists()  # released at the end


def test_lock_of_a_killed_writer_is_taken_over(tmp_path: Path) -> None:
    out = tmp_path / "out"
    out.mkdir()
    holder = _hold_lock(out)
    with pytest.raises(ConfigError, match="being written by another dcsim sweep"):
        run_sweep(SMALL, out, executor="serial")
    assert _tree(out) == {LOCK_NAME: (out / LOCK_NAME).read_bytes()}  # nothing else written
    holder.send_signal(signal.SIGKILL)
    holder.wait()
    assert (out / LOCK_NAME).exists()  # stale: its owner is dead
    outcome = run_sweep(SMALL, out, executor="serial")
    assert outcome.ran == 4
    assert not (out / LOCK_NAME).exists()


@pytest.mark.parametrize("owner", ["dead", "alive"])
def test_without_flock_the_recorded_pid_decides(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                owner: str) -> None:
    from dcsim.io.owner import process_identity

    monkeypatch.setattr(lockmod, "fcntl", None)  # a file system without flock
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    ident = process_identity(os.getppid()) if owner == "alive" else {
        **process_identity(), "pid": dead.pid, "start": None}
    (tmp_path / LOCK_NAME).write_text(json.dumps(ident))
    if owner == "alive":
        with pytest.raises(ConfigError, match="being written"):
            SweepLock.acquire(tmp_path)
    else:
        with SweepLock.acquire(tmp_path):
            assert json.loads((tmp_path / LOCK_NAME).read_text())["pid"] == os.getpid()
        assert not (tmp_path / LOCK_NAME).exists()


# ----------------------------------------------------------------- item 4: --overwrite


@pytest.mark.parametrize("manifest", [{"kind": "dcsim-run", "seed": 1}, {"anything": 1}])
def test_overwrite_refuses_a_folder_that_is_not_a_dcsim_sweep(tmp_path: Path,
                                                              manifest: dict[str, int]) -> None:
    # --overwrite into a folder holding any other manifest.json deleted its runs/ and plots/
    out = tmp_path / "x"
    (out / "runs").mkdir(parents=True)
    (out / "plots").mkdir()
    (out / "manifest.json").write_text(json.dumps(manifest))
    (out / "runs" / "data.txt").write_text("mine")
    (out / "plots" / "fig.png").write_bytes(b"png")
    before = _tree(out)
    with pytest.raises(ConfigError, match="not a dcsim sweep's"):
        run_sweep(SMALL, out, executor="serial", overwrite=True)
    assert _tree(out) == before
    assert not (out / LOCK_NAME).exists()


def test_overwrite_deletes_only_what_the_sweep_created(tmp_path: Path) -> None:
    from dcsim.experiments.sweep_plots import plot_sweep

    out = tmp_path / "out"
    run_sweep(SMALL, out, executor="serial")
    figs = plot_sweep(out, "guests[0].count", "energy_it_kwh")  # plot-sweep's, in out/plots
    mine = {  # a user's files, several named like dcsim's (audit, session 17: these went too)
        "plots/my-figure.png": b"mine", "plots/energy-vs-load-for-paper.png": b"paper",
        "runs/notes.txt": b"mine", "runs/p9999-abcdef12-rep0.parquet": b"not parquet",
        "runs/.keep.tmp-42": b"keep", ".notes.tmp-1": b"notes", "README.md": b"mine"}
    for rel, data in mine.items():
        (out / rel).write_bytes(data)
    # a run file of the old sweep under another run's name is not the run of that name either
    olds = sorted((out / "runs").glob("p0*.parquet"))
    shutil.copyfile(olds[0], out / "runs" / "p0007-0000beef-rep3.parquet")
    changed = tiny({"grid": {"guests[0].count": [1, 3]}})
    outcome = run_sweep(changed, out, executor="serial", overwrite=True)
    assert (outcome.ran, outcome.already_done) == (2, 0)
    for rel, data in mine.items():
        assert (out / rel).read_bytes() == data, rel
    assert (out / "runs" / "p0007-0000beef-rep3.parquet").is_file()
    assert not any(f.exists() for f in figs)  # the figures dcsim wrote are gone
    table = pd.read_parquet(out / "runs.parquet")
    assert sorted(table["guests[0].count"]) == [1, 3]
    new = {f"{i}-rep{r}.parquet" for i, r in zip(table["point_id"], table["replication"],
                                                  strict=True)}
    assert {f.name for f in (out / "runs").glob("p*.parquet")} == new | {
        "p9999-abcdef12-rep0.parquet", "p0007-0000beef-rep3.parquet"}  # the 4 old ones: gone
    assert len(olds) == 4


def test_a_hand_edited_figure_ledger_cannot_make_overwrite_delete_a_users_file(
        tmp_path: Path) -> None:
    # plots/.dcsim-figures edited to list notes.txt made dcsim sweep --overwrite delete it: the
    # ledger is trusted only for names a dcsim figure can have (PNG/PDF, not hidden, no folder)
    out = tmp_path / "out"
    run_sweep(SMALL, out, executor="serial")
    (out / "plots").mkdir()
    mine = {"plots/notes.txt": b"mine", "plots/data.csv": b"x", "plots/.hidden.png": b"h",
            "README.md": b"readme"}
    for rel, data in mine.items():
        (out / rel).write_bytes(data)
    (out / "plots" / ".dcsim-figures").write_text(
        "notes.txt\ndata.csv\n.hidden.png\n../README.md\n")
    outcome = run_sweep(tiny({"grid": {"guests[0].count": [1, 3]}}), out, executor="serial",
                        overwrite=True)
    assert (outcome.ran, outcome.already_done) == (2, 0)
    for rel, data in mine.items():
        assert (out / rel).read_bytes() == data, rel


def test_resume_removes_only_dcsims_own_temporaries(tmp_path: Path) -> None:
    out = tmp_path / "out"
    run_sweep(SMALL, out, executor="serial")
    run = sorted((out / "runs").glob("*.parquet"))[0].name
    ours = [out / ".summary.csv.tmp-99", out / ".manifest.json.tmp-7",
            out / "runs" / f".{run}.tmp-5"]
    theirs = [out / ".draft.tmp-3", out / "runs" / ".keep.tmp-42", out / ".notes.tmp-1"]
    for f in ours + theirs:
        f.write_text("x")
    run_sweep(SMALL, out, executor="serial")
    assert not any(f.exists() for f in ours)
    assert all(f.read_text() == "x" for f in theirs)


def test_plot_sweep_keeps_a_users_figure_of_the_same_name(tmp_path: Path) -> None:
    from dcsim.experiments.sweep_plots import plot_sweep

    out = tmp_path / "out"
    run_sweep(SMALL, out, executor="serial")
    (out / "plots").mkdir()
    users = out / "plots" / "energy_it_kwh-vs-count.png"
    users.write_bytes(b"my own figure")
    with pytest.raises(ConfigError, match="already exists"):
        plot_sweep(out, "guests[0].count", "energy_it_kwh")
    assert users.read_bytes() == b"my own figure"
    figs = plot_sweep(out, "guests[0].count", "energy_it_kwh", overwrite=True)
    assert users in figs
    assert users.read_bytes() != b"my own figure"
    before = users.stat().st_mtime_ns
    time.sleep(0.01)
    plot_sweep(out, "guests[0].count", "energy_it_kwh")  # now dcsim's: replaced, no question
    assert users.stat().st_mtime_ns != before


# ----------------------------------------------------------------- item 6: corrupt run files


def test_truncated_run_file_is_detected_and_run_again(tmp_path: Path) -> None:
    out = tmp_path / "out"
    run_sweep(SMALL, out, executor="serial")
    files = sorted((out / "runs").glob("*.parquet"))
    good = pq.read_table(files[0]).to_pylist()[0]
    data = files[0].read_bytes()
    files[0].write_bytes(data[: len(data) // 2])  # a copy or a disk that stopped half-way
    outcome = run_sweep(SMALL, out, executor="serial")
    assert (outcome.ran, outcome.already_done) == (1, 3)
    again = pq.read_table(files[0]).to_pylist()[0]
    assert again["energy_it_kwh"] == good["energy_it_kwh"]  # same run, same numbers
    assert len(pd.read_parquet(out / "runs.parquet")) == 4


def test_run_file_of_another_sweep_is_not_counted(tmp_path: Path) -> None:
    # a run file of the same key but another seed (what mixing two writers left behind)
    other, out = tmp_path / "other", tmp_path / "out"
    run_sweep(SMALL, other, executor="serial", overrides=["seed=12"])
    run_sweep(SMALL, out, executor="serial")
    mine = sorted((out / "runs").glob("*.parquet"))[0]
    seed = pq.read_table(mine).to_pylist()[0]["seed"]
    shutil.copyfile(other / "runs" / mine.name, mine)
    assert pq.read_table(mine).to_pylist()[0]["seed"] != seed
    outcome = run_sweep(SMALL, out, executor="serial")
    assert (outcome.ran, outcome.already_done) == (1, 3)
    assert pq.read_table(mine).to_pylist()[0]["seed"] == seed
    seeds = set(pd.read_parquet(out / "runs.parquet")["seed"])
    assert seed in seeds
    assert not seeds & set(pd.read_parquet(other / "runs.parquet")["seed"])


@pytest.mark.parametrize("kind", ["file", "device"])
def test_sweep_out_that_is_not_a_folder_is_refused(tmp_path: Path, kind: str) -> None:
    target = tmp_path / "f" if kind == "file" else Path("/dev/null")
    if kind == "file":
        target.write_text("mine")
    res = CliRunner().invoke(app, ["sweep", "--out", str(target), "--executor", "serial"])
    assert res.exit_code == 2, res.output
    assert "not a folder" in res.output
    if kind == "file":
        assert target.read_text() == "mine"
    else:
        assert target.is_char_device()


@pytest.mark.parametrize("stop_after", ["manifest.json", "sweep.yaml"])
def test_an_interrupt_while_the_folder_is_made_leaves_what_the_command_resumes(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, stop_after: str) -> None:
    # Ctrl-C between the folder's first files (audit, session 17: sweep.yaml and runs/ were
    # written before the manifest; the same command then refused the folder, even with
    # --overwrite, and the user had to delete it by hand)
    import dcsim.experiments.store as storemod

    real = storemod.atomic_write_bytes

    def interrupted(final: Path, data: bytes) -> None:
        real(final, data)
        if final.name == stop_after:
            raise KeyboardInterrupt

    out = tmp_path / "out"
    monkeypatch.setattr(storemod, "atomic_write_bytes", interrupted)
    with pytest.raises(KeyboardInterrupt):
        run_sweep(SMALL, out, executor="serial")
    monkeypatch.setattr(storemod, "atomic_write_bytes", real)
    outcome = run_sweep(SMALL, out, executor="serial")  # the same command, no --overwrite
    assert (outcome.ran, outcome.already_done) == (4, 0)
    assert (out / "sweep.yaml").is_file()
    assert len(pd.read_parquet(out / "runs.parquet")) == 4


def test_an_interrupt_while_the_tables_are_built_still_leaves_them(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # Ctrl-C right after the last run, while runs.parquet and summary.csv were being built:
    # exit 130 and no tables (session-17 sweep audit); now they are rebuilt on the way out
    import dcsim.experiments.sweep as sweepmod

    real = sweepmod.finalize
    calls = []

    def interrupted(*args: object, **kwargs: object) -> object:
        calls.append(1)
        if len(calls) == 1:  # the end-of-sweep rebuild
            raise KeyboardInterrupt
        return real(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(sweepmod, "finalize", interrupted)
    out = tmp_path / "out"
    with pytest.raises(KeyboardInterrupt):
        run_sweep(SMALL, out, executor="serial")
    assert len(calls) == 2
    assert len(pd.read_parquet(out / "runs.parquet")) == 4
    assert (out / "summary.csv").stat().st_size > 0


def test_runs_of_another_dcsim_version_are_not_resumed_into_one_summary(tmp_path: Path) -> None:
    # the same sweep resumed by another dcsim version mixed both versions' runs silently
    # (session-17 sweep audit); same config + seed + version is what makes numbers identical
    out = tmp_path / "out"
    run_sweep(SMALL, out, executor="serial")
    m = json.loads((out / "manifest.json").read_text())
    m["dcsim_version"] = "0.0.1"
    (out / "manifest.json").write_text(json.dumps(m))
    with pytest.raises(ConfigError, match=r"made by dcsim 0\.0\.1"):
        run_sweep(SMALL, out, executor="serial")
    outcome = run_sweep(SMALL, out, executor="serial", overwrite=True)
    assert (outcome.ran, outcome.already_done) == (4, 0)
    assert json.loads((out / "manifest.json").read_text())["dcsim_version"] != "0.0.1"

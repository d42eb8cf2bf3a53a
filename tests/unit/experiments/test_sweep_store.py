"""The results store: resume after SIGKILL, no duplicates, refusal of a changed sweep, errors."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow.parquet as pq
import pytest
import yaml
from sweep_helpers import fail_runs_with_count, tiny

from dcsim.errors import ConfigError
from dcsim.experiments.store import SweepStore
from dcsim.experiments.sweep import run_sweep

REPO = Path(__file__).resolve().parents[3]


def _stored(out: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted((out / "runs").glob("*.parquet"))}


def test_sigkill_mid_sweep_then_resume_loses_and_duplicates_nothing(tmp_path: Path) -> None:
    # 16 runs of ~0.1 s each (12 h at 1 min); the process is killed once 3 runs are stored.
    cfg = tiny({"grid": {"guests[0].count": [1, 2, 3, 4]}, "replications": 4},
               duration="12h", interval="1m")
    path = tmp_path / "slow.yaml"
    path.write_text(yaml.safe_dump(cfg, sort_keys=False), encoding="utf-8")
    out = tmp_path / "out"
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    proc = subprocess.Popen([sys.executable, "-m", "dcsim", "sweep", str(path), "--out", str(out),
                             "--executor", "serial", "--quiet"], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    # generous: on a loaded 2-core machine the subprocess's imports alone can take tens of seconds
    deadline = time.monotonic() + 600
    while time.monotonic() < deadline and proc.poll() is None:
        if (out / "runs").is_dir() and len(list((out / "runs").glob("*.parquet"))) >= 3:
            break
        time.sleep(0.005)
    assert proc.poll() is None, "the sweep ended before it could be killed"
    assert len(list((out / "runs").glob("*.parquet"))) >= 3, "no 3 runs stored in time"
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    before = _stored(out)
    assert 3 <= len(before) < 16
    for name in before:  # every stored run is a complete, readable file
        assert pq.read_table(out / "runs" / name).num_rows == 1

    outcome = run_sweep(path, out, executor="serial")
    assert outcome.already_done == len(before)
    assert outcome.ran == 16 - len(before)
    after = _stored(out)
    assert len(after) == 16
    assert all(after[name] == data for name, data in before.items())  # not run again
    runs = pd.read_parquet(out / "runs.parquet")
    assert len(runs) == 16
    assert not runs.duplicated(["point", "replication"]).any()
    assert set(runs["status"]) == {"ok"}
    assert not [p for p in (out / "runs").iterdir() if p.name.startswith(".")]
    again = run_sweep(path, out, executor="serial")  # nothing left to do
    assert (again.ran, again.already_done) == (0, 16)


def test_interrupt_keeps_finished_runs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import dcsim.experiments.executors as ex

    real = ex.execute
    calls = {"n": 0}

    def flaky(task: Any) -> dict[str, Any]:
        calls["n"] += 1
        if calls["n"] == 3:
            raise KeyboardInterrupt
        return real(task)

    monkeypatch.setattr(ex, "execute", flaky)
    cfg = tiny({"grid": {"guests[0].count": [1, 2]}, "replications": 2})
    out = tmp_path / "out"
    with pytest.raises(KeyboardInterrupt):
        run_sweep(cfg, out, executor="serial")
    assert len(_stored(out)) == 2
    assert len(pd.read_parquet(out / "runs.parquet")) == 2  # rebuilt on the way out
    monkeypatch.setattr(ex, "execute", real)
    assert run_sweep(cfg, out, executor="serial").ran == 2


def test_changed_sweep_is_refused_then_overwritten(tmp_path: Path) -> None:
    out = tmp_path / "out"
    run_sweep(tiny({"grid": {"guests[0].count": [1, 2]}}), out, executor="serial")
    changed = tiny({"grid": {"guests[0].count": [1, 3]}})
    with pytest.raises(ConfigError) as exc:
        run_sweep(changed, out, executor="serial")
    assert exc.value.issues[0].path == "--out"
    assert "different sweep" in exc.value.issues[0].message
    outcome = run_sweep(changed, out, executor="serial", overwrite=True)
    assert (outcome.ran, outcome.already_done) == (2, 0)
    assert sorted(pd.read_parquet(out / "runs.parquet")["guests[0].count"]) == [1, 3]


@pytest.mark.parametrize(("name", "make", "said"), [
    ("summary.csv", "dir", "is not a file dcsim wrote"),
    ("points.csv", "link", "is not a file dcsim wrote"),
    ("runs", "file", "is not the folder dcsim keeps there"),
    ("plots", "file", "is not the folder dcsim keeps there"),
])
@pytest.mark.parametrize("overwrite", [False, True])
def test_a_sweep_folder_with_foreign_things_under_its_names_is_refused_untouched(
        tmp_path: Path, name: str, make: str, said: str, overwrite: bool) -> None:
    # before: --overwrite deleted sweep.yaml, points.csv and runs.parquet, then stopped at a
    # folder named summary.csv (exit 1); a file named runs failed half-way ("File exists")
    out = tmp_path / "out"
    run_sweep(tiny({"grid": {"guests[0].count": [1, 2]}}), out, executor="serial")
    target = out / name
    if target.is_dir():
        import shutil

        shutil.rmtree(target)
    else:
        target.unlink(missing_ok=True)
    if make == "dir":
        target.mkdir()
        (target / "mine.txt").write_text("mine")
    elif make == "link":
        (tmp_path / "elsewhere.csv").write_text("mine")
        target.symlink_to(tmp_path / "elsewhere.csv")
    else:
        target.write_text("mine")
    before = sorted(str(p.relative_to(out)) for p in out.rglob("*"))
    changed = tiny({"grid": {"guests[0].count": [1, 3]}})
    with pytest.raises(ConfigError) as exc:
        run_sweep(changed, out, executor="serial", overwrite=overwrite)
    [issue] = exc.value.issues
    assert issue.path == "--out"
    assert issue.message.startswith(f"{target} {said}")
    assert sorted(str(p.relative_to(out)) for p in out.rglob("*")) == before  # nothing deleted
    if make == "link":
        assert (tmp_path / "elsewhere.csv").read_text() == "mine"


def test_foreign_folder_is_refused(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("mine")
    with pytest.raises(ConfigError, match="not a dcsim sweep folder"):
        SweepStore.open(tmp_path, {"sweep_hash": "x"})


def test_failing_run_is_recorded_and_retried(tmp_path: Path,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    import dcsim.api

    real = fail_runs_with_count(monkeypatch, 2)
    cfg = tiny({"grid": {"guests[0].count": [1, 2, 3]}})
    out = tmp_path / "out"
    outcome = run_sweep(cfg, out, executor="serial")
    assert (outcome.ran, outcome.errors) == (3, 1)
    runs = pd.read_parquet(out / "runs.parquet")
    assert list(runs["status"]) == ["ok", "error", "ok"]
    assert "RuntimeError: boom" in runs["error"][1]
    assert pd.isna(runs["energy_it_kwh"][1])
    summary = pd.read_csv(out / "summary.csv")
    assert set(summary[summary["point"] == 1]["n"]) == {0}
    assert run_sweep(cfg, out, executor="serial").ran == 0  # errors are kept by default
    monkeypatch.setattr(dcsim.api, "run", real)
    retried = run_sweep(cfg, out, executor="serial", retry_errors=True)
    assert (retried.ran, retried.errors) == (1, 0)
    assert list(pd.read_parquet(out / "runs.parquet")["status"]) == ["ok"] * 3


def test_runs_table_columns(tmp_path: Path) -> None:
    out = tmp_path / "out"
    run_sweep(tiny({"grid": {"guests[0].count": [1, 2]}, "replications": 2}), out,
              executor="serial")
    runs = pd.read_parquet(out / "runs.parquet")
    cols = list(runs.columns)
    assert cols[:5] == ["point", "point_id", "replication", "seed", "guests[0].count"]
    for col in ("energy_it_kwh", "unmet_fraction", "status", "error", "run_wall_s", "wall_s",
                "scenario_id", "config_hash", "dcsim_version"):
        assert col in cols
    assert runs["scenario_id"].nunique() == 4  # seed differs per replication
    assert runs["config_hash"].nunique() == 2  # equal across replications
    for name in ("manifest.json", "sweep.yaml", "points.csv", "summary.csv"):
        assert (out / name).stat().st_size > 0


def test_a_run_file_holds_the_bytes_pyarrow_writes_to_a_path(tmp_path: Path) -> None:
    # append encodes in memory (parquet_bytes) and writes atomically: the same file, byte for
    # byte, as pq.write_table to a path with page checksums and without statistics,
    # dictionaries or compression (spelled out here, not read from RUN_FILE_OPTIONS); NaN
    # stored as null, as before
    import pyarrow as pa
    import pyarrow.parquet as pq

    from dcsim.experiments.store import SweepStore, parquet_bytes

    store = SweepStore.open(tmp_path / "s", {"kind": "dcsim-sweep", "store_version": 1,
                                             "sweep_hash": "h"})
    row = {"key": "p0000-ab-rep0", "point": 0, "point_id": "p0000-ab", "replication": 0,
           "seed": 12345678901234, "energy_kwh": 1.25, "sla": float("nan"), "error": None,
           "status": "ok", "ok": True, "mode": "kvm", "params": 3}
    stored: dict[str, dict] = {}
    try:
        final = store.append(row, stored)
    finally:
        store.close()
    table = pa.Table.from_pylist([{**row, "sla": None}])
    pq.write_table(table, tmp_path / "ref.parquet", write_page_checksum=True,
                   write_statistics=False, use_dictionary=False, compression="NONE")
    assert final.read_bytes() == (tmp_path / "ref.parquet").read_bytes()
    assert pq.read_table(final).to_pylist() == [{**row, "sla": None}]
    assert parquet_bytes(table) == final.read_bytes()
    assert stored["p0000-ab-rep0"] == {**row, "sla": None}
    assert not list(final.parent.glob(".*tmp*"))  # no temporary file left

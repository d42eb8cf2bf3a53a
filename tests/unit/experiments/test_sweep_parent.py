"""The sweep's parent process: what it imports before the first runs, the tables it rebuilds from
the rows it holds, and the summary's per-point slicing, each checked against the slow way."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from sweep_helpers import fail_runs_with_count, tiny

import dcsim.experiments.sweep as sweep_mod
from dcsim.experiments.executors import ProcessExecutor, RunTask, SerialExecutor, make_executor
from dcsim.experiments.stats import describe, metric_columns, summarize
from dcsim.experiments.store import SweepStore, done_keys
from dcsim.experiments.sweep import plan_sweep, run_sweep, tasks_of

REPO = Path(__file__).resolve().parents[3]


def _fresh(code: str) -> str:
    """The last line ``code`` prints in a fresh interpreter of this tree."""
    out = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True,
                         check=True, env={"PYTHONPATH": str(REPO), "PATH": ""})
    return out.stdout.strip().splitlines()[-1]


# ---------------------------------------------------------------- imports of the parent


def test_importing_the_sweep_modules_imports_neither_pandas_nor_pyarrow() -> None:
    code = ("import sys, json\nimport dcsim.experiments.sweep, dcsim.experiments.store\n"
            "import dcsim.experiments.executors\n"
            "print(json.dumps([m for m in ('pandas', 'pyarrow') if m in sys.modules]))")
    assert json.loads(_fresh(code)) == []


def test_processes_sweep_hands_out_its_first_runs_before_importing_pandas(
        tmp_path: Path) -> None:
    # the first submitted run is the moment the workers start working; pandas (~0.3 s) comes
    # after, while they run
    cfg = tmp_path / "cfg.json"
    cfg.write_text(json.dumps(tiny({"grid": {"guests[0].count": [1, 2]}}, duration="30m")))
    code = (
        "import json, sys\n"
        "import concurrent.futures.process as p\n"
        "seen = []\n"
        "real = p.ProcessPoolExecutor.submit\n"
        "def submit(self, fn, *a, **k):\n"
        "    seen.append((fn.__name__, 'pandas' in sys.modules, 'pyarrow' in sys.modules))\n"
        "    return real(self, fn, *a, **k)\n"
        "p.ProcessPoolExecutor.submit = submit\n"
        "from dcsim.experiments.sweep import run_sweep\n"
        f"o = run_sweep(json.load(open({str(cfg)!r})), {str(tmp_path / 'out')!r}, "
        "executor='processes', workers=2)\n"
        "assert o.ran == 2 and isinstance(o.runs, __import__('pandas').DataFrame)\n"
        "print(json.dumps(seen))")
    seen = json.loads(_fresh(code))
    first = next(s for s in seen if s[0] == "execute")
    assert first == ["execute", False, False]
    assert (tmp_path / "out" / "points.csv").is_file()


@pytest.mark.parametrize(("replications", "early"), [(2, True), (1, False)])
def test_replicated_sweeps_load_the_interval_quantiles_while_the_runs_run(
        tmp_path: Path, replications: int, early: bool) -> None:
    # scipy.special (~0.15 s) is what the summary's intervals need: imported in prepare(), while
    # the workers run, instead of after the last run; not at all without replications
    cfg = tmp_path / "cfg.json"
    cfg.write_text(json.dumps(tiny({"grid": {"guests[0].count": [1, 2]},
                                    "replications": replications}, duration="30m")))
    code = (
        "import json, sys\n"
        "import dcsim.experiments.sweep as S\n"
        "seen = {}\n"
        "real = S.finalize\n"
        "def finalize(*a, **k):\n"
        "    seen.setdefault('at_finalize', 'scipy.special' in sys.modules)\n"
        "    return real(*a, **k)\n"
        "S.finalize = finalize\n"
        f"o = S.run_sweep(json.load(open({str(cfg)!r})), {str(tmp_path / 'out')!r}, "
        "executor='processes', workers=2)\n"
        "seen['ci'] = bool(o.summary['ci95'].notna().any())\n"
        "print(json.dumps(seen))")
    seen = json.loads(_fresh(code))
    assert seen == {"at_finalize": early, "ci": early}


@pytest.mark.parametrize(("executor", "longest_first"), [("serial", False),
                                                         ("processes", True)])
def test_a_parallel_sweep_hands_out_its_costliest_runs_first(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, executor: str,
        longest_first: bool) -> None:
    handed: list[str] = []

    class Recording(SerialExecutor):  # runs here, in the order it is handed the runs
        def __init__(self, name: str) -> None:
            super().__init__()
            self.name = name

        def run(self, tasks: Any, while_waiting: Any = None) -> Any:
            tasks = list(tasks)
            handed.extend(t.key for t in tasks)
            return super().run(tasks, while_waiting)

    monkeypatch.setattr(sweep_mod, "make_executor", lambda *a: Recording(executor))
    cfg = tiny({"grid": {"guests[0].count": [1, 3]}}, duration="30m")
    out = run_sweep(cfg, tmp_path / "out", executor=executor)
    ids = [p.point_id for p in out.plan.points]
    assert handed == ([f"{ids[1]}-rep0", f"{ids[0]}-rep0"] if longest_first
                      else [f"{ids[0]}-rep0", f"{ids[1]}-rep0"])
    assert out.runs["point_id"].tolist() == ids  # stored in plan order either way


# ---------------------------------------------------------------- while_waiting


def _tasks(n: int = 3) -> list[RunTask]:
    return tasks_of(plan_sweep(tiny({"grid": {"guests[0].count": list(range(1, n + 1))}},
                                    duration="30m")))


def test_serial_executor_calls_while_waiting_once_before_the_first_run() -> None:
    events: list[str] = []
    ex = SerialExecutor()
    events.extend(row["key"][:5] for row in ex.run(_tasks(), lambda: events.append("waiting")))
    assert events == ["waiting", "p0000", "p0001", "p0002"]


def test_process_executor_calls_while_waiting_once_after_handing_out_runs() -> None:
    events: list[str] = []

    def waiting() -> None:
        assert ex._pool is not None
        events.append(f"waiting, {len(ex._pool._pending_work_items)} runs handed out")

    ex = ProcessExecutor(1)
    with ex:
        events.extend(row["key"][:5] for row in ex.run(_tasks(), waiting))
    assert events[0].startswith("waiting, ")
    assert events[0] != "waiting, 0 runs handed out"
    assert sorted(events[1:]) == ["p0000", "p0001", "p0002"]


@pytest.mark.parametrize("executor", ["processes", "dask"])
def test_executors_hand_out_more_runs_while_the_parent_prepares(
        monkeypatch: pytest.MonkeyPatch, executor: str) -> None:
    # the parent hands out nothing while it prepares (pandas, scipy: ~0.5 s): PREPARE_WINDOW runs
    # per worker go out first, so the worker does not run dry; then WINDOW per worker at a time
    import dcsim.experiments.executors as executors

    if executor == "dask":
        pytest.importorskip("distributed")
    monkeypatch.setattr(executors, "PREPARE_WINDOW", 3)
    monkeypatch.setattr(executors, "WINDOW", 2)
    ex = make_executor(executor, 1)
    handed: list[Any] = []  # the runs' futures, in the order handed out
    in_flight_at_submit: list[int] = []  # runs handed out but not finished, at each later one
    seen: dict[str, int] = {}

    def waiting() -> None:
        seen["handed out"] = len(handed)
        deadline = time.monotonic() + 120
        while not all(f.done() for f in handed) and time.monotonic() < deadline:
            time.sleep(0.01)  # the worker keeps running while we wait
        seen["finished"] = sum(f.done() for f in handed)
        in_flight_at_submit.clear()  # from here on, the steady window

    with ex:
        owner: Any = ex._pool if executor == "processes" else ex._client  # type: ignore[union-attr]
        real = owner.submit

        def submit(fn: Any, *a: Any, **k: Any) -> Any:
            in_flight_at_submit.append(sum(not f.done() for f in handed))
            fut = real(fn, *a, **k)
            handed.append(fut)
            return fut

        monkeypatch.setattr(owner, "submit", submit)
        keys = [row["key"][:5] for row in ex.run(_tasks(7), waiting)]
    assert seen == {"handed out": 3, "finished": 3}
    assert sorted(keys) == [f"p{i:04d}" for i in range(7)]
    assert in_flight_at_submit
    assert max(in_flight_at_submit) == 1  # WINDOW - 1 before each


def test_interrupted_before_the_points_were_written_still_writes_them(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    real = sweep_mod.points_table
    calls = {"n": 0}

    def interrupted_once(plan: Any) -> pd.DataFrame:
        calls["n"] += 1
        if calls["n"] == 1:
            raise KeyboardInterrupt
        return real(plan)

    monkeypatch.setattr(sweep_mod, "points_table", interrupted_once)
    out = tmp_path / "out"
    with pytest.raises(KeyboardInterrupt):
        run_sweep(tiny({"grid": {"guests[0].count": [1, 2]}}, duration="30m"), out,
                  executor="serial")
    assert pd.read_csv(out / "points.csv")["guests[0].count"].tolist() == [1, 2]
    assert (out / "runs.parquet").is_file()
    assert (out / "summary.csv").is_file()


def test_runs_finished_while_preparing_are_stored_when_interrupted(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # Ctrl-C while the parent writes points.csv (the first runs are out): the runs that finished
    # meanwhile are stored on the way out, like any run that finished before the interrupt
    ex = ProcessExecutor(1)
    monkeypatch.setattr(sweep_mod, "make_executor", lambda *a, **k: ex)
    real = sweep_mod.points_table
    calls = {"n": 0}

    def interrupted_once_two_runs_done(plan: Any) -> pd.DataFrame:
        calls["n"] += 1
        if calls["n"] == 1:
            assert ex._pool is not None
            deadline = time.monotonic() + 300
            while len(ex._pool._pending_work_items) > 1 and time.monotonic() < deadline:
                time.sleep(0.01)  # 3 runs handed out; wait for two to finish
            raise KeyboardInterrupt
        return real(plan)

    monkeypatch.setattr(sweep_mod, "points_table", interrupted_once_two_runs_done)
    cfg = tiny({"grid": {"guests[0].count": [1, 2, 3]}}, duration="30m")
    out = tmp_path / "out"
    with pytest.raises(KeyboardInterrupt):
        run_sweep(cfg, out, executor="processes", workers=1)
    stored = len(list((out / "runs").glob("*.parquet")))
    assert stored >= 2
    assert len(pd.read_parquet(out / "runs.parquet")) == stored
    monkeypatch.setattr(sweep_mod, "points_table", real)
    monkeypatch.setattr(sweep_mod, "make_executor", make_executor)
    assert run_sweep(cfg, out, executor="serial").ran == 3 - stored


def test_interrupt_after_a_run_file_landed_still_counts_that_run(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # SIGTERM (here: Ctrl-C) inside SweepStore.append, after the second run's file is in place
    # but before its row is kept in memory: runs.parquet, rebuilt on the way out, must hold both
    import dcsim.experiments.store as store_mod

    real = store_mod.atomic_write_bytes
    calls = {"n": 0}

    def interrupted_after_second_file(final: Path, data: bytes) -> None:
        real(final, data)
        if final.parent.name == "runs":
            calls["n"] += 1
            if calls["n"] == 2:
                raise KeyboardInterrupt

    monkeypatch.setattr(store_mod, "atomic_write_bytes", interrupted_after_second_file)
    cfg = tiny({"grid": {"guests[0].count": [1, 2, 3]}}, duration="30m")
    out = tmp_path / "out"
    with pytest.raises(KeyboardInterrupt):
        run_sweep(cfg, out, executor="serial")
    assert len(list((out / "runs").glob("*.parquet"))) == 2
    runs = pd.read_parquet(out / "runs.parquet")
    assert sorted(runs["guests[0].count"]) == [1, 2]
    monkeypatch.setattr(store_mod, "atomic_write_bytes", real)
    assert run_sweep(cfg, out, executor="serial").ran == 1


def test_nothing_left_to_run_still_rewrites_points_and_tables(tmp_path: Path) -> None:
    cfg = tiny({"grid": {"guests[0].count": [1, 2]}}, duration="30m")
    out = tmp_path / "out"
    run_sweep(cfg, out, executor="serial")
    for name in ("points.csv", "runs.parquet", "summary.csv"):
        (out / name).unlink()
    again = run_sweep(cfg, out, executor="processes", workers=1)
    assert (again.ran, again.already_done) == (0, 2)
    for name in ("points.csv", "runs.parquet", "summary.csv"):
        assert (out / name).is_file()
    assert len(again.runs) == 2


# ---------------------------------------------------------------- tables from memory


def _odd_rows() -> list[dict[str, Any]]:
    """Rows with what a run file can hold: NaN, None, numpy scalars, lists, bools, errors."""
    base = {"point": 0, "point_id": "p0000-aa", "seed": 11, "config_hash": "h0",
            "status": "ok", "error": None, "run_wall_s": 0.5, "dcsim_version": "x"}
    return [
        {**base, "key": "p0001-bb-rep0", "point": 1, "point_id": "p0001-bb", "replication": 0,
         "mix": "auto", "energy": np.float64(2.5), "count": np.int64(3), "flag": True,
         "nan": float("nan"), "series": [1.0, 2.0], "pair": (1, 2)},
        {**base, "key": "p0000-aa-rep1", "replication": 1, "mix": 1, "energy": 1.25,
         "count": 4, "flag": False, "nan": 0.0, "series": [3.0], "pair": [3]},
        {**base, "key": "p0000-aa-rep0", "replication": 0, "mix": 2.5, "status": "error",
         "error": "Traceback: boom", "energy": None, "count": None, "flag": None},
        {**base, "key": "p0001-bb-rep10", "point": 1, "point_id": "p0001-bb",
         "replication": 10, "mix": None, "energy": float("inf"), "count": -1, "flag": True,
         "nan": float("nan"), "series": []},
    ]


def test_rows_held_in_memory_give_the_tables_read_from_the_files(tmp_path: Path) -> None:
    store = SweepStore(tmp_path)
    store.runs_dir.mkdir()
    held: dict[str, dict[str, Any]] = {}
    for row in _odd_rows():
        store.append(row, held)
    assert held == store.stored_runs()  # each row as it reads back from its file
    assert store.finished() == set(held)
    assert store.finished(retry_errors=True) == set(held) - {"p0000-aa-rep0"}
    params = ["mix"]
    from_disk = store.read_runs(params)
    from_memory = store.read_runs(params, rows=held)
    pd.testing.assert_frame_equal(from_memory, from_disk, check_exact=True)
    assert list(from_memory["replication"]) == [0, 1, 0, 10]
    store.consolidate(params)
    disk_bytes = (tmp_path / "runs.parquet").read_bytes()
    store.consolidate(params, rows=held)
    assert (tmp_path / "runs.parquet").read_bytes() == disk_bytes
    # the plan's check applies to held rows as to files: another plan's seed is left out
    expected = {k: (11, "h0") for k in held}
    expected["p0000-aa-rep1"] = (12, "h0")
    pd.testing.assert_frame_equal(store.read_runs(params, expected, held),
                                  store.read_runs(params, expected), check_exact=True)
    assert len(store.read_runs(params, expected, held)) == 3


def test_done_keys_leaves_out_failed_runs_only_when_retrying() -> None:
    rows = {"a": {"status": "ok"}, "b": {"status": "error"}}
    assert done_keys(rows) == {"a", "b"}
    assert done_keys(rows, retry_errors=True) == {"a"}


def _disk_tables(out: Path, cfg: dict[str, Any]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """runs.parquet and summary.csv rebuilt from the run files (the slow way), as tables."""
    plan = plan_sweep(cfg)
    expected = {r.key: (r.seed, r.point.config_hash) for r in plan.runs()}
    params = list(plan.param_names)
    runs = SweepStore(out).consolidate(params, expected)
    summary = summarize(runs, params)
    SweepStore(out).write_summary(summary)
    return runs, summary


def test_resumed_sweep_tables_equal_the_files(tmp_path: Path,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    # first session: two runs fail; second: retried, one file corrupt and one gone -> every
    # table the sweep returns and writes equals what the files on disk give
    import dcsim.api

    cfg = tiny({"grid": {"guests[0].count": [1, 2, 3]}, "replications": 2}, duration="30m")
    out = tmp_path / "out"
    real = fail_runs_with_count(monkeypatch, 2)
    first = run_sweep(cfg, out, executor="serial")
    assert first.errors == 2
    monkeypatch.setattr(dcsim.api, "run", real)
    files = sorted((out / "runs").glob("*.parquet"))
    files[0].write_bytes(files[0].read_bytes()[:100])
    files[-1].unlink()
    outcome = run_sweep(cfg, out, executor="serial", retry_errors=True)
    assert (outcome.already_done, outcome.ran, outcome.errors) == (2, 4, 0)
    written = {name: (out / name).read_bytes() for name in ("runs.parquet", "summary.csv")}
    runs, summary = _disk_tables(out, cfg)
    pd.testing.assert_frame_equal(outcome.runs, runs, check_exact=True)
    pd.testing.assert_frame_equal(outcome.summary, summary, check_exact=True)
    assert written == {name: (out / name).read_bytes() for name in written}
    assert list(runs["status"]) == ["ok"] * 6


# ---------------------------------------------------------------- summary slicing


def _summarize_per_point(runs: pd.DataFrame, params: list[str],
                         metrics: list[str] | None = None) -> pd.DataFrame:
    """The reference: each point's rows copied out and converted on their own."""
    params = [p for p in params if p in runs.columns]
    metrics = metric_columns(runs, params) if metrics is None else metrics
    cols = ["point", "point_id", *params, "metric", "n", "mean", "std", "ci95", "n_failed"]
    records = []
    for _, grp in runs.groupby("point", sort=True):
        ok = grp[grp["status"] == "ok"] if "status" in grp else grp
        first = grp.iloc[0]
        head = {"point": int(first["point"]), "point_id": first["point_id"]}
        head.update({p: first[p] for p in params})
        for m in metrics:
            vals = (pd.to_numeric(ok[m], errors="coerce").to_numpy(dtype=np.float64)
                    if m in ok else np.array([]))
            n, mean, std, ci = describe(vals)
            records.append({**head, "metric": m, "n": n, "mean": mean, "std": std, "ci95": ci,
                            "n_failed": int(len(grp) - len(ok))})
    return pd.DataFrame.from_records(records, columns=cols)


def test_summary_slices_equal_each_point_on_its_own() -> None:
    rng = np.random.default_rng(5)
    n = 24
    runs = pd.DataFrame({
        "point": np.repeat([2, 0, 1], 8),  # points not in table order
        "point_id": np.repeat(["c", "a", "b"], 8),
        "replication": np.tile(np.arange(8), 3),
        "speed": np.repeat([1.5, 0.5, 1.0], 8),
        "status": rng.choice(["ok", "ok", "ok", "error"], n),
        "energy": rng.normal(10, 3, n) * 1e3,
        "hosts": rng.integers(0, 50, n),
        "ratio": np.where(rng.random(n) < 0.2, np.nan, rng.random(n)),
        "text_num": [str(v) if i % 5 else "x" for i, v in enumerate(rng.integers(0, 9, n))],
        "flag": rng.random(n) < 0.5,
    })
    runs = runs.sample(frac=1.0, random_state=3).reset_index(drop=True)  # rows interleaved
    for metrics in (None, ["energy", "hosts", "ratio", "text_num", "flag", "missing"]):
        got = summarize(runs, ["speed"], metrics)
        want = _summarize_per_point(runs, ["speed"], metrics)
        pd.testing.assert_frame_equal(got, want, check_exact=True)
        assert got.to_csv(index=False) == want.to_csv(index=False)
    assert set(summarize(runs, ["speed"])["n_failed"]) != {0}

"""The files a config reads are recorded: a run's manifest lists them with their SHA-256, and a
sweep's hash changes with their bytes (a sweep never resumes over changed inputs)."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import pytest

import dcsim
from dcsim.config.inputs import input_files
from dcsim.errors import ConfigError
from dcsim.experiments.sweep import plan_sweep, run_sweep
from tests.conftest import tiny_config

FAILURES = "host,fail_s,repair_s\n0,600,300\n"


def _with_failures(folder: Path, text: str = FAILURES) -> dict[str, Any]:
    (folder / "failures.csv").write_text(text)
    cfg = tiny_config()
    cfg["faults"] = {"hosts": {"trace": str(folder / "failures.csv")}}
    return cfg


def test_a_runs_manifest_lists_the_files_it_read(tmp_path: Path) -> None:
    res = dcsim.run(_with_failures(tmp_path))
    want = {"path": str(tmp_path / "failures.csv"), "bytes": len(FAILURES),
            "sha256": hashlib.sha256(FAILURES.encode()).hexdigest()}
    assert res.manifest["inputs"] == {"faults.hosts.trace": want}
    assert dcsim.run(tiny_config()).manifest["inputs"] == {}


def test_relative_names_folders_and_shipped_names(tmp_path: Path) -> None:
    # a folder's digest: SHA-256 over each file's relative name, a NUL and its own SHA-256, by
    # sorted name; its size is the files' total. "planetlab" is a shipped name (no such file)
    (tmp_path / "d" / "b").mkdir(parents=True)
    (tmp_path / "d" / "a.csv").write_bytes(b"1,2\n")
    (tmp_path / "d" / "b" / "c.csv").write_bytes(b"333\n")
    h = hashlib.sha256()
    for name, data in (("a.csv", b"1,2\n"), ("b/c.csv", b"333\n")):
        h.update(name.encode() + b"\0" + hashlib.sha256(data).digest())
    cfg = {"guests": [{"workload": {"kind": "trace", "name": "planetlab", "path": "d"}},
                      {"workload": {"kind": "trace", "path": "planetlab"}}],
           "datacenters": [{"carbon": {"file": None}}], "name": "path"}
    assert input_files(cfg, tmp_path) == {
        "guests[0].workload.path": {"path": "d", "bytes": 8, "sha256": h.hexdigest()}}


def test_a_sweep_does_not_resume_over_changed_inputs(tmp_path: Path) -> None:
    cfg = _with_failures(tmp_path)
    cfg["duration"] = "1h"
    cfg["sweep"] = {"grid": {"placement.name": ["first_fit", "best_fit"]}}
    first = plan_sweep(cfg).sweep_hash
    assert plan_sweep(cfg).sweep_hash == first
    out = tmp_path / "sweep"
    run_sweep(cfg, out, executor="serial")
    (tmp_path / "failures.csv").write_text("host,fail_s,repair_s\n0,900,300\n")
    changed = plan_sweep(cfg)
    assert changed.sweep_hash != first
    with pytest.raises(ConfigError) as info:
        run_sweep(cfg, out, executor="serial")
    assert "a file it reads changed" in info.value.issues[0].message
    assert json.loads((out / "manifest.json").read_text())["sweep_hash"] == first


def test_a_sweep_without_input_files_keeps_its_hash() -> None:
    # the value before sweep hashes counted input files: old sweep folders still resume
    assert plan_sweep("configs/sweeps/consolidation_ratio.yaml").sweep_hash == "1a947e84f233"

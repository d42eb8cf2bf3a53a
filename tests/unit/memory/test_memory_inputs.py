"""Memory configs: bad input refused with its path (exit 2), and accounting that changes nothing
it should not (a memory model at mem_overcommit 1 leaves every other number as it was)."""

from __future__ import annotations

import copy
import math
from pathlib import Path
from typing import Any

import pytest
import yaml
from typer.testing import CliRunner

import dcsim
from dcsim.cli import app

ROOT = Path(__file__).resolve().parents[3]
DEFAULT = yaml.safe_load((ROOT / "dcsim" / "configs" / "default.yaml").read_text())


def _issues(cfg: dict[str, Any]) -> dict[str, str]:
    with pytest.raises(dcsim.ConfigError) as exc:
        dcsim.api._scenario(cfg, None)
    return {i.path: i.message for i in exc.value.issues}


def _with(**changes: Any) -> dict[str, Any]:
    cfg = copy.deepcopy(DEFAULT)
    for path, value in changes.items():
        node: Any = cfg
        keys = path.split(".")
        for k in keys[:-1]:
            node = node[int(k)] if k.isdigit() else node[k]
        node[keys[-1]] = value
    return cfg


def test_ratio_below_one_is_refused_with_its_path() -> None:
    assert "datacenters[0].hosts[0].mem_overcommit" in _issues(
        _with(**{"datacenters.0.hosts.0.mem_overcommit": 0.5}))


def test_sharing_fraction_outside_0_1_is_refused() -> None:
    cfg = _with(virtualization_profiles={"kvm": {"sharing_fraction": 1.0}})
    assert any(p.startswith("virtualization_profiles.kvm") for p in _issues(cfg))


def test_memory_trace_needs_a_trace_workload() -> None:
    msg = _issues(_with(**{"guests.0.memory": "trace"}))["guests[0].memory"]
    assert "trace workload" in msg


def test_jobs_is_not_a_memory_model() -> None:
    cfg = _with(**{"guests.0.memory": {"kind": "jobs", "count": 1, "length": 1000}})
    assert "guests[0].memory.kind" in _issues(cfg)


def test_memory_needs_dcsim_semantics() -> None:
    cfg = _with(**{"datacenters.0.hosts.0.mem_overcommit": 1.5},
                assumptions={"preset": "cloudsim-3.0.3"})
    assert "datacenters[0].hosts[0].mem_overcommit" in _issues(cfg)


def test_a_memory_column_above_the_allocation_is_refused(tmp_path: Path) -> None:
    # a generic trace whose memory column says 120 % of the guest's RAM
    (tmp_path / "t.csv").write_text("guest,time,cpu,memory\nvm0,0,0.5,0.5\nvm0,300,0.5,1.2\n")
    cfg = _with(**{"guests.0.memory": {"kind": "trace", "name": "csv", "path": "t.csv",
                                       "column": "memory"}})
    (tmp_path / "c.yaml").write_text(yaml.safe_dump(cfg))
    res = CliRunner().invoke(app, ["validate", str(tmp_path / "c.yaml")])
    assert res.exit_code == 2, res.output
    assert "memory" in res.output
    assert "Traceback" not in res.output


def test_cli_refuses_a_bad_ratio_with_exit_2(tmp_path: Path) -> None:
    cfg = _with(**{"datacenters.0.hosts.0.mem_overcommit": 0.5})
    (tmp_path / "c.yaml").write_text(yaml.safe_dump(cfg))
    res = CliRunner().invoke(app, ["run", str(tmp_path / "c.yaml"), "--out",
                                   str(tmp_path / "out")])
    assert res.exit_code == 2
    assert "mem_overcommit" in res.output
    assert "Traceback" not in res.output
    assert not (tmp_path / "out").exists()


def test_accounting_at_ratio_one_changes_no_other_number() -> None:
    # the default config with a working-set model: memory accounting runs (its keys appear),
    # nothing is short of RAM, so every other metric is the plain run's, bit for bit
    plain = dcsim.run(copy.deepcopy(DEFAULT)).summary
    cfg = _with(**{"guests.0.memory": {"kind": "uniform", "low": 0.2, "high": 0.9}})
    mem = dcsim.run(cfg).summary
    assert not math.isnan(mem["mem_active_gb_mean"])
    assert mem["mem_swapped_gb_mean"] == 0.0
    assert mem["unmet_memory_mi"] == 0.0
    for k, v in plain.items():
        if k in ("wall_s", "events") or k.startswith("mem_") or k.startswith("unmet_memory"):
            continue
        assert (v == mem[k]) or (v != v and mem[k] != mem[k]), k

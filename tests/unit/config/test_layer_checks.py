"""The checks other layers own run before anything is simulated, through every entry point.

``dcsim.config`` does not import the policies, workload readers, network or engine; their checks
run in ``dcsim.validate``. Each case below is refused by one of those layers; each entry point
(``dcsim validate``, ``dcsim run``, ``dcsim.load_config``, ``dcsim.run`` on a dict, a sweep)
must refuse it with the config path, exit code 2 on the CLI, and write nothing.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from typer.testing import CliRunner

import dcsim
from dcsim.cli import app
from dcsim.errors import ConfigError
from dcsim.experiments.sweep import plan_sweep
from tests.conftest import tiny_config

runner = CliRunner()


def _case(name: str, tmp_path: Path) -> tuple[dict[str, Any], str]:
    """A tiny config broken in the way ``name`` says, and the config path of the problem."""
    cfg = tiny_config()
    if name == "policies: placement name":
        cfg["placement"] = {"name": "best_fitt"}
        return cfg, "placement.name"
    if name == "policies: placement params":
        cfg["placement"] = {"name": "first_fit", "params": {"nope": 1}}
        return cfg, "placement.params.nope"
    if name == "policies: consolidation name":
        cfg["consolidation"] = {"policy": "thr-mmtt-0.8"}
        return cfg, "consolidation.policy"
    if name == "policies: baseline in default semantics":
        cfg["consolidation"] = {"policy": "dvfs"}
        return cfg, "consolidation.policy"
    if name == "workload: missing trace":
        cfg["guests"][0]["workload"] = {"kind": "trace", "path": str(tmp_path / "nope.csv")}
        return cfg, "guests[0].workload.path"
    if name == "network: odd fat-tree":
        cfg["network"] = {"topology": {"kind": "fat_tree", "k": 3}}
        return cfg, "network.topology.k"
    if name == "config.compat: interval":
        cfg.update(compat="cloudsim", interval="10m",
                   consolidation={"policy": "thr-mmt-0.8"})
        return cfg, "interval"
    if name == "engine.faults: missing failure trace":
        cfg["faults"] = {"hosts": {"trace": str(tmp_path / "nope.csv")}}
        return cfg, "faults.hosts.trace"
    raise AssertionError(name)


CASES = ["policies: placement name", "policies: placement params",
         "policies: consolidation name", "policies: baseline in default semantics",
         "workload: missing trace", "network: odd fat-tree", "config.compat: interval",
         "engine.faults: missing failure trace"]


def _paths(exc: ConfigError) -> list[str]:
    return [i.path for i in exc.issues]


@pytest.mark.parametrize("name", CASES)
def test_cli_validate_and_run_refuse(tmp_path: Path, name: str) -> None:
    cfg, path = _case(name, tmp_path)
    src = tmp_path / "cfg.yaml"
    src.write_text(yaml.safe_dump(cfg))
    res = runner.invoke(app, ["validate", str(src)])
    assert res.exit_code == 2, res.output
    assert path in res.output
    out = tmp_path / "out"
    res = runner.invoke(app, ["run", str(src), "--out", str(out)])
    assert res.exit_code == 2, res.output
    assert path in res.output
    assert not out.exists()


@pytest.mark.parametrize("name", CASES)
def test_api_refuses(tmp_path: Path, name: str) -> None:
    cfg, path = _case(name, tmp_path)
    src = tmp_path / "cfg.yaml"
    src.write_text(yaml.safe_dump(cfg))
    with pytest.raises(ConfigError) as exc:
        dcsim.load_config(src)
    assert path in _paths(exc.value)
    with pytest.raises(ConfigError) as exc:
        dcsim.run(cfg)
    assert path in _paths(exc.value)


@pytest.mark.parametrize("name", CASES)
def test_sweep_refuses_every_point(tmp_path: Path, name: str) -> None:
    cfg, path = _case(name, tmp_path)
    cfg["sweep"] = {"grid": {"guests[0].count": [1, 2]}}
    with pytest.raises(ConfigError) as exc:
        plan_sweep(cfg)
    assert sum(p == path for p in _paths(exc.value)) == 2  # one per point


def test_a_policy_typo_is_reported_with_schema_problems(tmp_path: Path) -> None:
    """A schema error does not hide the policy names the policy layer refuses."""
    cfg = tiny_config(placement={"name": "best_fitt"}, consolidation={"policy": "nope-mmt"})
    cfg["duration"] = "24 fortnights"
    with pytest.raises(ConfigError) as exc:
        dcsim.run(cfg)
    assert {"duration", "placement.name", "consolidation.policy"} <= set(_paths(exc.value))

"""`agents:` in a config: `dcsim run` hands its decisions to agent factories; refused moves are
counted; the study's helpers compute what they say."""

from __future__ import annotations

import json
import math
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np
import pytest

pytest.importorskip("gymnasium")

from typer.testing import CliRunner

import dcsim
import dcsim.rl
from dcsim.cli import app
from tests.conftest import load_script

ROOT = Path(__file__).resolve().parents[3]
DEFAULT = str(ROOT / "configs" / "default.yaml")
PLANETLAB = str(ROOT / "configs" / "planetlab.yaml")


def _diff(a: dict[str, Any], b: dict[str, Any]) -> list[str]:
    return [k for k in b if k != "wall_s" and repr(a[k]) != repr(b[k])]


def test_cli_run_with_the_policy_agent_writes_the_plain_runs_summary(tmp_path: Path) -> None:
    runner = CliRunner()
    common = [DEFAULT, "--set", "placement.name=best_fit", "--set", "guests[0].count=200", "-q"]
    res = runner.invoke(app, ["run", *common, "--set",
                              "agents.placement=dcsim.rl.agents:PolicyAgent",
                              "--out", str(tmp_path / "agent")])
    assert res.exit_code == 0, res.output
    res = runner.invoke(app, ["run", *common, "--out", str(tmp_path / "plain")])
    assert res.exit_code == 0, res.output
    a = json.loads((tmp_path / "agent" / "summary.json").read_text())
    b = json.loads((tmp_path / "plain" / "summary.json").read_text())
    assert [k for k in b if k != "wall_s" and a[k] != b[k] and a[k] == a[k]] == []


def test_consolidation_agents_in_dcsim_run() -> None:
    ov = ["duration=3h"]
    ref = dcsim.run(PLANETLAB, overrides=ov).summary
    same = dcsim.run(PLANETLAB, overrides=[
        *ov, "agents.consolidation=dcsim.rl.agents:PolicyAgent", "agents.max_moves=1000"]).summary
    assert ref["migrations"] > 0
    assert _diff(same, ref) == []
    none = dcsim.run(PLANETLAB, overrides=[
        *ov, "agents.consolidation=dcsim.rl.agents:NoOpAgent"]).summary
    assert none["migrations"] == 0
    assert none["energy_it_kwh"] > ref["energy_it_kwh"]


@pytest.mark.parametrize(("override", "message"), [
    ("agents.placement=nosuch_module_x:f", "cannot load 'nosuch_module_x:f'"),
    ("agents.placement=dcsim.rl.agents:Missing", "cannot load"),
    ("agents.placement=dcsim.rl:REWARD_METRICS", "is not callable"),
    ("agents.placement=no-colon", "expected 'package.module:callable'"),
    ("agents.consolidation=dcsim.rl.agents:NoOpAgent", "needs a consolidation: section"),
])
def test_bad_agents_are_refused_before_the_run(override: str, message: str) -> None:
    res = CliRunner().invoke(app, ["run", DEFAULT, "--set", override, "-q"])
    assert res.exit_code == 2
    assert message in res.output
    path = override.split("=")[0]
    assert path in res.output
    assert "Traceback" not in res.output


def _two_hosts() -> dict[str, Any]:
    """Two hosts; two 2 GiB guests that first_fit puts on host 0."""
    return {
        "name": "hand-cons", "seed": 1, "duration": "30m", "interval": "10m",
        "datacenters": [{"hosts": [{
            "count": 2, "cores": 8, "mips_per_core": 2000, "ram": "16GiB", "storage": "1TB",
            "power": {"kind": "linear", "idle": 50, "max": 150}, "virtualization": "kvm"}]}],
        "guests": [{"count": 2, "vcpus": 1, "mips": 1000, "ram": "2GiB", "disk": "10GB",
                    "boot": False, "workload": {"kind": "constant", "utilization": 0.5},
                    "arrival": {"kind": "at_start"}}],
        "placement": {"name": "first_fit"},
        "consolidation": {"policy": "thr-mmt-0.8", "underload": False},
    }


def test_moves_by_hand_refused_and_carried_out() -> None:
    env = dcsim.rl.ConsolidationEnv(_two_hosts(), max_moves=3, check_invariants=True)
    obs, info = env.reset()
    assert obs["guests"][:, 1].tolist() == [0, 0]  # both on host 0
    assert obs["movable"].tolist() == [1, 1]
    # guest 1 -> host 1 (fits: starts), guest 0 -> host 0 (its own host: refused), no move
    action = np.asarray([[1, 1], [0, 0], [2, 0]], dtype=np.int64)
    obs, _, done, _, info = env.step(action)
    assert info["refused"] == 1
    assert not done
    # ten minutes later the pre-copy of 2 GiB over 1 Gbit/s is long over
    assert obs["guests"][:, 1].tolist() == [0, 1]
    steps = 1
    while not done:  # steps at 0, 10 and 20 minutes
        obs, _, done, _, info = env.step(env.no_op())
        steps += 1
    assert steps == 3
    assert info["summary"]["migrations"] == 1
    assert info["refused"] == 1


def _study() -> ModuleType:
    return load_script(ROOT / "experiments" / "rl_consolidation" / "study.py", "rl_study")


def test_study_state_budget_and_confidence_interval_by_hand() -> None:
    study = _study()
    hosts = np.zeros((6, len(dcsim.rl.CONS_HOST_FEATURES)))
    hosts[:4, 4] = 1  # four awake
    hosts[:4, 5] = [3, 1, 2, 1]  # ... holding guests (active); hosts 4, 5 asleep and empty
    hosts[:4, 3] = [0.9, 0.3, 0.5, 0.3]  # mean utilisation 0.5 -> bin 1 (0.4 <= u < 0.6)
    hosts[0, 10] = 1  # one of four overloaded: 25 % > 5 % -> bin 3
    # 7 h -> block 1 of four 6-hour blocks: index (3 * 4 + 1) * 4 + 1 = 53
    assert study.state_of(hosts, 7 * 3600.0) == 53
    hosts[0, 10] = 0  # none overloaded -> bin 0: (0 * 4 + 1) * 4 + 1 = 5
    assert study.state_of(hosts, 7 * 3600.0) == 5
    plan = np.asarray([[5, 1], [6, 2], [7, 3]])
    assert study.budgeted(plan, 2, 99).tolist() == [[5, 1], [6, 2], [99, 3]]
    assert study.budgeted(plan, None, 99) is plan
    # mean 2, sd 1, t(0.975, 2) = 4.302653 -> half-width 4.302653 / sqrt(3) = 2.484138
    m, h = study.mean_ci([1.0, 2.0, 3.0])
    assert m == 2.0
    assert h == pytest.approx(2.484138, abs=1e-6)
    assert math.isnan(study.mean_ci([4.0])[1])


@pytest.mark.parametrize(("ref", "message"), [
    ("os:getcwd", "agents.placement: the factory 'os:getcwd' failed: TypeError"),
    ("s17agent:garbage", "agents.placement: the agent's action at t = 0 s: ActionError: "
                         "action 'garbage' is outside the action space"),
    ("s17agent:boom", "agents.placement: the agent raised at t = 0 s: RuntimeError: my bug"),
])
def test_an_agents_own_error_is_its_config_paths_not_dcsims(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, ref: str, message: str) -> None:
    # a factory that fails, an action outside the space, an agent that raises: these were
    # "internal error (a bug in dcsim)", exit 1, with no config path (session-17 input audit)
    (tmp_path / "s17agent.py").write_text(
        "def garbage(env):\n    return lambda obs, info: 'garbage'\n"
        "def boom(env):\n    def act(obs, info):\n        raise RuntimeError('my bug')\n"
        "    return act\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    out = tmp_path / "out"
    res = CliRunner().invoke(app, ["run", DEFAULT, "--set", "duration=1h", "--set",
                                   f"agents.placement={ref}", "--out", str(out), "-q"])
    assert res.exit_code == 2, res.output
    assert message in " ".join(res.output.split()), res.output
    assert not out.exists()

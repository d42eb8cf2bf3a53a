"""A field written in a config must change the result; where it cannot, it is refused.

``consolidation.history`` (utilisation values kept per host and guest) is read by detectors that
use the whole history (``mad``, ``iqr``) and by the ``mc`` selection; ``thr`` reads none, ``lr``
its own 10 newest, ``mmt``/``rs``/``mu`` none, and CloudSim's planner keeps its own 30 per VM.
The runs below confirm it (the same numbers for 12 and 30 values where it is refused, other
numbers where it is not), so that the refusal stays true if the engine changes. In a sweep such
a value is refused only where it changes nothing in every point.
"""

from __future__ import annotations

import copy
import dataclasses
from typing import Any

import pytest
import yaml

from dcsim.api import run
from dcsim.errors import ConfigError
from dcsim.validate import parse_config
from tests.conftest import REPO


def _default(policy: str, **consolidation: Any) -> dict[str, Any]:
    """The shipped default config at half its size, for 2 h, with a consolidation section."""
    cfg = yaml.safe_load((REPO / "configs" / "default.yaml").read_text())
    cfg["duration"] = "2h"
    for group in [*cfg["datacenters"][0]["hosts"], *cfg["guests"]]:
        group["count"] //= 2
    cfg["consolidation"] = {"policy": policy, **consolidation}
    return cfg


def _numbers(cfg: dict[str, Any], history: int) -> tuple[float, int]:
    """Energy and migrations of ``cfg`` run with ``history`` values kept, validation bypassed
    for the history alone (the config is checked without it)."""
    sc = parse_config(cfg)
    cons = sc.config.consolidation
    assert cons is not None
    config = sc.config.model_copy(update={"consolidation": cons.model_copy(
        update={"history": history})})
    s = run(dataclasses.replace(sc, config=config)).summary
    return s["energy_it_kwh"], s["migrations"]


@pytest.mark.parametrize("policy", ["thr-mmt-0.8", "lr-mmt-1.2", "lr-mu-1.2"])
def test_history_with_a_policy_that_reads_none_is_refused(policy: str) -> None:
    with pytest.raises(ConfigError) as err:
        parse_config(_default(policy, history=30))
    [issue] = err.value.issues
    assert issue.path == "consolidation.history"
    assert issue.message.startswith(f"changes nothing with policy {policy!r}: its detector reads ")
    # and it does change nothing: the same run with 12 and 30 values kept (130-910 migrations)
    cfg = _default(policy)
    assert _numbers(cfg, 12) == _numbers(cfg, 30)


def test_history_with_a_detector_that_reads_it_is_accepted_and_changes_the_run() -> None:
    parse_config(_default("mad-mmt-2.5", history=30))
    parse_config(_default("lr-mc-1.2", history=30))  # mc reads it (when it can regress)
    parse_config(_default("thr-mmt-0.8"))  # the default, not written: nothing to refuse
    # written as the default, as a results folder's config.yaml writes every field: accepted
    sc = parse_config(_default("thr-mmt-0.8", history=12))
    parse_config(sc.config.model_dump(mode="json"))
    cfg = _default("mad-mmt-2.5")
    assert _numbers(cfg, 12) != _numbers(cfg, 30)  # 251 and 688 migrations


def test_history_under_cloudsims_planner_is_refused() -> None:
    cfg = yaml.safe_load((REPO / "configs" / "planetlab-cloudsim.yaml").read_text())
    written = copy.deepcopy(cfg)
    written["consolidation"]["history"] = 30
    with pytest.raises(ConfigError) as err:
        parse_config(written)
    assert [i.path for i in err.value.issues] == ["consolidation.history"]
    assert "keeps its own 30 utilisation values per VM" in err.value.issues[0].message


def test_sleep_settings_without_sleep_are_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    """With ``sleep_idle_hosts: false`` no host sleeps, so neither a wake latency nor a sleep
    power changes anything (the two-host tiny config: host 1 stays empty all run)."""
    import dcsim.validate
    from tests.conftest import tiny_config

    def config(sleep: bool, sleep_power: str, wake: str = "0s") -> dict[str, Any]:
        c = tiny_config(power_management={"sleep_idle_hosts": sleep, "wake_latency": wake})
        c["datacenters"][0]["hosts"][0]["sleep_power"] = sleep_power
        return c

    with pytest.raises(ConfigError) as err:
        parse_config(config(False, "5W", "60s"))
    why = "changes nothing: no host sleeps (power_management.sleep_idle_hosts is false)"
    assert [(i.path, i.message) for i in err.value.issues] == [
        ("power_management.wake_latency", why), ("datacenters[0].hosts[0].sleep_power", why)]
    parse_config(config(True, "5W", "60s"))  # accepted with sleep

    def energy(sleep: bool, sleep_power: str) -> float:
        return float(run(parse_config(config(sleep, sleep_power))).summary["energy_it_kwh"])

    assert energy(True, "5W") != energy(True, "50W")  # with sleep it is read
    monkeypatch.setattr(dcsim.validate, "_sleep_issues", lambda cfg: [])  # the refusal off
    assert energy(False, "5W") == energy(False, "50W")  # without: it changes nothing


def test_a_sweep_keeps_a_value_that_another_point_uses(tmp_path: Any) -> None:
    """Sweeping sleep on and off with a wake latency in the base config is a fair question:
    the latency changes the sleeping points. Refused only where it changes nothing in every
    point; the runs of the kept sweep run (the workers' check allows it too)."""
    from dcsim.experiments.sweep import plan_sweep, run_sweep
    from tests.conftest import tiny_config

    def swept(grid: dict[str, list[Any]], sleep: bool) -> dict[str, Any]:
        return tiny_config(power_management={"sleep_idle_hosts": sleep, "wake_latency": "60s"},
                           sweep={"grid": grid})

    on_off = swept({"power_management.sleep_idle_hosts": [True, False]}, True)
    assert len(plan_sweep(on_off).points) == 2
    out = run_sweep(on_off, tmp_path / "s", executor="serial")
    assert list(out.runs["status"]) == ["ok", "ok"]

    kinds = tiny_config(network={"topology": {"kind": "fat_tree", "k": 8, "leaves": 2,
                                              "spines": 1, "hosts_per_leaf": 1}},
                        sweep={"grid": {"network.topology.kind": ["fat_tree", "leaf_spine"]}})
    assert [p.config_hash != "" for p in plan_sweep(kinds).points] == [True, True]

    with pytest.raises(ConfigError) as err:  # no point sleeps: the latency changes nothing
        plan_sweep(swept({"placement.name": ["first_fit", "best_fit"]}, False))
    assert [(i.path, i.message) for i in err.value.issues] == [(
        "power_management.wake_latency", "changes nothing: no host sleeps (power_management."
        "sleep_idle_hosts is false) [in all 2 points of the sweep]")]
    with pytest.raises(ConfigError) as err:  # one point: said as for any point
        plan_sweep(tiny_config(power_management={"sleep_idle_hosts": False,
                                                 "wake_latency": "60s"}))
    [issue] = err.value.issues
    assert issue.path == "power_management.wake_latency"
    assert issue.message.endswith(": no parameters]")

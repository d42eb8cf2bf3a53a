"""A value written in a config should change the result; where it cannot, dcsim says so.

Not an error: one ``--set`` makes such a value inert (sleep off in a config with a wake latency,
another policy in a config with a history length), so the run goes on with an
``InertWarning`` per value (``warning: PATH: ...`` on the command line) and the value in
``Scenario.inert``. A sweep says it once, for a value that changes nothing in any of its points.

``consolidation.history`` (utilisation values kept per host and guest) is read by detectors that
use the whole history (``mad``, ``iqr``) and by the ``mc`` selection; ``thr`` reads none, ``lr``
its own 10 newest, ``mmt``/``rs``/``mu`` none, and CloudSim's planner keeps its own 30 per VM.
With ``sleep_idle_hosts: false`` no host sleeps, so a wake latency and a sleep power are never
used. The runs below confirm each (the same numbers where dcsim says the value changes nothing,
other numbers where it does not), so that the warning stays true if the engine changes.
"""

from __future__ import annotations

import copy
import warnings
from pathlib import Path
from typing import Any

import pytest
import yaml

from dcsim.api import run
from dcsim.errors import Inert, InertWarning
from dcsim.validate import parse_config
from tests.conftest import REPO, tiny_config


def _default(policy: str, **consolidation: Any) -> dict[str, Any]:
    """The shipped default config at half its size, for 2 h, with a consolidation section."""
    cfg = yaml.safe_load((REPO / "configs" / "default.yaml").read_text())
    cfg["duration"] = "2h"
    for group in [*cfg["datacenters"][0]["hosts"], *cfg["guests"]]:
        group["count"] //= 2
    cfg["consolidation"] = {"policy": policy, **consolidation}
    return cfg


def _quiet(cfg: dict[str, Any]) -> Any:
    """``parse_config(cfg)`` with its warnings kept out of the way."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", InertWarning)
        return parse_config(cfg)


def _numbers(cfg: dict[str, Any]) -> tuple[float, int]:
    s = run(_quiet(cfg)).summary
    return s["energy_it_kwh"], s["migrations"]


def _said(cfg: dict[str, Any]) -> list[tuple[str, str]]:
    """(path, message) of each value that changes nothing, as warned and as kept."""
    with pytest.warns(InertWarning) as record:
        sc = parse_config(cfg)
    said = [(i.path, i.message) for i in sc.inert]
    assert [str(w.message) for w in record if w.category is InertWarning] == [
        f"{p}: {m}" for p, m in said]
    assert all(isinstance(i, Inert) for i in sc.inert)
    return said


def _silent(cfg: dict[str, Any]) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error", InertWarning)
        assert parse_config(cfg).inert == ()


@pytest.mark.parametrize("policy", ["thr-mmt-0.8", "lr-mmt-1.2", "lr-mu-1.2"])
def test_history_with_a_policy_that_reads_none_is_said(policy: str) -> None:
    [(path, message)] = _said(_default(policy, history=30))
    assert path == "consolidation.history"
    assert message.startswith(f"changes nothing with policy {policy!r}: its detector reads ")
    # and it does change nothing: the same run with 12 and 30 values kept (130-910 migrations)
    assert _numbers(_default(policy)) == _numbers(_default(policy, history=30))


def test_history_with_a_detector_that_reads_it_is_silent_and_changes_the_run() -> None:
    _silent(_default("mad-mmt-2.5", history=30))
    _silent(_default("lr-mc-1.2", history=30))  # mc reads it (when it can regress)
    _silent(_default("thr-mmt-0.8"))  # the default, not written: nothing to say
    # written as the default, as a results folder's config.yaml writes every field: silent
    _silent(parse_config(_default("thr-mmt-0.8", history=12)).config.model_dump(mode="json"))
    assert _numbers(_default("mad-mmt-2.5")) != _numbers(_default("mad-mmt-2.5", history=30))


def test_history_under_cloudsims_planner_is_said() -> None:
    cfg = yaml.safe_load((REPO / "configs" / "planetlab-cloudsim.yaml").read_text())
    written = copy.deepcopy(cfg)
    written["consolidation"]["history"] = 30
    [(path, message)] = _said(written)
    assert path == "consolidation.history"
    assert "keeps its own 30 utilisation values per VM" in message


def _sleepy(sleep: bool, sleep_power: str, wake: str = "0s") -> dict[str, Any]:
    c = tiny_config(power_management={"sleep_idle_hosts": sleep, "wake_latency": wake})
    c["datacenters"][0]["hosts"][0]["sleep_power"] = sleep_power
    return c


def test_sleep_settings_without_sleep_are_said() -> None:
    """The two-host tiny config: host 1 stays empty all run."""
    why = "changes nothing: no host sleeps (power_management.sleep_idle_hosts is false)"
    assert _said(_sleepy(False, "5W", "60s")) == [
        ("power_management.wake_latency", why), ("datacenters[0].hosts[0].sleep_power", why)]
    _silent(_sleepy(True, "5W", "60s"))

    def energy(sleep: bool, sleep_power: str) -> float:
        return float(_numbers(_sleepy(sleep, sleep_power))[0])

    assert energy(True, "5W") != energy(True, "50W")  # with sleep it is read
    assert energy(False, "5W") == energy(False, "50W")  # without: it changes nothing


def test_a_sweep_says_a_value_only_if_no_point_uses_it(tmp_path: Path) -> None:
    """Sweeping sleep on and off with a wake latency in the base config is a fair question:
    the latency changes the sleeping points. Said once, and only where it changes nothing in
    every point; the runs go through the workers' check silently too."""
    from dcsim.experiments.sweep import plan_sweep, run_sweep

    def swept(grid: dict[str, list[Any]], sleep: bool) -> dict[str, Any]:
        return tiny_config(power_management={"sleep_idle_hosts": sleep, "wake_latency": "60s"},
                           sweep={"grid": grid})

    on_off = swept({"power_management.sleep_idle_hosts": [True, False]}, True)
    with warnings.catch_warnings():
        warnings.simplefilter("error", InertWarning)
        assert len(plan_sweep(on_off).points) == 2
        out = run_sweep(on_off, tmp_path / "s", executor="serial")
        kinds = tiny_config(network={"topology": {"kind": "fat_tree", "k": 8, "leaves": 2,
                                                  "spines": 1, "hosts_per_leaf": 1}},
                            sweep={"grid": {"network.topology.kind": ["fat_tree",
                                                                      "leaf_spine"]}})
        assert len(plan_sweep(kinds).points) == 2
    assert list(out.runs["status"]) == ["ok", "ok"]

    with pytest.warns(InertWarning) as record:  # no point sleeps: the latency changes nothing
        plan_sweep(swept({"placement.name": ["first_fit", "best_fit"]}, False))
    assert [str(w.message) for w in record] == [
        "power_management.wake_latency: changes nothing: no host sleeps (power_management."
        "sleep_idle_hosts is false) [in all 2 points of the sweep]"]
    with pytest.warns(InertWarning) as record:  # one point: said as for any point
        plan_sweep(tiny_config(power_management={"sleep_idle_hosts": False,
                                                 "wake_latency": "60s"}))
    [w] = record
    assert str(w.message).endswith(": no parameters]")


def test_the_command_line_prints_the_warning_and_runs(tmp_path: Path) -> None:
    """``dcsim run --set power_management.sleep_idle_hosts=false`` on a config with a wake
    latency: the one-flag what-if runs (exit 0), with the warning on stderr."""
    from typer.testing import CliRunner

    from dcsim.cli import app

    cfg = tmp_path / "c.yaml"
    cfg.write_text(yaml.safe_dump(_sleepy(True, "5W", "60s")))
    res = CliRunner().invoke(app, ["run", str(cfg), "-o", str(tmp_path / "out"), "-q",
                                   "--set", "power_management.sleep_idle_hosts=false"])
    assert res.exit_code == 0, res.output
    assert "warning: power_management.wake_latency: changes nothing" in res.output
    assert (tmp_path / "out" / "summary.json").is_file()


def test_a_clock_without_an_intensity_series_is_said() -> None:
    """``clock`` says which instant of a carbon intensity series t = 0 is; without a series
    (no ``carbon:``, or a constant intensity) it changes nothing."""
    def config(carbon: dict[str, Any] | None, start: str) -> dict[str, Any]:
        c = tiny_config(clock={"start": start})
        if carbon is not None:
            c["datacenters"][0]["carbon"] = carbon
        return c

    why = ("changes nothing: no data center has a carbon intensity series (the clock says "
           "which instant of a series t = 0 is)")
    assert _said(config(None, "2020-04-06 00:00")) == [("clock", why)]
    assert _said(config({"intensity": 300}, "2020-04-06 00:00")) == [("clock", why)]
    series = {"series": "de-2020-spring"}  # the shipped excerpt: 2020-04-06 to 2020-04-15
    _silent(config(series, "2020-04-06 00:00"))

    def summary(carbon: dict[str, Any], start: str) -> dict[str, Any]:
        s = run(_quiet(config(carbon, start))).summary
        return {k: None if isinstance(v, float) and v != v else v  # NaN: no such quantity
                for k, v in s.items() if k not in ("wall_s", "events")}

    constant = {"intensity": 300}
    assert summary(constant, "2020-04-06 00:00") == summary(constant, "2020-04-10 12:00")
    assert summary(series, "2020-04-06 00:00") != summary(series, "2020-04-10 12:00")

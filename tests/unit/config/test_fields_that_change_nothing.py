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


# ---------------------------------------------------------------- migration parameters ------

#: Values other than the defaults, for every parameter of a migration model that not every
#: model reads (dcsim.config.migration.READ_BY).
_OTHER = {"max_downtime": "1s", "max_rounds": 3, "max_traffic_factor": 1.2,
          "dirty_rate": "20MB/s", "working_set": 0.3, "dirty_scales_with_cpu": False,
          "checkpoint_rate": "100MB/s", "slowdown": 0.5, "resume_time": "2s"}

#: Where each model can run in the default config (checkpoint/restore: containers).
_PROFILE = {"precopy": "kvm", "postcopy": "kvm", "cold": "kvm", "checkpoint": "lxc",
            "cloudsim": "kvm"}


def _migrating(model: str, **migration: Any) -> dict[str, Any]:
    """The half default config for 2 h with thr-mmt-0.8 (118-910 migrations) and ``model``."""
    cfg = _default("thr-mmt-0.8", migration={"model": model, **migration})
    for group in cfg["datacenters"][0]["hosts"]:
        group["virtualization"] = _PROFILE[model]
    return cfg


def _summary(cfg: dict[str, Any]) -> dict[str, Any]:
    """Every summary number of a run (NaN as None, so that equal runs compare equal)."""
    s = run(_quiet(cfg)).summary
    return {k: None if isinstance(v, float) and v != v else v
            for k, v in s.items() if k != "wall_s"}


@pytest.mark.parametrize("model", sorted(_PROFILE))
def test_migration_parameters_a_model_does_not_read_are_said(model: str) -> None:
    from dcsim.config.migration import READ_BY, MigrationSpec

    fields = [f for f in MigrationSpec.model_fields if f in _OTHER]  # said in field order
    unread = [f for f in fields if model not in READ_BY[f]]
    read = [f for f in fields if model in READ_BY[f]]
    why = f"changes nothing with migration model {model!r}, which does not read it"
    # all of them at once: said one by one, and the run is the same as with the defaults
    everything = _migrating(model, **{f: _OTHER[f] for f in unread})
    assert _said(everything) == [(f"consolidation.migration.{f}", why) for f in unread]
    base = _summary(_migrating(model))
    assert base["migrations"] > 100
    assert _summary(everything) == base
    # those it reads are silent, and each changes the run (pre-copy's rounds once pages are
    # dirtied: see the next test)
    dirty = {"dirty_rate": _OTHER["dirty_rate"]} if model == "precopy" else {}
    ref = _summary(_migrating(model, **dirty))
    for f in read:
        cfg = _migrating(model, **{**dirty, f: _OTHER[f]})
        _silent(cfg)
        assert _summary(cfg) != (base if f == "dirty_rate" else ref), f


def test_precopy_rounds_without_dirty_pages_are_said() -> None:
    from dcsim.config.migration import ROUNDS

    why = ("changes nothing while dirty_rate is 0: no page is dirtied, so pre-copy ends after "
           "its first round (set dirty_rate)")
    rounds = _migrating("precopy", **{f: _OTHER[f] for f in ROUNDS})
    assert _said(rounds) == [(f"consolidation.migration.{f}", why) for f in ROUNDS]
    assert _summary(rounds) == _summary(_migrating("precopy"))


def test_migration_parameters_under_cloudsims_migrations_are_said() -> None:
    """``assumptions.migration: cloudsim``: the consolidation's migrations take CloudSim's
    fixed delay, whatever ``consolidation.migration`` says, but for its bandwidth cap (read by
    the migration-time estimates of the detectors)."""
    fields = {"model": "cold", "slowdown": 0.5, "resume_time": "2s", "cpu_cost_source": 0.5,
              "cpu_cost_destination": 0.3, "dirty_rate": "20MB/s", "max_rounds": 3}
    cfg = _migrating("precopy")
    cfg["consolidation"]["migration"].update(fields)
    cfg["assumptions"] = {"migration": "cloudsim"}
    why = ("changes nothing: the consolidation's migrations take CloudSim's fixed delay "
           "(assumptions.migration: cloudsim)")
    assert _said(cfg) == [(f"consolidation.migration.{f}", why)
                          for f in ["model", "max_rounds", "dirty_rate", "slowdown",
                                    "resume_time", "cpu_cost_source", "cpu_cost_destination"]]
    plain = _migrating("precopy")
    plain["assumptions"] = {"migration": "cloudsim"}
    assert _summary(cfg) == _summary(plain)
    capped = copy.deepcopy(plain)
    capped["consolidation"]["migration"]["bandwidth_cap"] = "100Mbit/s"
    _silent(capped)


def test_follow_renewables_migration_parameters_are_said(tmp_path: Path) -> None:
    """The same table for the migrations ``follow_renewables`` starts (one, at 01:00)."""
    from tests.unit.carbon.test_follow import sites

    cfg = sites(tmp_path, 0.3)
    cfg["follow_renewables"]["migration"] = {"model": "postcopy", "max_rounds": 3}
    assert _said(cfg) == [("follow_renewables.migration.max_rounds", "changes nothing with "
                           "migration model 'postcopy', which does not read it")]
    plain = sites(tmp_path, 0.3)
    plain["follow_renewables"]["migration"] = {"model": "postcopy"}
    assert _summary(cfg) == _summary(plain)
    assert _summary(plain)["follow_migrations"] == 1


def test_validate_checks_a_sweep_file_as_the_sweep_does(tmp_path: Path) -> None:
    """``dcsim validate`` on a file with a ``sweep:`` section checks every point too, and says a
    value that changes nothing only if it does in every point (not, as before, the base
    config's view: a wake latency with sleep off in the base, in a sweep of sleep on and off).
    ``dcsim run`` runs the base config alone, and says so."""
    from typer.testing import CliRunner

    from dcsim.cli import app

    def write(sleep_values: list[Any]) -> Path:
        path = tmp_path / "s.yaml"
        path.write_text(yaml.safe_dump(tiny_config(
            power_management={"sleep_idle_hosts": False, "wake_latency": "60s"},
            sweep={"grid": {"power_management.sleep_idle_hosts": sleep_values}})))
        return path

    runner = CliRunner()
    plain = tmp_path / "plain.yaml"  # no sweep: the config's own view, as before
    plain.write_text(yaml.safe_dump(tiny_config(
        power_management={"sleep_idle_hosts": False, "wake_latency": "60s"})))
    res = runner.invoke(app, ["validate", str(plain)])
    assert res.exit_code == 0, res.output
    assert "warning: power_management.wake_latency: changes nothing" in res.output
    assert "ok: sweep" not in res.output

    res = runner.invoke(app, ["validate", str(write([True, False]))])
    assert res.exit_code == 0, res.output
    assert "warning" not in res.output
    assert "ok: sweep tiny — 2 points × 1 replications = 2 runs" in res.output

    res = runner.invoke(app, ["validate", str(write([False]))])  # no point sleeps
    assert res.exit_code == 0, res.output
    assert res.output.count("warning: power_management.wake_latency: changes nothing") == 1
    assert "[sweep point p0000-" in res.output

    res = runner.invoke(app, ["validate", str(write([True, 3]))])  # a bad point: refused
    assert res.exit_code == 2, res.output
    assert "power_management.sleep_idle_hosts: Input should be a valid boolean" in res.output
    assert "[sweep point p0001-" in res.output
    assert "ok: sweep" not in res.output

    res = runner.invoke(app, ["run", str(write([True, False])), "-o", str(tmp_path / "r"),
                              "-q"])
    assert res.exit_code == 0, res.output
    assert "note: dcsim run runs the config alone; its sweep: section is for dcsim sweep" \
        in res.output
    # the base config's own view: sleep off, so its wake latency changes nothing
    assert "warning: power_management.wake_latency: changes nothing" in res.output

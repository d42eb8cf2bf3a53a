"""Hostile or absurd values are refused at load with their config path (issue 13).

Each case here once crashed with a traceback, hung, or ran with nonsense; now it is a
``ConfigError`` naming the path. The CLI cases check the whole chain: exit 2, one message, no
traceback, nothing written.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

import dcsim
from dcsim.cli import app
from dcsim.errors import ConfigError
from tests.conftest import tiny_config

runner = CliRunner()

BILLION_LAUGHS = (
    "[&a [1,1,1,1,1,1,1,1,1,1], &b [*a,*a,*a,*a,*a,*a,*a,*a,*a,*a], "
    "&c [*b,*b,*b,*b,*b,*b,*b,*b,*b,*b], &d [*c,*c,*c,*c,*c,*c,*c,*c,*c,*c], "
    "&e [*d,*d,*d,*d,*d,*d,*d,*d,*d,*d], &f [*e,*e,*e,*e,*e,*e,*e,*e,*e,*e]]"
)


def _write(tmp_path: Path, cfg: dict | str, name: str = "cfg.yaml") -> Path:
    p = tmp_path / name
    p.write_text(cfg if isinstance(cfg, str) else yaml.safe_dump(cfg))
    return p


# (override, config path the refusal must name)
REFUSED = [
    # inf / nan in plain float fields (crashed in hashing or computing)
    ("datacenters[0].pue=.inf", "datacenters[0].pue"),
    ("datacenters[0].pue=.nan", "datacenters[0].pue"),
    ("datacenters[0].hosts[0].cpu_overcommit=.inf", "datacenters[0].hosts[0].cpu_overcommit"),
    ("datacenters[0].hosts[0].mips_per_core=.inf", "datacenters[0].hosts[0].mips_per_core"),
    ("guests[0].cpu_weight=.inf", "guests[0].cpu_weight"),
    ("virtualization_profiles={nolayer: {kind: type1, sched_overhead: {slope: .inf}}}",
     "virtualization_profiles.nolayer.sched_overhead.slope"),
    # values so large that products overflow to inf at the end of a long run
    ("datacenters[0].pue=1.0e300", "datacenters[0].pue"),
    # absurd but finite (session-17 audit): no facility runs at PUE 11, nor a host at 101x
    ("datacenters[0].pue=11", "datacenters[0].pue"),
    ("datacenters[0].pue=1.0e20", "datacenters[0].pue"),
    ("datacenters[0].hosts[0].cpu_overcommit=101", "datacenters[0].hosts[0].cpu_overcommit"),
    ("guests[0].workload={kind: beta, a: 1.0e308, b: 1.0e308}", "guests[0].workload.a"),
    ("guests[0].workload={kind: normal, mean: 0.5, sd: 1.0e300}", "guests[0].workload.sd"),
    ("guests[0].cpu_weight=1.0e-300", "guests[0].cpu_weight"),
    ("duration=1e30s", "duration"),
    ("datacenters[0].hosts[0].sleep_power=1e300W", "datacenters[0].hosts[0].sleep_power"),
    # a Weibull shape so small that its draws overflowed (scipy warnings, infinite lifetimes)
    ("guests[0].arrival={kind: poisson, rate: 1/h, lifetime: {kind: weibull, shape: 1.0e-12, "
     "scale: 1h}}", "guests[0].arrival.lifetime.shape"),
    # unit ranges: a petabyte-scale size or 10 Pbit/s is fine, beyond the unit's range is not
    ("datacenters[0].hosts[0].ram=2e21B", "datacenters[0].hosts[0].ram"),
    ("datacenters[0].hosts[0].bandwidth=2e16bps", "datacenters[0].hosts[0].bandwidth"),
    # integers beyond 64 bits, and a 5,000-digit literal (Python's int parser refuses it)
    ("seed=99999999999999999999", "seed"),
    ("seed=" + "9" * 5000, "--set seed"),
    # policy names whose parameter the detector refuses
    ("consolidation={policy: thr-mmt-nan}", "consolidation.policy"),
    ("consolidation={policy: thr-mmt-inf}", "consolidation.policy"),
    ("consolidation={policy: iqr-mc-0}", "consolidation.policy"),
    # an alias bomb in a --set value
    ("x=" + BILLION_LAUGHS, "--set x"),
]


@pytest.mark.parametrize(("override", "path"), REFUSED, ids=[c[1] + ":" + c[0][:40]
                                                              for c in REFUSED])
def test_refused_with_path(tmp_path: Path, override: str, path: str) -> None:
    cfg = _write(tmp_path, tiny_config())
    with pytest.raises(ConfigError) as info:
        dcsim.load_config(cfg, [override])
    assert any(i.path == path for i in info.value.issues), info.value.render()


def test_depth_bomb_refused(tmp_path: Path) -> None:
    # 100,000 nested lists: PyYAML's recursive composer died with RecursionError
    cfg = _write(tmp_path, "name: x\nx: " + "[" * 100_000 + "]" * 100_000 + "\n")
    with pytest.raises(ConfigError, match="nested deeper than 64"):
        dcsim.load_config(cfg)


def test_alias_bomb_file_refused(tmp_path: Path) -> None:
    # 10^6 leaves once expanded; the json deep copy of --set and pydantic walked them all
    cfg = _write(tmp_path, yaml.safe_dump(tiny_config()) + "x: " + BILLION_LAUGHS + "\n")
    with pytest.raises(ConfigError, match="aliases are expanded"):
        dcsim.load_config(cfg)


def test_huge_integer_literal_in_file(tmp_path: Path) -> None:
    cfg = _write(tmp_path, yaml.safe_dump(tiny_config()) + "extra: " + "7" * 5000 + "\n")
    with pytest.raises(ConfigError, match="5000 digits"):
        dcsim.load_config(cfg)


@pytest.mark.parametrize("target", ["fifo", "/dev/zero", "dir"])
def test_config_must_be_a_regular_file(tmp_path: Path, target: str) -> None:
    import os

    if target == "fifo":
        path = tmp_path / "cfg.yaml"
        os.mkfifo(path)  # reading it would block forever
    elif target == "dir":
        path = tmp_path
    else:
        path = Path(target)
    res = runner.invoke(app, ["validate", str(path)])
    assert res.exit_code == 2, res.output
    assert "Traceback" not in res.output


def test_oversized_config_refused(tmp_path: Path) -> None:
    cfg = _write(tmp_path, "# " + "x" * (5 * 1024 * 1024) + "\n")
    with pytest.raises(ConfigError, match="the limit is"):
        dcsim.load_config(cfg)


def test_cli_refusal_is_one_message_and_writes_nothing(tmp_path: Path) -> None:
    cfg = _write(tmp_path, tiny_config())
    out = tmp_path / "out"
    res = runner.invoke(app, ["run", str(cfg), "--out", str(out), "-q",
                              "--set", "datacenters[0].pue=.inf"])
    assert res.exit_code == 2, res.output
    assert "datacenters[0].pue" in res.output
    assert "Traceback" not in res.output
    assert not out.exists()


def test_unexpected_exception_is_one_line_exit_1(monkeypatch: pytest.MonkeyPatch,
                                                 tmp_path: Path) -> None:
    """An exception no check foresaw: one line, exit 1; ``--debug`` adds the traceback."""
    def boom(*_a: object, **_k: object) -> None:
        raise ZeroDivisionError("simulated bug")

    monkeypatch.setattr(dcsim, "load_config", boom)
    cfg = _write(tmp_path, tiny_config())
    res = runner.invoke(app, ["validate", str(cfg)])
    assert res.exit_code == 1
    assert "internal error" in res.output
    assert "ZeroDivisionError: simulated bug" in res.output
    assert "Traceback" not in res.output
    assert res.exception is None or isinstance(res.exception, SystemExit)
    res = runner.invoke(app, ["--debug", "validate", str(cfg)])
    assert res.exit_code == 1
    assert "Traceback" in res.output


# --------------------------------------------------------------------------- cost and references
COSTLY = [
    # (override, path the refusal names); each hung or was killed for memory before
    ("guests[0].count=1000000000000", "guests[0].count"),
    ("datacenters[0].hosts[0].count=100000000", "datacenters[0].hosts[0].count"),
    ("duration=1e12", "interval"),
    ("network={topology: {kind: fat_tree, k: 2000}}", "network.topology.k"),
    ("network={traffic: [{random_pairs: 1000000000, rate: 1Gbps}]}", "network.traffic"),
    ("guests[0].workload={kind: jobs, count: 100000000000, length: 1000}", "guests[0].count"),
]


@pytest.mark.parametrize(("override", "path"), COSTLY, ids=[c[1] for c in COSTLY])
def test_run_beyond_the_machine_refused(tmp_path: Path, override: str, path: str,
                                        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("DCSIM_FORCE", raising=False)
    cfg = _write(tmp_path, tiny_config())
    with pytest.raises(ConfigError) as info:
        dcsim.load_config(cfg, [override])
    assert any(i.path == path and "--force" in i.message for i in info.value.issues), \
        info.value.render()


def test_cost_estimate_by_hand() -> None:
    """tiny config: 2 hosts, 1 guest, 1 h / 5 min = 12 intervals."""
    from dcsim.config.cost import estimate
    from dcsim.config.schema import Config

    cost, where = estimate(Config.model_validate(tiny_config()))
    assert cost.intervals == 12.0
    assert cost.guest_intervals == 12.0  # 1 guest × 12
    assert cost.topology == 5.0  # implicit star: 1 switch + 2 hosts + 2 links
    assert where["guests"] == "guests[0].count"
    # fat-tree k=4: 5·16/4 = 20 switches, 16 host ports, 3·64/4 = 48 links → 84
    cfg = Config.model_validate(tiny_config(network={"topology": {"kind": "fat_tree", "k": 4}}))
    assert estimate(cfg)[0].topology == 84.0


def test_fault_and_snapshot_events_by_hand() -> None:
    """tiny config (2 hosts, 1 guest, 1 h): failures and snapshots counted as events, so that
    a 1 µs failure cycle or 10^14 snapshot batches are refused before they run for ever
    (session-17 input audit: both were accepted and then hung or ate memory)."""
    from dcsim.config.cost import estimate
    from dcsim.config.schema import Config

    hosts = {"ttf": {"kind": "constant", "value": "50m"},
             "repair": {"kind": "constant", "value": "10m"}}
    snaps = {"interval": "15m", "batches": 3}
    cost, where = estimate(Config.model_validate(tiny_config(
        faults={"hosts": hosts, "snapshots": snaps})))
    # hosts: 2 × (1 h / 1 h cycle) × (fail + repair + 0.5 guest per host) = 5; snapshots:
    # 4 rounds × 3 instants = 12, and 4 rounds × 1 guest = 4
    assert cost.fault_events == pytest.approx(5.0 + 12.0 + 4.0)
    assert where["faults"] == "faults.snapshots.batches"
    weibull = {"kind": "weibull", "shape": 0.5, "scale": "1h"}  # mean 1 h × Γ(3) = 2 h
    cost, _ = estimate(Config.model_validate(tiny_config(
        faults={"hosts": {"ttf": weibull, "repair": {"kind": "constant", "value": "1h"}}})))
    assert cost.fault_events == pytest.approx(2 * (1 / 3) * 2.5)


@pytest.mark.parametrize(("faults", "path"), [
    ({"snapshots": {"batches": 10**14}}, "faults.snapshots.batches"),
    ({"snapshots": {"interval": "1us"}}, "faults.snapshots.interval"),
    ({"hosts": {"ttf": {"kind": "constant", "value": "1us"},
                "repair": {"kind": "constant", "value": "1us"}}}, "faults.hosts.ttf"),
])
def test_endless_fault_processes_are_refused(tmp_path: Path, faults: dict[str, object],
                                              path: str) -> None:
    raw = tiny_config(faults=faults)
    raw["guests"][0]["count"] = 20  # more guests than the 12 default instants per interval
    cfg = _write(tmp_path, raw)
    res = runner.invoke(app, ["validate", str(cfg)], env={"DCSIM_FORCE": ""})
    assert res.exit_code == 2, res.output
    assert f"{path}: the run would take" in res.output


def test_force_turns_refusal_into_warning(tmp_path: Path) -> None:
    cfg = _write(tmp_path, tiny_config())
    res = runner.invoke(app, ["--force", "validate", str(cfg), "--set", "duration=1e12"],
                        env={"DCSIM_FORCE": ""})
    assert res.exit_code == 0, res.output
    assert "warning: interval: the run would" in res.output


@pytest.mark.parametrize(("flow", "path"), [
    ({"src_host": 0, "dst_host": 99}, "network.traffic[0].dst_host"),
    ({"src_host": 2, "dst_host": 0}, "network.traffic[0].src_host"),  # hosts are 0 and 1
    ({"src_guest": 0, "dst_guest": 5}, "network.traffic[0].dst_guest"),
])
def test_traffic_to_missing_host_or_guest(tmp_path: Path, flow: dict, path: str) -> None:
    cfg = _write(tmp_path, tiny_config(network={"traffic": [{**flow, "rate": "1Gbps"}]}))
    with pytest.raises(ConfigError) as info:
        dcsim.load_config(cfg)
    assert [i.path for i in info.value.issues] == [path]


# --------------------------------------------------------------------------- sweeps and expressions
@pytest.mark.parametrize("text", ["((9**64)**64)**64", "'a'*10**9", "10**9*'a'",
                                  "float('nan')", "1e308*10", "9" * 5000, "(" * 300 + "1"
                                  + ")" * 300])
def test_expression_values_bounded(text: str) -> None:
    from dcsim.config.expressions import Expression

    with pytest.raises(ValueError, match=r"larger than|longer than|finite|cannot parse|nested"):
        Expression(text).evaluate({})


def test_expression_still_computes() -> None:
    from dcsim.config.expressions import Expression

    assert Expression("2**64 * 3 + len").evaluate({"len": 1}) == 3 * 2**64 + 1
    assert Expression("'ab' * 3").evaluate({}) == "ababab"


@pytest.mark.parametrize(("override", "path"), [
    ("sweep.replications=1000000000", "sweep.replications"),
    ("sweep.grid={guests[0].count: [1, 2]}", None),
])
def test_sweep_sizes_bounded(tmp_path: Path, override: str, path: str | None) -> None:
    from dcsim.experiments.sweep import plan_sweep

    cfg = tiny_config(sweep={"grid": {"guests[0].count": list(range(1, 11)),
                                      "duration": [f"{m}m" for m in range(60, 80)]},
                             "zip": {}, "replications": 10_000})
    path_ = _write(tmp_path, cfg)
    with pytest.raises(ConfigError) as info:  # 10 × 20 points × 10,000 = 2,000,000 runs
        plan_sweep(path_, [override] if path else [])
    want = path or "sweep.replications"
    assert any(i.path == want for i in info.value.issues), info.value.render()


def test_sweep_grid_point_count_bounded(tmp_path: Path) -> None:
    from dcsim.experiments.sweep import plan_sweep

    grid = {f"x{i}": list(range(10)) for i in range(6)}  # 10^6 points, never expanded
    cfg = tiny_config(sweep={"grid": grid, "constraints": [" and ".join(
        f"x{i} >= 0" for i in range(6))]})
    with pytest.raises(ConfigError) as info:
        plan_sweep(_write(tmp_path, cfg), [])
    assert any(i.path == "sweep" and "1,000,000 points" in i.message
               for i in info.value.issues), info.value.render()


@pytest.mark.parametrize("address", ["zzz://", "tcp://", "not an address", "tcp://127.0.0.1:1"])
def test_bad_scheduler_refused_before_anything_is_written(tmp_path: Path, address: str) -> None:
    cfg = _write(tmp_path, tiny_config(sweep={"grid": {"guests[0].count": [1, 2]}}))
    out = tmp_path / "out"
    res = runner.invoke(app, ["sweep", str(cfg), "--executor", "dask", "--scheduler", address,
                              "--out", str(out), "-q"])
    assert res.exit_code == 2, res.output
    assert "--scheduler" in res.output
    assert not out.exists()


@pytest.mark.parametrize("text", ["&a [*a]", "&a {x: *a}", "&a [&b [1, *b]]"])
def test_recursive_alias_refused(tmp_path: Path, text: str) -> None:
    # the alias-expansion count once looped forever on a self-referencing anchor
    cfg = _write(tmp_path, tiny_config())
    with pytest.raises(ConfigError, match="cycle"):
        dcsim.load_config(cfg, [f"x={text}"])


def test_large_unit_values_within_their_range_accepted(tmp_path: Path) -> None:
    """The plain-number bound must not cut the unit ranges: 2 PB of storage (2e15 bytes) and a
    10 Pbit/s NIC (1e16 bit/s) were refused by a 1e15 cap on every number."""
    cfg = _write(tmp_path, tiny_config())
    sc = dcsim.load_config(cfg, ["datacenters[0].hosts[0].storage=2PB",
                                 "datacenters[0].hosts[0].bandwidth=1e16bps"])
    assert sc.host_groups[0].model.storage == 2e15
    assert sc.host_groups[0].model.bandwidth == 1e16

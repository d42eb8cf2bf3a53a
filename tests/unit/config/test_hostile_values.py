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
    ("guests[0].workload={kind: beta, a: 1.0e308, b: 1.0e308}", "guests[0].workload.a"),
    ("guests[0].workload={kind: normal, mean: 0.5, sd: 1.0e300}", "guests[0].workload.sd"),
    ("guests[0].cpu_weight=1.0e-300", "guests[0].cpu_weight"),
    ("duration=1e30s", "duration"),
    ("datacenters[0].hosts[0].sleep_power=1e300W", "datacenters[0].hosts[0].sleep_power"),
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

"""Bad input is refused before anything runs: exit 2, every problem with its path, no output."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from dcsim.cli import app
from dcsim.errors import ConfigError
from tests.conftest import tiny_config

runner = CliRunner()


def _write(tmp_path: Path, cfg: dict) -> Path:
    p = tmp_path / "cfg.yaml"
    p.write_text(yaml.safe_dump(cfg))
    return p


def _case(name: str) -> tuple[dict, str]:
    cfg = tiny_config()
    hosts = cfg["datacenters"][0]["hosts"][0]
    guest = cfg["guests"][0]
    if name == "unknown key":
        hosts["ramm"] = "4GiB"
        return cfg, "datacenters[0].hosts[0].ramm"
    if name == "negative ram":
        guest["ram"] = "-1GiB"
        return cfg, "guests[0].ram"
    if name == "unit-less ram":
        hosts["ram"] = 4096
        return cfg, "datacenters[0].hosts[0].ram"
    if name == "bad unit":
        cfg["duration"] = "24 fortnights"
        return cfg, "duration"
    if name == "guest larger than every host":
        guest["ram"] = "64GiB"
        return cfg, "guests[0]"
    if name == "empty data center":
        cfg["datacenters"][0]["hosts"] = []
        return cfg, "datacenters[0].hosts"
    if name == "no data center":
        cfg["datacenters"] = []
        return cfg, "datacenters"
    if name == "unknown policy":
        cfg["placement"] = {"name": "best_fitt"}
        return cfg, "placement.name"
    if name == "unknown profile":
        hosts["virtualization"] = "kvmm"
        return cfg, "datacenters[0].hosts[0].virtualization"
    if name == "missing trace file":
        guest["workload"] = {"kind": "trace", "path": "no/such/file.csv"}
        return cfg, "guests[0].workload"
    raise AssertionError(name)


CASES = ["unknown key", "negative ram", "unit-less ram", "bad unit",
         "guest larger than every host", "empty data center", "no data center",
         "unknown policy", "unknown profile", "missing trace file"]


@pytest.mark.parametrize("name", CASES)
def test_refused_with_path_exit_2_nothing_written(tmp_path: Path, name: str) -> None:
    cfg, path = _case(name)
    out = tmp_path / "out"
    res = runner.invoke(app, ["run", str(_write(tmp_path, cfg)), "--out", str(out)])
    assert res.exit_code == 2, res.output
    assert path in res.output
    assert "Traceback" not in res.output
    assert not out.exists()
    assert [p.name for p in tmp_path.iterdir()] == ["cfg.yaml"]


def test_every_problem_is_listed(tmp_path: Path) -> None:
    cfg = tiny_config(duration="1 fortnight")
    cfg["datacenters"][0]["hosts"][0]["ramm"] = 1
    cfg["guests"][0]["ram"] = 5
    res = runner.invoke(app, ["validate", str(_write(tmp_path, cfg))])
    assert res.exit_code == 2
    for path in ("duration", "datacenters[0].hosts[0].ramm", "guests[0].ram"):
        assert path in res.output


def test_missing_config_file(tmp_path: Path) -> None:
    res = runner.invoke(app, ["run", str(tmp_path / "nope.yaml")])
    assert res.exit_code == 2
    assert "not found" in res.output


def test_malformed_yaml(tmp_path: Path) -> None:
    p = tmp_path / "cfg.yaml"
    p.write_text("guests: [\n")
    res = runner.invoke(app, ["validate", str(p)])
    assert res.exit_code == 2
    assert "line" in res.output


def test_bad_override_names_its_path(tmp_path: Path) -> None:
    res = runner.invoke(app, ["validate", str(_write(tmp_path, tiny_config())),
                              "--set", "guests[0].ram=12"])
    assert res.exit_code == 2
    assert "guests[0].ram" in res.output


@pytest.mark.parametrize("path", [".duration", "duration.", "guests.[0].count",
                                  "guests[0]count", "[0].count", "guests[0]..count"])
def test_malformed_override_paths_are_refused(path: str) -> None:
    from dcsim.config.load import apply_overrides

    with pytest.raises(ConfigError) as exc:
        apply_overrides(tiny_config(), [f"{path}=3"])
    [issue] = exc.value.issues
    assert (issue.path, issue.message) == (f"--set {path}", f"cannot parse path {path!r}")


@pytest.mark.parametrize(("path", "parts"), [
    ("duration", ["duration"]), ("guests[0].count", ["guests", 0, "count"]),
    ("a[0][1].b", ["a", 0, 1, "b"])])
def test_override_paths(path: str, parts: list[str | int]) -> None:
    from dcsim.config.load import _split_path

    assert _split_path(path) == parts


def test_real_process_exit_code_and_no_traceback(tmp_path: Path) -> None:
    cfg, _ = _case("unknown key")
    proc = subprocess.run([sys.executable, "-m", "dcsim", "validate", str(_write(tmp_path, cfg))],
                          capture_output=True, text=True, check=False)
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr + proc.stdout


def test_schema_problems_and_unknown_names_reported_together(tmp_path: Path) -> None:
    cfg = tiny_config(duration="1 fortnight", placement={"name": "best_fitt"})
    cfg["datacenters"][0]["hosts"][0]["virtualization"] = "kvmm"
    res = runner.invoke(app, ["validate", str(_write(tmp_path, cfg))])
    assert res.exit_code == 2
    for path in ("duration", "placement.name", "datacenters[0].hosts[0].virtualization"):
        assert path in res.output

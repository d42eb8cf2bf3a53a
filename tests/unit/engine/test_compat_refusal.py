"""A compat config whose VMs cannot all be created at t = 0 is refused as bad input (exit 2).

CloudSim's broker stops when a VM cannot be created; dcsim refuses such a config before the
first event with the config path, and writes nothing.
"""

from __future__ import annotations

from pathlib import Path

import yaml
from typer.testing import CliRunner

from dcsim.cli import app
from tests.conftest import REPO

runner = CliRunner()


def test_guests_that_fit_nowhere_at_start_are_refused_with_exit_2(tmp_path: Path) -> None:
    cfg = yaml.safe_load((REPO / "configs" / "planetlab-cloudsim.yaml").read_text())
    cfg["duration"] = "1h"
    for h in cfg["datacenters"][0]["hosts"]:
        h["count"] = 1  # 2 small hosts cannot take 1,052 VMs
    path = tmp_path / "cs.yaml"
    path.write_text(yaml.safe_dump(cfg), encoding="utf-8")
    out = tmp_path / "out"
    r = runner.invoke(app, ["run", str(path), "--out", str(out)])
    assert r.exit_code == 2, r.output
    assert "guests: compat: cloudsim:" in r.output
    assert "fit on no host at t = 0" in r.output
    assert "Traceback" not in r.output
    assert not out.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["cs.yaml"]

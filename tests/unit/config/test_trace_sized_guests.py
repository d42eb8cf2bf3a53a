"""Guests sized from a trace are checked at load: how many fit on no host, and why."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from typer.testing import CliRunner

import dcsim
from dcsim.cli import app

runner = CliRunner()


def _cfg(model: str = "dell_r740_8280", **over: Any) -> dict[str, Any]:
    # The shipped 5-VM Bitbrains excerpt: vCPUs [2, 1, 4, 2, 1], MIPS per vCPU
    # [2926, 2600, 2600, 2600, 2600], RAM [8, 0.67, 3.15, 3.55, 3.87] GiB.
    cfg: dict[str, Any] = {
        "name": "bb", "seed": 1, "duration": "1h", "interval": "5m",
        "datacenters": [{"hosts": [{"model": model, "count": 2, "virtualization": "kvm",
                                    "storage": "4TB"}]}],
        "guests": [{"type": "small", "count": 5, "size_from_trace": True, "boot": False,
                    "workload": {"kind": "trace", "name": "bitbrains-sample", "day": "2013-8"}}],
        "placement": {"name": "first_fit"},
    }
    cfg.update(over)
    return cfg


def _write(tmp_path: Path, cfg: dict[str, Any]) -> Path:
    p = tmp_path / "cfg.yaml"
    p.write_text(yaml.safe_dump(cfg))
    return p


MESSAGE = ("1 of 5 guests sized from the trace fit on no host even when empty (1 need more "
           "MIPS per vCPU than any core: up to 2926 MIPS per vCPU > 2700 MIPS cores)")


def test_guest_faster_than_every_core_is_refused_with_count_and_reason() -> None:
    # Dell R740: 2700 MIPS cores; VM 0 of the excerpt runs 2926 MIPS vCPUs -> 1 of 5 never fits
    with pytest.raises(dcsim.ConfigError) as info:
        dcsim.api._scenario(_cfg(), None)
    issues = info.value.issues
    assert [i.path for i in issues] == ["guests[0]"]
    assert issues[0].message.startswith(MESSAGE)


def test_allowed_rejections_run_and_are_exactly_the_predicted_ones() -> None:
    r = dcsim.run(_cfg(), allow_rejections=True)
    assert r.summary["guests_rejected"] == 1
    assert r.summary["guests_placed"] == 4


def test_ram_and_cores_reasons_on_a_small_host() -> None:
    # HP ML110 G5: 2 cores x 2660 MIPS, 4 GiB; KVM keeps 512 MB and adds 288 MB per guest, so a
    # guest needs RAM + 288 MB <= 4 GiB - 512 MB = 3584 MiB (3.5 GiB):
    #   VM 0: 2926 MIPS > 2660 and 8 GiB (both); VM 1: fits; VM 2: 4 vCPUs > 2 cores;
    #   VM 3: 3.55 GiB + 288 MB > 3.5 GiB; VM 4: 3.87 GiB too -> 4 of 5, RAM for 0, 3, 4
    with pytest.raises(dcsim.ConfigError) as info:
        dcsim.api._scenario(_cfg("hp_ml110_g5"), None)
    msg = info.value.issues[0].message
    assert msg.startswith("4 of 5 guests sized from the trace fit on no host even when empty (")
    assert "1 need more MIPS per vCPU than any core: up to 2926 MIPS per vCPU > 2660" in msg
    assert "1 have more vCPUs than any host has cores: up to 4 > 2" in msg
    assert "3 need more RAM than any host has beside its layer" in msg


def test_shipped_config_hosts_fit_every_excerpt_guest() -> None:
    sc = dcsim.load_config(Path(__file__).resolve().parents[3] / "configs" / "bitbrains.yaml")
    assert sc.n_guests == 5


def test_cli_exit_2_then_warning_with_allow_rejections(tmp_path: Path) -> None:
    path = str(_write(tmp_path, _cfg()))
    res = runner.invoke(app, ["validate", path])
    assert res.exit_code == 2
    assert "guests[0]" in res.output
    assert "Traceback" not in res.output
    res = runner.invoke(app, ["validate", path, "--allow-rejections"])
    assert res.exit_code == 0, res.output
    assert "warning" in res.output
    assert "1 of 5 guests" in res.output
    out = tmp_path / "out"
    res = runner.invoke(app, ["run", path, "--out", str(out), "-q"])
    assert res.exit_code == 2
    assert not out.exists()
    res = runner.invoke(app, ["run", path, "--out", str(out), "-q", "--allow-rejections"])
    assert res.exit_code == 0, res.output
    assert "warning" in res.output


def test_sweep_refuses_then_runs_with_allow_rejections(tmp_path: Path) -> None:
    # the same 5-VM excerpt on R740s (VM 0 never fits), swept over two placements: without the
    # flag the sweep is refused before anything is written; with it every run rejects exactly
    # VM 0 in the workers (which validate the config again) and places the other 4
    import pandas as pd

    cfg = _cfg(sweep={"grid": {"placement.name": ["first_fit", "best_fit"]}})
    path = str(_write(tmp_path, cfg))
    out = tmp_path / "sw"
    res = runner.invoke(app, ["sweep", path, "--out", str(out), "-e", "serial", "-q"])
    assert res.exit_code == 2, res.output
    assert "guests[0]" in res.output
    assert "Traceback" not in res.output
    assert not out.exists()
    res = runner.invoke(app, ["sweep", path, "--out", str(out), "-e", "serial", "-q",
                              "--allow-rejections"])
    assert res.exit_code == 0, res.output
    runs = pd.read_parquet(out / "runs.parquet")
    assert list(runs["status"]) == ["ok", "ok"]
    assert list(runs["guests_rejected"]) == [1, 1]
    assert list(runs["guests_placed"]) == [4, 4]

"""Memory accounting with ``output.guest_records: false``: the run finishes (no per-guest
columns to add) and its summary is that of the run with guest records."""

from __future__ import annotations

from pathlib import Path

import yaml

import dcsim

ROOT = Path(__file__).resolve().parents[3]


def test_memory_summary_without_guest_records() -> None:
    cfg = yaml.safe_load((ROOT / "configs" / "examples" / "memory.yaml").read_text())
    cfg["duration"] = "2h"
    with_rows = dcsim.run(cfg)
    cfg["output"] = {"guest_records": False}
    without = dcsim.run(cfg)
    assert without.guests.empty
    keys = [k for k in with_rows.summary if k.startswith(("mem_", "unmet_")) or k in (
        "energy_hosts_kwh", "migrations", "unserved_mi")]
    assert {k: without.summary[k] for k in keys} == {k: with_rows.summary[k] for k in keys}
    assert with_rows.summary["mem_ballooned_gb_mean"] > 0  # the example does overcommit

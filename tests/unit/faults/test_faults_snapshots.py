"""Snapshot sizes, retention, batching and the network path."""

from __future__ import annotations

import copy
import math
from pathlib import Path
from typing import Any

import pytest

import dcsim
from tests.conftest import tiny_config

GIB = 2.0**30


def _cfg(**snap: Any) -> dict[str, Any]:
    cfg = tiny_config(duration="5h")
    cfg["guests"][0]["disk"] = "0B"
    cfg["faults"] = {"snapshots": {"interval": "1h", "batches": 1, "disk_delta": 0.0, **snap},
                     "storage": {"bandwidth": "100MB/s"}}
    return cfg


def test_incremental_chain_and_retention_by_hand() -> None:
    # full at 0 h (1 GiB); at 1 h and 2 h the pages dirtied: 100 kB/s x 50 % CPU x 3600 s;
    # full again at 3 h (every 3rd); incremental at 4 h. keep_last 2: the points at 2 h and 3 h
    # need the chain from 0 h, so nothing goes until the 4 h one, when 0..2 h are deleted.
    r = dcsim.run(_cfg(kind="incremental", full_every=3, keep_last=2, dirty_rate="100kB/s"))
    s = r.summary
    inc = 1e5 * 0.5 * 3600
    assert s["snapshots_taken"] == 5
    assert s["snapshot_traffic_bytes"] == pytest.approx(2 * GIB + 3 * inc, rel=1e-12)
    assert s["snapshot_storage_peak_bytes"] == pytest.approx(2 * GIB + 2 * inc, rel=1e-12)
    assert s["snapshot_storage_end_bytes"] == pytest.approx(GIB + inc, rel=1e-12)


def test_incremental_is_capped_by_the_working_set() -> None:
    r = dcsim.run(_cfg(kind="incremental", full_every=100, dirty_rate="1GB/s",
                       working_set=0.5))
    assert r.summary["snapshot_traffic_bytes"] == pytest.approx(GIB + 4 * 0.5 * GIB)


def test_full_snapshot_includes_the_disk_delta() -> None:
    cfg = _cfg(disk_delta=0.1)
    cfg["guests"][0]["disk"] = "10GB"
    r = dcsim.run(cfg)
    assert r.summary["snapshot_traffic_bytes"] == pytest.approx(5 * (GIB + 1e9))


def test_on_demand_snapshots() -> None:
    cfg = _cfg(schedule="on_demand", at=["30m", "2h"])
    r = dcsim.run(cfg)
    assert r.summary["snapshots_taken"] == 2


def test_slow_storage_skips_snapshots_still_writing() -> None:
    # a 1 GiB write at 100 kB/s takes 2.98 h: the snapshots at 1 h, 2 h and 4 h are skipped;
    # the one of 3 h is still being written when the run ends (its bytes sent so far count)
    cfg = _cfg()
    cfg["faults"]["storage"]["bandwidth"] = "100kB/s"
    r = dcsim.run(cfg)
    assert r.summary["snapshots_skipped"] == 3
    assert r.summary["snapshots_taken"] == 1
    assert r.summary["snapshot_traffic_bytes"] == pytest.approx(GIB + 1e5 * 7200, rel=1e-12)


def test_events_grow_with_batches_not_guests() -> None:
    def run(n: int, snapshots: bool) -> int:
        cfg = _cfg(batches=4)
        cfg["faults"]["storage"]["bandwidth"] = "10GB/s"
        cfg["datacenters"][0]["hosts"][0].update(count=n, cores=8, mips_per_core=1000)
        cfg["guests"][0]["count"] = n
        if not snapshots:
            del cfg["faults"]
        r = dcsim.run(copy.deepcopy(cfg))
        if snapshots:
            assert r.summary["snapshots_taken"] == 5 * n
        return int(r.summary["events"])

    for n in (10, 400):
        # 5 intervals x 4 instants, the one at t = 0 needs no wake-up
        assert run(n, True) - run(n, False) == 5 * 4 - 1


def test_snapshots_over_the_network_to_a_storage_host(tmp_path: Path) -> None:
    (tmp_path / "f.csv").write_text("host,fail_s,repair_s\n0,9000,1000\n")
    cfg = tiny_config(duration="4h")
    cfg["datacenters"][0]["hosts"][0]["count"] = 3
    cfg["guests"][0]["disk"] = "0B"
    cfg["network"] = {}
    cfg["faults"] = {"hosts": {"trace": str(tmp_path / "f.csv")},
                     "recovery": {"detection": "20s"},
                     "snapshots": {"interval": "1h", "batches": 1, "disk_delta": 0},
                     "storage": {"host": 2, "bandwidth": "100MB/s"}}
    r = dcsim.run(cfg)
    s = r.summary
    assert s["snapshots_taken"] == 4
    assert s["snapshot_traffic_bytes"] == pytest.approx(4 * GIB)
    assert s["lost_work_mi"] == pytest.approx(500 * 1800, rel=1e-12)
    assert r.tables["recoveries"]["mode"].tolist() == ["snapshot"]


def test_storage_host_failure_makes_snapshots_unavailable(tmp_path: Path) -> None:
    # the storage host (1) fails before host 0: the guest can only cold-boot
    (tmp_path / "f.csv").write_text("host,fail_s,repair_s\n1,8000,10000\n0,9000,1000\n")
    cfg = tiny_config(duration="4h")
    cfg["datacenters"][0]["hosts"][0]["count"] = 3
    cfg["faults"] = {"hosts": {"trace": str(tmp_path / "f.csv")},
                     "snapshots": {"interval": "1h", "batches": 1},
                     "storage": {"host": 1}}
    r = dcsim.run(cfg)
    assert r.tables["recoveries"]["mode"].tolist() == ["cold"]
    assert r.summary["lost_work_mi"] == pytest.approx(500 * 9000, rel=1e-12)
    assert r.summary["snapshots_skipped"] == 1  # at 3 h, storage down


def test_uniform_dirty_model_saturates_at_the_working_set() -> None:
    # writes spread uniformly over W = 0.5 GiB: W (1 - exp(-r t / W)) unique bytes per hour
    r = dcsim.run(_cfg(kind="incremental", full_every=100, dirty_rate="100kB/s",
                       working_set=0.5, dirty_model="uniform"))
    w = 0.5 * GIB
    inc = w * -math.expm1(-1e5 * 0.5 * 3600 / w)
    assert r.summary["snapshot_traffic_bytes"] == pytest.approx(GIB + 4 * inc, rel=1e-12)


def test_restore_reads_a_full_image_even_from_a_chain(tmp_path: Path) -> None:
    # restoring an incremental chain reads the newest copy of every page: RAM + disk delta
    (tmp_path / "f.csv").write_text("host,fail_s,repair_s\n0,9000,1000\n")
    cfg = _cfg(kind="incremental", full_every=10, dirty_rate="100kB/s")
    cfg["faults"]["hosts"] = {"trace": str(tmp_path / "f.csv")}
    r = dcsim.run(cfg)
    assert r.summary["restore_traffic_bytes"] == pytest.approx(GIB)
    assert r.tables["recoveries"]["snapshot_age_s"].item() == pytest.approx(9015 - 7200)

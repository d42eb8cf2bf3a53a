"""Lost work, recovery time, energy and snapshot bookkeeping worked out by hand.

Two 1-core hosts (1000 MIPS, linear 100 → 200 W, never asleep), one guest of 1 GiB RAM wanting
500 MIPS, no virtualization overhead, no boot time. Full snapshots (1 GiB, no disk delta) every
hour from t = 0, written at 100 MB/s (10.73741824 s each). The trace fails host 0 at 9000 s for
1000 s; detection takes 20 s.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

import dcsim
from tests.conftest import tiny_config

GIB = 2.0**30
B = 1e8  # storage bandwidth, bytes/s
W = GIB / B  # one write or read, s


def _cfg(tmp_path: Path, restart: str = "snapshot", **snap: Any) -> dict[str, Any]:
    trace = tmp_path / "fail.csv"
    trace.write_text("host,fail_s,repair_s\n0,9000,1000\n")
    cfg = tiny_config(duration="4h")
    cfg["guests"][0]["disk"] = "0B"
    cfg["faults"] = {
        "hosts": {"trace": str(trace)},
        "recovery": {"restart": restart, "detection": "20s", "restore_overhead": "5s"},
        "snapshots": {"interval": "1h", "batches": 1, "kind": "full", "keep_last": 2,
                      "disk_delta": 0.0, **snap},
        "storage": {"bandwidth": "100MB/s", "power": "40W"},
    }
    return cfg


def test_restore_from_snapshot_by_hand(tmp_path: Path) -> None:
    r = dcsim.run(_cfg(tmp_path))
    s = r.summary
    # last completed snapshot started at 7200 s: 500 MIPS x (9000 - 7200) s is lost
    assert s["lost_work_mi"] == pytest.approx(500 * 1800, rel=1e-12)
    # detection 20 s, read 1 GiB at 100 MB/s, resume 5 s
    up = 9000 + 20 + W + 5
    assert s["mean_recovery_s"] == pytest.approx(up - 9000, rel=1e-12)
    assert s["downtime_s"] == pytest.approx(up - 9000, rel=1e-12)
    assert s["availability"] == pytest.approx(1 - (up - 9000) / 14400, rel=1e-12)
    rec = r.tables["recoveries"].iloc[0]
    assert (rec["failed_host"], rec["host"], rec["mode"]) == (0, 1, "snapshot")
    assert rec["restart_s"] == pytest.approx(9020)
    assert rec["snapshot_age_s"] == pytest.approx(9020 - 7200)
    # the guest delivers 500 MIPS except while down
    assert s["delivered_mi"] == pytest.approx(500 * (14400 - (up - 9000)), rel=1e-9)
    # offered load: 500 MIPS all run long; the time down is unserved downtime
    assert s["demand_mi"] == pytest.approx(500 * 14400, rel=1e-9)
    assert s["unserved_downtime_mi"] == pytest.approx(500 * (up - 9000), rel=1e-9)
    # host 0: 150 W to 9000 s, 0 W while failed, idle 100 W after repair;
    # host 1: idle until the guest runs, then 150 W
    e = 150 * 9000 + 0 * 1000 + 100 * 4400 + 100 * up + 150 * (14400 - up)
    assert s["energy_it_kwh"] == pytest.approx(e / 3.6e6, rel=1e-12)
    # snapshots at 0, 3600, 7200 (host 0) and 10800 (host 1, a full one after the restart);
    # keep_last 2 → 2 GiB stored at most and at the end
    assert s["snapshots_taken"] == 4
    assert s["snapshot_traffic_bytes"] == pytest.approx(4 * GIB)
    assert s["restore_traffic_bytes"] == pytest.approx(GIB)
    assert s["snapshot_storage_peak_bytes"] == pytest.approx(2 * GIB)
    assert s["snapshot_storage_end_bytes"] == pytest.approx(2 * GIB)
    assert s["snapshot_energy_kwh"] == pytest.approx(40 * 5 * W / 3.6e6, rel=1e-12)
    assert (s["host_failures"], s["guest_failures"], s["guest_restarts"]) == (1, 1, 1)
    fl = r.tables["failures"].iloc[0]
    assert (fl["fail_s"], fl["repair_s"]) == (9000, 10000)


def test_cold_restart_loses_everything_since_start(tmp_path: Path) -> None:
    r = dcsim.run(_cfg(tmp_path, restart="cold"))
    assert r.summary["lost_work_mi"] == pytest.approx(500 * 9000, rel=1e-12)
    assert r.summary["mean_recovery_s"] == pytest.approx(20, rel=1e-12)  # no boot time here
    assert r.tables["recoveries"]["mode"].tolist() == ["cold"]


def test_no_restart_keeps_the_guest_down(tmp_path: Path) -> None:
    r = dcsim.run(_cfg(tmp_path, restart="none"))
    assert r.summary["downtime_s"] == pytest.approx(14400 - 9000)
    assert r.summary["guests_down_at_end"] == 1
    assert r.summary["guest_restarts"] == 0


def test_write_cut_by_the_failure_is_aborted(tmp_path: Path) -> None:
    # a snapshot started 5 s before the failure: half its bytes are sent, then it is dropped
    cfg = _cfg(tmp_path)
    (tmp_path / "fail.csv").write_text(f"host,fail_s,repair_s\n0,{7200 + W / 2},1000\n")
    r = dcsim.run(cfg)
    s = r.summary
    assert s["snapshots_aborted"] == 1
    assert s["lost_work_mi"] == pytest.approx(500 * (3600 + W / 2), rel=1e-12)
    # 0 and 3600 complete, 7200 half, 10800 on host 1 completes
    assert s["snapshot_traffic_bytes"] == pytest.approx(3.5 * GIB, rel=1e-12)


def test_finite_job_is_rolled_back_to_the_snapshot(tmp_path: Path) -> None:
    # one CPU-bound job of 1e7 MI at 1000 MIPS; the failure at 5000 s rolls it back to the
    # snapshot of 3600 s, so 1.4e6 MI are done again after the restore
    cfg = _cfg(tmp_path)
    (tmp_path / "fail.csv").write_text("host,fail_s,repair_s\n0,5000,1000\n")
    cfg["guests"][0]["workload"] = {"kind": "jobs", "count": 1, "length": 1e7}
    r = dcsim.run(cfg)
    up = 5000 + 20 + W + 5
    assert r.summary["replayed_work_mi"] == pytest.approx(1.4e6, rel=1e-12)
    assert r.summary["lost_work_mi"] == pytest.approx(1.4e6, rel=1e-12)
    job = r.tables["jobs"].iloc[0]
    assert job["end_s"] == pytest.approx(up + (1e7 - 3.6e6) / 1000, rel=1e-12)
    assert r.summary["guests_departed"] == 1


def test_guest_failing_while_booting_restarts_after_detection(tmp_path: Path) -> None:
    # boot takes 60 s; host 0 fails at 30 s, while the guest still boots; detection 5 s
    # restarts it at 35 s (the engine ignores the first boot's timer, which would fire at
    # 60 s), and the cold boot on host 1 ends at 95 s
    cfg = _cfg(tmp_path, restart="cold")
    (tmp_path / "fail.csv").write_text("host,fail_s,repair_s\n0,30,1000\n")
    cfg["faults"]["recovery"]["detection"] = "5s"
    cfg["guests"][0]["boot"] = True
    cfg["virtualization_profiles"]["nolayer"]["boot_time"] = {"dist": "constant", "mean": 60}
    r = dcsim.run(cfg)
    rec = r.tables["recoveries"].iloc[0]
    assert (rec["failed_host"], rec["host"]) == (0, 1)
    assert rec["restart_s"] == pytest.approx(35)
    assert rec["running_s"] == pytest.approx(95)
    assert r.summary["downtime_s"] == pytest.approx(65)
    assert r.summary["lost_work_mi"] == 0.0  # it had delivered nothing yet
    assert r.summary["delivered_mi"] == pytest.approx(500 * (14400 - 95), rel=1e-9)
    # offered 500 MIPS all run long: the first boot (0-30 s) is boot, then down and re-booting
    # after the failure (30-95 s) is downtime
    assert r.summary["demand_mi"] == pytest.approx(500 * 14400, rel=1e-9)
    assert r.summary["unserved_boot_mi"] == pytest.approx(500 * 30, rel=1e-9)
    assert r.summary["unserved_downtime_mi"] == pytest.approx(500 * 65, rel=1e-9)
    assert r.summary["guests_departed"] == 0  # the stale timer neither starts nor ends it


@pytest.mark.parametrize("boot_s", [(60, 60), (10, 60)])
def test_restore_does_not_boot(tmp_path: Path, boot_s: tuple[float, float]) -> None:
    # a restore resumes the saved state: recovery = detection + read + resume, whatever the
    # boot time of the layer it lands on (host 0 boots in boot_s[0], host 1 in boot_s[1])
    cfg = _cfg(tmp_path)
    cfg["guests"][0]["boot"] = True
    hosts = cfg["datacenters"][0]["hosts"]
    hosts[:] = [{**hosts[0], "count": 1, "virtualization": "a"},
                {**hosts[0], "count": 1, "virtualization": "b"}]
    cfg["virtualization_profiles"] = {
        "a": {"kind": "type1", "boot_time": {"dist": "constant", "mean": boot_s[0]}},
        "b": {"kind": "type1", "boot_time": {"dist": "constant", "mean": boot_s[1]}}}
    r = dcsim.run(cfg)
    rec = r.tables["recoveries"].iloc[0]
    assert (rec["failed_host"], rec["host"], rec["mode"]) == (0, 1, "snapshot")
    assert r.summary["mean_recovery_s"] == pytest.approx(20 + W + 5, rel=1e-12)
    # booting on host 0 until boot_s[0], down from 9000 s until the restore ends
    run_s = 14400 - boot_s[0] - (20 + W + 5)
    assert r.summary["delivered_mi"] == pytest.approx(500 * run_s,
                                                                          rel=1e-9)


def test_failed_host_in_the_time_series(tmp_path: Path) -> None:
    # host 0 is failed from 9000 to 10000 s: counted as failed, not as sleeping
    r = dcsim.run(_cfg(tmp_path))
    ts = r.timeseries.set_index("time_s")
    assert ts.loc[9300, ["active_hosts", "sleeping_hosts", "failed_hosts"]].tolist() == [1, 0, 1]
    assert ts.loc[10200, ["active_hosts", "sleeping_hosts", "failed_hosts"]].tolist() == [2, 0, 0]
    assert ts.loc[8700, "failed_hosts"] == 0

"""The shipped CloudSim-compatible config reproduces CloudSim 3.0.3's calibration row."""

from __future__ import annotations

from pathlib import Path

import pytest

import dcsim

REPO = Path(__file__).resolve().parents[2]


@pytest.mark.slow
def test_thr_mmt_08_from_config_matches_cloudsim() -> None:
    r = dcsim.run(REPO / "configs" / "planetlab-cloudsim.yaml",
                  overrides=["consolidation.policy=thr-mmt-0.8"])
    s = r.summary
    # calibration row 20110303_thr_mmt_0.8_stats.csv (reference/cloudsim-planetlab)
    assert s["energy_it_kwh"] == pytest.approx(192.62307, rel=5e-3)
    assert s["migrations"] == pytest.approx(26711, rel=1e-2)
    assert s["host_shutdowns"] == pytest.approx(5885, rel=1e-2)
    assert s["slatah"] == pytest.approx(0.0491328263, rel=2e-2)
    assert s["pdm"] == pytest.approx(0.0006463668, rel=2e-2)


def test_compat_refuses_what_cloudsim_cannot_run(tmp_path: Path) -> None:
    import yaml

    cfg = yaml.safe_load((REPO / "configs" / "planetlab-cloudsim.yaml").read_text())
    cfg["guests"][0]["workload"] = {"kind": "constant", "utilization": 0.5}
    del cfg["consolidation"]
    with pytest.raises(dcsim.ConfigError) as info:
        dcsim.api._scenario(cfg, None)
    paths = {i.path for i in info.value.issues}
    assert {"consolidation", "guests[0].workload"} <= paths

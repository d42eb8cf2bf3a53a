"""``Scenario.resolved_json``: each distinct host model once, groups refer to it by key."""

from __future__ import annotations

from pathlib import Path

import dcsim

CONFIGS = Path(__file__).resolve().parents[3] / "configs"


def test_interleaved_hosts_write_each_model_once() -> None:
    # compat: cloudsim lays the 800 hosts out one group per host, G4 and G5 alternating
    sc = dcsim.load_config(CONFIGS / "planetlab-cloudsim.yaml")
    r = sc.resolved_json()
    assert sorted(r["host_models"]) == ["hp_ml110_g4", "hp_ml110_g5"]
    assert len(r["host_groups"]) == 800
    assert [g["model"] for g in r["host_groups"][:3]] == ["hp_ml110_g4", "hp_ml110_g5",
                                                           "hp_ml110_g4"]
    g4 = sc.host_groups[0].model.model_dump(mode="json")
    assert r["host_models"]["hp_ml110_g4"] == g4


def test_groups_of_one_name_with_different_models_keep_both() -> None:
    cfg = {"name": "two", "duration": "1h", "interval": "5m",
           "datacenters": [{"hosts": [{"model": "hp_ml110_g5", "count": 1},
                                      {"model": "hp_ml110_g5", "count": 1, "ram": "64GiB"}]}],
           "guests": [{"count": 1, "mips": 500, "ram": "1GiB", "disk": "1GB"}]}
    sc = dcsim.api._scenario(cfg, None)
    r = sc.resolved_json()
    names = [g.name for g in sc.host_groups]
    assert names[0] == names[1]  # both groups take the model's name
    keys = [g["model"] for g in r["host_groups"]]
    assert keys == [names[0], f"{names[0]}#2"]
    assert r["host_models"][keys[0]]["ram"] != r["host_models"][keys[1]]["ram"]

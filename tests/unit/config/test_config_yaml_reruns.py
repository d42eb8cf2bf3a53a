"""A results folder's ``config.yaml`` reruns: the validated config, every default written out,
validates again to the same scenario.

``config.yaml`` is ``Scenario.config_json()``: every field of every section, defaults included.
A check that refuses a field merely for being present (``model_fields_set``) refuses that file:
``network.wan`` did so for every config with a ``network`` section (session-17 audit rule;
found in session 18), so ``dcsim run RESULTS/config.yaml`` exited 2. Each config below covers
an optional section; the shipped configs and examples are checked too.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from dcsim.validate import parse_config
from tests.conftest import REPO, tiny_config

SHIPPED = sorted((REPO / "configs").glob("*.yaml")) + sorted(
    (REPO / "configs" / "examples").glob("*.yaml"))


def _kvm(**over: Any) -> dict[str, Any]:
    """:func:`tiny_config` on a layer that migrates, with ``over`` set."""
    cfg = tiny_config(**over)
    cfg["virtualization_profiles"] = {"nolayer": {"kind": "type1", "live_migration": True}}
    return cfg


SECTIONS: dict[str, dict[str, Any]] = {
    "star": tiny_config(network={"topology": {"kind": "star"}}),
    "fat_tree": tiny_config(network={"topology": {"kind": "fat_tree", "k": 4}}),
    "leaf_spine": tiny_config(network={"topology": {"kind": "leaf_spine", "leaves": 2,
                                                    "spines": 1, "hosts_per_leaf": 1}}),
    "three_tier": tiny_config(network={"topology": {"kind": "three_tier", "core": 1,
                                                    "aggregation": 1, "access": 1,
                                                    "hosts_per_access": 2}}),
    "traffic": tiny_config(network={"traffic": [{"src_host": 0, "dst_host": 1,
                                                 "rate": "1Gbps"}]}),
    "consolidation-mad-history": _kvm(consolidation={"policy": "mad-mmt-2.5", "history": 30}),
    "consolidation-lr": _kvm(consolidation={"policy": "lr-mmt-1.2"}),
}


def _reruns(cfg: dict[str, Any], source: str | None = None) -> None:
    first = parse_config(cfg, source=source)
    dumped = first.config_json()
    again = parse_config(yaml.safe_load(yaml.safe_dump(dumped, sort_keys=False)), source=source)
    assert again.scenario_id == first.scenario_id
    assert again.config_json() == dumped


@pytest.mark.parametrize("name", sorted(SECTIONS))
def test_a_config_with_the_section_reruns_from_its_config_yaml(name: str) -> None:
    _reruns(SECTIONS[name])


@pytest.mark.parametrize("path", SHIPPED, ids=[p.name for p in SHIPPED])
def test_a_shipped_config_reruns_from_its_config_yaml(path: Path) -> None:
    _reruns(yaml.safe_load(path.read_text()), source=str(path))

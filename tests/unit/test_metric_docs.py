"""Each metric has one formula, written once (``dcsim.metrics.contract.SUMMARY``); the README's
table is generated from it, and every summary key a default-engine run writes is documented."""

from __future__ import annotations

import copy
import re
from pathlib import Path

import dcsim
from dcsim.metrics.contract import SUMMARY, metric_table
from tests.conftest import tiny_config

README = Path(__file__).resolve().parents[2] / "README.md"


def test_readme_metric_table_is_generated_from_the_contract() -> None:
    text = README.read_text(encoding="utf-8")
    m = re.search(r"<!-- metrics:begin[^\n]*-->\n(.*?)<!-- metrics:end -->", text, re.S)
    assert m is not None, "README has no generated metric table"
    assert m.group(1) == metric_table(), (
        "README metric table is stale; regenerate it with "
        "dcsim.metrics.contract.metric_table()")


def test_every_summary_key_is_documented() -> None:
    # a run with jobs, sleeping hosts, a consolidation policy and a network section
    cfg = copy.deepcopy(tiny_config(power_management={"sleep_idle_hosts": True}))
    cfg["guests"].append({"count": 1, "mips": 1000, "ram": "1GiB", "disk": "1GB",
                          "boot": False, "workload": {"kind": "jobs", "count": 2,
                                                      "length": 1e5}})
    cfg["network"] = {"topology": {"kind": "leaf_spine", "leaves": 1, "spines": 1,
                                   "hosts_per_leaf": 2, "link": "10Gbps"}}
    cfg["consolidation"] = {"policy": "thr-mmt-0.8", "migration": {"model": "cold"}}
    summary = dcsim.run(cfg).summary
    assert set(summary) == set(SUMMARY)
    for key in ("energy_network_kwh", "mean_active_rack_units", "mean_link_utilization",
                "mean_job_slowdown", "consolidation_steps", "unserved_fraction"):
        assert summary[key] == summary[key], key  # produced here, not NaN

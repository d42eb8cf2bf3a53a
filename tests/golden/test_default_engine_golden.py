"""Pinned summary of a small default-engine consolidation run (``default_engine.json``).

Eight HP ML110 G5 hosts under a Xen-like layer (CPU overcommit 2), 12 CloudSim 2500-MIPS VMs
with uniform 5-60 % utilisation for 3 h, first-fit admission (which packs them) then THR-MMT-0.8
consolidation: overload migrations (4 of them without the underload step) and underload ones,
hosts sleeping and waking. Every summary number must match the pinned value to 1e-9
relative (counts exactly), the set of summary keys must be the same, and so must the list of
migrations (guest, source, destination, start time).

A change of the engine or of a metric that moves any of them fails this test on purpose.
Regenerate with::

    python -m pytest tests/golden/test_default_engine_golden.py --update-golden

then review ``git diff tests/golden/default_engine.json`` line by line: every changed number
must be explained by the change you made (say which in the commit message), never accepted
blindly.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import dcsim

GOLDEN = Path(__file__).with_name("default_engine.json")
#: Figures that depend on the machine, not on the model.
UNPINNED = ("wall_s",)

CONFIG: dict[str, Any] = {
    "name": "golden-default", "seed": 1, "duration": "3h", "interval": "5m",
    "datacenters": [{"hosts": [{"model": "hp_ml110_g5", "count": 8, "virtualization": "lite",
                                "cpu_overcommit": 2}]}],
    "virtualization_profiles": {"lite": {"base": "xen", "mem_overhead_per_guest": "32MiB",
                                         "host_reserved_mem": "256MiB"}},
    "guests": [{"type": "cloudsim_2500", "count": 12, "boot": False,
                "workload": {"kind": "uniform", "low": 0.05, "high": 0.6}}],
    "placement": {"name": "first_fit"},
    "consolidation": {"policy": "thr-mmt-0.8"},
}


def _current() -> dict[str, Any]:
    r = dcsim.run(CONFIG, check_invariants=True)
    summary = {k: v for k, v in sorted(r.summary.items()) if k not in UNPINNED}
    m = r.tables["migrations"]
    moves = [[int(g), int(s), int(d), float(t)] for g, s, d, t in
             zip(m["guest"], m["source"], m["destination"], m["start_s"], strict=True)]
    return {"summary": summary, "migrations": moves}


def _dump(data: dict[str, Any]) -> str:
    """JSON with one summary key and one migration per line (reviewable diffs); NaN (a metric
    that does not apply to this run) is written as null."""
    summary = ",\n".join(f"  {json.dumps(k)}: {json.dumps(_nan_to_none(v))}"
                         for k, v in sorted(data["summary"].items()))
    moves = ",\n".join(f"  {json.dumps(m)}" for m in data["migrations"])
    return f'{{\n "summary": {{\n{summary}\n }},\n "migrations": [\n{moves}\n ]\n}}\n'


def _nan_to_none(v: Any) -> Any:
    return None if isinstance(v, float) and math.isnan(v) else v


def _same(a: Any, b: Any) -> bool:
    a, b = (math.nan if a is None else a), (math.nan if b is None else b)
    if isinstance(a, bool) or isinstance(b, bool) or (isinstance(a, int) and isinstance(b, int)):
        return bool(a == b)
    if isinstance(a, float | int) and isinstance(b, float | int):
        if math.isnan(a) or math.isnan(b):
            return math.isnan(a) and math.isnan(b)
        return math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-12)
    return bool(a == b)


def test_default_engine_summary_is_pinned(update_golden: bool) -> None:
    got = _current()
    if update_golden:
        GOLDEN.write_text(_dump(got))
    want = json.loads(GOLDEN.read_text())
    assert got["summary"].keys() == want["summary"].keys(), "summary keys changed: regenerate"
    diff = {k: (want["summary"][k], v) for k, v in got["summary"].items()
            if not _same(v, want["summary"][k])}
    assert not diff, f"pinned -> now: {diff}"
    assert got["summary"]["migrations"] > 0  # the run exercises migrations
    assert len(got["migrations"]) == len(want["migrations"])
    for g, w in zip(got["migrations"], want["migrations"], strict=True):
        assert g[:3] == w[:3]
        assert _same(g[3], w[3])

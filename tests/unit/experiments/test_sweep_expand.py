"""Expansion of the sweep section: counts, order, determinism, derived values, constraints."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from sweep_helpers import tiny

from dcsim.config.sweep import Expression, SweepPlan
from dcsim.config.sweep import expand_sweep as _expand
from dcsim.errors import ConfigError
from dcsim.validate import parse_config


def expand_sweep(data: dict[str, Any]) -> SweepPlan:
    """The expansion with the full per-point check, as ``dcsim sweep`` runs it."""
    return _expand(data, parse=parse_config)

VIRT = "datacenters[0].hosts[0].virtualization"


def _params(plan: Any) -> list[dict[str, Any]]:
    return [p.params for p in plan.points]


def test_grid_is_cartesian_with_last_key_fastest() -> None:
    plan = expand_sweep(tiny({"grid": {"guests[0].count": [1, 2, 3], VIRT: ["kvm", "docker"]},
                              "replications": 3}))
    assert len(plan.points) == 6
    assert plan.n_runs == 18
    assert _params(plan)[:3] == [{"guests[0].count": 1, VIRT: "kvm"},
                                 {"guests[0].count": 1, VIRT: "docker"},
                                 {"guests[0].count": 2, VIRT: "kvm"}]
    assert [p.index for p in plan.points] == list(range(6))
    assert plan.points[0].point_id.startswith("p0000-")


def test_zip_varies_together_and_multiplies_with_grid() -> None:
    plan = expand_sweep(tiny({"grid": {VIRT: ["kvm", "docker"]},
                              "zip": {"duration": ["1h", "2h", "3h"],
                                      "interval": ["1m", "5m", "10m"]}}))
    assert len(plan.points) == 6
    assert _params(plan)[1] == {VIRT: "kvm", "duration": "2h", "interval": "5m"}
    assert plan.points[1].config["duration"] == "2h"


@pytest.mark.parametrize("method", ["random", "lhs"])
def test_sampling_counts_ranges_and_determinism(method: str) -> None:
    sweep = {"sample": {"method": method, "n": 10, "params": {
        "guests[0].workload.high": {"dist": "uniform", "low": 0.5, "high": 1.0},
        "guests[0].count": {"dist": "integer", "low": 1, "high": 4},
        "placement.name": {"dist": "choice", "values": ["first_fit", "best_fit"]},
        "interval": {"dist": "loguniform", "low": 60, "high": 600}}}}
    a, b = expand_sweep(tiny(sweep)), expand_sweep(tiny(sweep))
    assert len(a.points) == 10
    assert _params(a) == _params(b)
    assert a.sweep_hash == b.sweep_hash
    highs = [p["guests[0].workload.high"] for p in _params(a)]
    assert all(0.5 <= h < 1.0 for h in highs)
    assert all(1 <= p["guests[0].count"] <= 4 for p in _params(a))
    assert all(60 <= p["interval"] < 600 for p in _params(a))
    assert all(isinstance(p["guests[0].count"], int) for p in _params(a))
    other = expand_sweep(tiny({**sweep, "sample": {**sweep["sample"], "seed": 99}}))
    assert _params(other) != _params(a)
    if method == "lhs":  # one value in each tenth of the range
        strata = np.floor((np.array(highs) - 0.5) / 0.05).astype(int)
        assert sorted(strata.tolist()) == list(range(10))


def test_derived_constraints_and_base_values() -> None:
    plan = expand_sweep(tiny({
        "grid": {"ratio": [1, 2, 4], VIRT: ["kvm", "bare_metal"]},
        "derived": {"datacenters[0].hosts[0].count":
                    "guests[0].count * 2 if virtualization == 'bare_metal' else ceil(4 / ratio)"},
        "constraints": ["virtualization != 'bare_metal' or ratio == 1"],
    }))
    assert len(plan.points) == 4
    assert len(plan.skipped) == 2
    counts = [p.params["datacenters[0].hosts[0].count"] for p in plan.points]
    assert counts == [4, 4, 2, 1]  # guests[0].count (2) read from the base config
    assert plan.points[3].config["datacenters"][0]["hosts"][0]["count"] == 1
    assert "ratio" not in plan.points[0].config


def test_ids_hashes_and_seeds_are_stable() -> None:
    sweep = {"grid": {"guests[0].count": [1, 2]}, "replications": 3}
    a, b = expand_sweep(tiny(sweep)), expand_sweep(tiny(sweep))
    assert [p.point_id for p in a.points] == [p.point_id for p in b.points]
    assert a.sweep_hash == b.sweep_hash
    runs = list(a.runs())
    assert [r.key for r in runs][:3] == [f"{a.points[0].point_id}-rep{k}" for k in range(3)]
    seeds = [r.seed for r in runs]
    assert len(set(seeds[:3])) == 3  # independent replications
    assert seeds[:3] == seeds[3:]  # common random numbers across points
    assert expand_sweep(tiny(sweep, seed=8)).sweep_hash != a.sweep_hash
    assert [p.config_hash for p in a.points] == [p.config_hash for p in b.points]
    assert a.points[0].config_hash != a.points[1].config_hash


def test_sweep_section_is_not_part_of_the_scenario_hash() -> None:
    with_sweep = parse_config(tiny({"grid": {"guests[0].count": [1, 2]}}))
    without = parse_config(tiny())
    assert with_sweep.scenario_id == without.scenario_id
    assert "sweep" not in with_sweep.config_json()


def test_no_sweep_section_is_one_point() -> None:
    plan = expand_sweep(tiny())
    assert len(plan.points) == 1
    assert plan.n_runs == 1


BAD: list[tuple[dict[str, Any], str]] = [
    ({"grid": {"datacenters[0].hosts[0].cont": [1]}},
     'sweep.grid["datacenters[0].hosts[0].cont"]'),
    ({"grid": {"datacenters[0].hosts[0].count": []}},
     'sweep.grid["datacenters[0].hosts[0].count"]'),
    ({"grid": {"datacenters[3].hosts[0].count": [1]}},
     'sweep.grid["datacenters[3].hosts[0].count"]'),
    ({"grid": {"typo_param": [1, 2]}}, 'sweep.grid["typo_param"]'),
    ({"zip": {"duration": ["1h", "2h"], "interval": ["5m"]}}, 'sweep.zip["interval"]'),
    ({"sample": {"n": 3, "params": {"interval": {"dist": "uniform", "low": 5, "high": 1}}}},
     'sweep.sample.params["interval"]'),
    ({"sample": {"n": 3, "params": {"interval": {"dist": "gauss"}}}},
     'sweep.sample.params["interval"]'),
    ({"sample": {"n": 0, "params": {"interval": {"dist": "uniform", "low": 1, "high": 5}}}},
     "sweep.sample.n"),
    ({"derived": {"guests[0].count": "2 * * 3"}}, 'sweep.derived["guests[0].count"]'),
    ({"derived": {"guests[0].count": "__import__('os').getpid()"}},
     'sweep.derived["guests[0].count"]'),
    ({"derived": {"guests[0].count": "nope + 1"}}, 'sweep.derived["guests[0].count"]'),
    ({"constraints": ["count >"]}, "sweep.constraints[0]"),
    ({"replications": 0}, "sweep.replications"),
    ({"grdi": {}}, "sweep.grdi"),
]


@pytest.mark.parametrize(("sweep", "path"), BAD)
def test_bad_sweep_specs_are_refused_with_their_path(sweep: dict[str, Any], path: str) -> None:
    with pytest.raises(ConfigError) as exc:
        expand_sweep(tiny(sweep))
    assert path in [i.path for i in exc.value.issues], exc.value.render()


def test_every_invalid_point_is_reported_with_its_parameters() -> None:
    with pytest.raises(ConfigError) as exc:
        expand_sweep(tiny({"grid": {"placement.name": ["nope", "first_fit"],
                                    "guests[0].count": [1, 2]}}))
    issues = exc.value.issues
    assert len(issues) == 2
    assert all(i.path == "placement.name" for i in issues)
    assert "placement.name='nope', guests[0].count=1" in issues[0].message
    assert "guests[0].count=2" in issues[1].message


@pytest.mark.parametrize(("parent", "said"), [(None, "null"), (5, "the number 5"),
                                               ([1], "a list"), ("abc", "the text 'abc'")])
def test_a_parameter_whose_parent_is_not_a_mapping_is_refused(parent: Any, said: str) -> None:
    # `--set 'guests[0]=null'` under a sweep of guests[0].count: an internal error before
    cfg = tiny({"grid": {"guests[0].count": [1, 2]}})
    cfg["guests"][0] = parent
    with pytest.raises(ConfigError) as exc:
        expand_sweep(cfg)
    assert [(i.path, i.message.split(" [")[0]) for i in exc.value.issues] == [
        ("guests[0].count", f"cannot be set: guests[0] is {said}, not a mapping")] * 2
    assert "[sweep point p0001-" in exc.value.issues[1].message


def test_constraints_skipping_everything_is_an_error() -> None:
    with pytest.raises(ConfigError, match="skip all"):
        expand_sweep(tiny({"grid": {"guests[0].count": [1, 2]},
                           "constraints": ["count > 5"]}))


@pytest.mark.parametrize(("text", "env", "value"), [
    ("a * 20", {"a": 3}, 60),
    ("ceil(a / 4) + max(1, b)", {"a": 5, "b": 0}, 3),
    ("'x' if a >= 2 and not b else 'y'", {"a": 2, "b": False}, "x"),
    ("1 < a <= 3", {"a": 3}, True),
    ("datacenters[0].hosts[0].count // 2", {"datacenters[0].hosts[0].count": 9}, 4),
    ("-a ** 2 % 7", {"a": 3}, (-(3 ** 2)) % 7),
])
def test_expression_values(text: str, env: dict[str, Any], value: Any) -> None:
    assert Expression(text).evaluate(env) == value


@pytest.mark.parametrize("text", ["a.__class__.__bases__", "(lambda: 1)()", "[1, 2]",
                                  "open('x')", "a[b]", "{1: 2}", "f'{a}'"])
def test_expression_refuses_anything_else(text: str) -> None:
    with pytest.raises(ValueError):  # noqa: PT011 - the message varies with the construct
        Expression(text).evaluate({"a": 1, "b": 0})


def test_expression_refuses_huge_powers() -> None:
    with pytest.raises(ValueError, match="too large"):
        Expression("10 ** 10 ** 10").evaluate({})


def test_parallel_order_puts_the_costliest_points_first() -> None:
    # one run's cost estimate grows with the guests (guest-intervals, draws, events): points
    # with 4, 2 and 1 guests run in that order, each point's replications together and in order;
    # points of equal estimate (the two layers) keep their plan order
    from dcsim.config.cost import estimate
    from dcsim.experiments.sweep import tasks_of

    plan = expand_sweep(tiny({"grid": {"guests[0].count": [1, 4, 2], VIRT: ["kvm", "docker"]},
                              "replications": 2}))
    est = [p.est_seconds for p in plan.points]
    assert est == [estimate(parse_config(p.config).config)[0].seconds for p in plan.points]
    assert est[0] == est[1] < est[4] == est[5] < est[2] == est[3]
    ids = [p.point_id for p in plan.points]
    order = [2, 3, 4, 5, 0, 1]
    assert [t.key for t in tasks_of(plan, longest_first=True)] == [
        f"{ids[i]}-rep{k}" for i in order for k in (0, 1)]
    assert [t.key for t in tasks_of(plan)] == [f"{i}-rep{k}" for i in ids for k in (0, 1)]
    # finished runs are skipped in either order
    skip = {f"{ids[2]}-rep0", f"{ids[0]}-rep1"}
    assert [t.key for t in tasks_of(plan, skip, longest_first=True)] == [
        f"{ids[i]}-rep{k}" for i in order for k in (0, 1) if f"{ids[i]}-rep{k}" not in skip]


def test_a_set_on_a_swept_parameter_is_said_to_change_nothing() -> None:
    """``--set guests[0].count=garbage`` under a sweep of guests[0].count: every point replaces
    it (it was silently ignored, garbage included); a path below a swept one likewise."""
    import warnings

    from dcsim.errors import InertWarning
    from dcsim.experiments.sweep import plan_sweep

    cfg = tiny({"grid": {"guests[0].count": [1, 2]}})
    with pytest.warns(InertWarning) as record:
        plan = plan_sweep(cfg, ["guests[0].count=garbage", "seed=3"])
    assert [str(w.message) for w in record] == [
        "--set guests[0].count: changes nothing: the sweep sets guests[0].count at every point"]
    assert [p.params for p in plan.points] == [{"guests[0].count": 1}, {"guests[0].count": 2}]
    workloads = [{"kind": "constant", "utilization": u} for u in (0.2, 0.4)]
    with pytest.warns(InertWarning) as record:
        plan_sweep(tiny({"grid": {"guests[0].workload": workloads}}),
                   ["guests[0].workload.utilization=0.9"])
    assert [str(w.message) for w in record] == [
        "--set guests[0].workload.utilization: changes nothing: the sweep sets "
        "guests[0].workload at every point"]
    with warnings.catch_warnings():  # a path beside a swept one: used, nothing said
        warnings.simplefilter("error", InertWarning)
        plan_sweep(cfg, ["guests[0].mips=900"])

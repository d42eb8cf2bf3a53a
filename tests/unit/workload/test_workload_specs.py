"""Workload config models: parsing, units, defaults, refusals; one model per kind."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import TypeAdapter, ValidationError

from dcsim.config.workloads import (
    ConstantWorkload,
    DiurnalWorkload,
    FirstN,
    SampleN,
    TraceWorkload,
    UniformWorkload,
    WorkloadSpec,
)
from dcsim.rng import RandomStreams
from dcsim.workload.models import (
    Constant,
    Diurnal,
    OnOff,
    RandomStep,
    StepwiseRandom,
    TraceReplay,
    build_workload,
)

SPEC: TypeAdapter[Any] = TypeAdapter(WorkloadSpec)


def test_existing_names_still_work() -> None:
    assert isinstance(SPEC.validate_python({"kind": "constant", "utilization": "30%"}),
                      ConstantWorkload)
    u = SPEC.validate_python({"kind": "uniform", "low": 0.2, "high": 0.4, "period": "5m"})
    assert isinstance(u, UniformWorkload)
    assert u.period == 300.0
    assert u.autocorrelation == 0.0


def test_units_and_selection() -> None:
    d = SPEC.validate_python({"kind": "diurnal", "peak_time": "14h", "phase_jitter": "30m"})
    assert isinstance(d, DiurnalWorkload)
    assert d.peak_time == 14 * 3600.0
    assert d.phase_jitter == 1800.0
    t = SPEC.validate_python({"kind": "trace", "name": "planetlab", "day": "20110303",
                              "selection": {"first": 10}, "offset": "1h"})
    assert isinstance(t, TraceWorkload)
    assert t.selection == FirstN(first=10)
    assert t.offset == 3600.0
    s = SPEC.validate_python({"kind": "trace", "selection": {"sample": 5}})
    assert s.selection == SampleN(sample=5)


@pytest.mark.parametrize(
    "raw",
    [
        {"kind": "uniform", "low": 0.6, "high": 0.2},
        {"kind": "normal", "mean": 0.5, "sd": 0.1, "autocorrelation": 1.0},
        {"kind": "beta", "a": 0, "b": 1},
        {"kind": "onoff", "mean_on": "5m"},
        {"kind": "trace", "name": "csv"},
        {"kind": "trace", "selection": {"first": 1, "sample": 2}},
        {"kind": "trace", "column": "disk"},
        {"kind": "diurnal", "amplitude": 0.2, "typo": 1},
        {"kind": 3},
        {"low": 0.2},
        "uniform",
    ],
)
def test_refused_specs(raw: dict[str, Any]) -> None:
    with pytest.raises(ValidationError):
        SPEC.validate_python(raw)


def test_unknown_kind_is_refused_by_the_registry_with_its_path() -> None:
    """A kind that is not built in passes the schema as a plugin kind (its params are the
    plugin's to check) and is refused one layer up when no plugin registered it."""
    import dcsim
    from dcsim.config.workloads import PluginWorkload
    from dcsim.errors import ConfigError

    assert isinstance(SPEC.validate_python({"kind": "gaussian", "sd": 1}), PluginWorkload)
    with pytest.raises(ConfigError) as info:
        dcsim.load_config(None, ["guests[0].workload={kind: gaussian, sd: 0.1}"])
    paths = [i.path for i in info.value.issues]
    assert paths == ["guests[0].workload.kind"], info.value.render()
    assert "unknown workload kind 'gaussian'" in info.value.issues[0].message


@pytest.mark.parametrize(
    ("raw", "cls"),
    [
        ({"kind": "constant"}, Constant),
        ({"kind": "uniform"}, StepwiseRandom),
        ({"kind": "normal", "mean": 0.3, "sd": 0.1}, RandomStep),
        ({"kind": "beta", "a": 1, "b": 3}, RandomStep),
        ({"kind": "lognormal", "mean": 0.3, "sd": 0.1}, RandomStep),
        ({"kind": "diurnal"}, Diurnal),
        ({"kind": "onoff", "mean_on": "5m", "mean_off": "5m"}, OnOff),
        ({"kind": "trace", "name": "google", "day": "3"}, TraceReplay),
    ],
)
def test_build_workload_per_kind(raw: dict[str, Any], cls: type) -> None:
    m = build_workload(SPEC.validate_python(raw), 25, RandomStreams(0), "workload.0", 300.0)
    assert isinstance(m, cls)
    v = m.values(1234.0)
    assert v.shape == (25,)
    assert ((v >= 0) & (v <= 1)).all()

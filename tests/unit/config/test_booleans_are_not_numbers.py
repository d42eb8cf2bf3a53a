"""A YAML boolean is no number: ``count: true``, ``seed: yes``, ``pue: on`` are refused at their
path.

pydantic's lax mode reads ``True`` as 1 (or 1.0) for an ``int`` or ``float`` field, so a config
with ``count: true`` ran one host and ``pue: yes`` ran at PUE 1.0, silently (session-17 audit,
left open then). Every number field of the config models is ``dcsim.units.Integer`` or
``Number`` now, which refuse booleans; the last test keeps new fields that way.
"""

from __future__ import annotations

import types
import typing
from typing import Annotated, Any

import pydantic
import pytest
from pydantic.functional_validators import BeforeValidator

import dcsim.policies.overload
import dcsim.policies.placement
import dcsim.validate
from dcsim.errors import ConfigError
from dcsim.experiments.sweep import plan_sweep
from dcsim.units import (
    UnitError,
    _real,
    _whole,
    parse_bitrate,
    parse_byterate,
    parse_duration,
    parse_fraction,
    parse_power,
    parse_rate,
    parse_size,
)
from dcsim.validate import parse_config
from tests.conftest import tiny_config


def _set(cfg: dict[str, Any], path: str, value: Any) -> None:
    from dcsim.config.load import set_path

    set_path(cfg, path, value)


# (config path, value): each was accepted as 1 / 1.0 before
CASES = [
    ("datacenters[0].hosts[0].count", True, "expected a whole number, got True"),
    ("guests[0].count", True, "expected a whole number, got True"),
    ("seed", True, "expected a whole number, got True"),
    ("datacenters[0].pue", True, "expected a number, got True"),
    ("datacenters[0].hosts[0].cpu_overcommit", True, "expected a number, got True"),
    ("datacenters[0].hosts[0].mips_per_core", False, "expected a number, got False"),
    ("guests[0].mips", True, "expected a number, got True"),
    ("consolidation.history", True, "expected a whole number, got True"),
]


@pytest.mark.parametrize(("path", "value", "message"), CASES, ids=[c[0] for c in CASES])
def test_a_boolean_for_a_number_is_refused_at_its_path(path: str, value: bool,
                                                      message: str) -> None:
    cfg = tiny_config()
    if path.startswith("consolidation"):
        cfg["consolidation"] = {"policy": "thr-mmt-0.8"}
    _set(cfg, path, value)
    with pytest.raises(ConfigError) as err:
        parse_config(cfg)
    assert [(i.path, i.message) for i in err.value.issues] == [(path, message)]


def test_the_same_numbers_are_accepted() -> None:
    """The fields still take their numbers (and an integral float for a count, as before)."""
    cfg = tiny_config(seed=3)
    _set(cfg, "datacenters[0].hosts[0].count", 2.0)
    _set(cfg, "datacenters[0].pue", 1)
    sc = parse_config(cfg)
    assert sc.config.datacenters[0].hosts[0].count == 2
    assert sc.config.datacenters[0].pue == 1.0
    assert sc.config.seed == 3


def test_a_catalog_entry_and_a_sweep_section_refuse_booleans_too() -> None:
    cfg = tiny_config(host_models={"hx": {"base": "ibm_x3550_x5675", "cores": True}})
    with pytest.raises(ConfigError) as err:
        parse_config(cfg)
    assert ("host_models.hx.cores", "expected a whole number, got True") in [
        (i.path, i.message) for i in err.value.issues]
    swept = tiny_config(sweep={"grid": {"guests[0].count": [1, 2]}, "replications": True})
    with pytest.raises(ConfigError) as err:
        plan_sweep(swept)
    assert [(i.path, i.message) for i in err.value.issues] == [
        ("sweep.replications", "expected a whole number, got True")]


def _models() -> list[type[pydantic.BaseModel]]:
    """Every pydantic model that dcsim defines (config, catalog, sweep, policy parameters)."""
    loaded = (dcsim.validate, dcsim.policies.overload, dcsim.policies.placement)
    assert all(loaded)
    seen: list[type[pydantic.BaseModel]] = []
    stack = list(pydantic.BaseModel.__subclasses__())
    while stack:
        cls = stack.pop()
        stack.extend(cls.__subclasses__())
        if cls.__module__.startswith("dcsim.") and cls not in seen:
            seen.append(cls)
    return seen


#: the validators that refuse a boolean before pydantic sees it (the units' parsers and the two
#: plain-number types)
REFUSING = (_whole, _real, parse_duration, parse_size, parse_bitrate, parse_byterate, parse_power,
            parse_rate, parse_fraction)


@pytest.mark.parametrize("parse", REFUSING, ids=[f.__name__ for f in REFUSING])
@pytest.mark.parametrize("value", [True, False])
def test_each_number_validator_refuses_a_boolean(parse: Any, value: bool) -> None:
    with pytest.raises(UnitError, match=f"got {value}"):
        parse(value)


def _bare_numbers(tp: Any, metadata: list[Any]) -> bool:
    """Whether ``tp`` (with its field's ``metadata``) is an ``int``/``float`` that takes a bool."""
    if typing.get_origin(tp) is Annotated:
        inner, *extra = typing.get_args(tp)
        return _bare_numbers(inner, [*metadata, *extra])
    if typing.get_origin(tp) in (typing.Union, types.UnionType):
        return any(_bare_numbers(a, metadata) for a in typing.get_args(tp))
    if tp in (int, float):
        return not any(isinstance(m, BeforeValidator) and m.func in REFUSING for m in metadata)
    return False


def test_no_config_model_has_a_number_field_that_takes_a_boolean() -> None:
    models = _models()
    assert len(models) > 40  # the walk found the config models
    bare = [f"{cls.__module__}.{cls.__qualname__}.{name}"
            for cls in models for name, field in cls.model_fields.items()
            if _bare_numbers(field.annotation, list(field.metadata))]
    assert bare == []

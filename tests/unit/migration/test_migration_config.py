"""MigrationSpec: defaults, units, refusals."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from dcsim.config.migration import MIGRATION_MODELS, MigrationSpec


def test_defaults_are_the_documented_ones() -> None:
    spec = MigrationSpec()
    assert spec.model == "precopy"
    assert spec.max_downtime == 0.3  # QEMU DEFAULT_MIGRATE_SET_DOWNTIME
    assert spec.max_rounds == 30  # Xen DEF_MAX_ITERS
    assert spec.max_traffic_factor == 3.0  # Xen DEF_MAX_FACTOR
    assert spec.bandwidth_cap is None
    assert spec.working_set == 0.9
    assert spec.slowdown == 0.10
    assert spec.resume_time == 0.009


def test_units_are_parsed_to_si() -> None:
    spec = MigrationSpec(
        max_downtime="30ms", bandwidth_cap="128MiB/s", dirty_rate="100MB/s", working_set="50%"
    )
    assert spec.max_downtime == pytest.approx(0.03)
    assert spec.bandwidth_cap == 128 * 2**20 * 8  # bit/s
    assert spec.dirty_rate == 100e6  # bytes/s
    assert spec.working_set == 0.5


@pytest.mark.parametrize("name", MIGRATION_MODELS)
def test_every_model_name_is_accepted(name: str) -> None:
    assert MigrationSpec(model=name).model == name


def test_unknown_model_is_refused() -> None:
    with pytest.raises(ValidationError, match="model"):
        MigrationSpec(model="teleport")


def test_unknown_key_is_refused() -> None:
    with pytest.raises(ValidationError, match="max_downtim"):
        MigrationSpec(max_downtim="1s")


def test_bad_unit_is_refused() -> None:
    with pytest.raises(ValidationError, match="max_downtime"):
        MigrationSpec(max_downtime="3 parsecs")


def test_unbounded_precopy_is_refused() -> None:
    with pytest.raises(ValidationError, match="bound"):
        MigrationSpec(max_rounds=0, max_traffic_factor=None)
    assert MigrationSpec(max_rounds=0).max_traffic_factor == 3.0


def test_spec_is_frozen() -> None:
    spec = MigrationSpec()
    with pytest.raises(ValidationError):
        spec.max_rounds = 3  # type: ignore[misc]

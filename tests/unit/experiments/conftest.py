"""Fixtures of the experiments tests."""

from __future__ import annotations

import copy
from pathlib import Path

import pytest
import yaml
from sweep_helpers import SMALL_SWEEP, tiny


@pytest.fixture
def small_sweep_file(tmp_path: Path) -> Path:
    """A YAML file: 4 points × 2 replications on the tiny config."""
    path = tmp_path / "sweep.yaml"
    path.write_text(yaml.safe_dump(tiny(copy.deepcopy(SMALL_SWEEP)), sort_keys=False),
                    encoding="utf-8")
    return path

"""Shipped YAML parsed by the fast loader equals what the pure-Python safe loader gives.

``dcsim.config.safeyaml.load_shipped`` uses libyaml's C loader for the catalogs and the default
config; this checks, file by file, that it returns exactly the data of ``yaml.SafeLoader``
(same keys, values and types), so switching loaders changes no number.
"""

from __future__ import annotations

from importlib import resources

import pytest
import yaml

from dcsim.config.safeyaml import load_shipped

SHIPPED = [
    ("dcsim.catalog", "hosts.yaml"),
    ("dcsim.catalog", "guests.yaml"),
    ("dcsim.catalog", "virtualization.yaml"),
    ("dcsim.catalog", "switches.yaml"),
    ("dcsim.configs", "default.yaml"),
]


def _typed(value: object) -> object:
    """``value`` with every leaf paired with its type (1 == 1.0 == True would hide a change)."""
    if isinstance(value, dict):
        return {k: _typed(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_typed(v) for v in value]
    return (type(value).__name__, value)


@pytest.mark.parametrize(("package", "name"), SHIPPED)
def test_fast_loader_gives_the_safe_loaders_data(package: str, name: str) -> None:
    text = resources.files(package).joinpath(name).read_text("utf-8")
    expected = yaml.load(text, Loader=yaml.SafeLoader)
    assert expected  # the file has content
    assert _typed(load_shipped(text)) == _typed(expected)


def test_typed_comparison_tells_int_from_float() -> None:
    # the helper above must see 1 and 1.0 as different, or a loader change could slip through
    assert _typed({"a": [1]}) != _typed({"a": [1.0]})

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


def _every_shipped_yaml() -> list[str]:
    from tests.conftest import REPO

    files = [*(REPO / "dcsim" / "catalog").glob("*.yaml"), *(REPO / "configs").rglob("*.yaml")]
    return sorted(str(f.relative_to(REPO)) for f in files)


@pytest.mark.parametrize("rel", _every_shipped_yaml())
def test_shipped_yaml_has_no_repeated_key(rel: str) -> None:
    # the users' loader refuses a repeated key; no shipped file may hold one either
    from dcsim.config.safeyaml import load_yaml
    from tests.conftest import REPO

    assert load_yaml((REPO / rel).read_text("utf-8")) is not None


def test_a_repeated_key_is_refused_with_both_lines() -> None:
    # PyYAML keeps the last value silently: count 400 hosts instead of the 4 written first
    # (audit, session 17); the bounded loader names the key and both lines instead
    from dcsim.config.safeyaml import LimitError, load_yaml

    text = "hosts:\n  - model: m\n    count: 4\n    count: 400\nname: x\n"
    with pytest.raises(LimitError, match=r"duplicate key 'count' \(first at line 3\)") as err:
        load_yaml(text)
    assert err.value.problem_mark.line + 1 == 4
    assert load_yaml("a: {b: 1}\nc: {b: 2}\n") == {"a": {"b": 1}, "c": {"b": 2}}  # other maps

"""``dcsim.io.results.yaml_text``: the text of ``yaml.safe_dump(data, sort_keys=False)``, through
libyaml's emitter only where that emitter writes the same bytes (config.yaml, resolved.yaml)."""

from __future__ import annotations

import string
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

import dcsim
from dcsim.io import results
from dcsim.io.results import yaml_text

REPO = Path(__file__).resolve().parents[3]
CONFIGS = sorted(p for p in (REPO / "configs").rglob("*.yaml") if "sweeps" not in p.parts)

needs_c = pytest.mark.skipif(results._C_DUMPER is None, reason="PyYAML built without libyaml")


def _python(data: Any) -> str:
    return yaml.safe_dump(data, sort_keys=False)


def _c(data: Any) -> str:
    return yaml.dump(data, Dumper=yaml.CSafeDumper, sort_keys=False)


@needs_c
@pytest.mark.parametrize("path", CONFIGS, ids=lambda p: str(p.relative_to(REPO)))
def test_shipped_configs_take_the_c_emitter_and_give_the_same_text(path: Path) -> None:
    sc = dcsim.load_config(path)
    for data in (sc.config_json(), sc.resolved_json()):
        assert results._same_in_c(data)  # the fast path is the one tested here
        assert yaml_text(data) == _python(data)


_text = st.text(alphabet=string.printable[:95], max_size=40) | st.sampled_from(
    ["true", "null", "~", "yes", "0x1f", "1e3", "- a", "a: b", " #c", "---", "'q'", '"d"'])
_long = st.builds(lambda s, n: s * n, _text, st.integers(1, 30))
_key = st.text(alphabet=string.printable[:95], min_size=1, max_size=99)
_scalar = (st.none() | st.booleans() | st.integers(-(10**25), 10**25)
           | st.floats(allow_nan=True, allow_infinity=True) | _long)
_data = st.dictionaries(_key, st.recursive(
    _scalar, lambda inner: st.lists(inner, max_size=4) | st.dictionaries(_key, inner, max_size=4),
    max_leaves=25), max_size=5)


@needs_c
@settings(max_examples=300, deadline=None)
@given(_data)
def test_c_emitter_equals_python_emitter_where_claimed(data: Any) -> None:
    assert results._same_in_c(data)
    assert _c(data) == _python(data)


@needs_c
@pytest.mark.parametrize("data", [
    {"": 1},  # PyYAML: "? ''", libyaml: "'': 1"
    {"9,2u{^fQ;" * 14: 1},  # PyYAML: a complex key ('? key'), libyaml a simple one
    {"k": "é,.'" * 20},  # PyYAML folds long double-quoted strings, libyaml does not
    {"k": "a\x7fb" * 30},
    "a",  # a document that is a plain scalar: PyYAML ends it with '...'
])
def test_data_the_c_emitter_writes_differently_goes_through_python(data: Any) -> None:
    assert _c(data) != _python(data)  # why the guard exists
    assert not results._same_in_c(data)
    assert yaml_text(data) == _python(data)

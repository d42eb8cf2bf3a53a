"""Validators carry their signature (``dcsim.units._signed``): the stored one is the real one.

pydantic reads a validator's signature to decide whether it takes ``info``; ``_signed`` stores it
as ``__signature__`` so that building the config models does not recompute it for every field
(issue 15, start-up CPU). A stored signature that differed from the function's own would change
how pydantic calls the validator: each one is compared with the signature inspect computes from
the code once ``__signature__`` is removed.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

import pytest

import dcsim.units as units

SIGNED = [f for f in vars(units).values()
          if inspect.isfunction(f) and "__signature__" in vars(f)]
SIGNED.append(units.StrictModel.__pydantic_decorators__.field_validators["_bounded"].func.__func__)


def test_the_validators_pydantic_inspects_most_are_signed() -> None:
    # hand-listed: the bounds check of every field, the unit parsers (~450 uses) and the
    # boolean refusals of the plain number fields (Integer, Number: ~90)
    names = {f.__name__ for f in SIGNED}
    assert names == {"_bounded", "parse_duration", "parse_size", "parse_bitrate",
                     "parse_byterate", "parse_power", "parse_rate", "parse_fraction",
                     "_size_str", "_whole", "_real"}


@pytest.mark.parametrize("f", SIGNED, ids=lambda f: f.__name__)
def test_stored_signature_is_the_functions_own(f: Callable[..., Any]) -> None:
    stored = f.__signature__  # type: ignore[attr-defined]
    del f.__signature__  # type: ignore[attr-defined]
    try:
        own = inspect.signature(f)
    finally:
        f.__signature__ = stored  # type: ignore[attr-defined]
    assert stored == own
    assert inspect.signature(f) is stored

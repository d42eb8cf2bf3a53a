"""The 11-point power table of a host power model, as configs and catalogs state it.

Every power model is an 11-point table of watts at 0 %, 10 %, …, 100 % CPU utilisation (the
SPECpower_ssj2008 format); a linear model (idle, max) is the exact table of its straight line.
The table is config data, so its construction and its checks live here; ``dcsim.model.power``
evaluates it.

Power models are a registry (:data:`POWER_MODELS`) of named kinds: ``spec`` (the 11 values as
given) and ``linear`` (idle, max) are built in; a plugin (``dcsim.plugins``) adds a kind with a
pydantic ``Params`` model and a function from its validated params to the 11-point table. A host's
``power: {kind: <name>, <param>: ...}`` then names it; the engine evaluates every kind through its
table (linear interpolation between the 11 points), so a plugin kind is exactly as fast.

Imports: numpy, pydantic, dcsim.registry.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray
from pydantic import BaseModel

from dcsim.registry import Registry

F64 = NDArray[np.float64]

N_POINTS = 11

__all__ = ["N_POINTS", "POWER_MODELS", "PowerModel", "linear_table", "validate_table"]


@dataclass(frozen=True)
class PowerModel:
    """A registered power-model kind.

    Attributes
    ----------
    params
        pydantic model of the kind's parameters (the keys beside ``kind`` in a ``power:``
        mapping); ``None`` for the built-in kinds, whose fields are ``PowerSpec``'s own.
    table
        validated params → 11 watts at 0 %, 10 %, …, 100 % load (checked with
        :func:`validate_table`); ``None`` for the built-in kinds.
    description
        One line for ``dcsim plugins``.
    """

    params: type[BaseModel] | None
    table: Callable[[Any], Sequence[float]] | None
    description: str = ""


POWER_MODELS: Registry[PowerModel] = Registry("power model")
POWER_MODELS.register("spec")(PowerModel(None, None, "11 SPECpower points, W at 0%..100% load"))
POWER_MODELS.register("linear")(PowerModel(None, None, "idle + (max - idle) * utilisation"))


def linear_table(idle_w: float, max_w: float) -> F64:
    """Table of a linear model: ``P(u) = idle + (max - idle) * u``, at u = 0, 0.1, …, 1."""
    return idle_w + (max_w - idle_w) * np.linspace(0.0, 1.0, N_POINTS)


def validate_table(watts: list[float] | F64) -> list[str]:
    """Problems with a power table (empty list if it is usable)."""
    arr = np.asarray(watts, dtype=np.float64)
    problems: list[str] = []
    if arr.shape != (N_POINTS,):
        problems.append(f"expected {N_POINTS} values (0%, 10%, …, 100% load), got {arr.size}")
        return problems
    if not np.all(np.isfinite(arr)) or np.any(arr < 0):
        problems.append("power values must be finite and >= 0 W")
    if np.any(np.diff(arr) < 0):
        problems.append("power must not decrease with load")
    return problems

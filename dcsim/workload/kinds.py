"""The registry of workload kinds: what a guest group's ``workload: {kind: ...}`` may name.

Every kind is a :class:`WorkloadKind`: a pydantic ``params`` model and a ``build(params, n, ctx)``
function returning a utilisation model for the ``n`` guests of a group (the protocol of
:mod:`dcsim.workload.models`: ``values(t_s) -> (n,)`` fractions in [0, 1], asked in
non-decreasing time order). The built-in kinds (``constant``, ``uniform``, …, ``trace``) are
registered by :mod:`dcsim.workload.models` with their config spec models as ``params``; plugins
(``dcsim.plugins``) add more. A config names a plugin kind like a built-in one, its parameters as
the other keys of the mapping (``{kind: square, high: 0.9}``); :func:`check_plugin_spec` checks them
with the kind's ``params`` model, so a bad value is refused with its config path before anything
runs.

Models a plugin builds are wrapped in :class:`CheckedModel`, which refuses (``SimulationError``
naming the kind) values of the wrong shape or outside [0, 1]: a plugin cannot make a guest want
more than its requested CPU.

Imports: numpy, pydantic, dcsim.config.workloads, dcsim.errors, dcsim.registry, dcsim.rng.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray
from pydantic import BaseModel, ValidationError

from dcsim.config.workloads import PluginWorkload
from dcsim.errors import Issue, SimulationError
from dcsim.registry import Registry
from dcsim.rng import RandomStreams

__all__ = ["WORKLOADS", "CheckedModel", "WorkloadContext", "WorkloadKind", "check_plugin_spec"]

F64 = NDArray[np.float64]


@dataclass(frozen=True, slots=True)
class WorkloadContext:
    """What a workload builder gets beside its params and guest count.

    Attributes
    ----------
    streams
        The run's random streams. Draw only from streams named ``name`` or ``name + "/..."``
        (``streams.fresh(name, k)`` for step ``k``): a value then depends only on
        (seed, replication, name, step), never on when the engine asks.
    name
        The group's stream name (``"workload.<group index>"``).
    interval_s
        The scheduling interval, s (a natural default step).
    base_dir
        Folder of the config file (resolve relative file parameters against it), or None.
    """

    streams: RandomStreams
    name: str
    interval_s: float
    base_dir: Path | None


@dataclass(frozen=True)
class WorkloadKind:
    """A registered workload kind (see the module docstring)."""

    params: type[BaseModel]
    build: Callable[[Any, int, WorkloadContext], Any]
    description: str = ""


WORKLOADS: Registry[WorkloadKind] = Registry("workload kind")


class CheckedModel:
    """A plugin's utilisation model, its values checked: shape (n,), finite, in [0, 1]."""

    def __init__(self, inner: Any, n: int, kind: str) -> None:
        self.n = n
        self._inner = inner
        self._kind = kind

    def values(self, t_s: float) -> F64:
        """(n,) utilisation fractions at ``t_s`` (the plugin's, checked)."""
        v = np.asarray(self._inner.values(t_s), dtype=np.float64)
        if v.shape != (self.n,):
            raise SimulationError(f"workload kind {self._kind!r} returned shape {v.shape} at "
                                  f"t = {t_s:g} s, expected ({self.n},)")
        if not (np.all(v >= 0.0) and np.all(v <= 1.0)):  # NaN fails both
            raise SimulationError(f"workload kind {self._kind!r} returned utilisation outside "
                                  f"[0, 1] at t = {t_s:g} s")
        return v


def check_plugin_spec(spec: PluginWorkload, where: str) -> list[Issue]:
    """Issues of a plugin workload spec: the kind is registered and its params validate.

    Paths are ``<where>.kind`` and ``<where>.<param>`` (the config path of each bad key).
    """
    from dcsim.config.load import issues_from_validation

    if spec.kind not in WORKLOADS:
        return [Issue(f"{where}.kind", f"unknown workload kind {spec.kind!r}; known: "
                                       f"{', '.join(WORKLOADS.names())}")]
    params = spec.params()
    try:
        WORKLOADS.get(spec.kind).params.model_validate(params)
    except ValidationError as exc:
        return issues_from_validation(exc, prefix=where, data=params)
    return []

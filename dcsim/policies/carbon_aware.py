"""Carbon-aware admission placement: the greenest data center first.

``carbon_aware`` places each guest in the data center whose grid carbon intensity is lowest now
(``ClusterState.carbon_now``, published by ``dcsim.engine.carbon``; ties: the lower data-center
index) among those with a host the guest fits on, and inside it on the host the ``then`` policy
chooses (default ``pabfd``). Without carbon accounting it is the ``then`` policy. Guests
arriving together are taken in the ``then`` policy's order.

Imports: numpy, pydantic, dcsim.policies.placement.
"""

from __future__ import annotations

from typing import Any, Literal

import numpy as np
from numpy.typing import NDArray

from dcsim.policies.placement import PLACEMENT, _Params, _Sequential

I64 = NDArray[np.intp]


class CarbonAwareParams(_Params):
    then: Literal["first_fit", "best_fit", "worst_fit", "random", "pabfd"] = "pabfd"


@PLACEMENT.register("carbon_aware")
class CarbonAware(_Sequential):
    """See the module docstring."""

    Params = CarbonAwareParams

    def __init__(self, params: Any, rng: np.random.Generator) -> None:
        super().__init__(params, rng)
        inner_cls = PLACEMENT.get(getattr(params, "then", "pabfd"))
        self.inner = inner_cls(inner_cls.Params(), rng)

    def order(self, view: Any, guests: I64) -> I64:
        out: I64 = self.inner.order(view, guests)
        return out

    def choose(self, view: Any, g: int, feasible: NDArray[np.bool_]) -> int:
        now = getattr(view, "carbon_now", None)
        if now is None:
            return int(self.inner.choose(view, g, feasible))
        dcs = np.unique(view.datacenter[feasible])
        best = int(dcs[int(np.argmin(np.asarray(now)[dcs]))])  # ties: the lower index
        return int(self.inner.choose(view, g, feasible & (view.datacenter == best)))

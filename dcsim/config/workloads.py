"""Config models of guest workloads (CPU utilisation over time) and of guest arrivals.

A workload spec is a tagged union on ``kind``. Utilisation values are fractions of the guest's
requested CPU (vCPUs × MIPS) in [0, 1]. Implementations live in ``dcsim.workload``.

Imports: pydantic, dcsim.units.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from dcsim.units import Duration, Fraction, Rate


class _Spec(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class ConstantWorkload(_Spec):
    """The same utilisation at every instant."""

    kind: Literal["constant"] = "constant"
    utilization: Fraction = Field(0.5, ge=0, le=1)


class UniformWorkload(_Spec):
    """Independent uniform draws in [low, high], a new one per guest every ``period``."""

    kind: Literal["uniform"] = "uniform"
    low: Fraction = Field(0.0, ge=0, le=1)
    high: Fraction = Field(1.0, ge=0, le=1)
    period: Duration | None = Field(None, gt=0, description="default: the scheduling interval")


WorkloadSpec = Annotated[ConstantWorkload | UniformWorkload, Field(discriminator="kind")]


class AtStart(_Spec):
    """Every guest of the group arrives at t = 0 and stays for the whole run."""

    kind: Literal["at_start"] = "at_start"


class PoissonArrivals(_Spec):
    """Arrivals of a Poisson process (``rate``), each guest living an exponential ``mean_lifetime``."""

    kind: Literal["poisson"] = "poisson"
    rate: Rate = Field(gt=0)
    mean_lifetime: Duration = Field(gt=0)


ArrivalSpec = Annotated[AtStart | PoissonArrivals, Field(discriminator="kind")]

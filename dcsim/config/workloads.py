"""Config models of guest workloads (CPU utilisation over time) and of guest arrivals.

A workload spec is a tagged union on ``kind``; an arrival spec too. Utilisation values are
fractions of the guest's requested CPU (vCPUs × MIPS) in [0, 1]. This module only describes and
checks the *shape* of a spec; the implementations (and the checks that need files, such as
whether a trace exists and parses) live in ``dcsim.workload``.

Workload kinds: ``constant``, ``uniform``, ``normal``, ``beta``, ``lognormal`` (random, piecewise
constant per ``period``, optional AR(1) ``autocorrelation``), ``diurnal``, ``onoff`` (Markov
modulated bursts) and ``trace`` (replay of a recorded trace, linear interpolation between
samples); any other kind is a plugin's (:class:`PluginWorkload`, its parameters checked by the
kind's registered model in ``dcsim.workload.kinds``). Arrival kinds: ``at_start``,
``poisson`` and ``trace`` (arrival times from a file).

Imports: pydantic, dcsim.units.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Discriminator, Field, Tag, model_validator

from dcsim.units import Duration, Fraction, Integer, Number, Rate, StrictModel

__all__ = [
    "BUILTIN_WORKLOADS",
    "ArrivalSpec",
    "AtStart",
    "BetaWorkload",
    "ConstantLifetime",
    "ConstantWorkload",
    "DiurnalWorkload",
    "ExponentialLifetime",
    "FirstN",
    "LifetimeSpec",
    "LognormalLifetime",
    "LognormalWorkload",
    "NormalWorkload",
    "OnOffWorkload",
    "PluginWorkload",
    "PoissonArrivals",
    "SampleN",
    "TraceArrivals",
    "TraceWorkload",
    "UniformWorkload",
    "WeibullLifetime",
    "WorkloadSpec",
]


class _Spec(StrictModel):
    """Immutable, unknown keys refused, numbers finite and bounded."""


_PERIOD = "how long each random draw holds; default: the scheduling interval"
_PHI = (
    "AR(1) coefficient between consecutive periods, in [0, 1); the marginal distribution is "
    "kept (Gaussian copula)"
)


class ConstantWorkload(_Spec):
    """The same utilisation at every instant."""

    kind: Literal["constant"] = "constant"
    utilization: Fraction = Field(0.5, ge=0, le=1)


class UniformWorkload(_Spec):
    """Uniform draws in [low, high], a new one per guest every ``period``."""

    kind: Literal["uniform"] = "uniform"
    low: Fraction = Field(0.0, ge=0, le=1)
    high: Fraction = Field(1.0, ge=0, le=1)
    period: Duration | None = Field(None, gt=0, description=_PERIOD)
    autocorrelation: Number = Field(0.0, ge=0, lt=1, description=_PHI)

    @model_validator(mode="after")
    def _ordered(self) -> UniformWorkload:
        if self.high < self.low:
            raise ValueError(f"high ({self.high}) must be >= low ({self.low})")
        return self


class NormalWorkload(_Spec):
    """Normal draws (``mean``, ``sd``) clipped to [0, 1], a new one per guest every ``period``."""

    kind: Literal["normal"] = "normal"
    mean: Fraction = Field(ge=0, le=1)
    sd: Fraction = Field(ge=0)
    period: Duration | None = Field(None, gt=0, description=_PERIOD)
    autocorrelation: Number = Field(0.0, ge=0, lt=1, description=_PHI)


class BetaWorkload(_Spec):
    """Beta(a, b) draws on [0, 1] (mean a/(a+b)), a new one per guest every ``period``."""

    kind: Literal["beta"] = "beta"
    a: Number = Field(gt=0)
    b: Number = Field(gt=0)
    period: Duration | None = Field(None, gt=0, description=_PERIOD)
    autocorrelation: Number = Field(0.0, ge=0, lt=1, description=_PHI)


class LognormalWorkload(_Spec):
    """Lognormal draws with the ``mean`` and ``sd`` of the utilisation, clipped to [0, 1]."""

    kind: Literal["lognormal"] = "lognormal"
    mean: Fraction = Field(gt=0, le=1)
    sd: Fraction = Field(gt=0)
    period: Duration | None = Field(None, gt=0, description=_PERIOD)
    autocorrelation: Number = Field(0.0, ge=0, lt=1, description=_PHI)


class DiurnalWorkload(_Spec):
    """Daily (and weekly) seasonality plus noise, clipped to [0, 1].

    ``u(t) = mean + amplitude·sin(2π(t − peak_time)/1 d + π/2)
    + weekly_amplitude·sin(2π(t − weekly_peak)/7 d + π/2) + noise``, i.e. the daily term peaks
    at ``peak_time`` after midnight and the weekly term at ``weekly_peak`` after t = 0 (the
    start of day 0). Noise is normal(0, ``noise_sd``), drawn per guest every ``period``. Each
    guest's daily phase is shifted by normal(0, ``phase_jitter``) seconds, drawn once.
    """

    kind: Literal["diurnal"] = "diurnal"
    mean: Fraction = Field(0.4, ge=0, le=1)
    amplitude: Fraction = Field(0.2, ge=0, le=1)
    peak_time: Duration = Field(14 * 3600.0, ge=0, description="time of day of the peak, '14h'")
    weekly_amplitude: Fraction = Field(0.0, ge=0, le=1)
    weekly_peak: Duration = Field(2.5 * 86400.0, ge=0, description="time of week of its peak")
    noise_sd: Fraction = Field(0.0, ge=0)
    phase_jitter: Duration = Field(0.0, ge=0, description="sd of each guest's phase shift")
    period: Duration | None = Field(None, gt=0, description=_PERIOD)


class OnOffWorkload(_Spec):
    """Markov-modulated bursts: each guest alternates between an on and an off level.

    Each guest is a two-state Markov chain stepped every ``period``; it leaves the on state with
    probability 1 − exp(−period/mean_on) per step (geometric sojourns of mean ≈ ``mean_on``),
    and the off state likewise. The first state is drawn from the stationary distribution.
    """

    kind: Literal["onoff"] = "onoff"
    on_level: Fraction = Field(0.9, ge=0, le=1)
    off_level: Fraction = Field(0.05, ge=0, le=1)
    mean_on: Duration = Field(gt=0)
    mean_off: Duration = Field(gt=0)
    period: Duration | None = Field(None, gt=0, description=_PERIOD)


class FirstN(_Spec):
    """``first`` consecutive series of the trace (stored order), after skipping ``skip``."""

    first: Integer = Field(gt=0)
    skip: Integer = Field(0, ge=0)


class SampleN(_Spec):
    """``sample`` series drawn without replacement (seeded; kept in stored order)."""

    sample: Integer = Field(gt=0)


class TraceWorkload(_Spec):
    """Replay of a recorded trace, linear interpolation between samples, last sample held.

    ``name`` is a shipped or imported trace (``planetlab``, ``google``, ``bitbrains-sample``,
    ``bitbrains`` once imported, …) or a reader for ``path``: ``planetlab`` (a folder of
    one-percent-per-line files), ``google`` (``GCD_VMs.tar.gz`` or its folder), ``bitbrains``
    (a folder of GWA-T-12 files) or ``csv`` (the generic CSV/Parquet format, see
    ``dcsim.workload.traces``). ``day`` picks one day (``"20110303"``, ``"3"``, ``"2013-8"``);
    without it every day is used, one series per guest and day. ``column`` picks what drives
    the CPU demand; the memory series, where the trace has one, is exposed separately.
    ``offset`` shifts the start into the trace; ``loop`` wraps around at the end instead of
    holding the last sample; ``repeat`` lets more guests than series reuse series cyclically.
    """

    kind: Literal["trace"] = "trace"
    name: str = Field("planetlab", min_length=1)
    day: str | None = None
    path: str | None = Field(None, description="a trace file or folder; relative to the config")
    column: Literal["cpu", "memory"] = "cpu"
    offset: Duration = Field(0.0, ge=0)
    selection: FirstN | SampleN | None = None
    loop: bool = False
    repeat: bool = False

    @model_validator(mode="after")
    def _csv_needs_path(self) -> TraceWorkload:
        if self.name == "csv" and self.path is None:
            raise ValueError("a 'csv' trace needs a path")
        return self


class JobsWorkload(_Spec):
    """Finite work: each guest runs ``count`` jobs back to back, CPU-bound while it has work.

    Job lengths are in million instructions (MI), uniform in ``length × [1 − spread, 1 + spread]``
    (drawn from the group's own stream). A job uses all the guest's vCPUs; its completion time
    follows the CPU share the guest actually gets (processor sharing on its host), so it is the
    measure of how virtualization and consolidation slow work down.
    """

    kind: Literal["jobs"] = "jobs"
    count: Integer = Field(1, gt=0, description="jobs per guest, run back to back")
    length: Number = Field(gt=0, description="mean job length, million instructions (MI)")
    spread: Number = Field(0.0, ge=0, lt=1, description="lengths uniform in length × [1 ± spread]")
    depart_when_done: bool = Field(True, description="the guest leaves when its last job ends")


class PluginWorkload(_Spec):
    """A workload kind registered by a plugin (``dcsim.plugins``): ``kind`` names it and the
    other keys are its parameters, which the kind's own ``Params`` model checks
    (``dcsim.workload.kinds``, run by ``dcsim.validate`` with the config path of each key)."""

    model_config = ConfigDict(frozen=True, extra="allow", allow_inf_nan=False)

    kind: str = Field(min_length=1, description="a workload kind a plugin registered")

    def params(self) -> dict[str, Any]:
        """The parameters as written (every key but ``kind``)."""
        return dict(self.model_extra or {})


BUILTIN_WORKLOADS: dict[str, type[_Spec]] = {
    "jobs": JobsWorkload,
    "constant": ConstantWorkload,
    "uniform": UniformWorkload,
    "normal": NormalWorkload,
    "beta": BetaWorkload,
    "lognormal": LognormalWorkload,
    "diurnal": DiurnalWorkload,
    "onoff": OnOffWorkload,
    "trace": TraceWorkload,
}
"""The built-in workload kinds and their spec models."""


def _workload_tag(value: Any) -> str | None:
    """Union member of a workload value: its built-in kind, else ``"plugin"`` (any other kind
    name; whether a plugin registered it is checked with the registry, one layer up)."""
    if isinstance(value, dict):
        kind = value.get("kind")
    elif isinstance(value, BaseModel):
        kind = getattr(value, "kind", None)
    else:
        return None
    return kind if isinstance(kind, str) and kind in BUILTIN_WORKLOADS else "plugin"


WorkloadSpec = Annotated[
    Annotated[JobsWorkload, Tag("jobs")]
    | Annotated[ConstantWorkload, Tag("constant")]
    | Annotated[UniformWorkload, Tag("uniform")]
    | Annotated[NormalWorkload, Tag("normal")]
    | Annotated[BetaWorkload, Tag("beta")]
    | Annotated[LognormalWorkload, Tag("lognormal")]
    | Annotated[DiurnalWorkload, Tag("diurnal")]
    | Annotated[OnOffWorkload, Tag("onoff")]
    | Annotated[TraceWorkload, Tag("trace")]
    | Annotated[PluginWorkload, Tag("plugin")],
    Discriminator(_workload_tag, custom_error_type="invalid_union_member",
                  custom_error_message="expected a mapping with a 'kind' (a workload kind)"),
]


# --------------------------------------------------------------------------- lifetimes


class ExponentialLifetime(_Spec):
    """Exponential lifetime of the given ``mean``."""

    kind: Literal["exponential"] = "exponential"
    mean: Duration = Field(gt=0)


class LognormalLifetime(_Spec):
    """Lognormal lifetime with the given ``mean`` and ``sd`` (of the lifetime itself)."""

    kind: Literal["lognormal"] = "lognormal"
    mean: Duration = Field(gt=0)
    sd: Duration = Field(gt=0)


class WeibullLifetime(_Spec):
    """Weibull lifetime: ``shape`` k and ``scale`` λ (mean λ·Γ(1 + 1/k))."""

    kind: Literal["weibull"] = "weibull"
    shape: Number = Field(
        ge=0.01, le=100,
        description="k in [0.01, 100]: below 0.01, draws (-ln(1-u))^(1/k) overflow to infinity",
    )
    scale: Duration = Field(gt=0)


class ConstantLifetime(_Spec):
    """Every guest lives exactly ``value``."""

    kind: Literal["constant"] = "constant"
    value: Duration = Field(gt=0)


LifetimeSpec = Annotated[
    ExponentialLifetime | LognormalLifetime | WeibullLifetime | ConstantLifetime,
    Field(discriminator="kind"),
]


# --------------------------------------------------------------------------- arrivals


class AtStart(_Spec):
    """Every guest of the group arrives at t = 0 and stays for the whole run."""

    kind: Literal["at_start"] = "at_start"


class PoissonArrivals(_Spec):
    """Arrivals of a Poisson process (``rate``), each guest living ``lifetime``.

    ``mean_lifetime`` is shorthand for an exponential lifetime. With neither, guests stay.
    """

    kind: Literal["poisson"] = "poisson"
    rate: Rate = Field(gt=0)
    mean_lifetime: Duration | None = Field(None, gt=0)
    lifetime: LifetimeSpec | None = None

    @model_validator(mode="after")
    def _one_lifetime(self) -> PoissonArrivals:
        if self.mean_lifetime is not None and self.lifetime is not None:
            raise ValueError("give either mean_lifetime or lifetime, not both")
        return self


class TraceArrivals(_Spec):
    """Arrival times (and optionally lifetimes) read from a CSV or Parquet file.

    The file has a column ``time_column`` (seconds since the start of the run) and optionally
    ``lifetime_column`` (seconds; empty or ``inf`` = stays). Rows need not be sorted.
    """

    kind: Literal["trace"] = "trace"
    path: str
    time_column: str = "arrival_s"
    lifetime_column: str | None = "lifetime_s"


ArrivalSpec = Annotated[
    AtStart | PoissonArrivals | TraceArrivals, Field(discriminator="kind")
]

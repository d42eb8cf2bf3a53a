"""Config models for carbon accounting: the wall clock of the simulation and each data center's
grid carbon intensity.

``clock: {start: "2020-03-02 00:00", timezone: Europe/Berlin}`` says which instant t = 0 is
(a naive ``start`` is read in ``timezone``). A data center's ``carbon:`` gives its grid's
intensity in g CO2-eq per kWh, either constant (``intensity: 350``) or as a time series: a
stored series by name (``series: de-2020``; the shipped excerpts and those imported with
``dcsim traces import carbon``) or a CSV/Parquet file (``file: grid.csv`` with a timestamp and an
intensity column). Naive timestamps of a series are read in the series' ``timezone``. Between
points the intensity is stepwise (each value holds until the next timestamp) or, with
``interpolation: linear``, linear, averaged over each scheduling interval.

Embodied emissions of hosts: ``embodied_kgco2e`` (manufacture, transport and end of life, kg) and
``lifetime`` on a host group, amortised per second of the run (``dcsim.engine.carbon``).

Imports: pydantic, dcsim.units, dcsim.config.catalog (Frozen). The files themselves are read by
``dcsim.workload.carbon``.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import AfterValidator, Field, field_validator, model_validator

from dcsim.config.catalog import Frozen
from dcsim.config.migration import MigrationSpec
from dcsim.units import Duration, Integer, Number

__all__ = ["MAX_INTENSITY_G_PER_KWH", "CarbonSpec", "ClockSpec", "DeferSpec", "FollowSpec",
           "parse_instant", "reads_series", "zone"]

#: Highest grid carbon intensity accepted, g CO2-eq/kWh (a constant, a file or an imported
#: series). The most carbon-intensive real generation, lignite, emits about 1,100-1,200 g/kWh
#: (coal's life-cycle median is 820, IPCC AR5 WG3 Annex III, 2014), so no real grid average
#: comes near it; ten thousand leaves room for what-if studies while refusing typos and huge
#: values (1e308) whose products with the energy overflow to inf in the run's sums.
MAX_INTENSITY_G_PER_KWH = 10_000.0


def reads_series(datacenters: Any) -> bool:
    """Whether a data center's carbon intensity is a series (not a constant ``intensity``):
    what needs ``clock`` (which instant of the series t = 0 is)."""
    return any(dc.carbon is not None and dc.carbon.intensity is None for dc in datacenters)


def zone(name: str) -> dt.tzinfo:
    """The time zone ``name`` (IANA, e.g. ``Europe/Berlin``, or ``UTC``); ValueError if unknown."""
    if name.upper() == "UTC":
        return dt.UTC
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"unknown time zone {name!r} (expected an IANA name such as "
                         "'Europe/Berlin', or 'UTC')") from None


def local_time(t: dt.datetime, tz: dt.tzinfo) -> dt.datetime:
    """``t`` read in ``tz`` if naive (an aware ``t`` as it is). ValueError for a wall-clock
    time ``tz`` skips at a daylight-saving change, which Python would move an hour on
    silently (``2020-03-29 02:30`` in Europe/Berlin)."""
    if t.tzinfo is not None:
        return t
    aware = t.replace(tzinfo=tz)
    if aware.astimezone(dt.UTC).astimezone(tz).replace(tzinfo=None) != t:
        raise ValueError(f"{t.isoformat(sep=' ')} does not exist in {tz} (its clocks skip it at "
                         "a daylight-saving change); write it in UTC, or with its offset "
                         "(e.g. +01:00)")
    return aware


def parse_instant(text: str, tz: dt.tzinfo) -> dt.datetime:
    """An ISO 8601 date-time (``2020-03-02 00:00`` or with an offset); naive ones in ``tz``
    (:func:`local_time`)."""
    try:
        t = dt.datetime.fromisoformat(text.strip())
    except ValueError:
        raise ValueError(f"expected an ISO 8601 date-time such as '2020-03-02 00:00' or "
                         f"'2020-03-02T00:00:00+01:00', got {text!r}") from None
    return local_time(t, tz)


def _known_zone(v: str) -> str:
    zone(v)
    return v


#: An IANA time-zone name (or UTC), checked at load.
TimeZone = Annotated[str, AfterValidator(_known_zone)]


class ClockSpec(Frozen):
    """The wall-clock instant of t = 0."""

    start: str = Field(description="ISO 8601 date-time of t = 0, e.g. '2020-03-02 00:00'")
    timezone: TimeZone = Field("UTC", description="IANA time zone of a naive start (e.g. "
                               "'Europe/Berlin')")

    @model_validator(mode="after")
    def _start(self) -> ClockSpec:
        parse_instant(self.start, zone(self.timezone))
        return self

    def epoch_s(self) -> float:
        """t = 0 as seconds since 1970-01-01 UTC."""
        return parse_instant(self.start, zone(self.timezone)).timestamp()


class CarbonSpec(Frozen):
    """A data center's grid carbon intensity (exactly one of intensity, series, file)."""

    intensity: Number | None = Field(None, ge=0, le=MAX_INTENSITY_G_PER_KWH,
                                     description="constant intensity, g CO2-eq/kWh")
    series: str | None = Field(None, description="stored series by name (dcsim traces list: "
                               "carbon), e.g. 'de-2020'")
    file: str | None = Field(None, description="CSV or Parquet file (relative to the config)")
    time_column: str = Field("timestamp", description="the file's timestamp column")
    value_column: str = Field("g_per_kwh", description="the file's intensity column, g/kWh")
    timezone: TimeZone = Field("UTC",
                               description="IANA time zone of the series' naive timestamps")
    interpolation: Literal["step", "linear"] = Field(
        "step", description="step: each value holds until the next timestamp; linear: linear "
        "between points, averaged over each scheduling interval")

    @field_validator("file")
    @classmethod
    def _named(cls, v: str | None) -> str | None:
        if v is not None and not v.strip():  # Path('') is the config's own folder
            raise ValueError("empty path: name a CSV or Parquet file")
        return v

    @model_validator(mode="after")
    def _one_source(self) -> CarbonSpec:
        given = [k for k in ("intensity", "series", "file") if getattr(self, k) is not None]
        if len(given) != 1:
            raise ValueError("give exactly one of intensity (g/kWh), series (a stored name) or "
                             f"file (CSV/Parquet); got {', '.join(given) or 'none'}")
        return self


#: Expected energy of a live migration, Liu, Xu, Jin et al., "Performance and energy modeling
#: for live migration of virtual machines", HPDC 2011: E = 0.512 J/MB x data sent + 20.165 J on
#: their testbed (follow_renewables' expected cost; dcsim.engine.carbon's migration estimate).
LIU_J_PER_MB = 0.512
LIU_J_FIXED = 20.165


class FollowSpec(Frozen):
    """Follow the renewables: every ``every``, move running guests to a data center whose grid
    is expected to be greener over ``horizon``, when the expected saving exceeds the
    migration's own carbon cost (``dcsim.engine.follow``)."""

    every: Duration = Field(3600.0, gt=0, description="decision period, s")
    horizon: Duration = Field(21600.0, gt=0, description="period the saving is expected over")
    forecast: Literal["perfect", "persistence"] = Field(
        "perfect", description="perfect: the series itself; persistence: the same hours of the "
        "day before (yesterday's curve)")
    hysteresis: Number = Field(
        0.2, ge=0, lt=1, description="a site must be expected at most (1 - hysteresis) times "
        "the current site's intensity to move a guest there (no ping-pong)")
    max_moves: Integer = Field(50, gt=0, description="migrations started per decision")
    migration_j_per_mb: Number = Field(
        LIU_J_PER_MB, ge=0, description="expected migration energy per MB of guest RAM, J "
        "(Liu et al., HPDC 2011: E = 0.512 J/MB x V + 20.165 J on their testbed)")
    migration_j_fixed: Number = Field(LIU_J_FIXED, ge=0, description="expected fixed energy per "
                                     "migration, J (Liu et al., HPDC 2011)")
    migration: MigrationSpec = MigrationSpec()


class DeferSpec(Frozen):
    """Temporal shifting: a guest group's guests may start up to ``slack`` after they are
    submitted; each starts at the scheduling instant within it whose expected intensity over the
    guest's expected run time is lowest (``dcsim.engine.carbon.defer``)."""

    slack: Duration = Field(gt=0, description="latest start after submission, s")
    forecast: Literal["perfect", "persistence"] = Field(
        "perfect", description="perfect: the series itself; persistence: yesterday's curve")

"""Arrival times and lifetimes of a guest group, drawn up front as sorted arrays.

:func:`build_arrivals` turns an :data:`~dcsim.config.workloads.ArrivalSpec` into
``(arrival_s, lifetime_s)``: float64 arrays of equal length, arrivals sorted ascending, lifetimes
``np.inf`` for guests that stay until the end of the run.

Reproducibility: the caller passes the group's own Generator (a named stream). Poisson draws are
taken in fixed-size blocks, inter-arrival gaps then lifetimes per block, so guest ``i``'s arrival
and lifetime depend only on the stream and ``i``, not on ``duration_s`` or ``n_max``: a longer
run or a larger cap only appends guests.

Imports: numpy, scipy.stats (lazily, for lifetimes that are not exponential), pandas (via
dcsim.workload.traces for CSV/Parquet), dcsim.config, dcsim.errors.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from dcsim.config.workloads import (
    ArrivalSpec,
    AtStart,
    ConstantLifetime,
    ExponentialLifetime,
    LifetimeSpec,
    LognormalLifetime,
    PoissonArrivals,
    TraceArrivals,
    WeibullLifetime,
)
from dcsim.errors import ConfigError, Issue
from dcsim.workload.traces import _check_range, _numeric, _read_table, _where

__all__ = ["BLOCK", "build_arrivals", "lifetime_distribution", "read_arrival_table"]

F64 = NDArray[np.float64]
BLOCK = 4096
"""Guests drawn per block of Poisson arrivals (fixed: part of the stream's layout)."""


def lifetime_distribution(spec: LifetimeSpec) -> Any:
    """The frozen ``scipy.stats`` distribution (seconds) of a lifetime spec."""
    from scipy import stats  # lazy: slow to import
    if isinstance(spec, ExponentialLifetime):
        return stats.expon(scale=spec.mean)
    if isinstance(spec, LognormalLifetime):
        s2 = math.log1p((spec.sd / spec.mean) ** 2)
        return stats.lognorm(s=math.sqrt(s2), scale=spec.mean * math.exp(-s2 / 2))
    if isinstance(spec, WeibullLifetime):
        return stats.weibull_min(spec.shape, scale=spec.scale)
    if isinstance(spec, ConstantLifetime):
        return stats.uniform(loc=spec.value, scale=0.0)
    raise TypeError(f"no lifetime distribution {spec.kind!r}")


def read_arrival_table(spec: TraceArrivals, base_dir: str | Path | None = None
                       ) -> tuple[F64, F64]:
    """(arrival_s, lifetime_s) from the CSV/Parquet file of ``spec``, sorted by arrival.

    Empty lifetime cells and ``inf`` mean the guest stays. Raises ConfigError naming the file
    and line of a missing column, a non-number, a negative time or a non-positive lifetime.
    """
    p = Path(spec.path).expanduser()
    if base_dir is not None and not p.is_absolute():
        p = Path(base_dir) / p
    df, is_csv = _read_table(p)
    issues = [
        Issue("path", f"{p}: missing column {col!r}; columns: {', '.join(map(str, df.columns))}")
        for col in (spec.time_column, spec.lifetime_column)
        if col is not None and col not in df.columns
    ]
    if issues:
        raise ConfigError(issues)
    t = _numeric(df, spec.time_column, p, is_csv, issues)
    life = (_numeric(df, spec.lifetime_column, p, is_csv, issues, allow_empty=True)
            if spec.lifetime_column is not None else np.full(len(t), np.inf))
    if not issues:
        where = _where(p, is_csv)
        issues += _check_range(t, spec.time_column, where, np.inf)
        life = np.where(np.isnan(life), np.inf, life)
        for i in np.flatnonzero(~(life > 0))[:10].tolist():
            issues.append(Issue("path", f"{where(i)}: {spec.lifetime_column} {life[i]:g} "
                                "must be > 0"))
    if issues:
        raise ConfigError(issues[:10])
    order = np.argsort(t, kind="stable")
    return t[order], life[order]


def build_arrivals(spec: ArrivalSpec, n_max: int | None, duration_s: float,
                   rng: np.random.Generator, *, base_dir: str | Path | None = None
                   ) -> tuple[F64, F64]:
    """Arrival instants and lifetimes of one guest group.

    Parameters
    ----------
    spec
        ``at_start``, ``poisson`` or ``trace``.
    n_max
        Most guests that arrive (the group's count); ``None`` = no cap (required for
        ``at_start``).
    duration_s
        Run length in seconds; only arrivals at ``t < duration_s`` are returned.
    rng
        The group's named Generator (e.g. ``streams["arrivals.web"]``); consumed only by
        ``poisson``.
    base_dir
        Folder that a relative trace path is resolved against.

    Returns
    -------
    arrival_s, lifetime_s
        (m,) float64 each, m ≤ n_max; arrivals sorted ascending; ``np.inf`` = stays.

    Raises
    ------
    ConfigError
        ``at_start`` without a count, or a bad arrival file.
    """
    if isinstance(spec, AtStart):
        if n_max is None:
            raise ConfigError([Issue("count", "at_start arrivals need a guest count")])
        return np.zeros(n_max), np.full(n_max, np.inf)
    if isinstance(spec, PoissonArrivals):
        return _poisson(spec, n_max, duration_s, rng)
    if isinstance(spec, TraceArrivals):
        t, life = read_arrival_table(spec, base_dir)
        keep = t < duration_s
        t, life = t[keep], life[keep]
        if n_max is not None:
            t, life = t[:n_max], life[:n_max]
        return t, life
    raise TypeError(f"no arrival process {spec.kind!r}")


class _Exponential:
    """``scipy.stats.expon(scale=scale)`` for ``rvs(size, random_state)`` draws, without scipy.

    scipy draws ``random_state.standard_exponential(size) * scale + loc`` (``expon._rvs``;
    ``loc`` is 0 here, and ``x + 0 == x`` for these non-negative draws): the same numbers from
    the same stream positions (``tests/unit/workload/test_exponential_draws.py``), without the
    import of scipy.stats (about a second of CPU per process, sweep workers included).
    """

    def __init__(self, scale: float) -> None:
        self.scale = scale

    def rvs(self, size: int, random_state: np.random.Generator) -> F64:
        return random_state.standard_exponential(size) * self.scale


def _poisson(spec: PoissonArrivals, n_max: int | None, duration_s: float,
             rng: np.random.Generator) -> tuple[F64, F64]:
    life_spec: LifetimeSpec | None = spec.lifetime
    if spec.mean_lifetime is not None:
        life_spec = ExponentialLifetime(mean=spec.mean_lifetime)
    dist: Any = None
    if isinstance(life_spec, ExponentialLifetime):
        dist = _Exponential(life_spec.mean)
    elif life_spec is not None:
        dist = lifetime_distribution(life_spec)
    gaps = _Exponential(1.0 / spec.rate)
    times: list[F64] = []
    lives: list[F64] = []
    last, count = 0.0, 0
    while last < duration_s and (n_max is None or count < n_max):
        block = last + np.cumsum(gaps.rvs(size=BLOCK, random_state=rng))
        life = (np.asarray(dist.rvs(size=BLOCK, random_state=rng), dtype=np.float64)
                if dist is not None else np.full(BLOCK, np.inf))
        times.append(block)
        lives.append(life)
        last, count = float(block[-1]), count + BLOCK
    t = np.concatenate(times) if times else np.zeros(0)
    life_all = np.concatenate(lives) if lives else np.zeros(0)
    m = int(np.searchsorted(t, duration_s, side="left"))
    if n_max is not None:
        m = min(m, n_max)
    return t[:m], life_all[:m]

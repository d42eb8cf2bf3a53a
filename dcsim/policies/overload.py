"""Host overload detection: static threshold, IQR, MAD, local regression (LR) and robust LR.

The five detectors of Beloglazov & Buyya (CCPE 24(13), 2012), with the conventions of CloudSim
3.0.3 spelled out in ``reference/cloudsim-planetlab/README.md`` (section 6):

* ``thr`` (:class:`StaticThreshold`, parameter = threshold T): overloaded iff ``util > T``.
* ``iqr`` (:class:`InterQuartileRange`, parameter = safety s): needs at least 12 history values,
  overloaded iff ``util > 1 - s * IQR(h)``; the quartiles are the sorted values at indices
  ``round(0.25 (n+1)) - 1`` and ``round(0.75 (n+1)) - 1`` (round half up).
* ``mad`` (:class:`MedianAbsoluteDeviation`, parameter = s): needs 12 values, overloaded iff
  ``util > 1 - s * MAD(h)``; the median is commons-math's legacy percentile (the mean of the middle
  two values for an even count, computed as ``lo + 0.5 (hi - lo)``).
* ``lr`` (:class:`LocalRegression`, parameter = s): needs 10 values; an ordinary least-squares
  line through the last 10 values (oldest first, x = 1..10) predicts the utilisation
  ``m = ceil(max migration time / interval)`` intervals after the last one; overloaded iff
  ``s * prediction >= 1``. The current utilisation is not used.
* ``lrr`` (:class:`LocalRegressionRobust`): the same with CloudSim's "robust" re-weighting, which
  only takes effect when at least 40 % of the bisquare weights are <= 0 — in practice never, so LRR
  gives the same decisions as LR (a faithful copy of CloudSim's behaviour).

When a history-based detector lacks history it falls back to a static threshold of 0.7, as the
CloudSim experiments do.

Protocol (what the consolidation planner calls; register your own class in :data:`OVERLOAD`):

* ``Cls(params)`` with a pydantic ``Params`` model; ``Cls.from_parameter(x)`` builds it from the
  single number of a policy name such as ``lr-mmt-1.2``;
* ``overloaded(load: HostLoad) -> bool array`` — vectorized over the hosts of ``load``;
* optionally ``overloaded_one(util, history, max_migration_s, interval_s) -> bool`` — the same
  decision for one host from plain Python floats (used in the sequential placement loop, where
  numpy's per-call overhead dominates); it must agree exactly with ``overloaded``;
* ``cheap_vectorized: bool`` — whether ``overloaded`` is cheap enough to evaluate for every
  candidate host of every placement (else the planner tests candidates lazily, best first);
* ``history_depth: int | None`` — newest history values the detector reads (0 = none);
* optionally ``features(history) -> (n, q)`` (linear in the history) and
  ``screen_features(f, util, history_len, max_migration_s, interval_s) -> (overloaded, unsure)``:
  lets the planner screen trial placements from per-host sums of features instead of rebuilding
  histories (used by LR/LRR); ``unsure`` rows are decided with ``overloaded_one``;
* optionally ``linear_screen() -> (safety, guard, fallback, points)``: the constants of LR's
  ``screen_features``, which PABFD's compiled search (``dcsim.policies.pabfd_kernel``) evaluates
  host by host.

Floating-point operations follow CloudSim's order (commons-math ``SimpleRegression`` updating
formulas, the percentile formula) so that decisions at a boundary are the same as CloudSim's.
Pure numpy; imports dcsim.policies.registry only.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, ClassVar, Protocol

import numpy as np
from numpy.typing import NDArray
from pydantic import BaseModel, Field

from dcsim.policies.registry import Registry
from dcsim.units import Number, StrictModel

F64 = NDArray[np.float64]
I64 = NDArray[np.int64]
B = NDArray[np.bool_]

#: Threshold of the static fallback used while a history-based detector lacks history.
FALLBACK_THRESHOLD = 0.7
#: Points used by the local-regression detectors.
LR_POINTS = 10
#: History values the IQR and MAD detectors need.
QUANTILE_MIN_POINTS = 12
_JAVA_MAX = 1.7976931348623157e308
# Below this distance from the decision boundary the fast linear form of LR is re-checked with the
# exact CloudSim arithmetic.
_LR_GUARD = 1e-9


@dataclass(frozen=True, slots=True)
class HostLoad:
    """Read-only load of ``n`` hosts, as an overload detector sees it.

    Attributes
    ----------
    util
        (n,) requested CPU of the host's guests / host capacity (may exceed 1).
    history
        (n, H) past utilisation of the host, newest first (column 0 = latest interval),
        zero-padded beyond ``history_len``.
    history_len
        (n,) number of valid history values.
    max_migration_s
        (n,) longest migration time among the host's guests, s.
    interval_s
        Scheduling interval, s.
    """

    util: F64
    history: F64
    history_len: I64
    max_migration_s: F64
    interval_s: float = 300.0


class OverloadDetector(Protocol):
    """See the module docstring."""

    cheap_vectorized: ClassVar[bool]

    def overloaded(self, load: HostLoad) -> B: ...


class _Params(StrictModel):
    """Immutable, unknown keys refused, numbers finite and bounded."""


OVERLOAD: Registry[type[Any]] = Registry("overload detector")


# --------------------------------------------------------------------------- shared arithmetic
def java_round(x: F64) -> NDArray[np.int64]:
    """Java ``Math.round`` (half up) of non-negative values."""
    return np.floor(x + 0.5).astype(np.int64)


def _sorted_padded(values: F64, lengths: I64) -> F64:
    """Rows sorted ascending, entries beyond each row's length replaced by +inf first."""
    cols = np.arange(values.shape[1])
    return np.sort(np.where(cols[None, :] < lengths[:, None], values, np.inf), axis=1)


def legacy_median_sorted(s: F64, n: I64) -> F64:
    """commons-math legacy 50th percentile of each row of ``s`` (sorted, first ``n`` valid)."""
    nf = n.astype(np.float64)
    pos = 50.0 * (nf + 1.0) / 100.0
    fpos = np.floor(pos)
    ip = fpos.astype(np.int64)
    dif = pos - fpos
    rows = np.arange(s.shape[0])
    last = np.maximum(n - 1, 0)
    lo = s[rows, np.clip(ip - 1, 0, s.shape[1] - 1)]
    hi = s[rows, np.clip(ip, 0, s.shape[1] - 1)]
    with np.errstate(invalid="ignore"):
        mid = lo + dif * (hi - lo)
    out = np.where(pos < 1.0, s[rows, 0], np.where(pos >= nf, s[rows, last], mid))
    return np.where(n == 1, s[rows, 0], out)


def legacy_median(values: Sequence[float]) -> float:
    """commons-math legacy 50th percentile (the median) of ``values`` (scalar path)."""
    s = sorted(values)
    n = len(s)
    if n == 1:
        return s[0]
    pos = 50.0 * (n + 1.0) / 100.0
    fpos = math.floor(pos)
    dif = pos - fpos
    if pos < 1.0:
        return s[0]
    if pos >= n:
        return s[n - 1]
    lo, hi = s[int(fpos) - 1], s[int(fpos)]
    return lo + dif * (hi - lo)


def iqr_rows(history: F64, n: I64) -> F64:
    """CloudSim's interquartile range of each row's first ``n`` values."""
    s = _sorted_padded(history, n)
    nf = n.astype(np.float64)
    q1 = java_round(0.25 * (nf + 1.0)) - 1
    q3 = java_round(0.75 * (nf + 1.0)) - 1
    hi = s.shape[1] - 1
    rows = np.arange(s.shape[0])
    with np.errstate(invalid="ignore"):
        return s[rows, np.clip(q3, 0, hi)] - s[rows, np.clip(q1, 0, hi)]


def iqr_one(values: Sequence[float]) -> float:
    """CloudSim's interquartile range (scalar path)."""
    s = sorted(values)
    n = len(s)
    q1 = math.floor(0.25 * (n + 1.0) + 0.5) - 1
    q3 = math.floor(0.75 * (n + 1.0) + 0.5) - 1
    return s[q3] - s[q1]


def mad_rows(history: F64, n: I64) -> F64:
    """Median absolute deviation (legacy medians) of each row's first ``n`` values."""
    s = _sorted_padded(history, n)
    med = legacy_median_sorted(s, n)
    dev = np.abs(med[:, None] - history)
    return legacy_median_sorted(_sorted_padded(dev, n), n)


def mad_one(values: Sequence[float]) -> float:
    """Median absolute deviation (scalar path); 0 for no values."""
    if len(values) == 0:
        return 0.0
    med = legacy_median(values)
    return legacy_median([abs(med - v) for v in values])


def simple_regression_rows(y: F64, x: F64 | None = None) -> tuple[F64, F64]:
    """Intercept and slope of commons-math ``SimpleRegression`` (updating formulas), per row.

    Parameters
    ----------
    y : (n_rows, n) responses; x : (n,) or (n_rows, n) regressors, default 1..n.
    """
    n = y.shape[1]
    xs = np.broadcast_to(np.arange(1.0, n + 1.0) if x is None else x, y.shape)
    xbar = xs[:, 0].copy()
    ybar = y[:, 0].copy()
    sxx = np.zeros(y.shape[0])
    sxy = np.zeros(y.shape[0])
    sx = xs[:, 0].copy()
    sy = y[:, 0].copy()
    for j in range(1, n):
        fact1 = 1.0 + j
        fact2 = j / (1.0 + j)
        dx = xs[:, j] - xbar
        dy = y[:, j] - ybar
        sxx = sxx + dx * dx * fact2
        sxy = sxy + dx * dy * fact2
        xbar = xbar + dx / fact1
        ybar = ybar + dy / fact1
        sx = sx + xs[:, j]
        sy = sy + y[:, j]
    with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
        slope = np.where(np.abs(sxx) < 10 * 4.9e-324, np.nan, sxy / sxx)
        intercept = (sy - slope * sx) / n
    return intercept, slope


def simple_regression(y: Sequence[float], x: Sequence[float] | None = None) -> tuple[float, float]:
    """Intercept and slope of commons-math ``SimpleRegression`` (scalar path)."""
    n = len(y)
    xs = [float(i + 1) for i in range(n)] if x is None else list(x)
    xbar, ybar = xs[0], y[0]
    sxx = sxy = 0.0
    sx, sy = xs[0], y[0]
    for j in range(1, n):
        fact1 = 1.0 + j
        fact2 = j / (1.0 + j)
        dx = xs[j] - xbar
        dy = y[j] - ybar
        sxx += dx * dx * fact2
        sxy += dx * dy * fact2
        xbar += dx / fact1
        ybar += dy / fact1
        sx += xs[j]
        sy += y[j]
    if n < 2 or abs(sxx) < 10 * 4.9e-324 or math.isnan(sxx):
        slope = math.nan
    else:
        slope = sxy / sxx
    return (sy - slope * sx) / n, slope


def _tricube_weights(n: int) -> list[float]:
    """CloudSim ``getTricubeWeigts`` (reciprocal tricube weights; the first three are equal)."""
    w = [0.0] * n
    top = spread = float(n - 1)
    for i in range(2, n):
        c = (top - i) / spread
        t = 1.0 - c * c * c
        k = t * t * t
        w[i] = 1.0 / k if k > 0 else _JAVA_MAX
    w[0] = w[1] = w[2]
    return w


def _weighted_regression(y: Sequence[float], w: Sequence[float]) -> tuple[float, float]:
    """CloudSim ``createWeigthedLinearRegression``: weights apply only if >= 40 % are <= 0."""
    n = len(y)
    x = [float(i + 1) for i in range(n)]
    if sum(1 for v in w if v <= 0) >= 0.4 * n:
        sw = [math.sqrt(v) if v >= 0 else math.nan for v in w]
        return simple_regression([s * v for s, v in zip(sw, y, strict=True)],
                                 [s * v for s, v in zip(sw, x, strict=True)])
    return simple_regression(y, x)


def robust_regression(y: Sequence[float]) -> tuple[float, float]:
    """CloudSim ``getRobustLoessParameterEstimates`` (tricube then bisquare re-weighting)."""
    n = len(y)
    w = _tricube_weights(n)
    b0, b1 = _weighted_regression(y, w)
    res = [y[i] - (b0 + b1 * (i + 1.0)) for i in range(n)]
    s6 = legacy_median([abs(r) for r in res]) * 6
    w2 = [0.0] * n
    for i in range(2, n):
        if s6 != 0:
            q = res[i] / s6
        else:
            q = math.nan if res[i] == 0 else math.copysign(math.inf, res[i])
        t = 1.0 - q * q
        k = t * t
        w2[i] = (1.0 / k) * w[i] if k > 0 else _JAVA_MAX
    w2[0] = w2[1] = w2[2]
    return _weighted_regression(y, w2)


# --------------------------------------------------------------------------- detectors
class _ThrParams(_Params):
    threshold: Number = Field(0.8, gt=0, description="utilisation threshold (fraction)")


@OVERLOAD.register("thr")
class StaticThreshold:
    """Overloaded iff the requested utilisation exceeds a fixed threshold."""

    Params: ClassVar[type[BaseModel]] = _ThrParams
    cheap_vectorized: ClassVar[bool] = True
    history_depth: ClassVar[int | None] = 0

    def __init__(self, params: _ThrParams | None = None) -> None:
        self.params = params if params is not None else _ThrParams()
        self.threshold = float(self.params.threshold)

    @classmethod
    def from_parameter(cls, value: float) -> StaticThreshold:
        """Detector with threshold ``value``."""
        return cls(_ThrParams(threshold=value))

    def overloaded(self, load: HostLoad) -> B:
        """(n,) True where ``util > threshold``."""
        return np.asarray(load.util > self.threshold)

    def overloaded_one(self, util: float, history: Sequence[float], max_migration_s: float,
                       interval_s: float) -> bool:
        """Scalar form of :meth:`overloaded`."""
        return util > self.threshold


class _SafetyParams(_Params):
    safety: Number = Field(gt=0, description="safety parameter s")


class _HistoryDetector:
    """Shared parts of the history-based detectors (fallback, construction)."""

    Params: ClassVar[type[BaseModel]] = _SafetyParams
    default_safety: ClassVar[float] = 1.0
    min_points: ClassVar[int] = QUANTILE_MIN_POINTS
    cheap_vectorized: ClassVar[bool] = False
    history_depth: ClassVar[int | None] = None

    def __init__(self, params: _SafetyParams | None = None) -> None:
        self.params = params if params is not None else _SafetyParams(safety=self.default_safety)
        self.safety = float(self.params.safety)
        self.fallback = StaticThreshold.from_parameter(FALLBACK_THRESHOLD)

    @classmethod
    def from_parameter(cls, value: float) -> Any:
        """Detector with safety parameter ``value``."""
        return cls(_SafetyParams(safety=value))


class _SpreadDetector(_HistoryDetector):
    """Adaptive threshold ``1 - s * spread(history)``; too short a history uses the 0.7 fallback."""

    @staticmethod
    def spread_rows(history: F64, n: I64) -> F64:
        raise NotImplementedError

    @staticmethod
    def spread_one(values: Sequence[float]) -> float:
        raise NotImplementedError

    def overloaded(self, load: HostLoad) -> B:
        """(n,) decisions; hosts with fewer than 12 history values use the 0.7 fallback."""
        enough = load.history_len >= self.min_points
        out = load.util > FALLBACK_THRESHOLD
        if enough.any():
            idx = np.flatnonzero(enough)
            thr = 1.0 - self.safety * self.spread_rows(load.history[idx], load.history_len[idx])
            out[idx] = load.util[idx] > thr
        return np.asarray(out)

    def overloaded_one(self, util: float, history: Sequence[float], max_migration_s: float,
                       interval_s: float) -> bool:
        """Scalar form of :meth:`overloaded` (``history`` holds only the valid values)."""
        if len(history) < self.min_points:
            return util > FALLBACK_THRESHOLD
        return util > 1.0 - self.safety * self.spread_one(history)


@OVERLOAD.register("iqr")
class InterQuartileRange(_SpreadDetector):
    """Adaptive threshold ``1 - s * IQR(history)``."""

    default_safety = 1.5
    spread_rows = staticmethod(iqr_rows)
    spread_one = staticmethod(iqr_one)


@OVERLOAD.register("mad")
class MedianAbsoluteDeviation(_SpreadDetector):
    """Adaptive threshold ``1 - s * MAD(history)``."""

    default_safety = 2.5
    spread_rows = staticmethod(mad_rows)
    spread_one = staticmethod(mad_one)


def _lr_weights() -> tuple[F64, F64]:
    """Linear forms of the OLS mean and slope over x = 1..10, for newest-first histories."""
    n = LR_POINTS
    x = np.arange(1.0, n + 1.0)
    xc = x - x.mean()
    mean_w = np.full(n, 1.0 / n)[::-1].copy()
    slope_w = (xc / float((xc * xc).sum()))[::-1].copy()
    return mean_w, slope_w


_LR_MEAN_W, _LR_SLOPE_W = _lr_weights()


@OVERLOAD.register("lr")
class LocalRegression(_HistoryDetector):
    """Overloaded iff ``s * OLS-predicted utilisation >= 1`` (last 10 intervals, x = 1..10)."""

    default_safety = 1.2
    min_points = LR_POINTS
    cheap_vectorized = True
    history_depth = LR_POINTS
    robust: ClassVar[bool] = False

    def _exact_one(self, history: Sequence[float], max_migration_s: float,
                   interval_s: float) -> bool:
        y = [float(history[LR_POINTS - 1 - i]) for i in range(LR_POINTS)]
        b0, b1 = robust_regression(y) if self.robust else simple_regression(y)
        pred = b0 + b1 * (LR_POINTS + math.ceil(max_migration_s / interval_s))
        return pred * self.safety >= 1.0

    def overloaded(self, load: HostLoad) -> B:
        """(n,) decisions; hosts with fewer than 10 history values use the 0.7 fallback.

        Notes
        -----
        The prediction is first evaluated as a linear form (two dot products); rows within 1e-9
        of the boundary are re-evaluated with CloudSim's exact arithmetic.
        """
        enough = load.history_len >= LR_POINTS
        n_ok = int(enough.sum())
        if n_ok == 0:
            return np.asarray(load.util > FALLBACK_THRESHOLD)
        if n_ok == enough.shape[0]:
            idx = None
            y = load.history[:, :LR_POINTS]
            mig = load.max_migration_s
        else:
            idx = enough.nonzero()[0]
            y = load.history[idx, :LR_POINTS]
            mig = load.max_migration_s[idx]
        horizon = LR_POINTS + np.ceil(mig / load.interval_s)
        pred = self.safety * (y @ _LR_MEAN_W + (horizon - 5.5) * (y @ _LR_SLOPE_W))
        dec = pred >= 1.0
        close = (np.abs(pred - 1.0) <= _LR_GUARD).nonzero()[0]
        for j in close.tolist():
            h = j if idx is None else int(idx[j])
            dec[j] = self._exact_one(load.history[h, :LR_POINTS].tolist(),
                                     float(load.max_migration_s[h]), load.interval_s)
        if idx is None:
            return np.asarray(dec)
        out = load.util > FALLBACK_THRESHOLD
        out[idx] = dec
        return np.asarray(out)

    def features(self, history: F64) -> F64:
        """(n, 2) linear features of newest-first histories: OLS mean and slope terms.

        Linear in the history, so the features of a host plus a guest are the sums of theirs;
        the planner uses them to screen trial placements cheaply.
        """
        y = history[..., :LR_POINTS]
        if y.shape[-1] < LR_POINTS:
            y = np.concatenate(
                [y, np.zeros((*y.shape[:-1], LR_POINTS - y.shape[-1]))], axis=-1)
        out = np.empty((*y.shape[:-1], 2))
        out[..., 0] = y @ _LR_MEAN_W
        out[..., 1] = y @ _LR_SLOPE_W
        return out

    def screen_features(self, f: F64, util: F64, history_len: I64, max_migration_s: F64,
                        interval_s: float) -> tuple[B, B]:
        """Decisions from :meth:`features` rows, and the rows too close to the boundary to tell.

        Returns
        -------
        (overloaded, unsure) boolean arrays; ``unsure`` rows must be decided exactly.
        """
        horizon = LR_POINTS + np.ceil(max_migration_s / interval_s)
        pred = self.safety * (f[:, 0] + (horizon - 5.5) * f[:, 1])
        short = history_len < LR_POINTS
        over = np.where(short, util > FALLBACK_THRESHOLD, pred >= 1.0)
        unsure = ~short & (np.abs(pred - 1.0) <= _LR_GUARD)
        return over, unsure

    def linear_screen(self) -> tuple[float, float, float, int]:
        """``(safety, guard, fallback threshold, points)``: the constants of
        :meth:`screen_features`, which the compiled PABFD search evaluates for one host at a
        time (:mod:`dcsim.policies.pabfd_kernel`)."""
        return self.safety, _LR_GUARD, FALLBACK_THRESHOLD, LR_POINTS

    def overloaded_one(self, util: float, history: Sequence[float], max_migration_s: float,
                       interval_s: float) -> bool:
        """Scalar form of :meth:`overloaded` (exact CloudSim arithmetic)."""
        if len(history) < LR_POINTS:
            return util > FALLBACK_THRESHOLD
        return self._exact_one(history, max_migration_s, interval_s)

    def predict(self, history: Sequence[float], max_migration_s: float,
                interval_s: float = 300.0) -> float:
        """Safety-scaled predicted utilisation for one host (newest-first history, >= 10)."""
        y = [float(history[LR_POINTS - 1 - i]) for i in range(LR_POINTS)]
        b0, b1 = robust_regression(y) if self.robust else simple_regression(y)
        return (b0 + b1 * (LR_POINTS + math.ceil(max_migration_s / interval_s))) * self.safety


@OVERLOAD.register("lrr")
class LocalRegressionRobust(LocalRegression):
    """Robust local regression (CloudSim's; reduces to :class:`LocalRegression` in practice).

    The bisquare re-weighting changes the fit only when at least 40 % of the weights are <= 0,
    which requires the median absolute residual to be exactly 0; such rows are evaluated with the
    exact re-weighting, all others as plain OLS.
    """

    robust = True

    def overloaded(self, load: HostLoad) -> B:
        """(n,) decisions (see the class docstring)."""
        out = super().overloaded(load)
        enough = np.flatnonzero(load.history_len >= LR_POINTS)
        if enough.size == 0:
            return out
        y = load.history[enough, :LR_POINTS][:, ::-1]
        b0, b1 = simple_regression_rows(np.ascontiguousarray(y))
        res = y - (b0[:, None] + b1[:, None] * np.arange(1.0, LR_POINTS + 1.0)[None, :])
        n = np.full(enough.size, LR_POINTS, dtype=np.int64)
        med = legacy_median_sorted(np.sort(np.abs(res), axis=1), n)
        for j in np.flatnonzero(med == 0.0).tolist():
            h = int(enough[j])
            out[h] = self._exact_one(load.history[h, :LR_POINTS].tolist(),
                                     float(load.max_migration_s[h]), load.interval_s)
        return out


def make_detector(name: str, parameter: float | None = None) -> Any:
    """Detector registered as ``name``, built from its single parameter (or its defaults)."""
    cls = OVERLOAD.get(name)
    if parameter is None:
        return cls()
    return cls.from_parameter(float(parameter))

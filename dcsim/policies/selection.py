"""Guest selection: which guest leaves an overloaded host (MMT, MU, RS, MC).

Beloglazov & Buyya (CCPE 2012), with CloudSim 3.0.3's rules (``reference/cloudsim-planetlab``,
section 7). The candidates are the host's guests that are not migrating, in the host's list order;
a selector returns the index of one candidate (``None`` when there is none):

* ``mmt`` (:class:`MinimumMigrationTime`): least configured RAM; the first wins ties. The
  migration time it minimises is estimated as ``RAM × 8 / b``, one full copy at the bandwidth
  ``b`` a migration from the host gets (in the default engine ``min(NIC, the topology's host
  link, migration.bandwidth_cap)``, ``Consolidation.migration_bps``); every candidate shares the
  host's ``b``, so the least RAM is the shortest estimate. The same estimate (of the largest
  guest) is the migration time LR/LRR detectors see.
* ``mu`` (:class:`MinimumUtilization`): least ``requested MIPS / MIPS``; the first wins ties.
* ``rs`` (:class:`RandomSelection`): uniform, drawn from the numpy ``Generator`` passed in
  (CloudSim draws from an unseeded ``java.util.Random``; dcsim's draws are reproducible).
* ``mc`` (:class:`MaximumCorrelation`): the guest whose utilisation history is best explained
  by the others' (largest R² of an OLS regression with intercept, histories truncated to the
  shortest one); falls back to MMT when the regression is impossible (one guest, fewer samples
  than guests, singular design). R² is computed with commons-math's Householder QR in the same
  operation order, so near-ties resolve as in CloudSim.

Protocol (register your own class in :data:`SELECTION`): ``Cls(params)`` and
``select(guests: GuestView, rng: numpy.random.Generator) -> int | None``. Pure numpy; imports
dcsim.policies.registry only.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar, Protocol

import numpy as np
from numpy.typing import NDArray
from pydantic import BaseModel

from dcsim.policies.registry import Registry
from dcsim.units import StrictModel

F64 = NDArray[np.float64]
I64 = NDArray[np.int64]

_JAVA_MIN_VALUE = 4.9e-324


@dataclass(frozen=True, slots=True)
class GuestView:
    """Read-only view of the ``n`` migratable guests of one host, in host list order.

    Attributes
    ----------
    ram_mb
        (n,) configured RAM, MB.
    mips
        (n,) guest capacity, MIPS.
    requested_mips
        (n,) current CPU demand, MIPS.
    history
        (n, H) past utilisation fractions, newest first, zero-padded.
    history_len
        (n,) valid history values per guest.
    """

    ram_mb: F64
    mips: F64
    requested_mips: F64
    history: F64
    history_len: I64

    @property
    def n(self) -> int:
        """Number of candidates."""
        return int(self.ram_mb.shape[0])


class GuestSelector(Protocol):
    """See the module docstring."""

    def select(self, guests: GuestView, rng: np.random.Generator) -> int | None: ...


class _Params(StrictModel):
    """Immutable, unknown keys refused, numbers finite and bounded."""


SELECTION: Registry[type[Any]] = Registry("guest selection policy")


class _Selector:
    Params: ClassVar[type[BaseModel]] = _Params

    def __init__(self, params: BaseModel | None = None) -> None:
        self.params = params if params is not None else self.Params()


@SELECTION.register("mmt")
class MinimumMigrationTime(_Selector):
    """The guest with the least RAM (shortest migration ``RAM × 8 / b`` at its host's migration
    bandwidth ``b``, the same for every candidate); first wins ties."""

    def select(self, guests: GuestView, rng: np.random.Generator) -> int | None:
        """Index of the chosen guest, or None if there is none."""
        if guests.n == 0:
            return None
        return int(np.argmin(guests.ram_mb))


@SELECTION.register("mu")
class MinimumUtilization(_Selector):
    """The guest with the least CPU utilisation (requested / capacity); first wins ties."""

    def select(self, guests: GuestView, rng: np.random.Generator) -> int | None:
        """Index of the chosen guest, or None if there is none."""
        if guests.n == 0:
            return None
        return int(np.argmin(guests.requested_mips / guests.mips))


@SELECTION.register("rs")
class RandomSelection(_Selector):
    """A uniformly random guest, drawn from the generator passed in."""

    def select(self, guests: GuestView, rng: np.random.Generator) -> int | None:
        """Index of the chosen guest, or None if there is none."""
        if guests.n == 0:
            return None
        return int(rng.integers(guests.n))


class RegressionImpossible(ValueError):
    """OLS cannot be computed (too few samples, no regressors, singular design)."""


def r_squared_all(data: F64) -> F64:
    """R² of regressing each row of ``data`` on all other rows (OLS with intercept).

    Parameters
    ----------
    data : (n, m) one series per row (n guests, m samples).

    Returns
    -------
    (n,) coefficients of determination, in commons-math ``OLSMultipleLinearRegression``
    arithmetic (Householder QR, sequential sums); NaN/-inf where the total sum of squares is 0.

    Raises
    ------
    RegressionImpossible
        ``n < 2``, ``m < n`` (not enough samples for n parameters) or a singular design.
    """
    n, m = data.shape
    if n < 2 or m == 0:
        raise RegressionImpossible("need at least two series")
    if n > m:
        raise RegressionImpossible("not enough samples for the number of predictors")
    p = n  # intercept + (n - 1) regressors
    # qrt[b, c, r]: design column c (0 = intercept) at sample r, for regression b.
    others = np.array([[j for j in range(n) if j != i] for i in range(n)], dtype=np.intp)
    qrt = np.empty((n, p, m))
    qrt[:, 0, :] = 1.0
    qrt[:, 1:, :] = data[others]
    design = qrt.copy()
    rdiag = np.zeros((n, p))
    kmax = min(m, p)
    for minor in range(kmax):
        v = qrt[:, minor, minor:]
        norm2 = np.add.accumulate(v * v, axis=1)[:, -1]
        a = np.where(qrt[:, minor, minor] > 0, -np.sqrt(norm2), np.sqrt(norm2))
        rdiag[:, minor] = a
        live = a != 0.0
        if not live.any():
            continue
        qrt[live, minor, minor] -= a[live]
        if minor + 1 < p:
            vm = qrt[:, minor, minor:]
            cols = qrt[:, minor + 1 :, minor:]
            alpha = -np.add.accumulate(cols * vm[:, None, :], axis=2)[:, :, -1]
            with np.errstate(divide="ignore", invalid="ignore"):
                alpha = alpha / (a * qrt[:, minor, minor])[:, None]
            upd = cols - alpha[:, :, None] * vm[:, None, :]
            qrt[live, minor + 1 :, minor:] = upd[live]
    if np.any(np.abs(rdiag[:, :kmax]) <= 0.0):
        raise RegressionImpossible("singular design")
    y = data.copy()
    for minor in range(kmax):
        q = qrt[:, minor, minor:]
        dot = np.add.accumulate(y[:, minor:] * q, axis=1)[:, -1]
        dot = dot / (rdiag[:, minor] * qrt[:, minor, minor])
        y[:, minor:] = y[:, minor:] + dot[:, None] * q
    beta = np.zeros((n, p))
    for row in range(kmax - 1, -1, -1):
        y[:, row] = y[:, row] / rdiag[:, row]
        beta[:, row] = y[:, row]
        if row:
            y[:, :row] = y[:, :row] - y[:, row : row + 1] * qrt[:, row, :row]
    # X b with sequential sums over the design columns (Array2DRowRealMatrix.operate).
    fitted = np.add.accumulate(design * beta[:, :, None], axis=1)[:, -1, :]
    res = data - fitted
    rss = np.add.accumulate(res * res, axis=1)[:, -1]
    # commons-math SecondMoment (updating formula).
    m1 = np.zeros(n)
    m2 = np.zeros(n)
    for j in range(m):
        dev = data[:, j] - m1
        ndev = dev / (j + 1.0)
        m1 = m1 + ndev
        m2 = m2 + (float(j + 1) - 1.0) * dev * ndev
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.asarray(1.0 - rss / m2)


@SELECTION.register("mc")
class MaximumCorrelation(_Selector):
    """The guest whose history correlates most with the others' (max R²); MMT fallback."""

    def __init__(self, params: BaseModel | None = None) -> None:
        super().__init__(params)
        self.fallback = MinimumMigrationTime()

    def select(self, guests: GuestView, rng: np.random.Generator) -> int | None:
        """Index of the chosen guest, or None if there is none."""
        if guests.n == 0:
            return None
        m = int(guests.history_len.min())
        try:
            r2 = r_squared_all(np.ascontiguousarray(guests.history[:, :m], dtype=np.float64))
        except RegressionImpossible:
            return self.fallback.select(guests, rng)
        best, best_val = 0, _JAVA_MIN_VALUE
        for i, v in enumerate(r2.tolist()):
            if v > best_val:
                best, best_val = i, v
        return best


def make_selector(name: str) -> Any:
    """Selector registered as ``name`` with default parameters."""
    return SELECTION.get(name)()

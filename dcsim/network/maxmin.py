"""Max-min fair rates of flows sharing links: the progressive-filling (water-filling) kernel.

:func:`maxmin_rates` takes a link x flow incidence; :class:`dcsim.network.flows.FlowNetwork` calls
the path form (``_maxmin_paths``) on its own flow-major arrays. Split from ``flows.py``.

Imports: numpy, scipy.sparse.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp
from numpy.typing import ArrayLike, NDArray

__all__ = ["maxmin_rates"]

F64 = NDArray[np.float64]
IntP = NDArray[np.intp]

_LEVEL_RTOL = 1e-12
"""Relative tolerance when comparing saturation levels, so that ties (up to rounding) freeze
together; it cannot push a link above capacity by more than this fraction."""

_SORT_BELOW = 16
"""``_maxmin_paths`` renumbers the links by sorting the path entries when they are fewer than
the links / this (sorting ~n entries costs about what marking ~16 n links does)."""


def _maxmin_csr(at_indptr: IntP, at_indices: IntP, capacity_bps: F64, rate_cap_bps: F64) -> F64:
    """Max-min fair rates from the flow-major incidence (``at_indptr``, ``at_indices``)."""
    return _maxmin_paths(at_indptr[1:] - at_indptr[:-1], at_indices, capacity_bps, rate_cap_bps)


def _maxmin_paths(lengths: IntP, at_indices: IntP, capacity_bps: F64, rate_cap_bps: F64) -> F64:
    """Max-min fair rates of flows whose paths (``lengths[i]`` links each) are concatenated in
    ``at_indices``.

    Works on the links some flow crosses (renumbered) and on paths as a (path position, flow)
    matrix, shorter paths padded with a link that never binds, so that each filling step is a
    few whole-array operations. A link is a local bottleneck when no flow crossing it is bound
    lower elsewhere, tested flow by flow (``level > bound × (1 + tol)`` marks it loose): the same
    test as comparing its level with the lowest bound of its flows, since rounding is monotone.
    Frozen loads are summed flow-major, in the order of the incidence. Flows are dropped as they
    freeze by integer ``take`` (boolean masks cost several times more on these small arrays).
    """
    n_links = capacity_bps.shape[0]
    n_flows = rate_cap_bps.shape[0]
    lmax = int(lengths.max()) if n_flows else 0
    if lmax == 0:  # no flow crosses a link: each is limited only by its cap (possibly infinite)
        return np.array(rate_cap_bps, dtype=np.float64)
    lmin = int(lengths.min())
    e_link = np.asarray(at_indices, dtype=np.intp)
    rates = np.zeros(n_flows, dtype=np.float64)
    if lmin == 0:
        free = lengths == 0
        rates[free] = rate_cap_bps[free]
        ids = (~free).nonzero()[0]
        lengths = lengths.take(ids)
        lmin = int(lengths.min())
        caps = rate_cap_bps.take(ids)
    else:
        ids = np.arange(n_flows)
        caps = rate_cap_bps
    capped = bool(np.isfinite(caps).any())
    m = ids.shape[0]
    # the links some flow crosses, renumbered 0..k-1 in ascending id; k pads shorter paths and
    # never binds. Few path entries (a component of the flows, FlowNetwork.incremental): sort
    # them; many: mark the links, O(n_links). The same numbering either way.
    if e_link.shape[0] * _SORT_BELOW < n_links:
        crossed, e_link = np.unique(e_link, return_inverse=True)
        k = crossed.shape[0]
    else:
        mark = np.zeros(n_links + 1, dtype=np.intp)
        mark[e_link] = 1
        remap = mark.cumsum()
        k = int(remap[-1])
        crossed = mark[:-1].nonzero()[0]
        e_link = remap.take(e_link)
        e_link -= 1
    cap = np.empty(k + 1)
    cap[:k] = capacity_bps.take(crossed)
    cap[k] = np.inf
    if lmin == lmax:
        paths = e_link.reshape(m, lmax)
    else:
        paths = np.full((m, lmax), k, dtype=np.intp)
        starts = lengths.cumsum() - lengths
        col = np.arange(e_link.shape[0]) - starts.repeat(lengths)
        paths[np.arange(m).repeat(lengths), col] = e_link
    pos = paths.T.copy()  # (path position, flow)
    n_active = np.bincount(paths.ravel(), minlength=k + 1).astype(np.float64)
    frozen_load = np.zeros(k + 1, dtype=np.float64)
    minimum = np.minimum
    all_of = np.logical_and.reduce
    with np.errstate(divide="ignore", invalid="ignore"):
        while True:
            level = cap - frozen_load
            level /= n_active
            np.maximum(level, 0.0, out=level)
            lv = level.take(pos)
            # A flow's local bound: the lowest saturation level on its path, or its cap.
            flow_min = minimum.reduce(lv, axis=0)
            if capped:
                minimum(flow_min, caps, out=flow_min)
            bound = flow_min * (1.0 + _LEVEL_RTOL)
            loose = np.zeros(k + 1, dtype=bool)
            loose[pos[lv > bound]] = True
            freeze = all_of(loose.take(pos), axis=0)
            np.logical_not(freeze, out=freeze)
            if capped:
                freeze |= caps <= bound
            frozen = freeze.nonzero()[0]
            n_frozen = frozen.shape[0]
            if n_frozen == 0:  # pragma: no cover - the global minimum always freezes
                raise RuntimeError("max-min filling made no progress (NaN capacity or cap?)")
            at = flow_min.take(frozen)
            rates[ids.take(frozen)] = at
            if n_frozen == m:
                return rates
            f_links = paths.take(frozen, axis=0).ravel()  # flow-major, as the incidence
            frozen_load += np.bincount(f_links, weights=at.repeat(lmax), minlength=k + 1)
            n_active -= np.bincount(f_links, minlength=k + 1)
            np.logical_not(freeze, out=freeze)
            keep = freeze.nonzero()[0]
            paths = paths.take(keep, axis=0)
            pos = pos.take(keep, axis=1)
            ids = ids.take(keep)
            caps = caps.take(keep)
            m -= n_frozen


def maxmin_rates(
    incidence: sp.csr_matrix | sp.csr_array,
    capacity_bps: ArrayLike,
    rate_cap_bps: ArrayLike,
) -> F64:
    """Max-min fair rates of flows sharing links, by progressive filling (water-filling).

    In sequential progressive filling all unfrozen flows rise together; the next event is the
    lowest of the levels at which a link saturates, ``(capacity - load of frozen flows) /
    unfrozen flows on it``, and of the unreached caps; the flows crossing that link (or capped
    there) freeze. Link levels never decrease as flows freeze below them, so any link whose level
    is the lowest bound of every flow crossing it (a *local* bottleneck), and any flow whose cap is
    below every level on its path, would freeze at exactly that value in the sequential order
    too. Each iteration freezes all of them at once: the result is the unique max-min fair
    allocation, in far fewer iterations than there are distinct bottleneck levels.

    Parameters
    ----------
    incidence : scipy.sparse matrix, shape (n_links, n_flows)
        1 where a flow crosses a link (a stored entry counts once, whatever its value).
    capacity_bps : array_like, shape (n_links,)
        Link capacities, bit/s, > 0.
    rate_cap_bps : array_like, shape (n_flows,)
        Per-flow rate caps, bit/s; ``np.inf`` for none.

    Returns
    -------
    ndarray of float64, shape (n_flows,)
        Rates, bit/s. A flow that crosses no link gets its cap (possibly ``inf``).

    Notes
    -----
    Each iteration is O(nnz of unfrozen flows + n_links) numpy work; a k=16 fat-tree with 10,000
    random flows needs about 30 iterations. Link loads exceed capacity by at most a relative
    1e-12 plus rounding.
    """
    csc = sp.csc_matrix(incidence)
    csc.sum_duplicates()
    cap_links = np.asarray(capacity_bps, dtype=np.float64)
    caps = np.asarray(rate_cap_bps, dtype=np.float64)
    n_links, n_flows = csc.shape
    if cap_links.shape != (n_links,) or caps.shape != (n_flows,):
        raise ValueError(
            f"shapes: incidence {csc.shape}, capacity {cap_links.shape}, caps {caps.shape}"
        )
    return _maxmin_csr(
        csc.indptr.astype(np.intp), csc.indices.astype(np.intp), cap_links, caps
    )

"""CPU sharing kernels: weighted max-min fair allocation of host capacity among guests.

Pure numpy; no simpy, no dcsim imports. Every function documents shapes and units and breaks ties
deterministically.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

F64 = NDArray[np.float64]
I64 = NDArray[np.intp]


def maxmin_share(
    demand: F64, group: I64, capacity: F64, weight: F64 | None = None
) -> F64:
    """Weighted max-min fair shares of each group's capacity (water-filling), all groups at once.

    Guest ``i`` in group ``g`` gets ``min(demand[i], weight[i] * L_g)`` where the level ``L_g`` is
    the largest value whose allocations fit ``capacity[g]``; a group whose total demand fits gets
    its demand exactly. This is the proportional-share rule of credit-style hypervisor schedulers
    (Xen credit: weight = share of CPU time) with unused share redistributed.

    Parameters
    ----------
    demand : (n,) MIPS wanted, >= 0.
    group : (n,) group (host) index of each guest, 0 <= group < len(capacity).
    capacity : (n_groups,) MIPS available, >= 0.
    weight : (n,) positive weights; default all 1.

    Returns
    -------
    (n,) MIPS allocated; ``alloc <= demand`` and per-group sums ``<= capacity`` (to rounding).

    Notes
    -----
    O(n log n) for the sort; no Python loop over groups.
    """
    n = demand.shape[0]
    if n == 0:
        return np.zeros(0)
    w = np.ones(n) if weight is None else weight
    total = np.bincount(group, weights=demand, minlength=capacity.shape[0])
    over = total > capacity
    alloc = demand.copy()
    if not over.any():
        return alloc
    sel = np.flatnonzero(over[group])
    d = demand[sel]
    ws = w[sel]
    g = group[sel]
    ratio = d / ws
    single = bool(g[0] == g[-1]) and (g.shape[0] < 2 or bool(np.all(g == g[0])))
    order = np.argsort(ratio, kind="stable") if single else np.lexsort((ratio, g))
    d, ws, g, ratio = d[order], ws[order], g[order], ratio[order]
    m = d.shape[0]
    if single:
        starts = np.zeros(1, dtype=np.intp)
        lengths = np.array([m])
    else:
        starts = np.flatnonzero(np.concatenate(([True], g[1:] != g[:-1])))
        lengths = np.diff(np.append(starts, m))
    cd = np.cumsum(d)
    cw = np.cumsum(ws)
    # demand fully served strictly before position k, and weight at or after k, within the group
    base_d = cd[starts] - d[starts]
    base_w = cw[starts] - ws[starts]
    before = cd - d - np.repeat(base_d, lengths)
    group_w = np.repeat(np.add.reduceat(ws, starts), lengths)
    after_w = group_w - (cw - ws - np.repeat(base_w, lengths))
    cap = capacity[g]
    hit = ratio * after_w + before >= cap
    # first position per group where the level is reached (exists: total demand > capacity)
    pos = np.arange(m)
    if single:
        k = np.full(m, int(np.argmax(hit)))
    else:
        first = np.full(len(starts), m)
        grp_idx = np.repeat(np.arange(len(starts)), lengths)
        np.minimum.at(first, grp_idx[hit], pos[hit])
        k = first[grp_idx]
    level = (cap - before[k]) / after_w[k]
    share = np.where(pos < k, d, ws * level)
    share = np.minimum(share, d)
    out = np.empty(m)
    out[order] = share
    alloc[sel] = out
    return alloc

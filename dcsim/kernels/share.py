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


def maxmin_share_one(demand: list[float], capacity: float, weight: list[float]) -> list[float]:
    """``maxmin_share`` of one oversubscribed group in Python floats, bit for bit.

    For the few guests of one host, where numpy's per-call cost dominates. Same inputs as
    ``maxmin_share(np.asarray(demand), zeros, np.asarray([capacity]), np.asarray(weight))``
    and the same output, float for float, when ``demand`` summed left to right from 0.0 exceeds
    ``capacity`` (the caller checked it: the group is oversubscribed). Every step is the vector
    kernel's, element by element: a stable sort by ``demand / weight``, running sums left to
    right (``np.cumsum``), the group's starting offsets (exactly 0.0, so subtracting them is
    skipped: ``x - 0.0 == x``), the first position whose level reaches the capacity (position
    0 if none, as ``np.argmax`` of all False), and ``np.minimum(share, demand)`` (NaN first; on
    a tie the second). The group's total weight is numpy's own ``add.reduceat`` (pairwise
    summation) unless every weight is a whole number below 2**32, whose sum is exact in any
    order.
    """
    n = len(demand)
    ratio = [d / w for d, w in zip(demand, weight, strict=True)]
    order = sorted(range(n), key=ratio.__getitem__)  # stable, like argsort(kind="stable")
    d = [demand[i] for i in order]
    ws = [weight[i] for i in order]
    if n < 1 << 20 and all(w.is_integer() and 0.0 < w < 4294967296.0 for w in ws):
        group_w = float(sum(ws))  # exact: whole numbers, sum far below 2**53
    else:
        group_w = float(np.add.reduceat(np.asarray(ws), np.zeros(1, dtype=np.intp))[0])
    k, before_k, after_k = 0, 0.0, group_w  # position 0 if the level is never reached
    cd = cw = 0.0
    for i in range(n):
        di, wi = d[i], ws[i]
        cd = di if i == 0 else cd + di  # np.cumsum: the first element as is
        cw = wi if i == 0 else cw + wi
        before = cd - di
        after_w = group_w - (cw - wi)
        if ratio[order[i]] * after_w + before >= capacity:
            k, before_k, after_k = i, before, after_w
            break
    level = (capacity - before_k) / after_k
    out = list(demand)
    for i in range(n):
        di = d[i]
        s = di if i < k else ws[i] * level
        out[order[i]] = s if (s < di or s != s) else di
    return out

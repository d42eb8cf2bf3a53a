"""The max-min kernel gives bit for bit the rates of its previous form (dcsim 2a745c7).

``_maxmin_csr`` was rewritten for speed (links renumbered, paths as a padded matrix, local
bottlenecks found flow by flow). Published results may not move, so the rates must equal, to the
last bit, those of the previous kernel, kept here verbatim as the reference: random problems with
paths of different lengths (padding), repeated bottleneck levels (ties), caps, dead (zero
capacity) links, links no flow crosses, and flows that cross no link.
"""

from __future__ import annotations

from unittest import mock

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from numpy.typing import NDArray

from dcsim.network import maxmin
from dcsim.network.maxmin import _maxmin_csr

F64 = NDArray[np.float64]
IntP = NDArray[np.intp]
_LEVEL_RTOL = 1e-12


def previous_kernel(at_indptr: IntP, at_indices: IntP, capacity_bps: F64,
                    rate_cap_bps: F64) -> F64:
    """``dcsim.network.flows._maxmin_csr`` as of commit 2a745c7."""
    n_links = capacity_bps.shape[0]
    rates = np.zeros(rate_cap_bps.shape[0], dtype=np.float64)
    lengths = np.diff(at_indptr)
    free = lengths == 0
    rates[free] = rate_cap_bps[free]
    ids = np.flatnonzero(~free)
    lens = lengths[ids]
    caps = rate_cap_bps[ids]
    e_link = np.asarray(at_indices, dtype=np.intp)
    n_active = np.bincount(e_link, minlength=n_links).astype(np.float64)
    frozen_load = np.zeros(n_links, dtype=np.float64)
    while ids.size:
        starts = np.cumsum(lens) - lens
        e_flow = np.repeat(np.arange(ids.size, dtype=np.intp), lens)
        with np.errstate(divide="ignore", invalid="ignore"):
            level = np.maximum((capacity_bps - frozen_load) / n_active, 0.0)
        flow_min = np.minimum.reduceat(level[e_link], starts)
        np.minimum(flow_min, caps, out=flow_min)
        link_min = np.full(n_links, np.inf)
        np.minimum.at(link_min, e_link, flow_min[e_flow])
        saturated = level <= link_min * (1.0 + _LEVEL_RTOL)
        freeze = np.logical_or.reduceat(saturated[e_link], starts)
        freeze |= caps <= flow_min * (1.0 + _LEVEL_RTOL)
        frozen = np.flatnonzero(freeze)
        assert frozen.size
        rates[ids[frozen]] = flow_min[frozen]
        e_frozen = freeze[e_flow]
        f_links = e_link[e_frozen]
        frozen_load += np.bincount(f_links, weights=flow_min[e_flow[e_frozen]], minlength=n_links)
        n_active -= np.bincount(f_links, minlength=n_links)
        keep = ~freeze
        e_link = e_link[~e_frozen]
        ids, lens, caps = ids[keep], lens[keep], caps[keep]
    return rates


@st.composite
def problems(draw: st.DrawFn) -> tuple[IntP, IntP, F64, F64]:
    n_links = draw(st.integers(1, 12))
    n_flows = draw(st.integers(0, 30))
    paths = [draw(st.lists(st.integers(0, n_links - 1), max_size=min(n_links, 6), unique=True))
             for _ in range(n_flows)]
    ptr = np.zeros(n_flows + 1, dtype=np.intp)
    ptr[1:] = np.cumsum([len(p) for p in paths])
    idx = np.asarray([x for p in paths for x in p], dtype=np.intp)
    # few distinct capacities (ties); 0 = a failed link; irrational-ish values for rounding
    capacity = np.asarray(draw(st.lists(st.sampled_from([0.0, 1.0, 3.0, 7.5, 10.0, 1e9 / 3,
                                                         2.0 ** 0.5, 100.0]),
                                        min_size=n_links, max_size=n_links)))
    caps = np.asarray(draw(st.lists(st.sampled_from([np.inf, np.inf, np.inf, 0.5, 1.0 / 3,
                                                     4.0, 33.0]),
                                    min_size=n_flows, max_size=n_flows)))
    return ptr, idx, capacity, caps


@settings(max_examples=400, deadline=None)
@given(problems())
def test_rates_equal_the_previous_kernel_bit_for_bit(problem: tuple[IntP, IntP, F64, F64]) -> None:
    ptr, idx, capacity, caps = problem
    expected = previous_kernel(ptr, idx, capacity, caps)
    # the links renumbered both ways: by marking them, and by sorting the path entries
    for sort_below in (0, 10**9):
        with mock.patch.object(maxmin, "_SORT_BELOW", sort_below):
            got = _maxmin_csr(ptr, idx, capacity, caps)
        assert np.array_equal(got, expected, equal_nan=True)


def test_uniform_paths_without_caps_equal_the_previous_kernel() -> None:
    # the common case of a star (every flow: source uplink, destination downlink), no caps
    rng = np.random.default_rng(0)
    for _ in range(200):
        n_hosts, n_flows = 40, int(rng.integers(1, 120))
        src = rng.integers(0, n_hosts, n_flows)
        dst = (src + rng.integers(1, n_hosts, n_flows)) % n_hosts
        idx = np.column_stack([src, n_hosts + dst]).ravel().astype(np.intp)
        ptr = np.arange(0, 2 * n_flows + 1, 2, dtype=np.intp)
        capacity = np.full(2 * n_hosts, 1e9)
        caps = np.full(n_flows, np.inf)
        assert np.array_equal(_maxmin_csr(ptr, idx, capacity, caps),
                              previous_kernel(ptr, idx, capacity, caps))

"""Whether hosts hold their guests without swapping: the one rule of memory-aware decisions.

Placement (``pabfd_mem``) and memory-aware consolidation (``consolidation.memory_pressure``)
both ask it, over a :class:`~dcsim.model.cluster.ClusterState` or a sandbox of one, with memory
accounting on (``dcsim.engine.memory`` publishes ``mem_active``, ``mem_shared`` and
``mem_balloons`` on the state).

* :func:`floor` — per host, the least physical memory its guests fit in without swapping.
* :func:`need` — what one more guest adds to it.
* :func:`shared_gain` — the bytes page sharing saves when a guest joins the twins of its
  ``os_image`` (also what ``pabfd_mem``'s sharing affinity is worth).

Imports: numpy.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import NDArray

F64 = NDArray[np.float64]
I64 = NDArray[np.intp]


def floor(st: Any) -> F64:
    """(n_hosts,) bytes: the layer's footprints, + each placed guest's working set where the
    layer balloons (a balloon can take the rest back) or its resident pages, shared as now,
    where it does not, + the whole RAM of guests migrating in."""
    assert st.mem_active is not None
    assert st.mem_shared is not None
    assert st.mem_balloons is not None
    everyone = np.arange(st.n_guests_total)  # (a sandbox's batch arrays index this way)
    host_of = np.asarray(st.host_of[everyone])
    placed = np.flatnonzero(host_of >= 0)
    h_of = host_of[placed]
    per = np.where(st.mem_balloons[h_of], st.mem_active[placed],
                   (1.0 - st.mem_shared[placed]) * st.gram[placed])
    out: F64 = st.footprint() + np.bincount(h_of, weights=per, minlength=st.n_hosts)
    mig_dst = np.asarray(st.mig_dst[everyone])
    incoming = np.flatnonzero(mig_dst >= 0)
    if incoming.shape[0]:
        out = out + np.bincount(mig_dst[incoming], weights=st.gram[incoming],
                                minlength=st.n_hosts)
    return out


def need(st: Any, g: int, hosts: I64, *, landed: bool = True, gain: F64 | None = None) -> F64:
    """(len(hosts),) bytes guest ``g`` adds to :func:`floor` on each of ``hosts``: its working
    set where the layer balloons; else its RAM less what it shares with twins there
    (:func:`shared_gain`) once it has ``landed`` (placed), its whole RAM while it migrates in;
    + the layer's per-guest footprint. ``gain``: :func:`shared_gain` on ``hosts`` if the
    caller has it."""
    assert st.mem_active is not None
    assert st.mem_balloons is not None
    if landed:
        resident = st.gram[g] - (shared_gain(st, g, hosts) if gain is None else gain)
    else:
        resident = st.gram[g]
    out: F64 = (np.where(st.mem_balloons[hosts], st.mem_active[g], resident)
                + st.mem_overhead[hosts])
    return out


def shared_gain(st: Any, g: int, hosts: I64) -> F64:
    """(len(hosts),) bytes page sharing saves when guest ``g`` joins the twins of its
    ``os_image`` placed on each of ``hosts`` (0 where the layer shares no pages). With ``k``
    twins holding ``S`` bytes and a guest of ``R`` bytes, each of ``n`` twins keeps
    ``1 − σ (n − 1) / n`` of its pages, so the gain is ``σ (k (S + R) / (k + 1) −
    (k − 1) S / k)`` (``dcsim.engine.memory``'s sharing model)."""
    sigma = st.sharing[hosts]
    if not bool((sigma > 0).any()):
        return np.zeros(hosts.shape[0])
    twins = np.flatnonzero(st.image == st.image[g])
    twins = twins[twins != g]
    where = np.asarray(st.host_of[twins], dtype=np.intp)
    on = where >= 0
    k = np.bincount(where[on], minlength=st.n_hosts)[hosts].astype(np.float64)
    held = np.bincount(where[on], weights=st.gram[twins[on]], minlength=st.n_hosts)[hosts]
    r = float(st.gram[g])
    kk = np.where(k > 0, k, 1.0)
    out: F64 = np.where(k > 0, sigma * (k * (held + r) / (k + 1.0) - (k - 1.0) * held / kk),
                        0.0)
    return out

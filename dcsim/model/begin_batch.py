"""A planner step's migration starts in one pass (CloudSim mode's ``start_migrations``).

``begin_migrations`` takes moves ``(guest, destination)`` in order and does for each what the
one-by-one form does: a guest already migrating gives back its first destination's reservation
(``ClusterState.abort_migration``); a running, placed guest that fits its destination
(``ClusterState.fits``) reserves it (``ClusterState.begin_migration``). The terms of ``fits``
that no start changes (status, hosts, kinds, hardware, sizes) are computed for all moves as
arrays, elementwise the same double operations; then the moves are taken one by one in order,
each a few float operations on the reservations of its hosts and guest (each move sees the
moves before it): compiled (:func:`dcsim.kernels.begin.begin_moves`, numba, updating the
arrays in place), or in Python (``compiled=False``: the hosts' reservations read once into
Python floats, updated and written back at the end, as are the guests' reservations). The
arithmetic is the same double arithmetic in the same order as ``fits`` and ``_charge`` (which
read terms as Python floats with ``item()`` too), including the reset of a host emptied by an
abort (``_clear_drift``); ``tests/property/test_begin_batch.py`` compares every array byte for
byte, for both passes.

Imports: numpy, dcsim.kernels.{capacity, jit}, dcsim.model.cluster; dcsim.kernels.begin (numba)
on first use.
"""

from __future__ import annotations

import numpy as np

from dcsim.kernels.capacity import EPS
from dcsim.kernels.jit import kernel
from dcsim.model.cluster import ClusterState, GuestStatus

_RUNNING = int(GuestStatus.RUNNING)


def begin_migrations(st: ClusterState, gs: list[int], dsts: list[int], *,
                     compiled: bool = True) -> tuple[list[int], list[int], list[int]]:
    """Abort, test and begin the moves ``zip(gs, dsts)`` in order (see the module docstring).

    Returns (indices of the moves that started, their sources, the source and first
    destination of each guest whose earlier migration was aborted, flattened). ``compiled``:
    the move-by-move pass in :func:`dcsim.kernels.begin.begin_moves` (numba), else in Python
    (the same operations; the tests compare both).
    """
    if not gs:
        return [], [], []
    ga = np.asarray(gs, dtype=np.intp)
    da = np.asarray(dsts, dtype=np.intp)
    hold = st.hold
    tol = 1 + EPS
    src_a = st.host_of[ga]
    vcpus_a, mips_a, kind = st.vcpus[ga], st.mips[ga], st.kind[ga]
    # the terms of ``fits`` that no start or abort changes (host_of, status, kind, hardware),
    # elementwise the same double operations as ``fits``'s
    fixed = ((st.status[ga] == _RUNNING) & (src_a >= 0) & (src_a != da)
             & ((kind < 0) | (kind == st.layer_class[da])) & st.usable[da]
             & (vcpus_a <= st.cores[da])
             & ((mips_a if st.core_rule else 0.0) <= st.mips_per_core[da] * tol))
    ram_a = st.gram[ga] + st.mem_charge[da]
    disk_a = st.gdisk[ga] + st.disk_overhead[da]
    slots_a = st.max_slots[da]
    if compiled:
        if hold:
            caps = (st.ram_limit[da], st.storage[da], st.cap_mips[da] * st.overcommit[da],
                    st.cores[da], st.pinned[da])
        else:  # (not read)
            none = np.zeros(0)
            caps = (none, none, none, none, np.zeros(0, dtype=np.bool_))
        out = kernel("begin").begin_moves(
            ga, da, fixed, ram_a, disk_a, slots_a, *caps, src_a, vcpus_a, mips_a, hold, tol,
            st.used_ram, st.used_storage, st.reserved_mips, st.n_guests, st.vcpus_placed,
            st.reserved_charge, st.mig_dst, st.dst_ram, st.dst_disk)
        return out[0].tolist(), out[1].tolist(), out[2].tolist()
    fixed_l = fixed.tolist()
    ram_l, disk_l, slots_l = ram_a.tolist(), disk_a.tolist(), slots_a.tolist()
    if hold:
        ram_cap, disk_cap = st.ram_limit[da].tolist(), st.storage[da].tolist()
        mips_cap = (st.cap_mips[da] * st.overcommit[da]).tolist()
        cores_l, pinned_l = st.cores[da].tolist(), st.pinned[da].tolist()
    src_l, vcpus_l, mips_l = src_a.tolist(), vcpus_a.tolist(), mips_a.tolist()
    mig0, dram0, ddisk0 = st.mig_dst[ga].tolist(), st.dst_ram[ga].tolist(), \
        st.dst_disk[ga].tolist()
    # per touched host: [used_ram, used_storage, reserved_mips, n_guests, vcpus_placed]
    hv: dict[int, list[float]] = {}
    # per guest moved in this step: (mig_dst, dst_ram, dst_disk) now
    gv: dict[int, tuple[int, float, float]] = {}

    def load(h: int) -> list[float]:
        v = [st.used_ram.item(h), st.used_storage.item(h), st.reserved_mips.item(h),
             st.n_guests.item(h), st.vcpus_placed.item(h)]
        hv[h] = v
        return v

    def charge(v: list[float], h: int, sign: float, ram: float, disk: float, vcpus: float,
               mips: float) -> None:  # ClusterState._charge
        v[0] = v[0] + sign * ram
        v[1] = v[1] + sign * disk
        if hold:
            v[2] = v[2] + sign * vcpus * mips
        n = v[3] = v[3] + sign
        v[4] = v[4] + sign * vcpus
        if n == 0:  # ClusterState._clear_drift
            v[0] = st.reserved_charge.item(h)
            v[1] = v[2] = v[4] = 0.0

    started: list[int] = []
    srcs: list[int] = []
    aborted: list[int] = []
    for i, g in enumerate(gs):
        cur = gv.get(g)
        d0, dram, ddisk = (mig0[i], dram0[i], ddisk0[i]) if cur is None else cur
        if d0 >= 0:  # moved twice in one step: the first reservation is given back
            aborted.append(src_l[i])
            aborted.append(d0)
            charge(hv.get(d0) or load(d0), d0, -1.0, dram, ddisk, vcpus_l[i], mips_l[i])
            gv[g] = (-1, 0.0, 0.0)
        if not fixed_l[i]:
            continue
        dst = dsts[i]
        v = hv.get(dst) or load(dst)
        vcpus = vcpus_l[i]
        if hold:  # ClusterState.fits, the terms that starts change
            mips = mips_l[i]
            if not (ram_l[i] <= (ram_cap[i] - v[0]) * tol
                    and disk_l[i] <= (disk_cap[i] - v[1]) * tol
                    and vcpus * mips <= (mips_cap[i] - v[2]) * tol
                    and slots_l[i] - v[3] >= 1
                    and (not pinned_l[i] or vcpus <= cores_l[i] - v[4])):
                continue
        elif not slots_l[i] - v[3] >= 1:
            continue
        # ClusterState.begin_migration
        ram = ram_l[i] * hold
        disk = disk_l[i] * hold
        charge(v, dst, 1.0, ram, disk, vcpus, mips_l[i])
        gv[g] = (dst, ram, disk)
        started.append(i)
        srcs.append(src_l[i])
    for h, v in hv.items():
        st.used_ram[h], st.used_storage[h], st.reserved_mips[h], st.n_guests[h], \
            st.vcpus_placed[h] = v
    if gv:
        ids = np.fromiter(gv, dtype=np.intp, count=len(gv))
        vals = list(gv.values())
        st.mig_dst[ids] = [x[0] for x in vals]
        st.dst_ram[ids] = [x[1] for x in vals]
        st.dst_disk[ids] = [x[2] for x in vals]
    return started, srcs, aborted

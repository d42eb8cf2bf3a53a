"""A planner step's migration starts compiled with numba: the move-by-move pass of
:func:`dcsim.model.begin_batch.begin_migrations`.

Imported on first use only (``dcsim.kernels.jit.kernel``, never by ``import dcsim``); CloudSim
mode's planner has imported numba by then (PABFD's search, :mod:`dcsim.policies.pabfd_kernel`).
The machine code is cached on disk (``cache=True``) and loaded without numba's compiler set-up
(:mod:`dcsim.kernels.jit`).

Why compiled: the pass is sequential (each move sees the reservations of the moves before it,
an abort gives a reservation back) and ~25 moves per planner step per 1,000 VMs; in Python each
move cost ~3 us of float operations on lists (256k moves at 10x the PlanetLab data center).

The operations are those of ``begin_batch``'s Python pass (which are ``ClusterState``'s
``abort_migration``, ``fits`` and ``begin_migration`` on Python floats), in the same order, on
float64, without fastmath: the host reservations are updated in place where the Python pass
keeps them in floats and writes them back, which stores the same values. ``hold`` enters as
``hold_f`` (1.0 or 0.0): ``x * True`` and ``x * False`` are ``x * 1.0`` and ``x * 0.0`` in
Python. ``tests/property/test_begin_batch.py`` compares every array byte for byte.

Imports numpy, numba.
"""

from __future__ import annotations

import numpy as np
from numba import njit


@njit(cache=True, nogil=True, error_model="numpy")
def _charge(h, sign, ram, disk, vcpus, mips, hold, used_ram, used_storage,  # type: ignore[no-untyped-def]
            reserved_mips, n_guests, vcpus_placed, reserved_charge):
    """``ClusterState._charge`` of host ``h`` (and ``_clear_drift`` when it empties)."""
    used_ram[h] = used_ram[h] + sign * ram
    used_storage[h] = used_storage[h] + sign * disk
    if hold:
        reserved_mips[h] = reserved_mips[h] + sign * vcpus * mips
    n = n_guests[h] + sign
    n_guests[h] = n
    vcpus_placed[h] = vcpus_placed[h] + sign * vcpus
    if n == 0:
        used_ram[h] = reserved_charge[h]
        used_storage[h] = 0.0
        reserved_mips[h] = 0.0
        vcpus_placed[h] = 0.0


@njit(cache=True, nogil=True, error_model="numpy")
def begin_moves(ga, da, fixed, ram_l, disk_l, slots_l, ram_cap, disk_cap,  # type: ignore[no-untyped-def]
                mips_cap, cores_l, pinned_l, src_l, vcpus_l, mips_l, hold, tol,
                used_ram, used_storage, reserved_mips, n_guests, vcpus_placed, reserved_charge,
                mig_dst, dst_ram, dst_disk):
    """Abort, test and begin the moves ``(ga[i], da[i])`` in order, in place.

    Per move ``i``: ``fixed`` (the terms of ``fits`` no start changes), the guest-plus-footprint
    RAM and disk ``ram_l``/``disk_l``, the destination's slots, and when ``hold`` its RAM,
    storage and MIPS capacities, cores and pinning; the guest's source, vCPUs and MIPS.
    Returns (indices of the started moves, their sources, the flattened (source, first
    destination) of each aborted move).
    """
    n = ga.shape[0]
    started = np.empty(n, dtype=np.intp)
    srcs = np.empty(n, dtype=np.intp)
    aborted = np.empty(2 * n, dtype=np.intp)
    k = 0
    m = 0
    hold_f = 1.0 if hold else 0.0
    for i in range(n):
        g = ga[i]
        vcpus = vcpus_l[i]
        d0 = mig_dst[g]
        if d0 >= 0:  # moved twice in one step: the first reservation is given back
            aborted[m] = src_l[i]
            aborted[m + 1] = d0
            m += 2
            _charge(d0, -1.0, dst_ram[g], dst_disk[g], vcpus, mips_l[i], hold,
                    used_ram, used_storage, reserved_mips, n_guests, vcpus_placed,
                    reserved_charge)
            mig_dst[g] = -1
            dst_ram[g] = 0.0
            dst_disk[g] = 0.0
        if not fixed[i]:
            continue
        dst = da[i]
        if hold:  # ClusterState.fits, the terms that starts change
            mips = mips_l[i]
            if not (ram_l[i] <= (ram_cap[i] - used_ram[dst]) * tol
                    and disk_l[i] <= (disk_cap[i] - used_storage[dst]) * tol
                    and vcpus * mips <= (mips_cap[i] - reserved_mips[dst]) * tol
                    and slots_l[i] - n_guests[dst] >= 1
                    and (not pinned_l[i] or vcpus <= cores_l[i] - vcpus_placed[dst])):
                continue
        elif not slots_l[i] - n_guests[dst] >= 1:
            continue
        # ClusterState.begin_migration
        ram = ram_l[i] * hold_f
        disk = disk_l[i] * hold_f
        _charge(dst, 1.0, ram, disk, vcpus, mips_l[i], hold,
                used_ram, used_storage, reserved_mips, n_guests, vcpus_placed, reserved_charge)
        mig_dst[g] = dst
        dst_ram[g] = ram
        dst_disk[g] = disk
        started[k] = i
        srcs[k] = src_l[i]
        k += 1
    return started[:k], srcs[:k], aborted[:m]

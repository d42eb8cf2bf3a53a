"""Capacity kernels: which hosts can take a guest, as one boolean mask over all hosts.

The rules are dcsim's capacity law. RAM and storage are hard limits that include the virtualization
layer's footprint (memory reserved by the host and per-guest overhead, per-guest disk overhead);
CPU may be overcommitted up to each host's ratio (reserved MIPS ≤ capacity × ratio); a vCPU can
never be faster than a physical core, and a guest never has more vCPUs than the host has cores.

Pure numpy; no simpy, no dcsim imports.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

F64 = NDArray[np.float64]
B = NDArray[np.bool_]

# Relative tolerance for float sums of sizes: a guest that fits "exactly" must fit.
EPS = 1e-9


def feasible_hosts(
    free_ram: F64,
    free_storage: F64,
    free_mips: F64,
    free_slots: F64,
    cores: F64,
    mips_per_core: F64,
    usable: B,
    ram_need: F64,
    disk_need: F64,
    vcpus: float,
    mips: float,
    free_cores: F64 | None = None,
) -> B:
    """Mask of hosts that can admit one guest now.

    Parameters
    ----------
    free_ram, free_storage : (n_hosts,) bytes still free (after reservations and footprints).
    free_mips : (n_hosts,) MIPS still reservable (capacity × overcommit − reserved).
    free_slots : (n_hosts,) guests the layer still accepts (``inf`` when unlimited).
    cores, mips_per_core : (n_hosts,) hardware.
    usable : (n_hosts,) host is not failed / not excluded.
    ram_need, disk_need : (n_hosts,) bytes the guest needs on each host (size + layer overhead).
    vcpus, mips : the guest's vCPUs and MIPS per vCPU.
    free_cores : (n_hosts,) cores not pinned to a vCPU (space-shared hosts; ``inf`` elsewhere).

    Returns
    -------
    (n_hosts,) bool. O(n_hosts).
    """
    need_mips = vcpus * mips
    ok = (
        usable
        & (ram_need <= free_ram * (1 + EPS))
        & (disk_need <= free_storage * (1 + EPS))
        & (need_mips <= free_mips * (1 + EPS))
        & (free_slots >= 1)
        & (vcpus <= cores)
        & (mips <= mips_per_core * (1 + EPS))
    )
    if free_cores is not None:
        ok &= vcpus <= free_cores
    return ok

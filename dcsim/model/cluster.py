"""Cluster state as a struct of arrays: hosts and guests, indexed by dense integer ids.

``ClusterState`` owns every mutable quantity of a run that policies may look at: hardware,
reservations, where each guest is and what it is doing. It enforces the capacity law on every
``place`` (raising ``InvariantViolation`` rather than overfilling a host) and offers a read-only
``HostView`` to policies. It knows nothing about time or SimPy.

Imports: numpy, dcsim.errors, dcsim.kernels, dcsim.model.sandbox, dcsim.config.resolve (types
only).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum

import numpy as np
from numpy.typing import NDArray

from dcsim.config.resolve import Scenario
from dcsim.errors import InvariantViolation
from dcsim.kernels.capacity import EPS, feasible_hosts
from dcsim.model.sandbox import BatchArray, LazyMembers

F64 = NDArray[np.float64]
I64 = NDArray[np.intp]


_HOST_DYNAMIC = ("used_ram", "used_storage", "reserved_mips", "n_guests", "vcpus_placed", "awake")
_GUEST_DYNAMIC = ("mig_dst", "dst_ram", "dst_disk", "host_of", "charged_ram", "charged_disk",
                  "kind")

#: Layer classes (``ClusterState.layer_class``) and guest kinds (``ClusterState.kind``): a VM
#: runs on a hypervisor (type1/type2), a container on a container runtime, a bare-metal workload
#: on a bare-metal host. A guest's kind is fixed by its config (``guests[].kind``) or by the
#: layer of the first host it is placed on, and never changes: migrations and restarts only
#: consider hosts of the same class.
LAYER_CLASS = {"bare_metal": 0, "type1": 1, "type2": 1, "container": 2}
KIND_CODE = {"vm": 1, "container": 2}


class GuestStatus(IntEnum):
    """Life cycle of a guest."""

    PENDING = 0  # not arrived yet
    BOOTING = 1  # placed, resources held, no useful work yet
    RUNNING = 2
    DEPARTED = 3
    REJECTED = 4  # fitted nowhere on arrival
    DOWN = 5  # its host failed; waiting for a restart (dcsim.engine.faults)


@dataclass
class ClusterState:
    """Hosts and guests of one run. Arrays are length ``n_hosts`` or ``n_guests``."""

    # hosts: hardware
    cores: F64
    mips_per_core: F64
    cap_mips: F64
    ram: F64
    storage: F64
    bandwidth: F64
    power_table: F64  # (n_hosts, 11) W
    sleep_power: F64
    datacenter: I64
    host_group: I64
    # hosts: virtualization layer
    profile: I64  # index into profile_names
    reserved_mem: F64
    mem_overhead: F64  # per guest
    # memory overcommit ρ (``mem_overcommit``): allocations are charged against
    # ``ram_limit = ρ × ram`` and the layer's footprints at ρ × their size (``reserved_charge``,
    # ``mem_charge``), so that Σ allocations / ρ + footprints <= ram: the footprints are never
    # overcommitted. With ρ = 1 every charge is the plain size (x * 1.0 == x).
    mem_ratio: F64
    ram_limit: F64
    mem_charge: F64  # per guest: mem_overhead × ρ
    reserved_charge: F64  # reserved_mem × ρ
    sharing: F64  # σ: the layer's page-sharing fraction (0: no page sharing)
    disk_overhead: F64  # per guest
    cpu_overhead: F64
    sched_slope: F64
    sched_max: F64
    max_slots: F64
    overcommit: F64
    pinned: NDArray[np.bool_]  # space-shared CPU scheduling
    syscall_overhead: F64
    interference: F64
    interference_max: F64
    io_seq_factor: F64
    io_rand_factor: F64
    net_bulk_factor: F64
    mem_bw_overhead: F64
    io_latency_mult: F64
    net_latency_add: F64  # s
    # hosts: dynamic
    used_ram: F64
    used_storage: F64
    reserved_mips: F64
    n_guests: F64
    vcpus_placed: F64
    awake: NDArray[np.bool_]
    usable: NDArray[np.bool_]
    failed: NDArray[np.bool_]  # down (draws nothing, holds no guest)
    # guests
    vcpus: F64
    mips: F64
    gram: F64
    gdisk: F64
    weight: F64  # share weight under contention
    cap_frac: F64  # most CPU a guest may use, fraction of vCPUs x MIPS
    syscall_frac: F64
    io_frac: F64
    io_random: NDArray[np.bool_]
    io_latency: NDArray[np.bool_]  # synchronous small I/O: bound by I/O latency
    net_frac: F64
    net_request: NDArray[np.bool_]  # request-response network I/O: bound by round trips
    net_rtt: F64  # native round trip of such a guest, s
    mem_frac: F64  # share of the work that is memory-bandwidth-bound
    antisocial: NDArray[np.bool_]  # noisy neighbour (interference source)
    guest_group: I64
    image: I64  # per guest: its os_image (default: its group's name), as an id
    host_of: I64
    status: NDArray[np.int8]
    # footprint actually charged for each placed guest (depends on the host's layer)
    charged_ram: F64
    charged_disk: F64
    layer_class: NDArray[np.int8]  # per host: LAYER_CLASS of its layer
    kind: NDArray[np.int8]  # per guest: the layer class it runs on (-1: not fixed yet)
    profile_names: tuple[str, ...]
    members: list[list[int]]  # guests on each host, in placement order
    mig_dst: I64  # destination reserved for a guest being migrated (-1: none)
    dst_ram: F64  # what that reservation charges the destination
    dst_disk: F64
    # False: placements from now on reserve no RAM, disk or configured CPU (CloudSim's
    # "requests 0 RAM after creation", ``assumptions.reservation: demand``); checked: slots, cores
    hold: bool = True
    # False: a vCPU faster than the host's cores is accepted and capped at a core's MIPS
    # (``assumptions.slow_cores: cap``); True: the per-core rule of the capacity law
    core_rule: bool = True
    version: int = 0  # bumped whenever a member list changes (cache key)
    #: ``finish_migrations`` takes its compiled pass (``dcsim.kernels.dcupdate``; CloudSim
    #: mode, which loads numba for its kernels anyway)
    compiled: bool = False
    #: grid carbon intensity now per data center, g CO2-eq/kWh (None: no carbon accounting);
    #: set by dcsim.engine.carbon, read by carbon-aware policies
    carbon_now: F64 | None = None
    #: working set of every guest now, bytes (None: no memory accounting); set by
    #: dcsim.engine.memory, read by memory-aware policies
    mem_active: F64 | None = None
    #: with memory accounting, also set by dcsim.engine.memory: the share of each guest's
    #: pages shared now (σ_g) and, per host, whether its layer balloons (``dcsim.model.memfit``)
    mem_shared: F64 | None = None
    mem_balloons: NDArray[np.bool_] | None = None

    @classmethod
    def build(cls, sc: Scenario) -> ClusterState:
        """Arrays for every host and guest of a scenario; nothing placed, all hosts awake."""
        names = tuple(sorted({g.profile_name for g in sc.host_groups}))
        idx = {n: i for i, n in enumerate(names)}
        hg = sc.host_groups

        def hrep(values: list[float]) -> F64:
            return np.repeat(np.asarray(values, dtype=np.float64), [g.count for g in hg])

        cores = hrep([g.model.cores for g in hg])
        mpc = hrep([g.model.mips_per_core for g in hg])
        n_h = int(cores.shape[0])
        tables = np.repeat(np.asarray([g.model.power.table() for g in hg], dtype=np.float64),
                           [g.count for g in hg], axis=0)
        prof = [g.profile for g in hg]
        gg = sc.guest_groups
        counts = [g.spec.count for g in gg]

        def grep(values: list[float]) -> F64:
            return np.repeat(np.asarray(values, dtype=np.float64), counts)

        n_g = sum(counts)
        images = [g.spec.os_image or g.name for g in gg]
        image_id = {n: i for i, n in enumerate(dict.fromkeys(images))}
        reserved = hrep([p.host_reserved_mem for p in prof])
        ram = hrep([g.model.ram for g in hg])
        ratio = hrep([g.mem_overcommit for g in hg])
        overhead = hrep([p.mem_overhead_per_guest for p in prof])
        return cls(
            cores=cores,
            mips_per_core=mpc,
            cap_mips=cores * mpc,
            ram=ram,
            storage=hrep([g.model.storage for g in hg]),
            bandwidth=hrep([g.model.bandwidth for g in hg]),
            power_table=tables,
            sleep_power=hrep([g.model.sleep_power for g in hg]),
            datacenter=np.repeat(np.asarray([g.datacenter for g in hg], dtype=np.intp),
                                 [g.count for g in hg]),
            host_group=np.repeat(np.arange(len(hg), dtype=np.intp), [g.count for g in hg]),
            profile=np.repeat(np.asarray([idx[g.profile_name] for g in hg], dtype=np.intp),
                              [g.count for g in hg]),
            reserved_mem=reserved,
            mem_overhead=overhead,
            mem_ratio=ratio,
            ram_limit=ram * ratio,
            mem_charge=overhead * ratio,
            reserved_charge=reserved * ratio,
            sharing=hrep([p.sharing_fraction if p.page_sharing else 0.0 for p in prof]),
            disk_overhead=hrep([p.disk_overhead_per_guest for p in prof]),
            cpu_overhead=hrep([p.cpu_overhead for p in prof]),
            sched_slope=hrep([p.sched_overhead.slope for p in prof]),
            sched_max=hrep([p.sched_overhead.max for p in prof]),
            max_slots=hrep([float(p.max_guests) if p.max_guests else np.inf for p in prof]),
            overcommit=hrep([g.cpu_overcommit for g in hg]),
            pinned=np.repeat(np.asarray([g.cpu_scheduler == "space_shared" for g in hg]),
                             [g.count for g in hg]),
            syscall_overhead=hrep([p.syscall_overhead for p in prof]),
            interference=hrep([p.interference for p in prof]),
            interference_max=hrep([p.interference_max for p in prof]),
            io_seq_factor=hrep([p.io_seq_factor for p in prof]),
            io_rand_factor=hrep([p.io_rand_factor for p in prof]),
            net_bulk_factor=hrep([p.net_bulk_factor for p in prof]),
            mem_bw_overhead=hrep([p.mem_bw_overhead for p in prof]),
            io_latency_mult=hrep([p.io_latency_mult for p in prof]),
            net_latency_add=hrep([p.net_latency_add for p in prof]),
            used_ram=reserved * ratio,
            used_storage=np.zeros(n_h),
            reserved_mips=np.zeros(n_h),
            n_guests=np.zeros(n_h),
            vcpus_placed=np.zeros(n_h),
            awake=np.ones(n_h, dtype=bool),
            usable=np.ones(n_h, dtype=bool),
            failed=np.zeros(n_h, dtype=bool),
            vcpus=grep([g.type.vcpus for g in gg]),
            mips=grep([g.type.mips for g in gg]),
            gram=grep([g.type.ram for g in gg]),
            gdisk=grep([g.type.disk for g in gg]),
            weight=grep([g.spec.cpu_weight or float(g.type.vcpus) for g in gg]),
            cap_frac=grep([g.spec.cpu_cap or 1.0 for g in gg]),
            syscall_frac=grep([g.spec.syscall_fraction for g in gg]),
            io_frac=grep([g.spec.io_fraction for g in gg]),
            io_random=np.repeat(np.asarray([g.spec.io_pattern == "random" for g in gg],
                                           dtype=bool), counts),
            io_latency=np.repeat(np.asarray([g.spec.io_pattern == "latency" for g in gg],
                                            dtype=bool), counts),
            net_frac=grep([g.spec.net_fraction for g in gg]),
            net_request=np.repeat(np.asarray([g.spec.net_pattern == "request" for g in gg],
                                             dtype=bool), counts),
            net_rtt=grep([g.spec.net_rtt for g in gg]),
            mem_frac=grep([g.spec.mem_bound_fraction for g in gg]),
            antisocial=np.repeat(np.asarray([g.spec.antisocial for g in gg], dtype=bool),
                                 counts),
            guest_group=np.repeat(np.arange(len(gg), dtype=np.intp), counts),
            image=np.repeat(np.asarray([image_id[n] for n in images], dtype=np.intp), counts),
            host_of=np.full(n_g, -1, dtype=np.intp),
            status=np.zeros(n_g, dtype=np.int8),
            charged_ram=np.zeros(n_g),
            charged_disk=np.zeros(n_g),
            layer_class=np.repeat(np.asarray([LAYER_CLASS[g.profile.kind] for g in hg],
                                             dtype=np.int8), [g.count for g in hg]),
            kind=np.repeat(np.asarray([KIND_CODE.get(g.spec.kind or "", -1) for g in gg],
                                      dtype=np.int8), counts),
            profile_names=names,
            members=[[] for _ in range(n_h)],
            mig_dst=np.full(n_g, -1, dtype=np.intp),
            dst_ram=np.zeros(n_g),
            dst_disk=np.zeros(n_g),
        )

    @property
    def n_hosts(self) -> int:
        return int(self.cores.shape[0])

    @property
    def n_guests_total(self) -> int:
        return int(self.vcpus.shape[0])

    # --- capacity -------------------------------------------------------------------------
    def free_ram(self) -> F64:
        """RAM still allocatable per host (at the memory overcommit ratio), bytes."""
        return self.ram_limit - self.used_ram

    def free_storage(self) -> F64:
        return self.storage - self.used_storage

    def host_index(self, hosts: I64) -> I64 | slice:
        """``hosts`` (sorted, distinct) as an index: every host as a slice (views, no gathers;
        the same elements in the same order)."""
        return slice(None) if hosts.shape[0] == self.n_hosts else hosts

    def footprint(self, hosts: I64 | None = None) -> F64:
        """(n,) physical memory the layer itself keeps on ``hosts`` (default all), bytes: what
        the host reserves + the per-guest overhead of every guest holding room there (placed or
        migrating in). Never overcommitted (see ``mem_charge``)."""
        h = slice(None) if hosts is None else hosts
        out: F64 = self.reserved_mem[h] + self.mem_overhead[h] * self.n_guests[h]
        return out

    def free_mips(self) -> F64:
        return self.cap_mips * self.overcommit - self.reserved_mips

    def feasible(self, g: int, lo: int = 0, hi: int | None = None,
                 at: I64 | None = None) -> NDArray[np.bool_]:
        """Hosts ``lo..hi-1`` (default all), or the hosts ``at`` (an index array), that can
        admit guest ``g`` now; element for element the same arithmetic either way."""
        s: slice | I64 = slice(lo, hi) if at is None else at
        kind = int(self.kind[g])
        usable = self.usable[s] if kind < 0 else self.usable[s] & (self.layer_class[s] == kind)
        if not self.hold:
            out: NDArray[np.bool_] = (usable & (self.max_slots[s] - self.n_guests[s] >= 1)
                                      & (self.vcpus[g] <= self.cores[s]))
            if self.core_rule:
                out &= self.mips[g] <= self.mips_per_core[s] * (1 + EPS)
            return out
        mpc = self.mips_per_core[s] if self.core_rule else np.full(usable.shape[0], np.inf)
        pinned = self.pinned[s]
        return feasible_hosts(
            self.ram_limit[s] - self.used_ram[s], self.storage[s] - self.used_storage[s],
            self.cap_mips[s] * self.overcommit[s] - self.reserved_mips[s],
            self.max_slots[s] - self.n_guests[s], self.cores[s], mpc,
            usable, self.gram[g] + self.mem_charge[s],
            self.gdisk[g] + self.disk_overhead[s], float(self.vcpus[g]), float(self.mips[g]),
            # no pinning host: vcpus <= inf everywhere, the test is left out
            np.where(pinned, self.cores[s] - self.vcpus_placed[s], np.inf)
            if np.count_nonzero(pinned) else None,
        )

    def fits(self, g: int, h: int) -> bool:
        """Whether guest ``g`` fits on host ``h`` now (scalar version of ``feasible``)."""
        tol = 1 + EPS
        vcpus, mips = float(self.vcpus[g]), float(self.mips[g])
        core_mips = mips if self.core_rule else 0.0  # slow_cores: cap accepts any core
        kind = int(self.kind[g])
        if kind >= 0 and kind != self.layer_class[h]:
            return False  # a VM never runs on a container runtime, nor the other way round
        # host and size terms read as Python floats (item): the same double arithmetic
        if not self.hold:
            return bool(self.usable[h] and self.max_slots.item(h) - self.n_guests.item(h) >= 1
                        and vcpus <= self.cores.item(h)
                        and core_mips <= self.mips_per_core.item(h) * tol)
        return bool(
            self.usable[h]
            and self.gram.item(g) + self.mem_charge.item(h)
            <= (self.ram_limit.item(h) - self.used_ram.item(h)) * tol
            and self.gdisk.item(g) + self.disk_overhead.item(h)
            <= (self.storage.item(h) - self.used_storage.item(h)) * tol
            and vcpus * mips
            <= (self.cap_mips.item(h) * self.overcommit.item(h) - self.reserved_mips.item(h))
            * tol
            and self.max_slots.item(h) - self.n_guests.item(h) >= 1
            and vcpus <= self.cores.item(h)
            and core_mips <= self.mips_per_core.item(h) * tol
            and (not self.pinned[h] or vcpus <= self.cores.item(h) - self.vcpus_placed.item(h))
        )

    def sandbox(self, guests: I64 | None = None) -> ClusterState:
        """A copy whose placement bookkeeping can be changed freely (for policies).

        Host arrays are copied (O(hosts)); member lists are copied on first touch. With
        ``guests``, per-guest arrays are copied only for those guests' entries: the sandbox may
        then only place, migrate or release guests of that batch (what admission policies do),
        which keeps a batch O(hosts + batch) instead of O(hosts + all guests).
        """
        c = object.__new__(type(self))  # what copy.copy does for a plain instance, directly
        own = c.__dict__
        own.update(self.__dict__)
        own["members"] = LazyMembers(self.members)
        own["compiled"] = False  # (its arrays may be batch views: the numpy forms)
        for name in _HOST_DYNAMIC:
            own[name] = own[name].copy()
        if guests is None:
            for name in _GUEST_DYNAMIC:
                own[name] = own[name].copy()
        else:
            ids = guests.tolist()
            if guests.shape[0] * 8 < self.n_guests_total:
                for name in _GUEST_DYNAMIC:
                    own[name] = BatchArray.small(own[name], ids)
            else:
                for name in _GUEST_DYNAMIC:
                    own[name] = BatchArray(own[name], guests, ids)
        return c

    def place(self, g: int, h: int) -> None:
        """Reserve host ``h`` for guest ``g``; refuses (InvariantViolation) if it does not fit."""
        if not self.fits(g, h):
            raise InvariantViolation(f"guest {g} does not fit on host {h}")
        ram = float(self.gram[g] + self.mem_charge[h]) * self.hold
        disk = float(self.gdisk[g] + self.disk_overhead[h]) * self.hold
        self._charge(g, h, 1.0, ram, disk)
        self.charged_ram[g] = ram
        self.charged_disk[g] = disk
        self.host_of[g] = h
        self.members[h].append(g)
        self.version += 1
        if self.kind[g] < 0:  # its first host decides what it is
            self.kind[g] = self.layer_class[h]

    def _charge(self, g: int, h: int, sign: float, ram: float, disk: float) -> None:
        # (terms read as Python floats with item(): the same double arithmetic as numpy's)
        self.used_ram[h] = self.used_ram.item(h) + sign * ram
        self.used_storage[h] = self.used_storage.item(h) + sign * disk
        vcpus = self.vcpus.item(g)
        if self.hold:
            self.reserved_mips[h] = self.reserved_mips.item(h) + sign * vcpus * self.mips.item(g)
        n = self.n_guests[h] = self.n_guests.item(h) + sign
        self.vcpus_placed[h] = self.vcpus_placed.item(h) + sign * vcpus
        if n == 0:
            self._clear_drift(h)

    def _clear_drift(self, h: int | I64) -> None:
        """Reset emptied host(s) ``h`` to their empty values (removing float drift)."""
        self.used_ram[h] = self.reserved_charge[h]
        self.used_storage[h] = 0.0
        self.reserved_mips[h] = 0.0
        self.vcpus_placed[h] = 0.0

    def unhold(self, g: int) -> None:
        """Give back placed guest ``g``'s RAM, disk and CPU reservation (it keeps its host).

        Used right after admission under ``assumptions.reservation: demand`` (then ``hold`` is
        False: later placements and migrations of the guest reserve nothing).
        """
        h = int(self.host_of[g])
        self.used_ram[h] -= self.charged_ram[g]
        self.used_storage[h] -= self.charged_disk[g]
        self.reserved_mips[h] = max(0.0, self.reserved_mips[h] - self.vcpus[g] * self.mips[g])
        self.charged_ram[g] = self.charged_disk[g] = 0.0

    def begin_migration(self, g: int, dst: int, *, fits_checked: bool = False) -> None:
        """Reserve ``dst`` for placed guest ``g`` while it still runs on its source.

        During a migration the guest holds resources on both hosts, so neither is ever
        overfilled; refuses (InvariantViolation) if it does not fit on ``dst``.
        ``fits_checked``: the caller has just found ``fits(g, dst)`` true and changed nothing
        since (the test is not repeated).
        """
        src = self.host_of.item(g)
        if src < 0 or self.mig_dst.item(g) >= 0 or src == dst:
            raise InvariantViolation(f"guest {g} cannot start a migration to host {dst}")
        if not fits_checked and not self.fits(g, dst):
            raise InvariantViolation(f"guest {g} does not fit on host {dst}")
        # (Python floats via item(): the same double addition as numpy's)
        ram = (self.gram.item(g) + self.mem_charge.item(dst)) * self.hold
        disk = (self.gdisk.item(g) + self.disk_overhead.item(dst)) * self.hold
        self._charge(g, dst, 1.0, ram, disk)
        self.mig_dst[g] = dst
        self.dst_ram[g] = ram
        self.dst_disk[g] = disk

    def abort_migration(self, g: int) -> None:
        """Give back the destination reservation of guest ``g``."""
        dst = int(self.mig_dst[g])
        if dst < 0:
            return
        self._charge(g, dst, -1.0, float(self.dst_ram[g]), float(self.dst_disk[g]))
        self.mig_dst[g] = -1
        self.dst_ram[g] = self.dst_disk[g] = 0.0

    def finish_migration(self, g: int) -> tuple[int, int]:
        """Move guest ``g`` to its reserved destination; returns (source, destination)."""
        src, dst = int(self.host_of[g]), int(self.mig_dst[g])
        if dst < 0 or src < 0:
            raise InvariantViolation(f"guest {g} has no migration to finish")
        self._charge(g, src, -1.0, float(self.charged_ram[g]), float(self.charged_disk[g]))
        self.members[src].remove(g)
        self.members[dst].append(g)
        self.version += 1
        self.host_of[g] = dst
        self.charged_ram[g] = self.dst_ram[g]
        self.charged_disk[g] = self.dst_disk[g]
        self.mig_dst[g] = -1
        self.dst_ram[g] = self.dst_disk[g] = 0.0
        return src, dst

    def finish_migrations(self, gs: I64) -> tuple[I64, I64]:
        """``finish_migration`` of each guest of ``gs`` (distinct), in order, in one pass;
        returns (sources, destinations).

        The same double arithmetic: ``np.add.at`` adds element by element in index order, as
        the one-by-one charges do, and a source's count can only reach 0 at its last guest of
        ``gs`` (each of them is counted there), where the drift reset happens one by one too.
        """
        if self.compiled and gs.shape[0]:  # the array part in one compiled pass
            from dcsim.kernels.jit import kernel

            src, dst, ok = kernel("dcupdate").finish_moves(
                gs, self.host_of, self.mig_dst, self.charged_ram, self.charged_disk,
                self.dst_ram, self.dst_disk, self.used_ram, self.used_storage, self.hold,
                self.reserved_mips, self.vcpus, self.mips, self.n_guests, self.vcpus_placed,
                self.reserved_charge)
            if ok:
                self._move_members(gs, src, dst)
                return src, dst
        src, dst = self.host_of[gs], self.mig_dst[gs]
        if gs.shape[0] == 0:
            return src, dst
        if bool((dst < 0).any() or (src < 0).any()):
            raise InvariantViolation(f"guests {gs[(dst < 0) | (src < 0)][:5]} have no "
                                     "migration to finish")
        vcpus = self.vcpus[gs]
        np.add.at(self.used_ram, src, -self.charged_ram[gs])
        np.add.at(self.used_storage, src, -self.charged_disk[gs])
        if self.hold:
            np.add.at(self.reserved_mips, src, -(vcpus * self.mips[gs]))
        np.add.at(self.n_guests, src, -1.0)
        np.add.at(self.vcpus_placed, src, -vcpus)
        hosts = np.unique(src)
        self._clear_drift(hosts[self.n_guests[hosts] == 0])
        self._move_members(gs, src, dst)
        self.host_of[gs] = dst
        self.charged_ram[gs] = self.dst_ram[gs]
        self.charged_disk[gs] = self.dst_disk[gs]
        self.mig_dst[gs] = -1
        self.dst_ram[gs] = 0.0
        self.dst_disk[gs] = 0.0
        return src, dst

    def _move_members(self, gs: I64, src: I64, dst: I64) -> None:
        """Each guest of ``gs`` leaves its source's member list for the end of its
        destination's, in order."""
        members = self.members
        for g, s, d in zip(gs.tolist(), src.tolist(), dst.tolist(), strict=True):
            members[s].remove(g)
            members[d].append(g)
        self.version += 1

    def release(self, g: int) -> int:
        """Free guest ``g``'s reservation; returns the host it was on."""
        h = int(self.host_of[g])
        if h < 0:
            raise InvariantViolation(f"guest {g} is not placed")
        self.abort_migration(g)
        self._charge(g, h, -1.0, float(self.charged_ram[g]), float(self.charged_disk[g]))
        self.charged_ram[g] = 0.0
        self.charged_disk[g] = 0.0
        self.host_of[g] = -1
        self.members[h].remove(g)
        self.version += 1
        return h

    def check(self) -> None:
        """Raise InvariantViolation if any host holds more than it has (test/debug runs)."""
        tol = 1 + EPS
        if np.any(self.used_ram > self.ram_limit * tol):
            raise InvariantViolation("RAM over capacity on hosts "
                                     f"{np.flatnonzero(self.used_ram > self.ram_limit * tol)[:5]}")
        if np.any(self.used_storage > self.storage * tol):
            raise InvariantViolation("storage over capacity")
        if np.any(self.reserved_mips > self.cap_mips * self.overcommit * tol):
            raise InvariantViolation("CPU reservation above the overcommit ratio")
        if np.any(self.pinned & (self.vcpus_placed > self.cores)):
            raise InvariantViolation("more pinned vCPUs than cores on a space-shared host")
        if np.any(self.n_guests > self.max_slots):
            raise InvariantViolation("more guests than the layer allows")
        placed = self.host_of >= 0
        if sum(len(m) for m in self.members) != int(placed.sum()):
            raise InvariantViolation("host member lists disagree with placements")
        moving = self.mig_dst >= 0
        counts = (np.bincount(self.host_of[placed], minlength=self.n_hosts)
                  + np.bincount(self.mig_dst[moving], minlength=self.n_hosts))
        if not np.array_equal(counts, self.n_guests.astype(np.intp)):
            raise InvariantViolation("guest counts disagree with placements")
        ram = (np.bincount(self.host_of[placed], weights=self.charged_ram[placed],
                           minlength=self.n_hosts) + self.reserved_charge
               + np.bincount(self.mig_dst[moving], weights=self.dst_ram[moving],
                             minlength=self.n_hosts))
        if not np.allclose(ram, self.used_ram, rtol=1e-9, atol=1.0):
            raise InvariantViolation("RAM bookkeeping disagrees with placements")
        disk = (np.bincount(self.host_of[placed], weights=self.charged_disk[placed],
                            minlength=self.n_hosts)
                + np.bincount(self.mig_dst[moving], weights=self.dst_disk[moving],
                              minlength=self.n_hosts))
        if not np.allclose(disk, self.used_storage, rtol=1e-9, atol=1.0):
            raise InvariantViolation("storage bookkeeping disagrees with placements")
        # CPU is reserved by the guests that hold their size (all of them, unless
        # ``reservation: demand`` gave it back: those were charged no RAM and no disk either)
        req = self.vcpus * self.mips
        held = placed & ((self.charged_ram > 0) | (self.charged_disk > 0))
        held_dst = moving & ((self.dst_ram > 0) | (self.dst_disk > 0))
        cpu = (np.bincount(self.host_of[held], weights=req[held], minlength=self.n_hosts)
               + np.bincount(self.mig_dst[held_dst], weights=req[held_dst],
                             minlength=self.n_hosts))
        if not np.allclose(cpu, self.reserved_mips, rtol=1e-9, atol=1e-6):
            raise InvariantViolation("CPU bookkeeping disagrees with placements")
        wrong = ((self.kind[placed] != self.layer_class[self.host_of[placed]]).any()
                 or (self.kind[moving] != self.layer_class[self.mig_dst[moving]]).any())
        if wrong:
            raise InvariantViolation("a guest sits on (or moves to) a layer of another kind")

    def io_scale(self, g: I64, h: I64) -> F64:
        """(len(g),) share of its bare-metal work rate guest ``g[i]`` can reach on host ``h[i]``.

        A guest spends ``io_fraction`` of its bare-metal time on storage I/O and
        ``net_fraction`` on network I/O; a layer whose I/O runs at factor ``f`` of native
        (``io_seq_factor`` / ``io_rand_factor`` for throughput-bound storage I/O, ``1 /
        io_latency_mult`` for latency-bound synchronous I/O, ``io_pattern: latency``;
        ``net_bulk_factor`` for bulk transfers, ``rtt / (rtt + net_latency_add)`` for
        request-response traffic waiting on round trips of native length ``net_rtt``)
        stretches that part by ``1 / f`` (it waits, it does not burn CPU), so the guest's rate is
        ``1 / ((1 - io - net) + io / f_io + net / f_net)``.
        """
        io, net = self.io_frac[g], self.net_frac[g]
        f_io = np.where(self.io_random[g], self.io_rand_factor[h], self.io_seq_factor[h])
        f_io = np.where(self.io_latency[g], 1.0 / self.io_latency_mult[h], f_io)
        rtt = self.net_rtt[g]
        f_net = np.where(self.net_request[g], rtt / (rtt + self.net_latency_add[h]),
                         self.net_bulk_factor[h])
        out: F64 = 1.0 / ((1.0 - io - net) + io / f_io + net / f_net)
        return out

    def efficiency(self, hosts: I64 | None = None, runnable: F64 | None = None) -> F64:
        """(n_hosts,) fraction of raw CPU that becomes guest work: layer and scheduling overhead.

        Scheduling overhead grows with runnable vCPUs per core ``r`` as the profile says:
        ``min(max, slope * max(0, r - 1))``. ``runnable`` gives the vCPUs that want CPU on each
        of ``hosts`` (default: every placed vCPU).
        """
        h = slice(None) if hosts is None else hosts
        vc = self.vcpus_placed[h] if runnable is None else runnable
        r = vc / self.cores[h]
        sched = np.minimum(self.sched_max[h], self.sched_slope[h] * np.maximum(0.0, r - 1.0))
        sched = np.where(self.pinned[h], 0.0, sched)  # pinned vCPUs are never time-sliced
        out: F64 = (1.0 - self.cpu_overhead[h]) * (1.0 - sched)
        return out

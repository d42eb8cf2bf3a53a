"""The memory bound that skips underload trials (``dcsim.engine.consolidation._RamBound``).

A trial evacuates a host only if every guest finds a receiver; a receiver with ``F`` bytes
free accepts guests one by one while each needs at most ``F (1 + EPS)`` of what is left, so
it takes at most ``floor(F (1 + EPS) / m)`` guests of need ``>= m``. The bound skips a trial
when the receivers' slots are fewer than the source's guests: it must skip trials that would
fail and never one that would succeed (then results are those of running every trial).

Cluster of the end-to-end cases: hosts of 2 cores x 1000 MIPS, 8 GiB, a layer without memory
footprint, thr-mmt-0.8 with underload evacuation, one interval; guests 1 vCPU x 1000 MIPS at a
constant utilisation u (a host's load is the sum of u / 2).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

import dcsim
from dcsim.engine import consolidation
from dcsim.engine.consolidation import ram_slots
from dcsim.engine.simulation import Simulation
from dcsim.kernels.capacity import EPS, feasible_hosts

GIB = 2**30


def _accepted(free: float, need: float, ram: float) -> int:
    """Guests of ``need`` bytes a host with ``free`` bytes accepts one by one (the kernel)."""
    n = 0
    while bool(feasible_hosts(np.array([free]), np.array([1e18]), np.array([1e18]),
                              np.array([np.inf]), np.array([8.0]), np.array([1e9]),
                              np.array([True]), np.array([need]), np.array([0.0]), 1.0,
                              1.0)[0]):
        free -= need
        n += 1
        assert n < 100
    return n


def test_slots_by_hand() -> None:
    ram = 16e9
    # room = F (1 + 1e-9) + 1e-9 * 16e9 = F + F * 1e-9 + 16
    # F = 5e9: 5e9 + 5 + 16 = 5,000,000,021 / 2e9 = 2.5 -> 2 (the kernel accepts 2 as well)
    # F = 6e9 - 1: 6e9 + 5 + 16 (6 - 1e-9 rounds in) -> 3.00000001 -> 3; the kernel accepts
    #   3: the third needs 2e9 <= (2e9 - 1)(1 + 1e-9) = 2e9 + 1
    # F = -1e6 (over-full): 0; need 0: no bound (inf)
    free = np.array([5e9, 6e9 - 1, -1e6, 1e9])
    need = np.array([2e9, 2e9, 2e9, 0.0])
    assert ram_slots(free, np.full(4, ram), need).tolist() == [2.0, 3.0, 0.0, np.inf]
    assert [_accepted(f, 2e9, ram) for f in free[:3]] == [2, 3, 0]
    assert EPS == 1e-9


@pytest.mark.parametrize("free", [0.0, 1.0, 2e9 - 2, 2e9 - 1, 2e9, 4e9 - 3, 4e9 - 1, 7e9,
                                  8e9 - 5, 32e9 - 1])
def test_slots_never_below_what_the_kernel_accepts(free: float) -> None:
    # the bound must hold at the capacity kernel's tolerance edge (free a few bytes short)
    k = ram_slots(np.array([free]), np.array([32e9]), np.array([2e9]))[0]
    assert k >= _accepted(free, 2e9, 32e9)


def _sim(rams: list[str], hosts_of: list[int], util: list[float]) -> tuple[Simulation, Any,
                                                                       list[tuple[int, int]]]:
    cfg = {
        "name": "ram-bound", "seed": 1, "duration": "5m", "interval": "5m",
        "datacenters": [{"hosts": [{
            "count": max(hosts_of) + 1, "cores": 2, "mips_per_core": 1000, "ram": "8GiB",
            "storage": "100GB", "cpu_overcommit": 2.0, "virtualization": "plain",
            "power": {"kind": "linear", "idle": 86, "max": 117}}]}],
        "virtualization_profiles": {"plain": {"kind": "type1", "live_migration": True}},
        "guests": [{"count": 1, "mips": 1000, "ram": r, "disk": "1GB", "boot": False,
                    "workload": {"kind": "constant", "utilization": u}}
                   for r, u in zip(rams, util, strict=True)],
        "placement": {"name": "first_fit"},
        "consolidation": {"policy": "thr-mmt-0.8", "underload": True},
    }
    sim = Simulation(dcsim.api._scenario(cfg, None), check_invariants=True)

    class Fixed:
        def place(self, view: Any, guests: Any) -> Any:
            for g in guests.tolist():
                view.place(g, hosts_of[g])
            return np.asarray(hosts_of, dtype=np.intp)[guests]

    sim.policy = Fixed()
    cons = next(e for e in sim.extensions if type(e).__name__ == "Consolidation")
    asked: list[tuple[int, int]] = []
    real = sim.migrate

    def spy(g: int, dst: int, spec: Any) -> Any:
        asked.append((g, dst))
        return real(g, dst, spec)

    sim.migrate = spy  # type: ignore[method-assign]
    return sim, cons, asked


def test_the_bound_skips_trials_that_fail_on_memory() -> None:
    # hosts 0, 1: two 3 GiB guests each (2 GiB free), host 2: one (5 GiB free). Loads 0.1,
    # 0.2, 0.3: trials in that order. Host 0: receivers 1 (floor(2/3) = 0 slots) and 2
    # (floor(5/3) = 1) -> 1 < 2 guests: skipped; host 1 likewise; host 2: 0 + 0 < 1: skipped.
    rams = ["3GiB"] * 5
    sim, cons, asked = _sim(rams, [0, 0, 1, 1, 2], [0.1, 0.1, 0.2, 0.2, 0.6])
    sim.run()
    assert (cons.pruned, asked) == (3, [])


def test_the_bound_keeps_a_trial_that_fits_at_the_tolerance_edge() -> None:
    # host 0: one 4 GiB guest at 0.2 (load 0.1); host 1: a guest of 4 GiB + 1 byte at 0.4
    # (load 0.2), so host 1 has 4 GiB - 1 byte free: 4 GiB <= (4 GiB - 1)(1 + 1e-9) fits.
    # Host 0 is tried first and its guest moves to host 1 (host 1 is then a target, not tried).
    sim, cons, asked = _sim(["4GiB", f"{4 * GIB + 1}B"], [0, 1], [0.2, 0.4])
    sim.run()
    assert (cons.pruned, asked) == (0, [(0, 1)])


def test_same_moves_without_the_bound(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(consolidation.Consolidation, "prune", False)
    sim, cons, asked = _sim(["3GiB"] * 5, [0, 0, 1, 1, 2], [0.1, 0.1, 0.2, 0.2, 0.6])
    sim.run()
    assert (cons.pruned, asked) == (0, [])


def test_the_bound_counts_slots_for_the_smallest_guest() -> None:
    # host 0: g0 1 GiB and g1 3 GiB at 0.1 (load 0.1); host 1: g2 6.5 GiB at 0.6 (1.5 GiB free,
    # load 0.3); host 2: g3 5 GiB at 0.8 (3 GiB free, load 0.4). Slots for m = 1 GiB: 1 + 3 = 4
    # >= 2 guests: tried. g0 (ties on a linear power model -> lowest id) -> host 1, g1 (3 GiB
    # exactly) -> host 2. A bound on the largest guest (3 GiB: 0 + 1 slots) would skip it.
    sim, cons, asked = _sim(["1GiB", "3GiB", "6656MiB", "5GiB"], [0, 0, 1, 2],
                            [0.1, 0.1, 0.6, 0.8])
    sim.run()
    assert (cons.pruned, asked) == (0, [(0, 1), (1, 2)])

"""Which host each admission placement policy chooses, worked out by hand.

Hosts: 4 cores x 1000 MIPS = 4000 MIPS, 16 GiB, CPU overcommit 1, no virtualization footprint,
the HP ML110 G4 SPECpower table ``P = [86, 89.4, 92.6, 96, 99.5, 102, 106, 108, 112, 114, 117]``
W at 0 %, 10 %, ... 100 % (linear in between). Existing guests are placed by hand first; then
the policy places the new guest(s) on a sandbox, as the engine does.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

import dcsim
from dcsim.model.cluster import ClusterState
from dcsim.policies.placement import PLACEMENT

G4 = [86.0, 89.4, 92.6, 96.0, 99.5, 102.0, 106.0, 108.0, 112.0, 114.0, 117.0]


def _guest(vcpus: int, mips: int, ram_gib: float) -> dict[str, Any]:
    return {"count": 1, "vcpus": vcpus, "mips": mips, "ram": f"{ram_gib}GiB", "disk": "1GB",
            "boot": False, "workload": {"kind": "constant", "utilization": 0.5}}


def _state(n_hosts: int, guests: list[tuple[int, int, float]],
           placed: dict[int, int]) -> ClusterState:
    cfg = {
        "name": "placement", "seed": 1, "duration": "1h", "interval": "5m",
        "datacenters": [{"hosts": [{
            "count": n_hosts, "cores": 4, "mips_per_core": 1000, "ram": "16GiB",
            "storage": "100GB", "power": {"kind": "spec", "watts": G4}, "sleep_power": 10,
            "virtualization": "plain"}]}],
        "virtualization_profiles": {"plain": {"kind": "type1"}},
        "guests": [_guest(*g) for g in guests],
    }
    st = ClusterState.build(dcsim.api._scenario(cfg, None))
    for g, h in placed.items():
        st.place(g, h)
    return st


def _choose(name: str, st: ClusterState, batch: list[int], params: dict[str, Any] | None = None,
            rng: np.random.Generator | None = None) -> list[int]:
    cls = PLACEMENT.get(name)
    policy = cls(cls.Params(**(params or {})), rng or np.random.default_rng(0))
    b = np.asarray(batch, dtype=np.intp)
    return [int(h) for h in policy.place(st.sandbox(b), b)]


# Guests 0-3 already placed: g0 (1 x 1000 MIPS, 15 GiB) on host 0, which keeps 1 GiB free:
# too little for the new guest; g1 (1000 MIPS, 10 GiB) on host 1; g2 and g3 (1000 MIPS, 1 GiB)
# on host 2; host 3 empty. New guest g4: 1 x 1000 MIPS, 2 GiB (0.25 of a host's CPU).
# CPU left after g4 (fraction): host 1 (4000-1000-1000)/4000 = 0.5, host 2 0.25, host 3 0.75.
# RAM left after g4: host 1 16-10-2 = 4 GiB, host 2 16-2-2 = 12 GiB, host 3 14 GiB.
FIT_GUESTS = [(1, 1000, 15), (1, 1000, 10), (1, 1000, 1), (1, 1000, 1), (1, 1000, 2)]
FIT_PLACED = {0: 0, 1: 1, 2: 2, 3: 2}


@pytest.mark.parametrize(("name", "params", "host"), [
    ("first_fit", {}, 1),  # host 0 lacks RAM; host 1 is the lowest that fits
    ("best_fit", {}, 2),  # least CPU left: 0.25
    ("best_fit", {"resource": "ram"}, 1),  # least RAM left: 4 GiB
    ("worst_fit", {}, 3),  # most CPU left: 0.75
    ("worst_fit", {"resource": "ram"}, 3),  # most RAM left: 14 GiB
    # power increase at reserved utilisation: host 1 0.25 -> 0.5: P(.5) - P(.25) = 102 - 94.3
    # = 7.7 W; host 2 0.5 -> 0.75: 110 - 102 = 8 W; host 3 0 -> 0.25: 94.3 - 86 = 8.3 W
    ("pabfd", {}, 1),
])
def test_fit_policies_choose_the_host_worked_out_by_hand(name: str, params: dict[str, Any],
                                                          host: int) -> None:
    st = _state(4, FIT_GUESTS, FIT_PLACED)
    assert _choose(name, st, [4], params) == [host]


def test_random_draws_among_feasible_hosts_from_its_stream() -> None:
    st = _state(4, FIT_GUESTS, FIT_PLACED)
    # feasible: hosts 1, 2, 3; the first draw of default_rng(1) over 3 is 1 -> host 2
    assert np.random.default_rng(1).integers(3) == 1
    assert _choose("random", st, [4], rng=np.random.default_rng(1)) == [2]
    # default_rng(0) draws 2 -> host 3; host 0 (no RAM) is never a candidate
    assert np.random.default_rng(0).integers(3) == 2
    assert _choose("random", st, [4], rng=np.random.default_rng(0)) == [3]


def test_pabfd_places_the_largest_guest_first() -> None:
    # host 0: g0 (800 MIPS, 13 GiB) -> 0.2, only 3 GiB free; host 1: g1 (400 MIPS) -> 0.1;
    # host 2: g2 (1000 MIPS) -> 0.25. Batch: g3 small (1 x 1000 MIPS = 0.25, 2 GiB) and
    # g4 big (2 x 1000 MIPS = 0.5, 2 GiB), in that order; only one of them fits on host 0.
    st = _state(3, [(1, 800, 13), (1, 400, 1), (1, 1000, 1), (1, 1000, 2), (2, 1000, 2)],
                {0: 0, 1: 1, 2: 2})
    # Decreasing MIPS: g4 first: host 0 0.2 -> 0.7: 108 - 92.6 = 15.4 W; host 1 0.1 -> 0.6:
    # 106 - 89.4 = 16.6 W; host 2 0.25 -> 0.75: 110 - 94.3 = 15.7 W -> host 0 (now full of RAM).
    # Then g3: host 1 0.1 -> 0.35: 97.75 - 89.4 = 8.35 W; host 2 0.25 -> 0.5: 102 - 94.3 =
    # 7.7 W -> host 2. (Ascending order would put g3 on host 2 first, then g4 on host 2 too:
    # 0.5 -> 1.0 costs 117 - 102 = 15 W.)
    assert _choose("pabfd", st, [3, 4]) == [2, 0]


def test_pabfd_prefers_an_awake_host_to_a_sleeping_one() -> None:
    # host 0 asleep and empty (sleep power 10 W); host 1 awake and empty; host 2 awake with g0
    # (4 x 900 MIPS = 0.9): g1 (1000 MIPS = 0.25) cannot fit there (0.9 + 0.25 > 1).
    st = _state(3, [(4, 900, 1), (1, 1000, 1)], {0: 2})
    st.awake[0] = False
    # host 0 from sleep: P(.25) - 10 = 84.3 W; host 1 from idle: 94.3 - 86 = 8.3 W -> host 1
    assert _choose("pabfd", st, [1]) == [1]
    # with host 1 asleep too, both cost 84.3 W: the lowest id wins
    st.awake[1] = False
    assert _choose("pabfd", st, [1]) == [0]

"""PABFD's fast admission groups hosts by ``_PABFD_HOST_KEYS``: every key must count.

Three identical HP ML110 G5 hosts under KVM and two 1-vCPU, 1,000-MIPS, 1 GiB VMs (a batch:
a single guest takes the plain path, see the last test). For each key, host 0 alone is changed
in that key so that the plain path must put the first VM on host 1 (host 0 becomes infeasible,
or its power rises more). If the key were missing from the grouping, host 0 would stay in the
group of hosts 1 and 2 and, as its lowest id, be the only one tried: the fast path would pick
host 0. Random states (tests/property/test_placement_fast_path.py) rarely make two
hosts differ in one key alone (a placed guest changes RAM, storage and CPU together).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

import dcsim
from dcsim.model.cluster import ClusterState
from dcsim.policies.placement import _PABFD_HOST_KEYS, PLACEMENT

CFG: dict[str, Any] = {
    "name": "keys", "seed": 1, "duration": "1h", "interval": "5m",
    "datacenters": [{"hosts": [{"model": "hp_ml110_g5", "count": 3, "virtualization": "kvm"}]}],
    "guests": [{"count": 2, "vcpus": 1, "mips": 1000, "ram": "1GiB", "disk": "10GB",
                "kind": "vm"}],
}


def _pin_all(s: Any) -> None:
    s.pinned[:] = True


# host 0's change per key (G5: 2 cores x 2,660 MIPS, 4 GiB of which KVM keeps 512 MB, 288 MB
# and a 2.256 GB image per guest; the VM needs 1 GiB + 288 MB and 10 GB + 2.256 GB)
CHANGES: dict[str, Callable[[Any], None]] = {
    "usable": lambda s: s.usable.__setitem__(0, False),
    "layer_class": lambda s: s.layer_class.__setitem__(0, 0),  # a container runtime
    "max_slots": lambda s: s.max_slots.__setitem__(0, 0.0),
    # one slot per host (the others leave max_slots at inf); host 0 has it taken
    "n_guests": lambda s: (s.max_slots.__setitem__(slice(None), 1.0),
                           s.n_guests.__setitem__(0, 1.0)),
    "cores": lambda s: s.cores.__setitem__(0, 0.0),
    "mips_per_core": lambda s: s.mips_per_core.__setitem__(0, 500.0),  # < 1,000 MIPS vCPU
    # (allocatable RAM: ram x mem_overcommit; footprint charged: overhead x mem_overcommit)
    "ram_limit": lambda s: s.ram_limit.__setitem__(0, 1e9),  # 1 GB - 512 MB < 1 GiB + 288 MB
    "used_ram": lambda s: s.used_ram.__setitem__(0, s.ram[0]),
    "mem_charge": lambda s: s.mem_charge.__setitem__(0, s.ram[0]),
    "storage": lambda s: s.storage.__setitem__(0, 1e9),  # < 12.256 GB
    "used_storage": lambda s: s.used_storage.__setitem__(0, s.storage[0]),
    "disk_overhead": lambda s: s.disk_overhead.__setitem__(0, s.storage[0]),
    "cap_mips": lambda s: s.cap_mips.__setitem__(0, 500.0),  # 500 x 1.0 < 1,000 MIPS
    "overcommit": lambda s: s.overcommit.__setitem__(0, 0.1),  # 532 < 1,000
    "reserved_mips": lambda s: s.reserved_mips.__setitem__(0, 5000.0),  # 320 left
    # host 0 alone pinned, with no free core (unpinned hosts ignore vcpus_placed)
    "pinned": lambda s: (s.vcpus_placed.__setitem__(slice(None), 2.0),
                         s.pinned.__setitem__(0, True)),
    "vcpus_placed": lambda s: (_pin_all(s), s.vcpus_placed.__setitem__(0, 2.0)),
    "awake": lambda s: s.awake.__setitem__(0, False),  # rises from sleep power: not preferred
    # all asleep; host 0 sleeps at 0 W where the others sleep at 10 W: its rise is larger
    "sleep_power": lambda s: (s.awake.__setitem__(slice(None), False),
                              s.sleep_power.__setitem__(slice(None), 10.0),
                              s.sleep_power.__setitem__(0, 0.0)),
    "power_table": lambda s: s.power_table.__setitem__(0, s.power_table[0] * 2.0),
}


def test_every_key_has_a_change() -> None:
    assert set(CHANGES) == set(_PABFD_HOST_KEYS)


@pytest.mark.parametrize("key", sorted(CHANGES))
def test_a_host_differing_in_one_key_is_its_own_group(key: str) -> None:
    sc = dcsim.api._scenario(CFG, None)
    choices = []
    for fast in (True, False):
        st_ = ClusterState.build(sc)
        for k in _PABFD_HOST_KEYS:  # writable copies, so host 0 alone changes
            setattr(st_, k, np.array(getattr(st_, k), copy=True))
        CHANGES[key](st_)
        batch = np.arange(st_.n_guests_total)
        cls = PLACEMENT.get("pabfd")
        policy = cls(cls.Params(), np.random.default_rng(0))
        policy.fast = fast
        choices.append(policy.place(st_.sandbox(batch), batch).tolist())
    assert choices[1][0] == 1, f"the plain path must avoid host 0 when {key} changes"
    assert choices[0] == choices[1]


def test_a_single_guest_is_placed_without_grouping_the_hosts(
        monkeypatch: pytest.MonkeyPatch) -> None:
    # one guest (an arrival): one scan of the hosts costs less than grouping them; a batch of
    # two is grouped
    import dcsim.policies.placement as placement

    built: list[int] = []
    real = placement._HostGroups

    def counting(view: Any) -> Any:
        built.append(1)
        return real(view)

    monkeypatch.setattr(placement, "_HostGroups", counting)
    sc = dcsim.api._scenario(CFG, None)
    cls = PLACEMENT.get("pabfd")
    for batch, groups in ((np.arange(1), 0), (np.arange(2), 1)):
        built.clear()
        st_ = ClusterState.build(sc)
        out = cls(cls.Params(), np.random.default_rng(0)).place(st_.sandbox(batch), batch)
        assert out.tolist()[0] == 0  # identical hosts: the lowest id
        assert len(built) == groups

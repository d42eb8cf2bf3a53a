"""A guest keeps its kind: VMs stay on hypervisors, containers on container runtimes."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

import dcsim
from dcsim.engine.simulation import Simulation
from dcsim.errors import InvariantViolation
from dcsim.model.cluster import ClusterState


def _host(layer: str) -> dict[str, Any]:
    return {"count": 1, "cores": 1, "mips_per_core": 1000, "ram": "16GiB", "storage": "100GB",
            "power": {"kind": "linear", "idle": 100, "max": 200}, "cpu_overcommit": 2.0,
            "virtualization": layer}


def _cfg(layers: list[str], guests: list[dict[str, Any]], **over: Any) -> dict[str, Any]:
    cfg = {"name": "mixed", "seed": 1, "duration": "30m", "interval": "5m",
           "datacenters": [{"hosts": [_host(x) for x in layers]}],
           "guests": [{"mips": 1000, "ram": "1GiB", "disk": "1GB", "boot": False,
                       "workload": {"kind": "constant", "utilization": 0.5}, **g}
                      for g in guests],
           "placement": {"name": "first_fit"},
           "power_management": {"sleep_idle_hosts": False}}
    cfg.update(over)
    return cfg


COLD = {"policy": "thr-mmt-0.8", "underload": False, "migration": {"model": "cold"}}


def test_overloaded_kvm_host_sends_its_vm_to_the_kvm_host_not_the_docker_one() -> None:
    # Host 0 (KVM) holds both guests: raw demand 2 x 500 / 0.97 = 1031 MIPS on a 1000 MIPS core,
    # above THR 0.8. MMT picks guest 0 (equal RAM: the first). Host 1 runs Docker: it would be
    # PABFD's choice (Docker's 1 % overhead adds less power than KVM's 3 %: 500/0.99 < 500/0.97),
    # and before the fix the VM moved there and became a container. Host 2 runs KVM: the answer.
    cfg = _cfg(["kvm", "docker", "kvm"], [{"count": 2}], consolidation=COLD)
    sim = Simulation(dcsim.api._scenario(cfg, None), check_invariants=True)
    r = sim.run()
    assert r.summary["migrations"] == 1
    assert sim.state.host_of.tolist() == [2, 0]


def test_declared_kinds_steer_initial_placement_in_a_mixed_fleet() -> None:
    # first fit in host order [kvm, docker, virtualbox]: containers skip the hypervisors, VMs
    # skip the container runtime, an undeclared guest takes the first host and its kind
    cfg = _cfg(["kvm", "docker", "virtualbox"],
               [{"count": 1, "kind": "container"}, {"count": 1, "kind": "vm"},
                {"count": 1}])
    sim = Simulation(dcsim.api._scenario(cfg, None), check_invariants=True)
    sim.run()
    st = sim.state
    assert st.host_of.tolist() == [1, 0, 0]
    assert st.kind.tolist() == [2, 1, 1]  # container, VM, VM (fixed by host 0, KVM)
    # guest 2 is a VM from now on: never placeable on the Docker host, always on VirtualBox
    assert not st.fits(2, 1)
    # (host 0 is full: two 1000 MIPS reservations on 1000 MIPS x overcommit 2)
    assert st.feasible(2).tolist() == [False, False, True]


def test_a_vm_on_a_container_host_breaks_the_invariant() -> None:
    cfg = _cfg(["kvm", "docker"], [{"count": 1, "kind": "vm"}])
    st = ClusterState.build(dcsim.api._scenario(cfg, None))
    st.place(0, 0)
    st.kind[0] = 2  # pretend it were a container: now on a hypervisor
    with pytest.raises(InvariantViolation, match="layer of another kind"):
        st.check()
    with pytest.raises(InvariantViolation, match="does not fit"):
        st.place(0, 0)


def test_kind_no_host_can_run_is_refused_at_its_path() -> None:
    cfg = _cfg(["kvm", "xen"], [{"count": 1}, {"count": 1, "kind": "container"}])
    with pytest.raises(dcsim.ConfigError) as info:
        dcsim.api._scenario(cfg, None)
    issues = {i.path: i.message for i in info.value.issues}
    assert list(issues) == ["guests[1].kind"]
    assert "no host runs a container" in issues["guests[1].kind"]


def test_guest_fitting_only_on_hosts_of_another_kind_is_refused() -> None:
    # the Docker host is big enough, the KVM host is not: a VM fits nowhere
    cfg = _cfg(["kvm", "docker"], [{"count": 1, "kind": "vm", "ram": "15.9GiB"}])
    with pytest.raises(dcsim.ConfigError) as info:
        dcsim.api._scenario(cfg, None)
    assert [i.path for i in info.value.issues] == ["guests[0]"]
    assert np.all(["fits on no host" in i.message for i in info.value.issues])

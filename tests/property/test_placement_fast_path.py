"""The fast admission paths choose exactly the hosts the plain ones choose.

``first_fit`` keeps a cursor per guest shape, ``pabfd`` tries one representative per group of
alike hosts plus the hosts the batch already used, and the other policies keep a feasibility mask
per shape (``dcsim.policies.placement``); on random data centers (mixed hardware, layers of both
kinds, space-shared hosts, hosts out of service, hosts partly filled) and random batches (few
shapes, so shapes repeat; kinds fixed or open) every policy must return the same host for every
guest as its plain path, which calls ``view.feasible`` over all hosts for each guest.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

import dcsim
from dcsim.model.cluster import ClusterState
from dcsim.policies.placement import PLACEMENT

# two hypervisors and a container runtime (guests of open kind take whichever comes first)
PROFILES = ["kvm", "xen", "docker"]


@st.composite
def cases(draw: st.DrawFn, policies: tuple[str, ...] | None = None) -> dict[str, Any]:
    hosts = []
    for _ in range(draw(st.integers(1, 4))):
        pinned = draw(st.booleans()) and draw(st.booleans())
        hosts.append({
            "count": draw(st.integers(1, 12)),
            "cores": draw(st.integers(4, 16)),
            "mips_per_core": draw(st.sampled_from([1000, 2000, 3000])),
            "ram": f"{draw(st.integers(4, 64))}GiB",
            "storage": f"{draw(st.integers(20, 200))}GB",
            "power": {"kind": "linear", "idle": draw(st.integers(40, 90)), "max": 200},
            "virtualization": draw(st.sampled_from(PROFILES)),
            "cpu_overcommit": 1.0 if pinned else draw(st.sampled_from([1.0, 1.5, 3.0])),
            "cpu_scheduler": "space_shared" if pinned else "time_shared",
        })
    kinds = sorted({"container" if h["virtualization"] == "docker" else "vm" for h in hosts})
    # a small pool of sizes, each differing from the first in one field: groups often share a
    # size, or differ in one field only, or in kind only
    fields = {"vcpus": st.integers(1, 4), "mips": st.sampled_from([500, 1000, 2000]),
              "ram": st.sampled_from(["512MiB", "1GiB", "2GiB", "4GiB"]),
              "disk": st.sampled_from(["0GB", "10GB", "40GB"])}
    sizes = [{k: draw(v) for k, v in fields.items()}]
    for _ in range(draw(st.integers(0, 2))):
        field = draw(st.sampled_from(sorted(fields)))
        sizes.append({**sizes[0], field: draw(fields[field])})
    guests = [{
        "count": draw(st.integers(1, 40)),
        **draw(st.sampled_from(sizes)),
        "kind": draw(st.sampled_from([None, *kinds])),
    } for _ in range(draw(st.integers(1, 4)))]
    return {
        "config": {"name": "fast-path", "seed": 1, "duration": "1h", "interval": "5m",
                   "datacenters": [{"hosts": hosts}], "guests": guests},
        "prefill": draw(st.floats(0.0, 0.6)),
        "down": draw(st.floats(0.0, 0.3)),
        "asleep": draw(st.floats(0.0, 1.0)),
        "seed": draw(st.integers(0, 2**32 - 1)),
        "policy": draw(st.sampled_from(policies or PLACEMENT.names())),
        "params": draw(st.sampled_from([{}, {"resource": "ram"}])),
    }


def _state(case: dict[str, Any]) -> tuple[ClusterState, np.ndarray] | None:
    try:
        sc = dcsim.api._scenario(case["config"], None, allow_rejections=True)
    except dcsim.ConfigError:  # e.g. a guest bigger than every host, a kind with no host
        return None
    st_ = ClusterState.build(sc)
    rng = np.random.default_rng(case["seed"])
    st_.usable[rng.random(st_.n_hosts) < case["down"]] = False
    st_.awake[rng.random(st_.n_hosts) < case["asleep"]] = False  # sleeping hosts (PABFD)
    guests = rng.permutation(st_.n_guests_total)
    n_pre = int(case["prefill"] * guests.shape[0])
    for g in guests[:n_pre].tolist():  # partly filled hosts, in random places
        ok = np.flatnonzero(st_.feasible(g))
        if ok.shape[0]:
            st_.place(g, int(ok[rng.integers(ok.shape[0])]))
    return st_, guests[n_pre:]


@settings(max_examples=200, deadline=None)
@given(cases())
def test_fast_paths_choose_the_plain_paths_hosts(case: dict[str, Any]) -> None:
    _check(case)


@settings(max_examples=150, deadline=None)
@given(cases(policies=("pabfd",)))
def test_pabfd_groups_choose_the_plain_paths_hosts(case: dict[str, Any]) -> None:
    """PABFD's fast path tries one representative per group of alike hosts (lowest untouched
    id) plus the hosts the batch already used; sleeping and partly filled hosts break groups."""
    _check(case)


def _check(case: dict[str, Any]) -> None:
    built = _state(case)
    if built is None:
        return
    st_, batch = built
    cls = PLACEMENT.get(case["policy"])
    params = cls.Params(**{k: v for k, v in case["params"].items()
                           if k in cls.Params.model_fields})
    choices = []
    for fast in (True, False):
        policy = cls(params, np.random.default_rng(case["seed"]))
        policy.fast = fast
        choices.append(policy.place(st_.sandbox(batch), batch).tolist())
    assert choices[0] == choices[1]

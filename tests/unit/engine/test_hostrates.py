"""The one-host path of ``dcsim.engine.hostrates`` gives bit for bit what the vector path gives.

``update_host`` settles and re-shares one host in scalar Python (``update_one``); the interval
step and the CloudSim switches use the vector ``settle``/``share``. Both must produce identical
floats (results may not depend on which path ran), which is checked two ways:

* state by state: on a scenario that exercises every term of the CPU model (layer, scheduling,
  syscall and memory-bound overheads, noisy neighbours, storage and network I/O, CPU caps,
  pinned vCPUs, paused, slowed, booting guests, migration CPU, oversubscribed hosts), random
  changes of a host's inputs, then both paths from the same state, every array compared exactly;
* whole runs: the same runs (migrations over the network, boots, departures, sleeping hosts) with
  the one-host path switched off give identical summaries and time series.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np
import pandas as pd
import pytest

from dcsim.api import _scenario
from dcsim.engine import hostrates
from dcsim.engine.simulation import Simulation
from dcsim.kernels.share import maxmin_share

PROFILE = {
    "kind": "type1", "cpu_overhead": 0.05, "syscall_overhead": 0.1, "mem_bw_overhead": 0.05,
    "io_seq_factor": 0.9, "io_rand_factor": 0.6, "io_latency_mult": 2.0, "net_bulk_factor": 0.8,
    "net_latency_add": 30e-6, "boot_time": {"dist": "normal", "mean": 30.0, "sd": 5.0},
    "sched_overhead": {"slope": 0.05, "max": 0.2}, "interference": 0.02,
    "interference_max": 0.25, "live_migration": True,
}
KINDS: list[dict[str, Any]] = [
    {},
    {"syscall_fraction": 0.5},
    {"mem_bound_fraction": 0.5, "cpu_cap": 0.7},
    {"io_fraction": 0.3, "io_pattern": "random"},
    {"io_fraction": 0.3, "io_pattern": "latency", "antisocial": True},
    {"net_fraction": 0.3, "net_pattern": "request", "antisocial": True},
]


def _config(plain: bool = False, lifetime: str = "50m", jobs: bool = False,
            depart: bool = True) -> dict[str, Any]:
    """8 hosts (4 of them pinning vCPUs), 36 guests arriving and leaving, thr-mmt-0.8 with
    pre-copy; ``plain``: every guest without the optional overhead terms; ``jobs``: every other
    group runs 20 finite jobs (leaving when done if ``depart``), CPU weights 0.7, 1.3, 2.5."""
    host = {"cores": 4, "mips_per_core": 2000, "ram": "16GiB", "storage": "1TB",
            "bandwidth": "1Gbps", "power": {"kind": "linear", "idle": 100, "max": 200},
            "virtualization": "probe", "cpu_overcommit": 3.0}
    guests = []
    for i, extra in enumerate([{}] * len(KINDS) if plain else KINDS):
        guests.append({"count": 6, "vcpus": 1 + i % 2, "mips": 1500, "ram": "1GiB",
                       "disk": "10GB", **extra,
                       "workload": {"kind": "uniform", "low": 0.1, "high": 1.0},
                       "arrival": {"kind": "poisson", "rate": "40/h", "mean_lifetime": lifetime}})
        if jobs and i % 2 == 0:
            guests[-1]["workload"] = {"kind": "jobs", "count": 20, "length": 3e5, "spread": 0.5,
                                      "depart_when_done": depart}
            guests[-1]["cpu_weight"] = [0.7, 1.3, 2.5][i % 3]
    return {
        "name": "hostrates", "seed": 3, "duration": "3h", "interval": "5m",
        "datacenters": [{"hosts": [dict(host, count=4),
                                   dict(host, count=4, cpu_scheduler="space_shared",
                                        cpu_overcommit=1.0)]}],
        "virtualization_profiles": {"probe": PROFILE},
        "guests": guests,
        "placement": {"name": "first_fit"},
        "consolidation": {"policy": "thr-mmt-0.8",
                          "migration": {"model": "precopy", "dirty_rate": "20MB/s"}},
        "power_management": {"sleep_idle_hosts": True},
    }


def _arrays(sim: Simulation) -> dict[str, Any]:
    out: dict[str, Any] = {k: v.copy() for k, v in vars(sim).items()
                           if isinstance(v, np.ndarray)}
    out["counters"] = (sim.awake_n, sim.awake_ru, sim.peak_awake_n, sim.peak_awake_ru)
    return out


def _restore(sim: Simulation, saved: dict[str, Any]) -> None:
    for k, v in saved.items():
        if k != "counters" and getattr(sim, k).flags.writeable:  # (not every_guest)
            getattr(sim, k)[...] = v
    sim.awake_n, sim.awake_ru, sim.peak_awake_n, sim.peak_awake_ru = saved["counters"]


@pytest.mark.parametrize(("jobs", "int_vcpus"), [(False, True), (True, True), (False, False)])
def test_one_host_path_matches_the_vector_path_state_by_state(jobs: bool,
                                                              int_vcpus: bool) -> None:
    """``int_vcpus`` False: runnable vCPUs summed left to right even though the counts are
    whole (the path of fractional counts)."""
    sim = Simulation(_scenario(_config(lifetime="100h", jobs=jobs, depart=False), None))
    assert sim._one_host
    sim.run()
    assert hostrates._one(sim).int_vcpus
    hostrates._one(sim).int_vcpus = int_vcpus
    if jobs:  # jobs left on every occupied host: settling moves them on
        sim.work[:] = 0.0
        sim.job_next[:] = sim.job_first
        sim.jobs_over[:] = False
    st = sim.state
    rng = np.random.default_rng(5)
    occupied = [h for h in range(st.n_hosts) if st.members[h]]
    assert len(occupied) >= 3
    over = 0
    for trial in range(400):
        h = occupied[trial % len(occupied)]
        g = np.asarray(st.members[h], dtype=np.intp)
        n = g.shape[0]
        sim.u_last[g] = rng.random(n) * rng.choice([0.3, 1.0, 4.0])  # 4.0: oversubscribed
        sim.u_last[g[rng.random(n) < 0.2]] = 0.0  # idle guests: not busy, not noisy
        sim.speed[g] = np.where(rng.random(n) < 0.3, 0.8, 1.0)
        sim.paused[g] = rng.random(n) < 0.15
        st.status[g] = np.where(rng.random(n) < 0.15, 1, 2)  # some booting
        sim.extra_raw[h] = rng.choice([0.0, 500.0, 9000.0])
        st.awake[h] = bool(rng.random() < 0.9)
        sim.env._now = sim.env.now + float(rng.random() * 30)  # type: ignore[attr-defined]
        before = _arrays(sim)
        hosts = np.asarray([h], dtype=np.intp)
        hostrates.settle(sim, hosts, g)
        hostrates.share(sim, hosts, g)
        expected = _arrays(sim)
        _restore(sim, before)
        hostrates._settle_one(sim, h, g)
        assert hostrates._share_one(sim, h, g)
        got = _arrays(sim)
        over += bool((got["raw"][g] < got["raw_want"][g]).any())  # water-filling ran
        for k, v in expected.items():
            assert np.array_equal(v, got[k], equal_nan=True), (trial, h, k)
    # oversubscribed and not: both branches of the one-host share were exercised
    assert 20 < over < 380, over
    if jobs:  # and jobs ended along the way, on both paths alike
        assert int((sim.job_next - sim.job_first)[sim.has_jobs].sum()) > 0


def _with_memory(cfg: dict[str, Any]) -> dict[str, Any]:
    """Hosts of 3 GiB at mem_overcommit 2.5, working sets of 20-90 %, sharing, balloons and
    swapping: the memory model slows guests (dcsim.engine.memory)."""
    for h in cfg["datacenters"][0]["hosts"]:
        h.update(ram="3GiB", mem_overcommit=2.5)
    for g in cfg["guests"]:
        g["memory"] = {"kind": "uniform", "low": 0.2, "high": 0.9}
        g["os_image"] = "one"
    cfg["virtualization_profiles"]["probe"] = dict(
        PROFILE, page_sharing=True, sharing_fraction=0.3, ballooning=True, balloon_cost=0.03,
        swap_penalty=10.0, host_reserved_mem="256MB", mem_overhead_per_guest="64MB")
    return cfg


@pytest.mark.parametrize(("plain", "jobs", "memory"), [
    (False, False, False), (True, False, False), (False, True, False), (False, False, True)])
def test_whole_runs_are_identical_with_and_without_the_one_host_path(plain: bool, jobs: bool,
                                                                     memory: bool) -> None:
    results = []
    for fast in (True, False):
        cfg = _config(plain, jobs=jobs)
        sim = Simulation(_scenario(_with_memory(cfg) if memory else cfg, None))
        sim._one_host = fast
        results.append(sim.run())
    a, b = results
    assert a.summary["migrations"] > 20  # the runs exercise migrations
    for k, v in a.summary.items():
        if k != "wall_s":
            assert b.summary[k] == v or (v != v and b.summary[k] != b.summary[k]), k
    pd.testing.assert_frame_equal(a.timeseries, b.timeseries, check_exact=True)
    if memory:  # the memory model bites: guests wait on swap-ins
        assert a.summary["unmet_memory_fraction"] > 0.01
    if jobs:
        assert a.summary["jobs_completed"] > 100
        pd.testing.assert_frame_equal(a.tables["jobs"], b.tables["jobs"], check_exact=True)
        pd.testing.assert_frame_equal(a.guests, b.guests, check_exact=True)


def _change_members(sim: Simulation, change: str) -> int:
    """Re-share one host through ``update_host`` with a change of its members: one guest
    released (kept RUNNING, so only the member list tells) or one placed, running at once."""
    st = sim.state
    h = max(range(st.n_hosts), key=lambda k: len(st.members[k]))
    if change == "leave":
        g = st.members[h][1]
        sim.update_host(h, lambda: st.release(g))
        return g
    g = int(np.flatnonzero(st.host_of < 0)[0])  # a guest not arrived yet
    h = next(k for k in range(st.n_hosts) if st.fits(g, k))

    def place() -> None:
        st.place(g, h)
        st.status[g] = 2

    sim.u_last[g] = 0.5
    sim.update_host(h, place)
    return g


@pytest.mark.parametrize("change", ["leave", "arrive"])
def test_a_change_of_members_is_re_shared_with_the_new_members(change: str) -> None:
    """``update_one`` settles with the members before ``change()`` and shares with those after
    it. Same state, one-host path vs vector path, every array equal."""
    got = []
    for fast in (True, False):
        sim = Simulation(_scenario(_config(lifetime="100h", depart=False), None))
        sim._one_host = fast
        sim.run()
        g = _change_members(sim, change)
        assert sim.state.status[g] == 2
        got.append(_arrays(sim))
    a, b = got
    for k, v in a.items():
        assert np.array_equal(v, b[k], equal_nan=True), k


ZERO_PROFILE = {"kind": "type1", "cpu_overhead": 0.0, "syscall_overhead": 0.1,
                "mem_bw_overhead": 0.05, "sched_overhead": {"slope": 0.0, "max": 0.2},
                "interference": 0.02, "interference_max": 0.25, "live_migration": True}
#: one term that makes some guest's efficiency differ from 1: (profile change, guest extras)
TERMS: dict[str, tuple[dict[str, Any], dict[str, Any]]] = {
    "none": ({}, {}),
    "cpu_overhead": ({"cpu_overhead": 0.05}, {}),
    "sched": ({"sched_overhead": {"slope": 0.05, "max": 0.2}}, {}),
    "syscall": ({}, {"syscall_fraction": 0.5}),
    "mem": ({}, {"mem_bound_fraction": 0.5}),
    "noisy": ({}, {"antisocial": True}),
}


def _run_with_term(profile: dict[str, Any], extra: dict[str, Any]) -> Simulation:
    """The plain scenario, run, with ``profile`` over the zero-overhead profile and ``extra`` on
    the first guest group."""
    cfg = _config(plain=True, lifetime="100h")
    cfg["virtualization_profiles"] = {"probe": {**ZERO_PROFILE, **profile}}
    cfg["guests"][0].update(extra)
    sim = Simulation(_scenario(cfg, None))
    sim.run()
    return sim


def _random_demands(sim: Simulation, seed: int,
                    n: int = 30) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """``n`` random demands of every placed guest (a fifth idle; loads of 0.3, 1 or 4, the last
    oversubscribing hosts), each set before it yields ``(every host, the placed guests)``."""
    st = sim.state
    rng = np.random.default_rng(seed)
    hosts = np.arange(st.n_hosts, dtype=np.intp)
    g = np.flatnonzero(st.host_of >= 0)
    assert g.shape[0] > 10
    for _ in range(n):
        sim.u_last[g] = rng.random(g.shape[0]) * rng.choice([0.3, 1.0, 4.0])
        sim.u_last[g[rng.random(g.shape[0]) < 0.2]] = 0.0
        yield hosts, g


@pytest.mark.parametrize("term", list(TERMS))
def test_vector_share_skips_the_efficiency_only_where_it_is_exactly_one(term: str) -> None:
    """``OneHost.unit_eff`` (the vector ``share`` skips the efficiency factors) is set only when
    every guest's efficiency is exactly 1 (a profile with syscall/memory/interference overheads
    but no guest exposed to them, no layer overhead, no scheduling slope): there the skip changes
    no array (``share`` of every host from random states, with and without it), and for each
    other term it would change some."""
    sim = _run_with_term(*TERMS[term])
    one = hostrates._one(sim)
    assert one.unit_eff == (term == "none")
    differ = 0
    for hosts, g in _random_demands(sim, seed=7):
        before = _arrays(sim)
        one.unit_eff = False  # every factor computed
        hostrates.share(sim, hosts, g)
        expected = _arrays(sim)
        _restore(sim, before)
        one.unit_eff = True  # skipped
        hostrates.share(sim, hosts, g)
        differ += not all(np.array_equal(v, expected[k], equal_nan=True)
                          for k, v in _arrays(sim).items())
    assert differ == 0 if term == "none" else differ > 0, differ


FACTOR_TERMS = {**TERMS, "cap": ({}, {"cpu_cap": 0.7})}


@pytest.mark.parametrize("term", list(FACTOR_TERMS))
def test_vector_share_skips_each_guest_factor_only_where_it_is_exactly_one(term: str) -> None:
    """The vector ``share`` multiplies in the syscall, memory-bound and noisy-neighbour factors
    only where ``OneHost`` says they are not exactly 1 in this run, and takes each guest's
    entitlement from ``OneHost.limit``: from random states, computing every factor and the
    entitlement anew gives the same arrays bit for bit; and for the run's own term, leaving its
    factor out changes some array (the skip is not vacuous)."""
    profile, extra = FACTOR_TERMS[term]
    sim = _run_with_term({"cpu_overhead": 0.05, **profile}, extra)
    one = hostrates._one(sim)
    assert not one.unit_eff
    flags = ("syscall", "mem", "noisy")
    assert [getattr(one, f) for f in flags] == [term == f for f in flags]
    assert one.capped == (term == "cap")
    assert one.limit is not None  # guests' 1,500 MIPS per vCPU: below a core's 2,000
    limit = one.limit
    differ = 0
    for hosts, g in _random_demands(sim, seed=11):
        before = _arrays(sim)
        for f in flags:
            setattr(one, f, True)
        one.limit = None
        hostrates.share(sim, hosts, g)  # every factor, the entitlement computed here
        expected = _arrays(sim)
        _restore(sim, before)
        for f in flags:
            setattr(one, f, term == f)
        one.limit = limit
        hostrates.share(sim, hosts, g)
        for k, v in _arrays(sim).items():
            assert np.array_equal(v, expected[k], equal_nan=True), (term, k)
        if term in flags:
            _restore(sim, before)
            setattr(one, term, False)
            hostrates.share(sim, hosts, g)
            differ += not all(np.array_equal(v, expected[k], equal_nan=True)
                              for k, v in _arrays(sim).items())
            setattr(one, term, True)
        _restore(sim, before)
    assert differ > 0 if term in flags else differ == 0, differ


def test_vector_share_of_every_host_water_fills_exactly_the_oversubscribed_ones() -> None:
    """The interval step re-shares every host at once (``share``), calling the water-filling
    kernel only when some host's wants exceed its room. From random states in which some hosts
    are oversubscribed and others are not, the shares and utilisations are bit for bit those of
    the kernel applied to every host (``maxmin_share``, which gives a host that fits its wants)."""
    sim = Simulation(_scenario(_config(lifetime="100h", depart=False), None))
    sim.run()
    st = sim.state
    rng = np.random.default_rng(9)
    hosts = np.arange(st.n_hosts, dtype=np.intp)
    g = np.flatnonzero(st.host_of >= 0)
    occupied = np.unique(st.host_of[g])
    assert occupied.shape[0] >= 4
    mixed = fits = 0
    for _ in range(40):
        load = rng.choice([0.3, 1.0, 4.0], size=st.n_hosts)  # per host; 4.0 oversubscribes
        sim.u_last[g] = rng.random(g.shape[0]) * load[st.host_of[g]]
        hostrates.share(sim, hosts, g)
        room = np.maximum(0.0, st.cap_mips - sim.extra_raw)
        local = st.host_of[g]
        alloc = maxmin_share(sim.raw_want[g], local, room, st.weight[g])
        assert np.array_equal(sim.raw[g], alloc)
        used = np.bincount(local, weights=alloc, minlength=st.n_hosts)
        assert np.array_equal(sim.util, np.minimum(used + sim.extra_raw, st.cap_mips)
                              / st.cap_mips)
        n_over = np.unique(local[alloc < sim.raw_want[g]]).shape[0]
        mixed += 0 < n_over < occupied.shape[0]
        fits += n_over == 0
    assert mixed > 10, mixed
    assert fits > 3, fits


def test_every_guest_in_id_order_is_indexed_as_a_slice() -> None:
    """``guests_on`` of every host gives ``Simulation.every_guest`` (read-only) once every guest
    is placed, a fresh array before; ``as_index`` makes that one object, and only it, a slice
    (views instead of gathers)."""
    sim = Simulation(_scenario(_config(lifetime="100h", depart=False), None))
    st = sim.state
    n = st.n_guests_total
    hosts = np.arange(st.n_hosts, dtype=np.intp)
    assert np.array_equal(sim.every_guest, np.arange(n))
    assert not sim.every_guest.flags.writeable
    assert sim.as_index(sim.every_guest) == slice(None)
    every = np.arange(n, dtype=np.intp)  # equal, but another object: not trusted
    for other in (every, every[1:], every[::-1].copy()):
        assert sim.as_index(other) is other
    sim.run()
    partly = sim.guests_on(hosts)
    assert partly is not sim.every_guest
    assert partly.shape[0] < n  # some guests not placed (arrivals to come)
    st.host_of[st.host_of < 0] = 0
    assert sim.guests_on(hosts) is sim.every_guest


def test_settle_and_share_of_every_guest_are_the_same_with_the_slice() -> None:
    """Settling and re-sharing every host with every guest placed gives the same arrays whether
    the guests are indexed as a slice (``Simulation.as_index``) or gathered one by one."""
    cfg = _config(lifetime="100h", depart=False)
    got = []
    for as_slice in (True, False):
        sim = Simulation(_scenario(cfg, None))
        sim.run()
        st = sim.state
        hosts = np.arange(st.n_hosts, dtype=np.intp)
        rng = np.random.default_rng(4)
        st.host_of[st.host_of < 0] = 0  # every guest placed (on host 0 if it was not)
        every = sim.guests_on(hosts)
        st.status[:] = 2
        assert sim.as_index(every) == slice(None)
        if not as_slice:  # this simulation gathers every guest one by one
            sim.as_index = lambda guests: guests  # type: ignore[method-assign]
        for k in range(5):
            sim.u_last[:] = rng.random(st.n_guests_total) * (4.0 if k == 2 else 1.0)
            sim.env._now = sim.env.now + 60.0  # type: ignore[attr-defined]
            hostrates.settle(sim, hosts, every)
            hostrates.share(sim, hosts, every)
        got.append(_arrays(sim))
    a, b = got
    assert (a["raw"] < a["raw_want"]).any()  # the water-filling ran in one of the steps
    for k, v in a.items():
        assert np.array_equal(v, b[k], equal_nan=True), k

"""Random link-failure schedules with migrations and background traffic never break the run.

Checked for every schedule: no exception; every flow conserves bytes (a completed flow delivered
exactly what it asked for, a cancelled one no more; a live one has sent + remaining = requested);
no link ever carries more than its capacity (0 while failed) after any rate recomputation; every
migration either finished or was aborted with its destination reservation given back; once all
links are repaired no flow is left stalled.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

import dcsim
from dcsim.config.migration import MigrationSpec
from dcsim.engine.simulation import Simulation
from tests.conftest import tiny_config

N_HOSTS = 16  # fat-tree k = 4
N_EDGES = 48  # 16 host links + 16 edge-aggregation + 16 aggregation-core
REPAIR_ALL_S = 1200.0


def _cfg() -> dict[str, Any]:
    cfg = tiny_config(duration="1h", interval="5m")
    cfg["datacenters"][0]["hosts"][0].update(count=N_HOSTS, bandwidth="1Gbps", ram="8GiB")
    cfg["virtualization_profiles"] = {"nolayer": {"kind": "type1", "live_migration": True}}
    # one guest per host (a guest takes the whole 1-core host): guest i on host i
    cfg["guests"][0].update(count=4, mips=1000, ram="512MiB")
    cfg["network"] = {"topology": {"kind": "fat_tree", "k": 4, "link": "1Gbps"}}
    return cfg


link_events = st.lists(st.tuples(st.floats(0, 1000), st.booleans(), st.integers(0, N_EDGES - 1)),
                       max_size=14)
migrations = st.lists(st.tuples(st.floats(0, 1000), st.integers(0, 3),
                                st.integers(0, N_HOSTS - 1)), max_size=6)
background = st.lists(st.tuples(st.floats(0, 1000), st.integers(0, N_HOSTS - 1),
                                st.integers(0, N_HOSTS - 1),
                                st.sampled_from([1e6, 5e7, 3e8, math.inf])), max_size=6)


@settings(max_examples=30)
@given(link_events, migrations, background)
def test_random_link_failures_keep_bytes_capacity_and_reservations(
        events: list[tuple[float, bool, int]], migs: list[tuple[float, int, int]],
        flows: list[tuple[float, int, int, float]]) -> None:
    sim = Simulation(dcsim.api._scenario(_cfg(), None), check_invariants=True)
    net = sim.network
    fn = net.flows
    requested: dict[int, float] = {}
    add, refresh = fn.add_flow, fn._refresh

    def add_flow(now_s: float, src: int, dst: int, nbytes: float, *a: Any, **k: Any) -> int:
        fid = add(now_s, src, dst, nbytes, *a, **k)
        requested[fid] = nbytes
        return fid

    down = np.zeros(sim.topology.n_links, dtype=bool)  # the test's own record of failures

    def checked_refresh() -> None:
        refresh()
        if fn._fid.size:
            load = np.bincount(fn._nz_link, weights=fn._rate[fn._nz_owner],
                               minlength=down.size)
            cap = np.where(down, 0.0, sim.topology.capacity_bps)  # a failed link carries 0
            assert np.all(load <= cap * (1 + 1e-9) + 1e-6), "link over capacity"

    fn.add_flow = add_flow  # type: ignore[method-assign]
    fn._refresh = checked_refresh  # type: ignore[method-assign]
    procs: list[Any] = []
    spec = MigrationSpec(dirty_rate="20MB/s")

    def driver() -> Any:
        todo = sorted([(t, 0, (up, e)) for t, up, e in events]
                      + [(t, 1, (g, d)) for t, g, d in migs]
                      + [(t, 2, (s, d, b)) for t, s, d, b in flows]
                      + [(REPAIR_ALL_S, 0, None)], key=lambda x: (x[0], x[1]))
        for t, kind, arg in todo:
            if t > sim.env.now:
                yield sim.env.timeout(t - sim.env.now)
            if kind == 0:
                new = np.zeros_like(down) if arg is None else down.copy()
                if arg is not None:
                    new[2 * arg[1]: 2 * arg[1] + 2] = not arg[0]
                # while the change is applied, a link counts as failed only if failed before
                # and after (rates of either side may be recomputed); from then on, as after
                np.logical_and(down, new, out=down)
                net.set_links_down(new.copy())
                down[:] = new
            elif kind == 1:
                g, d = arg
                p = sim.migrate(g, d, spec)
                if p is not None:
                    procs.append(p)
            else:
                s, d, b = arg
                net.start_background(s, d, rate_bps=2e8, nbytes=b)

    sim.env.process(driver())
    sim.run()  # no exception (check_invariants: capacity law after every change)

    # bytes: per flow, ended ones and live ones
    ended = {r.fid: r for r in fn.records}
    for fid, rec in ended.items():
        if rec.completed:
            assert rec.nbytes == requested[fid]
        else:
            assert 0.0 <= rec.nbytes <= requested[fid] * (1 + 1e-12)
    fn._flush()
    for slot, fid in enumerate(fn._fid.tolist()):
        if math.isfinite(requested[fid]):
            assert fn._sent[slot] + fn._rem[slot] == np.float64(requested[fid]) or math.isclose(
                fn._sent[slot] + fn._rem[slot], requested[fid], rel_tol=1e-9)
    assert fn.stalled_fids() == []  # every link repaired at REPAIR_ALL_S: nothing stalls
    # migrations: each finished (a record) or was aborted; no reservation left behind
    st_ = sim.state
    assert len(sim.migration_records) + sim.migrations_aborted == len(procs)
    assert not (st_.mig_dst >= 0).any()
    st_.check()

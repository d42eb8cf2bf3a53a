"""CloudSim's migration model in the engine (``assumptions.migration: cloudsim``).

``start_migrations`` starts a planner step's moves: each reserves its destination at once
(CloudSim's quirk: a guest moved twice in one step gives back its first destination and ends on
the second, the first keeping its 10 % share until then), its guest runs at 90 % meanwhile, and
the moves that end together (the fixed delay ``RAM / (bandwidth / 2)``) complete in one SimPy
process, ``_complete``: a datacenter update before, the moves, the emptied sources put to sleep,
their hosts re-shared after. Under datacenter updates a step's starts take one pass
(``dcsim.model.begin_batch.begin_migrations``) and a group's completions one pass
(``ClusterState.finish_migrations``), with the same arithmetic as one by one
(``tests/unit/engine/test_cloudsim_batches.py``).

Imports: numpy, simpy (through the Simulation), dcsim.model, dcsim.engine.assumptions.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Generator
from itertools import pairwise, repeat
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import NDArray

from dcsim.engine import assumptions
from dcsim.engine.assumptions import (
    DESTINATION_SHARE,
    MIGRATION_SPEED,
    RUNNING,
    _cs,
    drop_idle,
    reshare,
    update_hosts,
)
from dcsim.model.begin_batch import begin_migrations

if TYPE_CHECKING:
    import simpy

    from dcsim.engine.simulation import Simulation

I64 = NDArray[np.intp]


def migration_delay(sim: Simulation, g: int, dst: int) -> float:
    """CloudSim's migration time: RAM / (destination bandwidth / 2), s."""
    st = sim.state  # (Python floats via item(): the same double arithmetic)
    return st.gram.item(g) * 8.0 / (st.bandwidth.item(dst) / 2.0)


def batch_starts(sim: Simulation) -> bool:
    """Whether ``start_migrations`` takes its moves in one pass (``begin_migrations``): under
    datacenter updates, where waking a destination only sets its flags (every host is
    re-shared at this instant)."""
    return sim.assume.updates == "datacenter"


def start_migrations(sim: Simulation, moves: list[tuple[int, int]]) -> int:
    """Start CloudSim-model migrations (in order); returns how many started.

    Under datacenter updates in one pass: ``dcsim.model.begin_batch.begin_migrations`` aborts,
    tests and reserves in order (the same arithmetic as one by one), then the started moves'
    flags, speeds, in-flight entries (in start order) and completion groups are set as whole
    arrays; nothing between two moves reads them.
    """
    if not batch_starts(sim):
        return _start_one_by_one(sim, moves)
    st, cs = sim.state, _cs(sim)
    now = sim.env.now
    gl = [g for g, _ in moves]
    dl = [d for _, d in moves]
    idx, srcs, aborted = begin_migrations(st, gl, dl)
    started = len(idx)
    cs.mig_started += started
    if not started:
        reshare(sim, _sorted_ids(set(aborted)))
        return 0
    ix = np.asarray(idx, dtype=np.intp)
    gs = np.asarray(gl, dtype=np.intp)[ix]
    ds = np.asarray(dl, dtype=np.intp)[ix]
    asleep = ds[~st.awake[ds]]  # (wake would only set these: every host is re-shared below)
    st.awake[asleep] = True
    sim.awake_since[asleep] = now
    sim.speed[gs] = MIGRATION_SPEED
    pairs = list(zip(gs.tolist(), ds.tolist(), strict=True))
    if sim.assume.cpu_sharing == "maxmin":
        for g, dst in pairs:
            _dst_charge(sim, g, dst, 1.0)
    cs.incoming.update(dict.fromkeys(pairs))  # (a key already there keeps its place)
    cs._inc = None
    reshare(sim, _sorted_ids(set(srcs).union(aborted, ds.tolist())))
    # the moves that end together (equal delays), each group in start order, by delay
    delays = st.gram[gs] * 8.0 / (st.bandwidth[ds] / 2.0)  # migration_delay, elementwise
    by = np.argsort(delays, kind="stable")
    d_by = delays[by]
    cuts = [0, *(np.flatnonzero(d_by[1:] != d_by[:-1]) + 1).tolist(), by.shape[0]]
    for a, b in pairwise(cuts):  # (np.split's parts, as slices)
        part = by[a:b]
        sim.env.process(_complete(sim, delays.item(part[0]), gs[part], ds[part], now))
    return started


def _sorted_ids(ids: set[int]) -> I64:
    """The host ids ``ids`` sorted, as an index array (``np.unique`` of them, in Python: a few
    dozen ids)."""
    return np.fromiter(sorted(ids), dtype=np.intp, count=len(ids))


def _start_one_by_one(sim: Simulation, moves: list[tuple[int, int]]) -> int:
    """``start_migrations`` move by move (per-host updates, or ``batch_starts`` off)."""
    st, cs = sim.state, _cs(sim)
    groups: dict[float, list[tuple[int, int]]] = {}
    touched: set[int] = set()
    aborted: set[int] = set()  # hosts of guests whose first move was aborted
    started = 0
    dc = sim.assume.updates == "datacenter"
    maxmin = sim.assume.cpu_sharing == "maxmin"  # (_dst_charge changes nothing otherwise)
    mig_dst, host_of, status, awake = st.mig_dst, st.host_of, st.status, st.awake
    speed, incoming = sim.speed, cs.incoming
    for g, dst in moves:
        if mig_dst.item(g) >= 0:  # moved twice in one step (CloudSim's quirk): it ends on
            aborted.update((host_of.item(g), mig_dst.item(g)))
            st.abort_migration(g)  # the second target; the first keeps its share until then
        src = host_of.item(g)
        if status.item(g) != RUNNING or src < 0 or src == dst or not st.fits(g, dst):
            continue
        checked = True  # nothing that fits reads changes before begin_migration
        if awake.item(dst):  # (wake would change nothing)
            pass
        elif dc:
            awake[dst] = True  # every host is re-shared below, at this same instant
            sim.awake_since[dst] = sim.env.now
        else:
            sim.wake(dst)  # settles and re-shares dst: begin_migration tests fits again
            checked = False
        st.begin_migration(g, dst, fits_checked=checked)
        speed[g] = MIGRATION_SPEED
        if maxmin:
            _dst_charge(sim, g, dst, 1.0)
        incoming[(g, dst)] = None
        cs._inc = None
        delay = migration_delay(sim, g, dst)
        group = groups.get(delay)
        if group is None:
            groups[delay] = [(g, dst)]
        else:
            group.append((g, dst))
        touched.add(src)
        touched.add(dst)
        started += 1
    cs.mig_started += started
    if sim.assume.updates == "datacenter":
        reshare(sim, np.asarray(sorted(touched | aborted), dtype=np.intp))
    else:
        update_hosts(sim, touched)
    for delay in sorted(groups):
        if groups[delay]:
            g_d = np.asarray(groups[delay], dtype=np.intp)
            sim.env.process(_complete(sim, delay, g_d[:, 0], g_d[:, 1], sim.env.now))
    return started


def _dst_charge(sim: Simulation, g: int, dst: int, sign: float) -> None:
    """Under max-min sharing the destination's 10 % is a fixed CPU charge of the guest's MIPS."""
    if sim.assume.cpu_sharing == "maxmin":
        st = sim.state
        sim.extra_raw[dst] = max(0.0, sim.extra_raw[dst]
                                 + sign * DESTINATION_SHARE * st.vcpus[g] * st.mips[g])


def _complete(sim: Simulation, delay: float, gs: I64, ds: I64,
              start: float) -> Generator[simpy.events.Event, Any, None]:
    """SimPy process: the migrations of guests ``gs`` to ``ds`` (in start order) end together,
    ``delay`` s after ``start``."""
    st, cs = sim.state, _cs(sim)
    dc = sim.assume.updates == "datacenter"
    sim.events += 1
    yield sim.env.timeout(delay)
    now = sim.env.now
    if dc:
        assumptions.datacenter_update(sim, periodic=False)  # settles every host up to now
    # the moves still under way (a guest moved again, or gone, is left out); the update only
    # drops guests that do not migrate: the same as leaving them out before it too
    live = (st.mig_dst[gs] == ds) & (st.host_of[gs] >= 0)
    lg, ld = gs[live], ds[live]
    srcs = st.host_of[lg]
    if not dc:
        hosts = np.unique(np.concatenate([srcs, ds]))
        sim._settle(hosts, sim.guests_on(hosts))
    inc = cs.incoming  # the group's moves leave it (first targets of guests moved twice too)
    n_inc = len(inc)
    if sim.assume.cpu_sharing == "maxmin":
        for key in zip(gs.tolist(), ds.tolist(), strict=True):
            if key in inc:
                del inc[key]
                _dst_charge(sim, key[0], key[1], -1.0)
    else:  # (_dst_charge changes nothing)
        deque(map(inc.pop, zip(gs.tolist(), ds.tolist(), strict=True), repeat(None)),
              maxlen=0)
    if len(inc) != n_inc:
        cs._inc = None
    ids = lg.tolist()
    if sim.move_hooks or len(set(ids)) < len(ids):  # hooks see each move's state:
        for g, dst, src in zip(ids, ld.tolist(), srcs.tolist(), strict=True):  # one by one
            st.finish_migration(g)
            sim.speed[g] = 1.0
            for hook in sim.move_hooks:
                hook(g, src, dst)
            sim.migration_gaps.append(now - float(sim.placed_since[g]))
            sim.placed_since[g] = now
            sim.migration_records.add_cloudsim([g], [src], [dst], start, now, delay,
                                               [st.gram.item(g)])
    elif ids:  # the same steps, guest by guest in order, as whole-array operations
        version = st.version
        st.finish_migrations(lg)
        cs.order_moved(st, version, lg, ld)
        sim.speed[lg] = 1.0
        sim.migration_gaps.extend((now - sim.placed_since[lg]).tolist())
        sim.placed_since[lg] = now
        sim.migration_records.add_cloudsim(lg, srcs, ld, start, now, delay,
                                           st.gram[lg])  # one copy of the RAM
    if dc:
        src_l = srcs.tolist()
        if sim.sleep:  # empty sources sleep now, in the order of their guests' moves (each
            for h in dict.fromkeys(src_l):  # once); every host is re-shared just below
                if sim.sleeps_now(h):
                    sim.fall_asleep(h)
        reshare(sim, _sorted_ids(set(src_l).union(ds.tolist())))
        if sim.assume.zero_demand == "drop":
            all_hosts = np.arange(st.n_hosts, dtype=np.intp)
            drop_idle(sim, sim.guests_on(all_hosts))
        return
    sim._share(hosts, sim.guests_on(hosts))
    for h in srcs.tolist():
        sim.maybe_sleep(h)

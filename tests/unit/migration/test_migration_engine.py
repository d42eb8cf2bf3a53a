"""The SimPy migration process over fake transfer services (and the real one when present)."""

from __future__ import annotations

import math
from collections.abc import Hashable

import pytest
import simpy
from simpy.events import ProcessGenerator

from dcsim.config.migration import MigrationSpec
from dcsim.engine.migration import FixedRateNetwork, MigrationRecord, migration_process
from dcsim.model.migration import PrecopyPlanner, simulate_on_link

MB = 1e6


class SharedLink:
    """Fake network: one link shared equally (processor sharing) by all transfers in flight."""

    def __init__(self, env: simpy.Environment, bandwidth_bps: float) -> None:
        self.env = env
        self.rate_Bps = bandwidth_bps / 8
        self.flows: dict[int, list[object]] = {}  # id -> [remaining bytes, event]
        self.last = env.now
        self.epoch = 0
        self.next_id = 0

    def transfer(
        self,
        src_host: Hashable,
        dst_host: Hashable,
        nbytes: float,
        rate_cap_bps: float = math.inf,
        tag: str = "",
    ) -> simpy.Event:
        self._advance()
        event = self.env.event()
        self.flows[self.next_id] = [float(nbytes), event]
        self.next_id += 1
        self._schedule()
        return event

    def _share(self) -> float:
        return self.rate_Bps / len(self.flows)

    def _advance(self) -> None:
        if self.flows:
            drained = self._share() * (self.env.now - self.last)
            for flow in self.flows.values():
                flow[0] = float(flow[0]) - drained  # type: ignore[arg-type]
        self.last = self.env.now

    def _schedule(self) -> None:
        self.epoch += 1
        if not self.flows:
            return
        soonest = min(float(f[0]) for f in self.flows.values())  # type: ignore[arg-type]
        timer = self.env.timeout(max(soonest, 0.0) / self._share())
        epoch = self.epoch
        timer.callbacks.append(lambda _ev: self._on_timer(epoch))

    def _on_timer(self, epoch: int) -> None:
        if epoch != self.epoch:
            return
        self._advance()
        for fid in [k for k, f in self.flows.items() if float(f[0]) <= 1e-3]:  # type: ignore[arg-type]
            event = self.flows.pop(fid)[1]
            event.succeed(self.env.now)  # type: ignore[attr-defined]
        self._schedule()


def _run(env: simpy.Environment, gen: ProcessGenerator) -> MigrationRecord:
    proc = env.process(gen)
    env.run()
    value = proc.value
    assert isinstance(value, MigrationRecord)
    return value


SPEC = MigrationSpec(max_downtime=0.3, max_rounds=0, working_set=1.0, resume_time=0.01)


def test_process_matches_pure_model_on_a_fixed_link() -> None:
    env = simpy.Environment(initial_time=5.0)
    net = FixedRateNetwork(env, 800e6)
    switched: list[float] = []
    rec = _run(
        env,
        migration_process(
            env,
            net,
            1000 * MB,
            lambda _t: 50 * MB,
            "h0",
            "h1",
            SPEC,
            switched.append,
            guest="vm7",
        ),
    )
    ref = simulate_on_link(PrecopyPlanner(1000 * MB, 50 * MB, SPEC), 800e6)
    assert (rec.guest, rec.source, rec.destination) == ("vm7", "h0", "h1")
    assert rec.model == "precopy"
    assert rec.start_s == 5.0
    assert rec.duration_s == pytest.approx(ref.total_time_s) == pytest.approx(19.85375)
    assert rec.downtime_s == pytest.approx(ref.downtime_s)
    assert rec.rounds == ref.rounds == 7
    assert rec.bytes_sent == pytest.approx(ref.bytes_sent)
    assert switched == [pytest.approx(rec.end_s)]
    assert rec.switch_s == pytest.approx(rec.end_s)
    # every round went over the network, tagged with the guest
    assert [t.bytes for t in net.finished] == [r.bytes for r in rec.per_round]
    assert net.finished[0].tag == "migration:vm7:0"


def test_bandwidth_cap_reaches_the_network() -> None:
    env = simpy.Environment()
    net = FixedRateNetwork(env, 10e9)
    spec = MigrationSpec(bandwidth_cap="128MiB/s", resume_time=0.0)
    rec = _run(env, migration_process(env, net, 2**30, None, 0, 1, spec))
    assert rec.duration_s == pytest.approx(8.0)  # 1 GiB at 128 MiB/s


def test_dirty_rate_follows_cpu_activity_over_time() -> None:
    # Busy (100 MB/s) during round 0, idle afterwards: round 1 is the last live round.
    env = simpy.Environment()
    net = FixedRateNetwork(env, 800e6)
    rec = _run(
        env,
        migration_process(
            env, net, 1000 * MB, lambda t: 60 * MB if t < 10 else 0.0, "a", "b", SPEC
        ),
    )
    assert [r.bytes / MB for r in rec.per_round] == [1000, 600, 0]
    assert rec.downtime_s == pytest.approx(0.01)


def test_postcopy_phases_and_switch() -> None:
    env = simpy.Environment()
    net = FixedRateNetwork(env, 1e9)
    phases: list[tuple[str, float]] = []
    switched: list[float] = []
    spec = MigrationSpec(model="postcopy", resume_time=0.02)
    rec = _run(
        env,
        migration_process(
            env,
            net,
            1000 * MB,
            None,
            "a",
            "b",
            spec,
            switched.append,
            on_phase=lambda p, t: phases.append((p, t)),
        ),
    )
    assert phases == [("stop", 0.0), ("post", pytest.approx(0.02))]
    assert switched == [pytest.approx(0.02)]
    assert rec.duration_s == pytest.approx(8.02)
    assert rec.downtime_s == pytest.approx(0.02)


def test_cloudsim_model_uses_no_network() -> None:
    env = simpy.Environment()
    net = FixedRateNetwork(env, 1e9)
    spec = MigrationSpec(model="cloudsim")
    rec = _run(
        env, migration_process(env, net, 1024 * MB, None, "a", "b", spec, host_bandwidth_bps=1e9)
    )
    assert rec.duration_s == pytest.approx(16.384)
    assert net.finished == []


def _two_migrations(
    env: simpy.Environment, net: object, start2: float, dirty_Bps: float = 0.0
) -> list[MigrationRecord]:
    spec = MigrationSpec(resume_time=0.0)
    out: list[MigrationRecord] = []

    def later(delay: float, guest: str) -> ProcessGenerator:
        yield env.timeout(delay)
        rec = yield env.process(
            migration_process(
                env,
                net,
                1000 * MB,
                lambda _t: dirty_Bps,
                "h0",
                "h1",
                spec,  # type: ignore[arg-type]
                guest=guest,
            )
        )
        out.append(rec)

    env.process(later(0.0, "a"))
    env.process(later(start2, "b"))
    env.run()
    return sorted(out, key=lambda r: str(r.guest))


def test_two_migrations_over_one_bottleneck_take_twice_as_long() -> None:
    env = simpy.Environment()
    alone = _two_migrations(env, SharedLink(env, 1e9), 100.0)[0]  # b starts after a has finished
    assert alone.duration_s == pytest.approx(8.0)  # 1000 MB at 125 MB/s, nothing dirtied
    env = simpy.Environment()
    both = _two_migrations(env, SharedLink(env, 1e9), 0.0)
    assert [r.duration_s for r in both] == [pytest.approx(16.0)] * 2


def test_sharing_hurts_a_dirtying_guest_more_than_twice() -> None:
    # 10 MB/s dirtied: alone rho = 0.08 (2 live rounds, 8.69 s); sharing halves b, so rho doubles
    # and one more round is needed: 16 + 2.56 + 0.41 + 0.07 s = 19.04 s > 2 x 8.69 s.
    env = simpy.Environment()
    alone = _two_migrations(env, SharedLink(env, 1e9), 100.0, 10 * MB)[0]
    assert alone.rounds == 3
    assert alone.duration_s == pytest.approx(8.0 + 0.64 + 0.0512)
    env = simpy.Environment()
    both = _two_migrations(env, SharedLink(env, 1e9), 0.0, 10 * MB)
    for rec in both:
        assert rec.rounds == 4
        assert rec.duration_s == pytest.approx(16.0 + 2.56 + 0.4096 + 0.065536)
        assert rec.duration_s > 2 * alone.duration_s


def _real_service(env: simpy.Environment, link_bps: float) -> object:
    """The real NetworkService on a star: hosts 0 and 1 on one switch, zero latency."""
    netmod = pytest.importorskip("dcsim.engine.network")
    nx = pytest.importorskip("networkx")
    from dcsim.network.flows import FlowNetwork
    from dcsim.network.routing import Router
    from dcsim.network.topology import attach_hosts

    g = nx.Graph()
    g.add_node("sw", kind="switch", role="edge", dc=0)
    for h in ("h0", "h1"):
        g.add_node(h, kind="host", role="host", dc=0)
        g.add_edge("sw", h, capacity_bps=link_bps, latency_s=0.0)
    topo = attach_hosts(g, 2)
    return netmod.NetworkService(env, FlowNetwork(topo, Router(topo)))


def _two_on_real(start2: float, dirty_Bps: float = 0.0) -> list[MigrationRecord]:
    env = simpy.Environment()
    net = _real_service(env, 1e9)
    spec = MigrationSpec(resume_time=0.0)
    out: list[MigrationRecord] = []

    def later(delay: float, guest: str) -> ProcessGenerator:
        yield env.timeout(delay)
        rec = yield env.process(
            migration_process(
                env,
                net,
                1000 * MB,
                lambda _t: dirty_Bps,
                0,
                1,
                spec,  # type: ignore[arg-type]
                guest=guest,
            )
        )
        out.append(rec)

    env.process(later(0.0, "a"))
    env.process(later(start2, "b"))
    env.run()
    return sorted(out, key=lambda r: str(r.guest))


def test_real_network_two_migrations_over_one_bottleneck() -> None:
    alone = _two_on_real(100.0)[0]
    assert alone.duration_s == pytest.approx(8.0)
    both = _two_on_real(0.0)
    assert [r.duration_s for r in both] == [pytest.approx(16.0)] * 2
    # with dirtying, the same numbers as the fake shared link (the rounds follow the real rate)
    both = _two_on_real(0.0, 10 * MB)
    for rec in both:
        assert rec.rounds == 4
        assert rec.duration_s == pytest.approx(16.0 + 2.56 + 0.4096 + 0.065536)

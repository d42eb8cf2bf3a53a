"""NetworkService: SimPy transfers with finish times worked out by hand."""

from __future__ import annotations

import math
from collections.abc import Generator
from typing import Any

import pytest
import simpy

from dcsim.engine.network import NetworkService
from dcsim.network.flows import FlowNetwork, FlowRecord
from dcsim.network.routing import Router
from dcsim.network.topology import attach_hosts, leaf_spine

GBIT = 1e9 / 8


def _service(latency_s: float = 1e-3) -> tuple[simpy.Environment, NetworkService]:
    topo = attach_hosts(leaf_spine(1, 1, 3, host_link_bps=1e9, latency_s=latency_s), 3)
    env = simpy.Environment()
    return env, NetworkService(env, FlowNetwork(topo, Router(topo)))


def test_two_overlapping_transfers() -> None:
    env, net = _service()
    log: list[tuple[str, float, FlowRecord]] = []

    def mover(name: str, start: float, src: int, nbytes: float) -> Generator[Any, Any, None]:
        yield env.timeout(start)
        rec = yield net.transfer(src, 2, nbytes, tag=name)
        log.append((name, env.now, rec))

    env.process(mover("t1", 0.0, 0, 1 * GBIT))
    env.process(mover("t2", 0.5, 1, 0.25 * GBIT))
    env.run()
    # t1 alone at 1 Gbps until 0.5 s (0.5 Gbit sent). Then both share host 2's downlink at
    # 0.5 Gbps: t2's 0.25 Gbit leave by 1.0 s (delivered 1.002 s); t1 has sent 0.75 Gbit by
    # then and sends the last 0.25 Gbit alone at 1 Gbps: last byte 1.25 s, delivered 1.252 s.
    assert [(name, t) for name, t, _ in log] == [
        ("t2", pytest.approx(1.002)),
        ("t1", pytest.approx(1.252)),
    ]
    rec1 = log[1][2]
    assert rec1.completed
    assert rec1.start_s == 0.0
    assert rec1.nbytes == GBIT
    assert log[0][2].duration_s == pytest.approx(0.502)


def test_background_slows_a_transfer_until_stopped() -> None:
    env, net = _service(latency_s=0.0)
    done: list[float] = []

    def scenario() -> Generator[Any, Any, None]:
        bg = net.start_background(1, 2, rate_bps=0.5e9)
        ev = net.transfer(0, 2, 1 * GBIT)
        yield env.timeout(1.0)  # 0.5 Gbit sent at 0.5 Gbps
        rec = net.stop_background(bg)
        assert rec.nbytes == pytest.approx(0.5 * GBIT)
        assert not rec.completed
        yield ev  # 0.5 Gbit left at 1 Gbps
        done.append(env.now)

    env.process(scenario())
    env.run(until=100.0)
    assert done == [pytest.approx(1.5)]


def test_cancel_ends_a_transfer_early() -> None:
    env, net = _service(latency_s=0.0)
    got: list[tuple[float, FlowRecord]] = []

    def scenario() -> Generator[Any, Any, None]:
        ev = net.transfer(0, 2, 4 * GBIT)
        yield env.timeout(1.0)
        net.cancel(ev.fid)
        rec = yield ev
        got.append((env.now, rec))

    env.process(scenario())
    env.run()
    ((t, rec),) = got
    assert t == 1.0
    assert rec.end_s == 1.0
    assert rec.completed is False
    assert rec.nbytes == pytest.approx(GBIT)
    assert net.flows.n_live == 0


def test_event_count_does_not_grow_with_time() -> None:
    env, net = _service()
    calls = 0
    original = net.flows.next_event

    def counting() -> tuple[float, int] | None:
        nonlocal calls
        calls += 1
        return original()

    net.flows.next_event = counting  # type: ignore[method-assign]
    net.start_background(0, 1)
    env.run(until=1e6)
    assert calls <= 2
    net.sync()
    assert net.flows.link_bytes.max() == pytest.approx(1e6 * GBIT)


def test_transfer_rejects_infinite_size() -> None:
    _, net = _service()
    with pytest.raises(ValueError, match="finite"):
        net.transfer(0, 1, math.inf)

"""``offered.settle`` of a few guests (Python floats) gives bit for bit what its vector code gives.

Up to ``offered._FEW`` guests are settled one by one (``_settle_few``, ``integrate``; the host
settle of ``dcsim.engine.hostrates`` calls ``integrate`` directly). Random states of a few guests
(every status, paused, dropped, recovering, finite jobs, clocks before and after ``stop_at``,
waking hosts) are settled both ways from the same state, and every array is compared exactly,
signs of zero included; and ``_sum`` is ``np.sum`` on lists built to expose the order of the
additions.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from dcsim.api import _scenario
from dcsim.engine import offered
from dcsim.engine.simulation import Simulation
from tests.conftest import tiny_config


def _same(a: Any, b: Any) -> bool:
    """Equal bit for bit (NaN equal to NaN, +0.0 unequal to -0.0)."""
    a, b = np.asarray(a), np.asarray(b)
    return a.shape == b.shape and a.dtype == b.dtype and a.tobytes() == b.tobytes()


def test_sum_adds_as_numpy_does() -> None:
    rng = np.random.default_rng(7)
    # 1e16 + 1 + 1 is 1e16 left to right but 1e16 + 2 in another order; -0.0 tests the start
    pool = [1e16, 1.0, 3.0, 1e-3, -0.0, 0.0, 2.5e15, 7.25]
    for _ in range(4000):
        n = int(rng.integers(0, 20))
        xs = [float(x) for x in rng.choice(pool, n)] if rng.random() < 0.5 else \
            [float(x) for x in rng.random(n) * 10.0 ** rng.integers(-5, 17, n)]
        assert _same(offered._sum(xs), np.sum(np.asarray(xs, dtype=np.float64))), xs


def _sim() -> Simulation:
    cfg = tiny_config()
    cfg["guests"][0].update(count=40)
    sim = Simulation(_scenario(cfg, None))
    sim.env._now = 5000.0  # type: ignore[attr-defined]
    return sim


def _arrays(sim: Simulation) -> dict[str, Any]:
    """Copies of the simulation's writable arrays (not the read-only ``every_guest``)."""
    return {k: v.copy() for k, v in vars(sim).items()
            if isinstance(v, np.ndarray) and v.flags.writeable}


def _draw_state(sim: Simulation, rng: np.random.Generator) -> None:
    """Random waiting states of every guest at ``sim``'s now; totals back to zero."""
    st, now = sim.state, sim.env.now
    n_g = st.n_guests_total
    # statuses 0-5, half of them booting (several terms in each sum)
    st.status[:] = np.where(rng.random(n_g) < 0.5, 1, rng.integers(0, 6, n_g))
    sim.paused[:] = rng.random(n_g) < 0.3
    sim.dropped[:] = rng.random(n_g) < 0.3
    sim.recovering[:] = rng.random(n_g) < 0.2
    sim.has_jobs[:] = rng.random(n_g) < 0.1
    sim.w_last[:] = now - rng.choice([0.0, 1.0, 30.0, 30.0, 1000.0], n_g) * rng.random(n_g)
    sim.stop_at[:] = np.where(rng.random(n_g) < 0.3, now - 10 * rng.random(n_g),
                              np.where(rng.random(n_g) < 0.5, np.inf, now + 100.0))
    sim.wake_until[:] = now + rng.choice([-50.0, -1.0, 0.0, 20.0, 20.0], n_g) * rng.random(n_g)
    # demands of very different sizes: the order of additions shows in the sums
    sim.u_last[:] = np.where(rng.random(n_g) < 0.1, 0.0,
                             rng.random(n_g) * 10.0 ** rng.integers(-3, 13, n_g))
    sim.unserved_by_cause[:] = 0.0  # (no large total from earlier trials absorbing
    sim.wait_mi[:] = 0.0            # a last-digit difference)


def _both_ways(sim: Simulation, monkeypatch: pytest.MonkeyPatch, switch: tuple[str, Any],
               reference: Any, call: Any, trial: int) -> dict[str, Any]:
    """Run ``reference()`` with ``offered.<switch[0]> = switch[1]``, then ``call()`` as the code
    stands from the same state; assert every array equal bit for bit; the arrays after."""
    before = _arrays(sim)
    monkeypatch.setattr(offered, *switch)
    reference()
    expected = _arrays(sim)
    monkeypatch.undo()
    for k, v in before.items():
        getattr(sim, k)[...] = v
    call()
    got = _arrays(sim)
    for k, v in expected.items():
        assert _same(v, got[k]), (trial, k)
    return got


@pytest.mark.parametrize("on_host", [False, True])
def test_few_guests_settle_as_the_vector_code(on_host: bool,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    sim = _sim()
    st = sim.state
    n_g = st.n_guests_total
    rng = np.random.default_rng(11)
    causes = set()
    for trial in range(600):
        now = sim.env.now
        _draw_state(sim, rng)
        guests = rng.choice(n_g, int(rng.integers(0, offered._FEW + 1)), replace=False)
        if trial % 2:
            guests = np.sort(guests)
        g = guests.astype(np.intp)
        got = _both_ways(sim, monkeypatch, ("_FEW", -1),  # the reference: the vector code
                         lambda g=g: offered.settle(sim, g, on_host=on_host),
                         lambda g=g: offered.settle(sim, g, on_host=on_host), trial)
        causes |= {i for i in range(len(offered.CAUSES)) if got["unserved_by_cause"][i] > 0}
        sim.env._now = now + float(rng.random() * 100)  # type: ignore[attr-defined]
    # every cause was integrated along the way (with random statuses, also ``on_host``: a
    # paused guest counts by its status)
    assert causes == set(range(len(offered.CAUSES)))


def test_integrate_of_many_guests_is_the_python_form_bit_for_bit(
        monkeypatch: pytest.MonkeyPatch) -> None:
    # from offered.VECTOR_FROM waiting guests on (a host whose guests boot together), integrate
    # takes the vectorized form: the same arrays as its Python form, signs of zero included
    sim = _sim()
    st = sim.state
    n_g = st.n_guests_total
    rng = np.random.default_rng(17)
    causes = set()
    sizes = set()
    for trial in range(300):
        now = sim.env.now
        _draw_state(sim, rng)
        guests = rng.choice(n_g, int(rng.integers(offered.VECTOR_FROM, n_g + 1)), replace=False)
        if trial % 2:
            guests = np.sort(guests)
        sizes.add(guests.shape[0])
        got = _both_ways(sim, monkeypatch, ("VECTOR_FROM", 10**9),  # the reference: Python's
                         lambda g=guests: offered.integrate(sim, g.tolist()),
                         lambda g=guests: offered.integrate(sim, g.astype(np.intp)), trial)
        causes |= {i for i in range(len(offered.CAUSES)) if got["unserved_by_cause"][i] > 0}
        sim.env._now = now + float(rng.random() * 100)  # type: ignore[attr-defined]
    assert causes == set(range(len(offered.CAUSES)))
    assert min(sizes) == offered.VECTOR_FROM
    assert max(sizes) == n_g

"""Host and guest accounting up to now compiled with numba: ``dcsim.engine.hostrates.settle``
without its optional terms, in one pass over the hosts and one over their guests.

Imported on first use only (``dcsim.kernels.jit.kernel``), in CloudSim mode (whose planner
imports numba anyway); the machine code is cached on disk and loaded without numba's compiler
set-up. Why compiled: CloudSim mode settles every host and guest at every datacenter update
(~1,150 per PlanetLab day at any scale), ~25 numpy passes with gathers over every host and guest.

Only the case without paused guests, memory accounting or finite jobs (``settle`` keeps the
numpy code for the others). Every accumulator gets the term numpy adds, computed by the same
float64 operations in the same order (no fastmath): a boolean factor is 1.0 or 0.0, as numpy
casts it; ``np.minimum``/``np.maximum`` as :mod:`dcsim.kernels.floatops`'s. Accumulators of
distinct hosts and guests are independent, so the order of the two loops does not matter.
``tests/unit/engine/test_hostsettle_kernel.py`` compares both forms byte for byte.

Imports numba, dcsim.kernels.floatops, dcsim.kernels.jit.
"""

from __future__ import annotations

from numba import njit

from dcsim.kernels.floatops import maximum as _maximum
from dcsim.kernels.floatops import minimum as _minimum
from dcsim.kernels.jit import cache_depends_on

FULL = 1.0 - 1e-9  # dcsim.engine.hostrates._FULL (checked by the tests)


@njit(cache=True, nogil=True, error_model="numpy")
def settle(hosts, guests, now, energy_rule, last_t, power, energy_j, awake, active_s,  # type: ignore[no-untyped-def]
           util, cap_mips, busy_mi, avail_mi, n_guests, guest_s, full_s, ready_at, ready_s,
           host_of, demand, useful, raw, speed, demand_mi, useful_mi, raw_mi, mig_loss_mi):
    """Integrate the rates of ``hosts`` and of their ``guests`` from their hosts' ``last_t``
    up to ``now``; returns how many guests ran below full speed (migrating)."""
    degraded = 0
    for i in range(guests.shape[0]):
        gi = guests[i]
        gdt = now - last_t[host_of[gi]]
        d = demand[gi]
        demand_mi[gi] = demand_mi[gi] + d * gdt
        useful_mi[gi] = useful_mi[gi] + useful[gi] * gdt
        raw_mi[gi] = raw_mi[gi] + raw[gi] * gdt
        sp = speed[gi]
        if sp < 1.0:
            mig_loss_mi[gi] = mig_loss_mi[gi] + d * (1.0 - sp) * gdt
            degraded += 1
    for q in range(hosts.shape[0]):
        h = hosts[q]
        t_last = last_t[h]
        dt = now - t_last
        if energy_rule:
            energy_j[h] = energy_j[h] + power[h] * dt
        aw = 1.0 if awake[h] else 0.0
        u = util[h]
        cap = cap_mips[h]
        active_s[h] = active_s[h] + aw * dt
        busy_mi[h] = busy_mi[h] + u * cap * dt
        avail_mi[h] = avail_mi[h] + aw * cap * dt
        guest_s[h] = guest_s[h] + n_guests[h] * dt
        full_s[h] = full_s[h] + (1.0 if awake[h] and u >= FULL else 0.0) * dt
        ready_dt = _minimum(_maximum(now - _maximum(t_last, ready_at[h]), 0.0), dt)
        ready_s[h] = ready_s[h] + aw * ready_dt
        last_t[h] = now
    return degraded


#: the modules this module's compiled code takes functions from: their edits must invalidate
#: its disk cache too (``dcsim.kernels.jit.cache_depends_on``)
CACHE_DEPENDS_ON = ("dcsim.kernels.floatops",)
cache_depends_on(__name__, *CACHE_DEPENDS_ON)

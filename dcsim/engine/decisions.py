"""Decision points an outside agent can take over: admission placement and consolidation.

Without an agent (``Simulation.external is None``) nothing here runs and the engine calls its
configured policies as always. With one, the SimPy process that reaches a decision (arrivals,
a failure's re-placement, the manager's consolidation step) creates an event, stores what the
agent needs in ``External.pending`` and waits for the event; whoever drives the SimPy
environment (``dcsim.rl``) reads ``pending``, answers with :meth:`External.answer` and steps on.
No threads: a decision costs one SimPy event.

Placement. Guests arriving together are offered one at a time, in the order the configured
placement policy would place them (``policy.order``: pabfd takes them by decreasing MIPS), each
with a sandbox view that already holds the batch's earlier choices and the mask of hosts it
fits on now (``ClusterState.feasible``). The answer is a host id, or -1 to leave it unplaced; a
host outside the mask also leaves it unplaced (rejected, or down after a failure), counted in
``External.refused``. The engine then admits the batch with these choices exactly as it admits
the policy's (``Simulation.admit(decision=...)``).

Consolidation. At each scheduling interval, after the workloads are sampled, the step's
preparation runs (``Consolidation.prepare``: the utilisation histories) and the agent answers
with moves ``(guest, host)``; the engine starts them in order as real migrations, through the
same path as the planner's moves (``Consolidation.start_moves``), which refuses a move that
does not fit (capacity law), of a guest not running or already moving, or across failed links.

Imports: numpy, simpy.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Generator
from typing import TYPE_CHECKING, Any

import numpy as np
import simpy
from numpy.typing import NDArray

if TYPE_CHECKING:
    from dcsim.engine.consolidation import Consolidation
    from dcsim.engine.simulation import Simulation

I64 = NDArray[np.intp]


@dataclasses.dataclass
class PlaceRequest:
    """One guest to place: ``view`` is the admission sandbox (batch choices so far applied),
    ``mask`` (n_hosts,) the hosts it fits on."""

    guest: int
    view: Any
    mask: NDArray[np.bool_]
    event: simpy.Event


@dataclasses.dataclass
class ConsolidateRequest:
    """One consolidation step: ``cons`` is the engine's Consolidation (prepared for this step)."""

    cons: Consolidation
    event: simpy.Event


class External:
    """The agent's side of the decision points (see the module docstring)."""

    def __init__(self, sim: Simulation, *, placement: bool, consolidation: bool) -> None:
        self.sim = sim
        self.placement = placement
        self.consolidation = consolidation
        self.pending: PlaceRequest | ConsolidateRequest | None = None
        self.refused = 0  # answers the engine refused (placement outside the mask, moves)
        self.decisions = 0

    def answer(self, value: Any) -> None:
        """Answer the pending request (a host id, or a list of moves) and clear it."""
        req = self.pending
        if req is None:
            raise RuntimeError("no decision is pending")
        self.pending = None
        self.decisions += 1
        req.event.succeed(value)

    def place(self, batch: I64) -> Generator[simpy.events.Event, Any, I64]:
        """Ask the agent for a host per guest of ``batch``; returns them in batch order."""
        sim = self.sim
        st = sim.state
        view = st.sandbox(batch)
        order_fn = getattr(sim.policy, "order", None)
        order = order_fn(view, batch) if order_fn is not None else batch
        out = np.full(batch.shape[0], -1, dtype=np.intp)
        pos = {int(g): i for i, g in enumerate(batch.tolist())}
        for g in np.asarray(order).tolist():
            mask = view.feasible(g)
            ev = sim.env.event()
            self.pending = PlaceRequest(g, view, mask, ev)
            h = int((yield ev))
            if h < 0:
                continue
            if h >= mask.shape[0] or not mask[h]:
                self.refused += 1
                continue
            view.place(g, h)
            out[pos[g]] = h
        return out

    def consolidate(self, cons: Consolidation) -> Generator[simpy.events.Event, Any, None]:
        """Ask the agent for this step's moves and start them."""
        ev = self.sim.env.event()
        self.pending = ConsolidateRequest(cons, ev)
        moves = [(int(g), int(h)) for g, h in (yield ev)]
        st = self.sim.state
        before = [int(st.mig_dst[g]) if 0 <= g < st.n_guests_total else 0 for g, _ in moves]
        cons.start_moves(moves)
        # refused: not under way to its host after the step (or already moving before it)
        self.refused += sum(1 for (g, h), b in zip(moves, before, strict=True)
                            if b >= 0 or not 0 <= g < st.n_guests_total
                            or int(st.mig_dst[g]) != h)

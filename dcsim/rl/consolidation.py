"""``dcsim/Consolidation-v0``: the agent chooses the migrations of each scheduling interval.

The config must have a ``consolidation:`` section (its detector feeds the ``overloaded``
feature, its migration model carries the moves out, ``max_migrations_per_step`` still caps
them). One step per consolidation step (every scheduling interval, after the workloads are
sampled); admission is the configured placement policy's.

Action: ``MultiDiscrete`` of shape (``max_moves``, 2): row ``i`` is a move (guest id, host id);
a row whose guest is ``n_guests`` is no move. Moves start in row order as real migrations (the
configured model: pre-copy rounds over the network, downtime, CPU cost on both hosts; or
CloudSim's) through the planner's own path, which refuses a move of a guest that is not running
or already moving, to its own host, to a host it does not fit on, or across failed links; the
refused ones are counted in ``info["refused"]``. All rows "no move" is the no-op.

Observation (``Dict``):

* ``hosts`` (n_hosts, 13) float32: ``HOST_FEATURES`` of ``dcsim.rl.placement``, then
  ``overloaded`` (1 if the configured detector fires for the host now), ``underloaded`` (1 if
  awake, holding guests, not overloaded and its utilisation below ``underload_threshold``)
  and ``migrating`` (1 if a migration leaves or enters it);
* ``guests`` (n_guests, 6) float32, one row per guest id of the config (a guest not on a host
  has host -1 and zeros elsewhere): ``GUEST_FEATURES``;
* ``movable`` (n_guests,) int8: 1 for a running guest not already moving.

Imports: numpy, gymnasium, dcsim.rl._base, dcsim.rl.placement, dcsim.engine.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
from gymnasium import spaces

from dcsim.config.resolve import Scenario
from dcsim.engine.decisions import ConsolidateRequest
from dcsim.model.cluster import GuestStatus
from dcsim.rl._base import ActionError, DcsimEnv
from dcsim.rl.placement import HOST_FEATURES, host_features

CONS_HOST_FEATURES = (*HOST_FEATURES, "overloaded", "underloaded", "migrating")

GUEST_FEATURES = (
    "placed",   # 1 on a host
    "host",     # its host id (-1 if none)
    "demand",   # raw MIPS it wants now / its host's capacity
    "mips",     # vCPUs × MIPS per vCPU / the largest host's capacity
    "ram",      # RAM / the largest host's RAM
    "moving",   # 1 while it migrates
)


class ConsolidationEnv(DcsimEnv):
    """See the module docstring. ``max_moves``: rows of the action (moves per step);
    ``underload_threshold``: utilisation below which an active host is marked underloaded."""

    def __init__(self, config: Scenario | dict[str, Any] | str | Path | None = None,
                 overrides: list[str] | None = None,
                 reward: dict[str, float] | None = None, max_moves: int = 64,
                 underload_threshold: float = 0.3, check_invariants: bool = False) -> None:
        super().__init__(config, overrides, reward, placement=False, consolidation=True,
                         check_invariants=check_invariants)
        if self.episodes.base.config.consolidation is None:
            raise ValueError("dcsim/Consolidation-v0 needs a config with a consolidation: "
                             "section (its detector and migration model)")
        if int(max_moves) < 1:
            raise ValueError(f"max_moves: expected an integer >= 1, got {max_moves!r}")
        self.max_moves = k = int(max_moves)
        self.underload_threshold = float(underload_threshold)
        h, g = self.n_hosts, self.n_guests
        self.action_space = spaces.MultiDiscrete(np.tile([g + 1, h], (k, 1)))
        self.observation_space = spaces.Dict({
            "hosts": spaces.Box(-np.inf, np.inf, (h, len(CONS_HOST_FEATURES)), np.float32),
            "guests": spaces.Box(-np.inf, np.inf, (g, len(GUEST_FEATURES)), np.float32),
            "movable": spaces.MultiBinary(g),
        })
        self._hosts = np.zeros((h, len(CONS_HOST_FEATURES)))
        self._guests = np.zeros((g, len(GUEST_FEATURES)))
        self._nvec = np.asarray([g + 1, h])

    def no_op(self) -> np.ndarray:
        """The action that moves nothing."""
        out = np.zeros((self.max_moves, 2), dtype=np.int64)
        out[:, 0] = self.n_guests
        return out

    def _answer(self, action: Any) -> None:
        """Check ``action`` and hand its moves to the engine."""
        assert self.ext is not None
        self.ext.answer(self.decode(action))

    def decode(self, action: Any) -> list[tuple[int, int]]:
        """The moves of ``action`` in row order (ValueError if outside the action space)."""
        a = np.asarray(action)
        if (a.shape != (self.max_moves, 2) or not np.issubdtype(a.dtype, np.integer)
                or (a < 0).any() or (a >= self._nvec).any()):
            raise ActionError(
                f"action outside the action space MultiDiscrete(shape=({self.max_moves}, 2), "
                f"[[n_guests + 1 = {self.n_guests + 1}, n_hosts = {self.n_hosts}]]): rows "
                f"(guest id, host id), guest {self.n_guests} = no move")
        rows = a[a[:, 0] < self.n_guests]
        return [(int(g), int(h)) for g, h in rows.tolist()]

    def encode(self, moves: list[tuple[int, int]]) -> np.ndarray:
        """An action holding ``moves`` (ValueError if more than ``max_moves``)."""
        if len(moves) > self.max_moves:
            raise ValueError(f"{len(moves)} moves do not fit in max_moves = {self.max_moves}: "
                             "make the environment with a larger max_moves")
        out = self.no_op()
        if moves:
            out[:len(moves)] = np.asarray(moves, dtype=np.int64)
        return out

    def builtin_action(self) -> np.ndarray:
        """The moves the configured consolidation policy plans now (``Consolidation.plan``
        on the same state), as an action (``dcsim.rl.agents.PolicyAgent``)."""
        req = self._request()
        if req is None:
            return self.no_op()
        return self.encode(req.cons.plan())

    # ------------------------------------------------------------------------ internals
    def _request(self) -> ConsolidateRequest | None:
        req = self.ext.pending if self.ext is not None and not self.done else None
        return req if isinstance(req, ConsolidateRequest) else None

    def _obs(self) -> dict[str, Any]:
        req = self._request()
        if req is None:
            self._hosts[:] = 0.0
            self._guests[:] = 0.0
            movable = np.zeros(self.n_guests, dtype=np.int8)
        else:
            sim, st, sc = req.cons.sim, req.cons.sim.state, self._scale
            nf = len(HOST_FEATURES)
            host_features(st, sim.util, self._hosts[:, :nf], sc)
            over = req.cons.overloaded()
            self._hosts[:, nf] = over
            active = st.awake & (st.n_guests > 0) & ~over
            self._hosts[:, nf + 1] = active & (sim.util < self.underload_threshold)
            moving = st.mig_dst >= 0
            mig_hosts = np.zeros(st.n_hosts, dtype=bool)
            mig_hosts[st.host_of[moving]] = True
            mig_hosts[st.mig_dst[moving]] = True
            self._hosts[:, nf + 2] = mig_hosts
            on = st.host_of >= 0
            cap_of = np.where(on, st.cap_mips[np.maximum(st.host_of, 0)], 1.0)
            gf = self._guests
            gf[:, 0] = on
            gf[:, 1] = st.host_of
            gf[:, 2] = np.where(on, sim.raw_want / cap_of, 0.0)
            gf[:, 3] = np.where(on, st.vcpus * st.mips / sc[0], 0.0)
            gf[:, 4] = np.where(on, st.gram / sc[1], 0.0)
            gf[:, 5] = moving
            movable = ((st.status == GuestStatus.RUNNING) & on & ~moving).astype(np.int8)
        return {"hosts": self._hosts.astype(np.float32),
                "guests": self._guests.astype(np.float32), "movable": movable}

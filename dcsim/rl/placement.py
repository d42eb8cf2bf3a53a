"""``dcsim/Placement-v0``: the agent places every guest the engine admits.

One step per guest to place: arrivals (guests arriving together one at a time, in the order the
configured placement policy takes them) and guests re-placed after a failure. Everything else
(boots, departures, workload sampling, consolidation if configured, failures) runs as in
``dcsim run``.

Action: ``Discrete(n_hosts + 1)``: a host id, or ``n_hosts`` = leave the guest unplaced
(rejected; after a failure it stays down until a repair). A host the guest does not fit on
(``action_mask`` 0) is not an error: the guest is left unplaced, as with ``n_hosts``, and counted
in ``info["refused"]`` — the capacity law is never broken. An action outside the space raises
``ValueError``.

Observation (``Dict``):

* ``hosts`` (n_hosts, 10) float32, per host: ``HOST_FEATURES``;
* ``guest`` (5,) float32, the guest to place: ``GUEST_FEATURES``;
* ``action_mask`` (n_hosts + 1,) int8: 1 where the guest fits now (capacity, layer kind, slots,
  cores; ``ClusterState.feasible``), and 1 for the last action (unplaced).

The mask is also in ``info["action_mask"]`` and returned by ``action_masks()`` (the name
MaskablePPO of sb3-contrib calls). After the last decision, ``step`` runs the rest of the
episode and returns ``terminated=True``, a zero observation and the run's summary in
``info["summary"]``.

Imports: numpy, gymnasium, dcsim.rl._base, dcsim.engine.decisions.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
from gymnasium import spaces

from dcsim.config.resolve import Scenario
from dcsim.engine.decisions import PlaceRequest
from dcsim.rl._base import ActionError, DcsimEnv

#: Per-host features of both environments' ``hosts`` arrays (columns, in this order).
HOST_FEATURES = (
    "cpu_free",      # (capacity × CPU overcommit − reserved MIPS) / capacity
    "ram_free",      # (RAM − RAM in use, footprints included) / RAM
    "storage_free",  # (storage − storage in use) / storage (0 for a host without storage)
    "utilization",   # CPU utilisation at the last re-share: raw MIPS used / capacity
    "awake",         # 1 powered on (or waking), 0 asleep
    "guests",        # guests placed (incl. ones arriving by migration)
    "layer",         # index of the host's virtualization profile in ``profile_names``
    "datacenter",    # data-center index (config order)
    "usable",        # 1 up and reachable, 0 failed or cut off
    "capacity",      # capacity in MIPS / the largest host's
)

#: Features of the guest to place.
GUEST_FEATURES = (
    "mips",    # vCPUs × MIPS per vCPU / the largest host's capacity
    "ram",     # RAM / the largest host's RAM
    "disk",    # disk / the largest host's storage (0 if no host has storage)
    "vcpus",   # vCPUs
    "kind",    # layer class it needs (-1: any; else the first host's, ``LAYER_CLASS``)
)


def host_features(view: Any, util: Any, out: np.ndarray, scale: np.ndarray) -> np.ndarray:
    """Fill ``out`` (n_hosts, 10) with ``HOST_FEATURES`` of ``view`` (a ClusterState or its
    sandbox); ``util`` the engine's utilisation; ``scale`` = (max capacity, max RAM, max
    storage)."""
    cap = view.cap_mips
    out[:, 0] = (cap * view.overcommit - view.reserved_mips) / cap
    out[:, 1] = (view.ram_limit - view.used_ram) / view.ram_limit
    with np.errstate(divide="ignore", invalid="ignore"):
        out[:, 2] = np.where(view.storage > 0,
                             (view.storage - view.used_storage) / view.storage, 0.0)
    out[:, 3] = util
    out[:, 4] = view.awake
    out[:, 5] = view.n_guests
    out[:, 6] = view.profile
    out[:, 7] = view.datacenter
    out[:, 8] = view.usable
    out[:, 9] = cap / scale[0]
    return out


class PlacementEnv(DcsimEnv):
    """See the module docstring. ``config``: a path, dict or Scenario (None: the default
    config); ``overrides``: ``dotted.path=value`` strings as ``dcsim run --set``; ``reward``:
    metric → weight (``dcsim.rl._base``); ``check_invariants``: check the capacity law after
    every change (slow; for tests)."""

    def __init__(self, config: Scenario | dict[str, Any] | str | Path | None = None,
                 overrides: list[str] | None = None,
                 reward: dict[str, float] | None = None, check_invariants: bool = False) -> None:
        super().__init__(config, overrides, reward, placement=True, consolidation=False,
                         check_invariants=check_invariants)
        h = self.n_hosts
        self.action_space = spaces.Discrete(h + 1)
        self.observation_space = spaces.Dict({
            "hosts": spaces.Box(-np.inf, np.inf, (h, len(HOST_FEATURES)), np.float32),
            "guest": spaces.Box(-np.inf, np.inf, (len(GUEST_FEATURES),), np.float32),
            "action_mask": spaces.MultiBinary(h + 1),
        })
        self._hosts = np.zeros((h, len(HOST_FEATURES)), dtype=np.float64)
        self._mask = np.zeros(h + 1, dtype=np.int8)

    # ------------------------------------------------------------------------ actions
    def _answer(self, action: Any) -> None:
        """Check ``action`` and hand it to the engine."""
        try:
            a = int(action)
            ok = a == action and 0 <= a <= self.n_hosts
        except (TypeError, ValueError):
            ok = False
        if not ok:
            raise ActionError(f"action {action!r} is outside the action space "
                             f"Discrete({self.n_hosts + 1}) (a host id, or {self.n_hosts} = "
                             "leave the guest unplaced)")
        assert self.ext is not None
        self.ext.answer(-1 if a == self.n_hosts else a)

    def action_masks(self) -> np.ndarray:
        """The current action mask (bool, n_hosts + 1)."""
        return self._mask.astype(bool)

    def builtin_action(self) -> int:
        """The action the configured placement policy would take for the pending guest: its
        ``choose`` on the same sandbox view and mask (``dcsim.rl.agents.PolicyAgent``), or, for
        a policy with only the protocol's ``place`` (a plugin's), ``place`` of the guest alone
        ("unplaced" if it names no host the guest fits on)."""
        req = self._request()
        if req is None or not req.mask.any():
            return self.n_hosts
        assert self.sim is not None
        policy = self.sim.policy
        choose = getattr(policy, "choose", None)
        if choose is not None:
            return int(choose(req.view, req.guest, req.mask))
        h = int(policy.place(req.view, np.asarray([req.guest], dtype=np.intp))[0])
        return h if 0 <= h < self.n_hosts and bool(req.mask[h]) else self.n_hosts

    # ------------------------------------------------------------------------ internals
    def _request(self) -> PlaceRequest | None:
        req = self.ext.pending if self.ext is not None and not self.done else None
        return req if isinstance(req, PlaceRequest) else None

    def _obs(self) -> dict[str, Any]:
        req = self._request()
        guest = np.zeros(len(GUEST_FEATURES), dtype=np.float32)
        if req is None:
            self._hosts[:] = 0.0
            self._mask[:] = 0
            self._mask[-1] = 1
        else:
            assert self.sim is not None
            view, g, sc = req.view, req.guest, self._scale
            host_features(view, self.sim.util, self._hosts, sc)
            self._mask[:-1] = req.mask
            self._mask[-1] = 1
            guest[:] = (view.vcpus[g] * view.mips[g] / sc[0], view.gram[g] / sc[1],
                        view.gdisk[g] / sc[2] if sc[2] > 0 else 0.0, view.vcpus[g],
                        view.kind[g])
        return {"hosts": self._hosts.astype(np.float32), "guest": guest,
                "action_mask": self._mask.copy()}

    def _info(self) -> dict[str, Any]:
        info = super()._info()
        info["action_mask"] = self._mask.astype(bool)
        return info

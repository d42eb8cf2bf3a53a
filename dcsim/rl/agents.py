"""Ready-made agents: what a built-in policy would do, a random masked agent, and no-op.

``PolicyAgent`` returns, at every decision, the configured policy's own choice on the same state
(``builtin_action``): run through an environment it reproduces ``dcsim run`` of the same config
bit for bit (the test that the environment is the simulator). Agents are callables
``agent(obs, info) -> action``.

Imports: numpy.
"""

from __future__ import annotations

from typing import Any

import numpy as np


class PolicyAgent:
    """The configured placement (``Placement-v0``) or consolidation (``Consolidation-v0``)
    policy's decisions, e.g. PABFD or LR-MMT 1.2."""

    def __init__(self, env: Any) -> None:
        self.env = env.unwrapped

    def __call__(self, obs: Any, info: dict[str, Any]) -> Any:
        return self.env.builtin_action()


class RandomMaskedAgent:
    """Placement: a host drawn uniformly among those the guest fits on (the ``action_mask``),
    "unplaced" only when none fits; from its own seeded generator."""

    def __init__(self, seed: int = 0) -> None:
        self.rng = np.random.default_rng(seed)

    def __call__(self, obs: Any, info: dict[str, Any]) -> int:
        mask = np.asarray(obs["action_mask"], dtype=bool)
        hosts = np.flatnonzero(mask[:-1])
        if not hosts.shape[0]:
            return int(mask.shape[0] - 1)
        return int(hosts[self.rng.integers(hosts.shape[0])])


class NoOpAgent:
    """Consolidation: never migrates."""

    def __init__(self, env: Any) -> None:
        self.action: np.ndarray = np.asarray(env.unwrapped.no_op())

    def __call__(self, obs: Any, info: dict[str, Any]) -> np.ndarray:
        return self.action

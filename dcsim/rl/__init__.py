"""dcsim as Gymnasium environments (``pip install "dcsim[rl]"``).

``dcsim/Placement-v0`` (:class:`PlacementEnv`): one step per guest to place; the action is a
host. ``dcsim/Consolidation-v0`` (:class:`ConsolidationEnv`): one step per scheduling interval;
the action is a list of migrations. Both run the engine of ``dcsim run`` with the agent taking
that decision (``dcsim.engine.decisions``); rewards weigh additive summary metrics
(``dcsim.rl._base``). Importing this package registers both ids with Gymnasium::

    import gymnasium as gym
    import dcsim.rl
    env = gym.make("dcsim/Placement-v0", config="configs/default.yaml")

Imports: gymnasium (the ``rl`` extra), dcsim.rl.*.
"""

from __future__ import annotations

try:
    import gymnasium as gym
except ImportError as exc:  # pragma: no cover - depends on the environment
    raise ImportError('dcsim.rl needs Gymnasium: pip install "dcsim[rl]"') from exc

from dcsim.rl._base import DEFAULT_REWARD, REWARD_METRICS
from dcsim.rl.agents import NoOpAgent, PolicyAgent, RandomMaskedAgent
from dcsim.rl.consolidation import CONS_HOST_FEATURES, ConsolidationEnv
from dcsim.rl.consolidation import GUEST_FEATURES as CONS_GUEST_FEATURES
from dcsim.rl.placement import GUEST_FEATURES, HOST_FEATURES, PlacementEnv

__all__ = ["CONS_GUEST_FEATURES", "CONS_HOST_FEATURES", "DEFAULT_REWARD", "GUEST_FEATURES",
           "HOST_FEATURES", "REWARD_METRICS", "ConsolidationEnv", "NoOpAgent", "PlacementEnv",
           "PolicyAgent", "RandomMaskedAgent"]

for _id, _entry in (("dcsim/Placement-v0", "dcsim.rl.placement:PlacementEnv"),
                    ("dcsim/Consolidation-v0", "dcsim.rl.consolidation:ConsolidationEnv")):
    if _id not in gym.registry:
        gym.register(id=_id, entry_point=_entry, disable_env_checker=True)

"""The names of the migration models, without pydantic (``dcsim migration --help`` needs them).

``dcsim.config.migration`` re-exports :data:`MIGRATION_MODELS` and describes each model.
"""

from __future__ import annotations

__all__ = ["MIGRATION_MODELS"]

MIGRATION_MODELS: tuple[str, ...] = ("precopy", "postcopy", "cold", "checkpoint", "cloudsim")

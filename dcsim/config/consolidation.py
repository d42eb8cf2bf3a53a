"""Config of dynamic consolidation in dcsim's default semantics (the ``consolidation`` section).

``policy`` names the combination as in the CloudSim experiments: ``"<detector>-<selection>
[-<parameter>]"`` (``thr-mmt-0.8``, ``lr-mmt-1.2``, ``mad-mc-2.5`` …); detectors THR, IQR, MAD,
LR, LRR and selections MMT, MC, RS, MU come from ``dcsim.policies``, which owns the names: the
policy string is checked by ``dcsim.validate`` (config imports no policy). Migrations use
``migration`` (pre-copy live migration over the network by default).

Imports: pydantic, dcsim.units, dcsim.config.{catalog, migration}.
"""

from __future__ import annotations

from pydantic import Field

from dcsim.config.catalog import Frozen
from dcsim.config.migration import MigrationSpec
from dcsim.units import Integer


class ConsolidationSpec(Frozen):
    """The ``consolidation`` section."""

    policy: str = Field("thr-mmt-0.8", description="<detector>-<selection>[-<parameter>]")
    underload: bool = Field(True, description="evacuate the least-loaded hosts when possible")
    history: Integer = Field(12, ge=1, le=1000, description="utilisation samples kept per host")
    max_migrations_per_step: Integer | None = Field(None, ge=1)
    migration: MigrationSpec = MigrationSpec()
    memory_pressure: bool = Field(
        False, description="hosts that swap count as overloaded: guests leave them until the "
        "swapped memory is shed, and no target takes a guest it could not hold without "
        "swapping (needs memory accounting: dcsim.engine.memory)")


"""The generic name registry of policies and models (defined in the leaf module
:mod:`dcsim.registry`, so that ``config`` can keep registries too); re-exported here, where the
policy families import it."""

from __future__ import annotations

from dcsim.registry import BUILTIN, Registry

__all__ = ["BUILTIN", "Registry"]

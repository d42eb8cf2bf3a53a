"""dcsim: a discrete-event simulator of virtualized data centers.

Public API: ``load_config``, ``run``, ``sweep``, ``ConfigError``, ``__version__``; policy
registries live in ``dcsim.policies``.
"""

from __future__ import annotations

from dcsim.api import load_config, run
from dcsim.errors import ConfigError
from dcsim.version import __version__


def sweep(*args: object, **kwargs: object) -> object:
    """Run a config's sweep section (see ``dcsim.experiments.sweep.run_sweep``)."""
    from dcsim.experiments.sweep import run_sweep

    return run_sweep(*args, **kwargs)  # type: ignore[arg-type]

__all__ = ["ConfigError", "__version__", "load_config", "run", "sweep"]

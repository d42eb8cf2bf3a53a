"""dcsim: a discrete-event simulator of virtualized data centers.

Public API: ``load_config``, ``run``, ``sweep``, ``ConfigError``, ``__version__``; policy
registries live in ``dcsim.policies``.

``import dcsim`` is cheap: ``load_config`` and ``run`` (which pull in pydantic, pandas and the
engine), ``__version__`` (importlib.metadata) and the subpackages (``dcsim.api``,
``dcsim.policies``, …) are imported on first use through the module-level ``__getattr__``
(PEP 562).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from dcsim.errors import ConfigError

if TYPE_CHECKING:
    from dcsim.api import load_config, run
    from dcsim.version import __version__

_LAZY = frozenset({"load_config", "run", "__version__"})


def __getattr__(name: str) -> Any:
    """``load_config``, ``run`` (``dcsim.api``) and ``__version__``, imported on first access."""
    if name in _LAZY:
        if name == "__version__":
            from dcsim import version as module
        else:
            from dcsim import api as module  # type: ignore[no-redef]
        value = getattr(module, name)
        globals()[name] = value
        return value
    if not name.startswith("_"):  # a subpackage (``dcsim.api``), as when __init__ imported it
        import importlib

        try:
            return importlib.import_module(f"{__name__}.{name}")
        except ModuleNotFoundError as exc:
            if exc.name != f"{__name__}.{name}":
                raise
    raise AttributeError(f"module 'dcsim' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted({*globals(), *_LAZY})


def sweep(*args: object, **kwargs: object) -> object:
    """Run a config's sweep section (see ``dcsim.experiments.sweep.run_sweep``)."""
    from dcsim.experiments.sweep import run_sweep

    return run_sweep(*args, **kwargs)  # type: ignore[arg-type]

__all__ = ["ConfigError", "__version__", "load_config", "run", "sweep"]

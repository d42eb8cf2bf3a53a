"""Import typer's rich help formatter without ``rich.markdown`` and ``rich.traceback``.

``typer.rich_utils`` (which draws every ``--help`` screen and usage error) imports
``rich.markdown.Markdown`` and ``rich.traceback.Traceback`` at its top. Together they pull in
markdown_it, pygments and attrs: about 0.07 s of CPU, a quarter of ``dcsim --help``. It uses
``Markdown`` only with ``rich_markup_mode="markdown"`` (dcsim's CLI uses typer's default, "rich")
and ``Traceback`` only for pretty exceptions (disabled in ``dcsim.cli``), so
:func:`load_help_formatter` imports it while two stand-in modules take the place of those two:
their classes import the real ones on first use (construction, attribute or ``isinstance``),
so even a markdown help text would render the same. The stand-ins are removed from
``sys.modules`` right after, so any later ``import rich.markdown`` gets the real module. If a typer
version asks those modules for other names, the formatter is imported normally.

Only the console script (``dcsim.cli.main``) calls it, and only when the arguments ask for a
help screen; the help text itself is typer's, byte for byte.

Imports: nothing of dcsim; typer (its help module) when called.
"""

from __future__ import annotations

import importlib
import sys
import types
from typing import Any

__all__ = ["load_help_formatter"]

_DEFERRED = (("rich.markdown", "Markdown"), ("rich.traceback", "Traceback"))


def _real(module: str, name: str) -> Any:
    return getattr(importlib.import_module(module), name)


def _stand_in(module: str, name: str) -> type:
    """A class that behaves as ``module.name`` once used, importing the real one only then."""

    class _Deferred(type):
        def __getattr__(cls, attr: str) -> Any:  # class attributes: Traceback.from_exception
            return getattr(_real(module, name), attr)

        def __instancecheck__(cls, obj: Any) -> bool:
            return isinstance(obj, _real(module, name))

    def __new__(cls: type, *args: Any, **kwargs: Any) -> Any:
        return _real(module, name)(*args, **kwargs)

    return _Deferred(name, (), {"__new__": __new__, "__module__": module})


def load_help_formatter() -> None:
    """Import ``typer.rich_utils`` with rich.markdown and rich.traceback deferred (see above)."""
    if "typer.rich_utils" in sys.modules:
        return
    placed: dict[str, types.ModuleType] = {}
    for module, name in _DEFERRED:
        if module not in sys.modules:
            stub = types.ModuleType(module, "stand-in while typer.rich_utils is imported")
            setattr(stub, name, _stand_in(module, name))
            placed[module] = sys.modules[module] = stub
    try:
        importlib.import_module("typer.rich_utils")
    except ImportError:  # a typer that needs more from these modules: import it normally
        sys.modules.pop("typer.rich_utils", None)
        for module, stub in placed.items():
            if sys.modules.get(module) is stub:
                del sys.modules[module]
        placed.clear()
        importlib.import_module("typer.rich_utils")
    finally:
        for module, stub in placed.items():
            if sys.modules.get(module) is stub:
                del sys.modules[module]

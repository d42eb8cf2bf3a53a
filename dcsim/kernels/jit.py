"""Loading numba-compiled functions from numba's disk cache without setting up numba's compiler.

numba's cache loader (``numba.core.caching.Cache.load_overload``) first refreshes the CPU target
context: it imports every implementation module of numba (``numba.np.arraymath`` imports
``scipy.linalg`` to look for a BLAS) and installs their registries, ~0.45 s of CPU paid once per
process, on the first call of a cached function. Loading compiled code needs none of that, only
numba's runtime (NRT) symbols in LLVM's symbol table, which ``rtsys.initialize`` registers
(~0.04 s). The compiler refreshes the context itself before it compiles
(``numba.core.compiler.CompilerBase``), so a cache miss (new signature, changed source, other
numba version) compiles exactly as before. What is loaded is numba's own cached machine code, so
the compiled functions and their results are the same.

numba invalidates a function's disk cache when the source file of that function changes, not
when a module it calls into or takes constants from changes: a kernel compiled against
another module's ``njit`` functions would keep their old machine code (a real hazard: after an
edit of ``pabfd_kernel.place``, the cached planner loops still placed guests with the old
code). :func:`cache_depends_on`, called by such a module at import, adds the SHA-256 of those
modules' sources to the stamp its caches are checked against, so any edit recompiles it.

:func:`light_cache` switches the dispatchers of a module to that loader; with a numba whose cache
class lacks the two methods it relies on, it changes nothing. :func:`load` imports a numba module on
first use and switches it (:func:`kernel`: one of ``dcsim.kernels``).

Imports numba (only when called).
"""

from __future__ import annotations

import hashlib
import importlib
import importlib.util
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

__all__ = ["cache_depends_on", "kernel", "light_cache", "load"]

_LIGHT: dict[str, type] = {}


def _light_class() -> type | None:
    """``FunctionCache`` whose loads skip the target context's refresh (None: unsupported)."""
    if "cls" in _LIGHT:
        return _LIGHT["cls"]
    from numba.core import caching, runtime

    function_cache: Any = caching.FunctionCache
    rtsys: Any = getattr(runtime, "rtsys")  # noqa: B009 - not re-exported for type checkers
    if not all(hasattr(function_cache, m)
               for m in ("load_overload", "_load_overload", "_guard_against_spurious_io_errors")):
        return None  # pragma: no cover - a numba whose cache internals differ

    class LightLoadCache(function_cache):  # type: ignore[misc]
        """numba's function cache; a load registers the runtime only (see the module doc)."""

        def load_overload(self, sig: Any, target_context: Any) -> Any:
            rtsys.initialize(target_context)
            with self._guard_against_spurious_io_errors():
                return self._load_overload(sig, target_context)
            return None  # an I/O error the guard swallowed: compile instead

    _LIGHT["cls"] = LightLoadCache
    return LightLoadCache


def light_cache(module: ModuleType) -> int:
    """Switch every cached numba dispatcher defined in ``module`` to the light loader; returns
    how many were switched (0: none, or a numba this does not support)."""
    from numba.core.caching import FunctionCache
    from numba.core.dispatcher import Dispatcher

    cls = _light_class()
    if cls is None:
        return 0  # pragma: no cover
    n = 0
    for obj in vars(module).values():
        cache = getattr(obj, "_cache", None) if isinstance(obj, Dispatcher) else None
        if type(cache) is FunctionCache:
            cache.__class__ = cls
            n += 1
    return n


def _source(name: str) -> bytes:
    mod = sys.modules.get(name)
    origin = getattr(mod, "__file__", None) if mod is not None else None
    if origin is None:
        spec = importlib.util.find_spec(name)
        origin = spec.origin if spec is not None else None
    if origin is None:
        raise ImportError(f"cache_depends_on: no source file for {name!r}")
    return Path(origin).read_bytes()


def _closure(deps: tuple[str, ...]) -> list[str]:
    """``deps`` and, for each that declares ``CACHE_DEPENDS_ON`` itself (a kernel module whose
    functions get compiled into the caller), its own, recursively; sorted."""
    seen: set[str] = set()
    todo = list(deps)
    while todo:
        name = todo.pop()
        if name not in seen:
            seen.add(name)
            todo += getattr(sys.modules.get(name), "CACHE_DEPENDS_ON", ())
    return sorted(seen)


def cache_depends_on(module_name: str, *deps: str) -> int:
    """Make the disk caches of the numba functions defined in ``module_name`` valid only for
    the current sources of the modules ``deps`` too, and of the modules they declare in turn
    (see the module docstring); call it at the end of the module, after its imports. Returns
    how many caches were stamped. With a numba whose cache internals differ, those functions
    are not cached on disk at all (compiled once per process): slower, never stale."""
    from numba.core.caching import FunctionCache, NullCache
    from numba.core.dispatcher import Dispatcher

    h = hashlib.sha256()
    for dep in _closure(deps):
        h.update(dep.encode() + b"\0" + hashlib.sha256(_source(dep)).digest())
    stamp = h.hexdigest()
    n = 0
    for obj in vars(sys.modules[module_name]).values():
        cache = getattr(obj, "_cache", None) if isinstance(obj, Dispatcher) else None
        if not isinstance(cache, FunctionCache) or getattr(obj, "__module__", None) != module_name:
            continue
        cache_file = getattr(cache, "_cache_file", None)
        if cache_file is None or not hasattr(cache_file, "_source_stamp"):  # pragma: no cover
            obj._cache = NullCache()
            continue
        cache_file._source_stamp = (cache_file._source_stamp, "dcsim-deps", stamp)
        n += 1
    return n


_LOADED: dict[str, Any] = {}


def load(module: str) -> Any:
    """The numba module ``module``, imported on first use (importing numba costs ~0.5 s of CPU,
    so never at ``import dcsim``) with its dispatchers switched to the light loader
    (:func:`light_cache`)."""
    mod = _LOADED.get(module)
    if mod is None:
        mod = importlib.import_module(module)
        light_cache(mod)
        _LOADED[module] = mod
    return mod


def kernel(name: str) -> Any:
    """:func:`load` of the numba module ``dcsim.kernels.<name>``."""
    return load(f"dcsim.kernels.{name}")

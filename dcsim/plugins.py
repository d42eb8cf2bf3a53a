"""Plugins: third-party packages that add policies, models and engine extensions by name.

Protocol
--------
A plugin is a Python distribution that declares one entry point per plugin in the group
``dcsim.plugins``, pointing at a callable that takes a :class:`PluginAPI`::

    # the plugin's pyproject.toml
    [project.entry-points."dcsim.plugins"]
    example = "dcsim_example_plugin:register"

    # dcsim_example_plugin/__init__.py
    def register(api):
        api.placement("last_fit", LastFit)
        api.workload("step", StepParams, build_step)

``register(api)`` adds entries only through ``api`` (never by importing dcsim's registries), so
that dcsim knows where each entry comes from and can take a failing plugin back out whole. The
families:

=========================  ==========================================================
``api.placement``          admission placement policy (``placement.name``)
``api.overload``           overload detector (the ``<detector>`` of ``consolidation.policy``)
``api.selection``          guest selection (the ``<selection>`` of ``consolidation.policy``)
``api.workload``           workload kind (``guests[i].workload.kind``, its params beside)
``api.power_model``        power model kind (``power.kind``, its params beside)
``api.virtualization_profile``  virtualization profile (``hosts[j].virtualization``)
``api.extension``          engine extension, enabled by ``extensions: {<name>: {params}}``
=========================  ==========================================================

A name must be new: a name that a built-in or an earlier plugin already holds is refused. Names
are lower-case ``[a-z][a-z0-9_]*`` (detector and selection names end up inside consolidation
policy names such as ``lr-mmt-1.2``, so they cannot contain ``-``). An engine extension runs
only in runs whose config enables it, so installing a plugin never changes the results of a
config that does not name something of it.

Loading
-------
:func:`load_plugins` runs once per process, lazily, before the first config is checked
(``dcsim.validate.parse_config``: ``dcsim run``, ``dcsim validate``, sweeps and their workers,
``dcsim.load_config``/``dcsim.run``) and for ``dcsim plugins``. Plugins load in the order of
their entry-point names. A plugin whose import or ``register`` fails, or that registers a name
already held, is skipped as a whole (what it registered before the failure is removed) and
reported by name as a :class:`PluginWarning` (one line, no traceback); the built-ins and the
other plugins still work, and a config naming the skipped plugin's entries is refused as naming
an unknown entry.

Input files
-----------
A parameter that names an input file or folder is declared :data:`InputPath` (``from
dcsim.plugins import InputPath``; a ``str``, relative names relative to the config's folder, e.g.
``ctx.base_dir`` for a workload). ``dcsim.validate`` refuses a config whose such parameter names
no existing file (with its config path), and the run's ``manifest.json`` lists the file's size
and SHA-256 under ``inputs``, as it does for traces: a sweep does not resume over changed bytes.

Layer: above ``engine`` (it registers engine extensions), below ``validate``. Imports:
dcsim.config.inputs; lazily: dcsim.config, dcsim.policies, dcsim.workload,
dcsim.engine.extensions, dcsim.registry.
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from dcsim.config.inputs import InputPath  # re-exported: plugin params naming input files

if TYPE_CHECKING:
    from pydantic import BaseModel

    from dcsim.registry import Registry

__all__ = [
    "GROUP",
    "InputPath",
    "PluginAPI",
    "PluginError",
    "PluginInfo",
    "PluginWarning",
    "load_plugins",
    "plugin_extensions",
    "plugins",
    "registered",
    "unload_plugins",
]

GROUP = "dcsim.plugins"
"""The entry-point group dcsim reads."""

_NAME = re.compile(r"[a-z][a-z0-9_]{0,63}")


class PluginError(Exception):
    """A plugin's registration was refused (bad name, duplicate, wrong kind of object)."""


class PluginWarning(UserWarning):
    """A plugin could not be loaded; the message names it and says why."""


@dataclass
class PluginInfo:
    """One entry point of the group and what became of it."""

    name: str
    value: str
    distribution: str
    status: str = "loaded"  # "loaded" or "failed"
    error: str = ""
    entries: list[tuple[str, str]] = field(default_factory=list)  # (family, name) registered

    @property
    def origin(self) -> str:
        """How ``dcsim plugins`` names where an entry comes from."""
        return f"plugin {self.name} ({self.distribution})"


@dataclass(frozen=True)
class ExtensionEntry:
    """An engine extension a plugin registered: ``factory(sim, params)`` → extension or None."""

    params: type[BaseModel] | None
    factory: Callable[[Any, Any], Any]


_STATE: dict[str, Any] = {"loaded": False, "plugins": []}
_EXTENSIONS: dict[str, ExtensionEntry] = {}


def _families() -> dict[str, Registry[Any]]:
    """family → registry, with the built-ins registered (their modules imported)."""
    from dcsim.config.catalog import PLUGIN_PROFILES
    from dcsim.config.power_table import POWER_MODELS
    from dcsim.engine.extensions import EXTENSIONS
    from dcsim.policies.overload import OVERLOAD
    from dcsim.policies.placement import PLACEMENT
    from dcsim.policies.selection import SELECTION
    from dcsim.workload import models  # noqa: F401  (registers the built-in workload kinds)
    from dcsim.workload.kinds import WORKLOADS

    return {
        "placement": PLACEMENT,
        "overload": OVERLOAD,
        "selection": SELECTION,
        "workload": WORKLOADS,
        "power model": POWER_MODELS,
        "virtualization profile": PLUGIN_PROFILES,
        "engine extension": EXTENSIONS,
    }


class PluginAPI:
    """What a plugin's ``register(api)`` receives: one method per family (module docstring)."""

    def __init__(self, info: PluginInfo) -> None:
        self._info = info
        self._families = _families()

    # ------------------------------------------------------------------ helpers ----------
    def _add(self, family: str, name: str, obj: Any) -> None:
        if not isinstance(name, str) or not _NAME.fullmatch(name):
            raise PluginError(f"{family} name {name!r}: expected lower-case letters, digits and "
                              "'_', starting with a letter (at most 64)")
        try:
            self._families[family].register(name, origin=self._info.origin)(obj)
        except ValueError as exc:
            raise PluginError(str(exc)) from None
        self._info.entries.append((family, name))

    @staticmethod
    def _params_model(what: str, params: Any) -> type[BaseModel]:
        from pydantic import BaseModel

        if not (isinstance(params, type) and issubclass(params, BaseModel)):
            raise PluginError(f"{what}: params must be a pydantic model class, got {params!r}")
        return params

    def _policy(self, family: str, name: str, cls: Any, method: str) -> None:
        if not isinstance(cls, type) or not callable(getattr(cls, method, None)):
            raise PluginError(f"{family} {name!r}: expected a class with a {method}() method")
        self._params_model(f"{family} {name!r}", getattr(cls, "Params", None))
        self._add(family, name, cls)

    # ------------------------------------------------------------------ families ---------
    def placement(self, name: str, cls: type[Any]) -> None:
        """An admission placement policy (``dcsim.policies.placement``'s protocol:
        ``cls.Params``, ``cls(params, rng)``, ``place(view, guests) -> host per guest``)."""
        self._policy("placement", name, cls, "place")

    def overload(self, name: str, cls: type[Any]) -> None:
        """An overload detector (``dcsim.policies.overload``'s protocol: ``cls.Params``,
        ``cls()``, ``cls.from_parameter(x)``, ``overloaded(load)``, ``cheap_vectorized``,
        ``history_depth``)."""
        self._policy("overload", name, cls, "overloaded")

    def selection(self, name: str, cls: type[Any]) -> None:
        """A guest selection policy (``dcsim.policies.selection``'s protocol: ``cls.Params``,
        ``cls()``, ``select(guests, rng) -> guest or None``)."""
        self._policy("selection", name, cls, "select")

    def workload(self, name: str, params: type[BaseModel],
                 build: Callable[[Any, int, Any], Any], description: str = "") -> None:
        """A workload kind: ``build(params, n, ctx)`` returns a model with ``values(t_s)`` →
        (n,) utilisation in [0, 1] (``dcsim.workload.kinds``)."""
        from dcsim.workload.kinds import WorkloadKind

        if not callable(build):
            raise PluginError(f"workload {name!r}: build must be callable")
        model = self._params_model(f"workload {name!r}", params)
        self._add("workload", name, WorkloadKind(model, build, description))

    def power_model(self, name: str, params: type[BaseModel],
                    table: Callable[[Any], Sequence[float]], description: str = "") -> None:
        """A power model kind: ``table(params)`` gives the 11 watts at 0 %, 10 %, …, 100 %
        load (``dcsim.config.power_table``)."""
        from dcsim.config.power_table import PowerModel

        if not callable(table):
            raise PluginError(f"power model {name!r}: table must be callable")
        model = self._params_model(f"power model {name!r}", params)
        self._add("power model", name, PowerModel(model, table, description))

    def virtualization_profile(self, name: str, profile: Mapping[str, Any]) -> None:
        """A virtualization profile: the fields of ``dcsim.config.catalog.VirtualizationProfile``
        (with a ``sources`` mapping citing each number), or ``base: <profile>`` plus changes."""
        from pydantic import ValidationError

        from dcsim.config.catalog import VirtualizationProfile, virtualization_profiles

        known = virtualization_profiles()
        if name in known:
            raise PluginError(f"virtualization profile {name!r} is already registered")
        raw = dict(profile)
        base = raw.pop("base", None)
        try:
            if base is not None:
                if base not in known:
                    raise PluginError(f"virtualization profile {name!r}: unknown base {base!r}")
                merged = {**known[base].model_dump(), **raw}
                prof = VirtualizationProfile.model_validate(merged)
            else:
                prof = VirtualizationProfile.model_validate(raw)
        except ValidationError as exc:
            why = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
            raise PluginError(f"virtualization profile {name!r}: {why}") from None
        self._add("virtualization profile", name, prof)

    def extension(self, name: str, factory: Callable[[Any, Any], Any],
                  params: type[BaseModel] | None = None) -> None:
        """An engine extension (``dcsim.engine.extensions``): ``factory(sim, params)`` returns an
        object with ``start(sim)`` and ``finish(sim, result)``; it runs only when the config
        enables it (``extensions: {<name>: {<params>}}``)."""
        from dcsim.engine.extensions import load_builtin

        if not callable(factory):
            raise PluginError(f"engine extension {name!r}: factory must be callable")
        model = None if params is None else self._params_model(f"extension {name!r}", params)
        load_builtin()  # their names must be taken before a plugin's are checked
        entry = ExtensionEntry(model, factory)

        def enabled(sim: Any) -> Any:
            raw = sim.sc.config.extensions.get(name)
            if raw is None:
                return None
            return factory(sim, None if model is None else model.model_validate(raw))

        self._add("engine extension", name, enabled)
        _EXTENSIONS[name] = entry


# ---------------------------------------------------------------------- loading ----------
def _distribution(ep: Any) -> str:
    dist = getattr(ep, "dist", None)
    if dist is None:
        return "unknown distribution"
    return f"{dist.metadata['Name']} {dist.version}"


def _remove(info: PluginInfo) -> None:
    families = _families()
    for family, name in info.entries:
        families[family].remove(name)
        if family == "engine extension":
            _EXTENSIONS.pop(name, None)
    info.entries.clear()


def load_plugins() -> list[PluginInfo]:
    """Load every plugin of the entry-point group once per process; what became of each.

    Failures are reported as :class:`PluginWarning` (see the module docstring) and never raise.
    """
    if _STATE["loaded"]:
        return list(_STATE["plugins"])
    from importlib.metadata import entry_points

    _families()  # the built-ins first: a plugin may not take their names
    _STATE["loaded"] = True
    infos: list[PluginInfo] = []
    for ep in sorted(entry_points(group=GROUP), key=lambda e: (e.name, e.value)):
        info = PluginInfo(ep.name, ep.value, _distribution(ep))
        infos.append(info)
        try:
            register = ep.load()
        except Exception as exc:  # any failure of third-party code is reported, not raised
            info.status, info.error = "failed", f"cannot import {ep.value!r}: " \
                                                f"{type(exc).__name__}: {exc}"
        else:
            try:
                if not callable(register):
                    raise PluginError(f"{ep.value!r} is not callable (expected register(api))")
                register(PluginAPI(info))
            except Exception as exc:
                _remove(info)
                what = "" if isinstance(exc, PluginError) else f"{type(exc).__name__}: "
                info.status, info.error = "failed", f"{what}{exc}"
        if info.status == "failed":
            warnings.warn(f"plugin {info.name!r} ({info.distribution}) not loaded: {info.error}",
                          PluginWarning, stacklevel=2)
    _STATE["plugins"] = infos
    return list(infos)


def unload_plugins() -> None:
    """Remove every plugin entry and forget the loading (for tests; the next
    :func:`load_plugins` scans the entry points again)."""
    for info in _STATE["plugins"]:
        _remove(info)
    _STATE["plugins"] = []
    _STATE["loaded"] = False


def plugins() -> list[PluginInfo]:
    """The plugins loaded so far (after :func:`load_plugins`)."""
    return list(_STATE["plugins"])


def plugin_extensions() -> dict[str, ExtensionEntry]:
    """Engine extensions registered by plugins, by name."""
    return dict(_EXTENSIONS)


def registered() -> list[tuple[str, str, str]]:
    """(family, name, origin) of every registered entry, built-in and plugin, sorted by
    family then name; the built-in virtualization profiles are listed as ``dcsim catalog``."""
    from dcsim.config.catalog import virtualization_profiles
    from dcsim.engine.extensions import load_builtin

    load_builtin()
    rows: list[tuple[str, str, str]] = []
    for family, reg in _families().items():
        if family == "virtualization profile":
            for name in virtualization_profiles():
                origin = reg.origin(name) if name in reg else "dcsim catalog"
                rows.append((family, name, origin))
            continue
        rows += [(family, name, reg.origin(name)) for name in reg.names()]
    order = list(_families())
    rows.sort(key=lambda r: (order.index(r[0]), r[1]))
    return rows

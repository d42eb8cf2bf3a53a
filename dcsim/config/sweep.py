"""The ``sweep:`` section of a config and its expansion into an ordered plan of runs.

A sweep varies values of the config it sits in. Parameters are named by dotted config paths
(``datacenters[0].hosts[0].virtualization``, ``placement.name``, ``guests[0].count``) or, for values
only used by expressions, by a bare name (``consolidation_ratio``)::

    sweep:
      grid:                      # cartesian product, first key slowest
        consolidation_ratio: [1, 2, 4]
        datacenters[0].hosts[0].virtualization: [kvm, docker]
      zip:                       # lists of equal length, varied together (one axis)
        duration: [1h, 2h]
        interval: [5m, 10m]
      sample:                    # random or Latin-hypercube points (scipy.stats.qmc), seeded
        method: lhs              # random | lhs
        n: 8
        params:
          guests[0].workload.high: {dist: uniform, low: 0.5, high: 1.0}
          datacenters[0].hosts[0].count: {dist: integer, low: 2, high: 6}
      derived:                   # safe arithmetic over the point's parameters, in order
        guests[0].count: "consolidation_ratio * datacenters[0].hosts[0].count"
      constraints:               # points where one is false are skipped
        - "virtualization != 'bare_metal' or consolidation_ratio == 1"
      replications: 5            # independent seeds spawned from the point's seed

Points are the product grid × zip × sample, in that order (each block in the order its keys are
written; the last grid key varies fastest). Expressions see every parameter by its full path and,
when unambiguous, by its last name segment (``virtualization``, ``count``), and any other path of
the base config as its raw YAML value (``guests[1].count``); they support numbers,
strings, ``+ - * / // % **``, comparisons, ``and or not``, ``x if c else y`` and the functions
``min max abs round floor ceil int float sqrt log exp``. They are parsed with :mod:`ast` and
evaluated by a whitelist walker: nothing is ever passed to ``eval``.

Every expanded point is validated as a normal config before anything runs and every problem of
every point is reported at once, with the point's parameters in each message. The ``sweep`` section
itself is never part of a point's config, so a point's scenario id depends only on its resolved run
config. Replication ``k`` of a point runs with seed ``spawn_seeds(point seed, replications)[k]``
(replication index 0 of the engine), so ``dcsim run --seed <row seed>`` with the point's values
reproduces a row exactly; points share seeds (common random numbers across the compared settings).

This module owns the ``sweep`` section (``SweepSpec``), the plan (``SweepPoint``, ``RunSpec``,
``SweepPlan``) and the expansion (``expand_sweep``, ``load_sweep``): parameter names and paths,
derived values, constraints, per-point validation and seeds. The per-point validation is the
caller's ``parse`` (``dcsim.validate.parse_config``, which runs the checks of the layers above
``config``); ``dcsim.experiments.sweep.plan_sweep`` passes it. The expression evaluator lives in
``dcsim.config.expressions`` and the value blocks (grid, zip, random / Latin-hypercube sampling,
with the distribution classes) in ``dcsim.config.sampling``; their public names (``Expression``,
``Uniform``, ``LogUniform``, ``IntegerRange``, ``Choice``, ``SampleSpec``) are re-exported here.

Imports: pydantic, dcsim.errors, dcsim.units, dcsim.rng (lazily), dcsim.config.{catalog, load,
expressions, sampling} (``dcsim.config.schema`` lazily, to walk its fields).
"""

from __future__ import annotations

import copy
import hashlib
import itertools
import json
import math
import re
import types
import typing
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Annotated, Any

from pydantic import BaseModel, Field, ValidationError

from dcsim.config.catalog import Frozen
from dcsim.config.cost import estimate
from dcsim.config.expressions import Expression
from dcsim.config.load import _split_path as split_path
from dcsim.config.load import config_hash, get_path, set_path
from dcsim.config.sampling import (
    DIST_TAGS,
    Choice,
    IntegerRange,
    LogUniform,
    SampleSpec,
    Uniform,
    canon,
    key_path,
    plain,
    value_blocks,
)
from dcsim.errors import ConfigError, Issue, say_inert
from dcsim.units import Integer

MAX_POINTS = 100_000
"""Most points a sweep may expand to (grid × zip × sample)."""
MAX_RUNS = 1_000_000
"""Most runs (points × replications) of one sweep."""

#: Validates one point's raw config completely; returns its scenario or raises ConfigError.
ParseFn = Callable[[dict[str, Any], str | None], Any]

__all__ = [
    "Choice",
    "Expression",
    "IntegerRange",
    "LogUniform",
    "RunSpec",
    "SampleSpec",
    "SweepPlan",
    "SweepPoint",
    "SweepSpec",
    "Uniform",
    "expand_sweep",
    "load_sweep",
]


# ----------------------------------------------------------------------------- the schema


class SweepSpec(Frozen):
    """What a sweep varies, how values are derived and filtered, and how often each point runs."""

    grid: dict[str, list[Any]] = Field(default_factory=dict,
                                       description="cartesian product of these value lists")
    zip: dict[str, list[Any]] = Field(default_factory=dict,
                                      description="equal-length lists varied together")
    sample: SampleSpec | None = None
    derived: dict[str, str] = Field(default_factory=dict,
                                    description="path or name -> arithmetic expression")
    constraints: list[str] = Field(default_factory=list,
                                   description="boolean expressions; false -> point skipped")
    replications: Integer = Field(1, gt=0, le=10_000,
                              description="runs per point, independent seeds (at most 10,000)")


# ----------------------------------------------------------------------------- the plan


@dataclass(frozen=True)
class SweepPoint:
    """One expanded point: its parameter values and its run config (without ``sweep``).

    Attributes
    ----------
    index : position in expansion order (0-based, dense over points kept by the constraints).
    point_id : ``p<index>-<8 hex digits of the parameters' hash>``; stable for a given sweep.
    params : parameter name → value, in expansion order, derived values last.
    config : the raw run config (YAML-level data) with the point's values set.
    config_hash : hash of the validated point config without its seed (equal across replications).
    seed : the point config's seed; replication seeds are spawned from it.
    est_seconds : the cost estimate of one of its runs (``dcsim.config.cost.estimate``), s: what
        orders the runs of a parallel sweep (longest first); not part of any hash.
    """

    index: int
    point_id: str
    params: dict[str, Any]
    config: dict[str, Any]
    config_hash: str
    seed: int
    est_seconds: float = 0.0


@dataclass(frozen=True)
class RunSpec:
    """One run of the plan: a point, a replication and its spawned seed."""

    point: SweepPoint
    replication: int
    seed: int

    @property
    def key(self) -> str:
        """``<point_id>-rep<k>``: the run's name in a results store."""
        return f"{self.point.point_id}-rep{self.replication}"

    def config(self) -> dict[str, Any]:
        """The point config with this run's seed."""
        cfg = copy.deepcopy(self.point.config)
        cfg["seed"] = self.seed
        return cfg


@dataclass(frozen=True)
class SweepPlan:
    """An expanded, validated sweep: ordered points, replications, seeds and the sweep hash."""

    name: str
    spec: SweepSpec
    points: tuple[SweepPoint, ...]
    param_names: tuple[str, ...]
    skipped: tuple[tuple[dict[str, Any], str], ...]
    source: str | None
    sweep_hash: str
    raw: dict[str, Any] = field(repr=False)

    @property
    def replications(self) -> int:
        return self.spec.replications

    @property
    def n_runs(self) -> int:
        return len(self.points) * self.spec.replications

    def runs(self) -> Iterator[RunSpec]:
        """Every run, point-major (point 0 rep 0, point 0 rep 1, ...)."""
        from dcsim.rng import spawn_seeds

        for p in self.points:
            for k, s in enumerate(spawn_seeds(p.seed, self.spec.replications)):
                yield RunSpec(p, k, s)

    def short_names(self) -> dict[str, str]:
        """Unambiguous short name (last name segment) → full parameter name."""
        return short_names(self.param_names)


# ----------------------------------------------------------------------------- helpers

_IDENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_RESERVED = {"point", "point_id", "replication", "seed", "status", "error", "scenario_id",
             "config_hash", "sweep_hash", "dcsim_version", "run_wall_s", "key"}


def short_names(names: tuple[str, ...] | list[str]) -> dict[str, str]:
    """Map each unambiguous last name segment of ``names`` to its full name."""
    by_short: dict[str, list[str]] = {}
    for n in names:
        try:
            parts = [p for p in split_path(n) if isinstance(p, str)]
        except ValueError:
            continue
        if parts and parts[-1] != n:
            by_short.setdefault(parts[-1], []).append(n)
    return {s: full[0] for s, full in by_short.items() if len(full) == 1 and s not in names}


def _unwrap(tp: Any) -> Any:
    """``Annotated[X, ...]`` → X; ``X | None`` → X; other unions are returned as they are."""
    while True:
        origin = typing.get_origin(tp)
        if origin is Annotated:
            tp = typing.get_args(tp)[0]
            continue
        if origin in (typing.Union, types.UnionType):
            args = [a for a in typing.get_args(tp) if a is not type(None)]
            if len(args) == 1:
                tp = args[0]
                continue
        return tp


def _path_problem(dotted: str, base: dict[str, Any]) -> str | None:
    """Why ``dotted`` is not a settable path of the config schema (None if it is, or unknown)."""
    from dcsim.config.load import format_path
    from dcsim.config.schema import Config

    try:
        parts = split_path(dotted)
    except ValueError as exc:
        return str(exc)
    tp: Any = Config
    data: Any = base
    for i, part in enumerate(parts):
        here = format_path(parts[:i]) or "the top level"
        tp = _unwrap(tp)
        origin = typing.get_origin(tp)
        if isinstance(part, str):
            if isinstance(tp, type) and issubclass(tp, BaseModel):
                if part not in tp.model_fields:
                    known = ", ".join(sorted(tp.model_fields))
                    return f"unknown key {part!r} under {here}; expected one of: {known}"
                tp = tp.model_fields[part].annotation
            elif origin is dict:
                tp = typing.get_args(tp)[1]
            elif tp is Any or typing.get_origin(tp) in (typing.Union, types.UnionType):
                return None  # a union (e.g. a workload kind) or free data: checked per point
            else:
                return f"{here} is not a mapping, so it has no key {part!r}"
            data = data.get(part) if isinstance(data, dict) else None
        else:
            if origin is not list:
                return f"{here} is not a list, so it has no element [{part}]"
            length = len(data) if isinstance(data, list) else 0
            if part >= length:
                return (f"{here} has {length} element{'s' if length != 1 else ''} in the base "
                        f"config, so [{part}] does not exist")
            tp = typing.get_args(tp)[0]
            data = data[part]
    return None


def _describe(params: Mapping[str, Any]) -> str:
    return ", ".join(f"{k}={v!r}" for k, v in params.items()) or "no parameters"


# ----------------------------------------------------------------------------- expansion


def _sweep_loc(loc: list[Any]) -> str:
    """Pydantic ``loc`` inside the sweep section → ``sweep.grid["a.b[0]"]``-style path."""
    path = "sweep"
    keyed = False
    for i, part in enumerate(loc):
        if keyed:
            path += f"[{json.dumps(part)}]"
        elif isinstance(part, int):
            path += f"[{part}]"
        elif not (i == 3 and loc[:2] == ["sample", "params"] and part in DIST_TAGS):
            path += f".{part}"
        keyed = (i == 0 and part in ("grid", "zip", "derived")) or (
            i == 1 and loc[0] == "sample" and part == "params")
    return path


def _validate_spec(raw_sweep: Any) -> SweepSpec:
    if raw_sweep is None:
        return SweepSpec()
    try:
        return SweepSpec.model_validate(raw_sweep)
    except ValidationError as exc:
        issues = []
        for err in exc.errors():
            kind = err.get("type")
            msg = str(err.get("msg", "invalid value")).removeprefix("Value error, ")
            if kind == "extra_forbidden":
                msg = "unknown key (not part of the sweep schema; check the spelling)"
            elif kind == "too_short":
                msg = "must not be empty"
            elif kind == "union_tag_invalid":
                msg = f"unknown dist; expected one of {', '.join(DIST_TAGS)}"
            elif kind == "union_tag_not_found":
                msg = f"missing 'dist' (one of {', '.join(DIST_TAGS)})"
            elif "input" in err and not isinstance(err["input"], dict | list) \
                    and repr(err["input"]) not in msg:  # not twice: "..., got True (got True)"
                msg = f"{msg} (got {err['input']!r})"
            issues.append(Issue(_sweep_loc(list(err.get("loc", ()))), msg))
        raise ConfigError(issues) from None


def expand_sweep(data: dict[str, Any], source: str | None = None, *,
                 parse: ParseFn) -> SweepPlan:
    """Expand the ``sweep`` section of a raw config into a validated, ordered plan.

    Parameters
    ----------
    data : a raw config (YAML-level dict, overrides applied) with an optional ``sweep`` section.
        Without one the plan has a single point and one replication.
    source : where the config came from (error messages; relative trace paths).
    parse : ``parse(point_config, source)`` validates one point completely and returns its
        scenario (``dcsim.validate.parse_config``); it raises ``ConfigError``.

    Returns
    -------
    SweepPlan

    Raises
    ------
    ConfigError
        Listing every problem at once: bad sweep section (paths ``sweep.grid["..."]`` ...),
        unknown config paths, bad expressions, and each point's config problems with the point's
        parameters in the message.
    """
    raw = copy.deepcopy(data)
    base = {k: v for k, v in raw.items() if k != "sweep"}
    try:
        spec = _validate_spec(raw.get("sweep"))
    except ConfigError as exc:
        raise ConfigError(exc.issues, source=source) from None
    issues: list[Issue] = []
    base_seed = base.get("seed", 0)
    if not isinstance(base_seed, int) or isinstance(base_seed, bool) or base_seed < 0:
        base_seed = 0  # parse reports the bad seed for every point

    sections: list[tuple[str, str]] = [("grid", k) for k in spec.grid]
    sections += [("zip", k) for k in spec.zip]
    if spec.sample is not None:
        sections += [("sample.params", k) for k in spec.sample.params]
    sections += [("derived", k) for k in spec.derived]

    exprs: dict[str, Expression] = {}
    for key, text in spec.derived.items():
        try:
            exprs[key] = Expression(text)
        except ValueError as exc:
            issues.append(Issue(key_path("derived", key), str(exc)))
    constraints: list[Expression | None] = []
    for i, text in enumerate(spec.constraints):
        try:
            constraints.append(Expression(text))
        except ValueError as exc:
            constraints.append(None)
            issues.append(Issue(f"sweep.constraints[{i}]", str(exc)))

    # Parameter names: every key once; each is a config path or a free name used by expressions.
    used = {n for e in exprs.values() for n in e.names}
    used |= {n for c in constraints if c is not None for n in c.names}
    names: list[str] = []
    free: set[str] = set()
    for section, key in sections:
        where = key_path(section, key)
        if key in names:
            issues.append(Issue(where, "parameter is set twice in the sweep section"))
            continue
        names.append(key)
        if key in _RESERVED:
            issues.append(Issue(where, f"{key!r} is a results column name; choose another"))
        if _IDENT.match(key) and key not in _schema_fields():
            free.add(key)
            continue
        problem = _path_problem(key, base)
        if problem is not None:
            issues.append(Issue(where, f"not a config path: {problem}"))
    shorts = short_names(names)
    for section, key in sections:
        if key in free and key not in used and section != "derived":
            issues.append(Issue(key_path(section, key),
                                "not a config path, and no derived expression or constraint "
                                "uses it (check the spelling)"))
    known = set(names) | set(shorts)
    derived_keys = list(spec.derived)
    # Names that are no parameter but a path of the base config read its (raw) value there.
    base_refs: dict[str, Any] = {}
    for n in [n for e in [*exprs.values(), *constraints] if e is not None for n in e.names]:
        if n not in known and n not in base_refs:
            try:
                base_refs[n] = copy.deepcopy(get_path(base, n))
            except (KeyError, ValueError):
                continue
    for key, expr in exprs.items():
        earlier = set(names) - set(derived_keys[derived_keys.index(key):])
        earlier |= set(short_names([n for n in names if n in earlier])) | set(base_refs)
        for n in expr.names:
            if n not in earlier:
                hint = ("it is derived later; order derived entries so that each uses only "
                        "earlier ones" if n in known
                        else f"neither a parameter nor a value of the base config; parameters "
                        f"known here: {', '.join(sorted(set(earlier) - set(base_refs))) or 'none'}")
                issues.append(Issue(key_path("derived", key), f"unknown name {n!r} ({hint})"))
    for i, c in enumerate(constraints):
        issues.extend(Issue(f"sweep.constraints[{i}]",
                            f"unknown name {n!r}: neither a parameter nor a value of the base "
                            f"config; parameters: {', '.join(sorted(known))}")
                      for n in (c.names if c is not None else [])
                      if n not in known and n not in base_refs)

    blocks = value_blocks(spec.grid, spec.zip, spec.sample, base_seed, issues)
    n_points = math.prod(len(b) for b in blocks)
    if n_points > MAX_POINTS:
        issues.append(Issue("sweep", f"{n_points:,} points (grid × zip × sample); at most "
                            f"{MAX_POINTS:,}: split the sweep"))
    elif n_points * spec.replications > MAX_RUNS:
        issues.append(Issue("sweep.replications", f"{n_points:,} points × {spec.replications:,} "
                            f"replications = {n_points * spec.replications:,} runs; at most "
                            f"{MAX_RUNS:,}"))
    if issues:
        raise ConfigError(issues, source=source)

    points: list[SweepPoint] = []
    inputs: dict[str, str] = {}  # file as written -> SHA-256, over every point
    # values that change nothing in a point (Scenario.inert), by config path: said (a warning)
    # only where they change nothing in any point of the sweep
    inert_at: dict[str, list[tuple[str, dict[str, Any], Issue]]] = {}
    parsed = 0
    skipped: list[tuple[dict[str, Any], str]] = []
    assignments = [dict(itertools.chain.from_iterable(d.items() for d in combo))
                   for combo in itertools.product(*blocks)]
    width = max(4, len(str(max(len(assignments) - 1, 0))))
    for values in assignments:
        params = dict(values)
        env = _env(params, base_refs)
        bad = False
        for key, expr in exprs.items():
            try:
                params[key] = plain(expr.evaluate(env))
            except ValueError as exc:
                issues.append(Issue(key_path("derived", key),
                                    f"{exc} [at sweep point: {_describe(values)}]"))
                bad = True
                break
            env = _env(params, base_refs)
        if bad:
            continue
        keep = True
        for i, c in enumerate(constraints):
            assert c is not None
            try:
                ok = c.evaluate(env)
                if not isinstance(ok, bool):
                    raise ValueError(f"must be true or false, got {ok!r}")
            except ValueError as exc:
                issues.append(Issue(f"sweep.constraints[{i}]",
                                    f"{exc} [at sweep point: {_describe(params)}]"))
                keep = False
                break
            if not ok:
                skipped.append((params, spec.constraints[i]))
                keep = False
                break
        if not keep:
            continue
        cfg = copy.deepcopy(base)
        index = len(points)
        pid = f"p{index:0{width}d}-{hashlib.sha256(canon(params).encode()).hexdigest()[:8]}"
        unset = []
        for key, value in params.items():
            if key not in free:
                try:
                    set_path(cfg, key, copy.deepcopy(value))
                except ValueError as exc:  # e.g. --set made its parent null or a number
                    unset.append(Issue(key, f"cannot be set: {exc}"))
        try:
            if unset:
                raise ConfigError(unset)
            sc = parse(cfg, source)
        except ConfigError as exc:
            issues += [Issue(i.path, f"{i.message} [sweep point {pid}: {_describe(params)}]")
                       for i in exc.issues]
            points.append(SweepPoint(index, pid, params, cfg, "", 0))
            continue
        parsed += 1
        for i in getattr(sc, "inert", ()):
            inert_at.setdefault(i.path, []).append((pid, params, i))
        cj = sc.config_json()
        inputs.update((e["path"], e["sha256"]) for e in sc.input_files(cj).values())
        seed = int(cj.pop("seed"))
        points.append(SweepPoint(index, pid, params, cfg, config_hash(cj), seed,
                                 estimate(sc.config)[0].seconds))
    if not issues:
        for hits in inert_at.values():
            if len(hits) < parsed:
                continue  # another point uses the value: the sweep compares with it
            pid, params, first = hits[0]
            where = (f"sweep point {pid}: {_describe(params)}" if parsed == 1
                     else f"in all {parsed} points of the sweep")
            say_inert([first], f" [{where}]")
    if not issues and not points:
        issues.append(Issue("sweep.constraints",
                            f"the constraints skip all {len(skipped)} points; nothing to run"))
    if issues:
        raise ConfigError(issues, source=source)

    from dcsim.rng import spawn_seeds

    plan_json: dict[str, Any] = {
        "sweep_schema": 1,
        "replications": spec.replications,
        "points": [{"id": p.point_id, "params": p.params, "config_hash": p.config_hash,
                    "seeds": spawn_seeds(p.seed, spec.replications)} for p in points],
    }
    if inputs:  # the files the points read (none: the hash of earlier versions)
        plan_json["inputs"] = dict(sorted(inputs.items()))
    name = str(base.get("name", "experiment"))
    return SweepPlan(name, spec, tuple(points), tuple(names), tuple(skipped), source,
                     config_hash(plan_json), raw)


def _env(params: Mapping[str, Any], base_refs: Mapping[str, Any]) -> dict[str, Any]:
    env = dict(base_refs)
    env.update(params)
    for short, full in short_names(list(params)).items():
        env[short] = params[full]
    return env


def _schema_fields() -> set[str]:
    from dcsim.config.schema import Config

    return set(Config.model_fields)


def load_sweep(path: str | None = None, overrides: list[str] | None = None, *,
               parse: ParseFn) -> SweepPlan:
    """Load a YAML config (``None`` → the shipped default), apply overrides, expand its sweep."""
    from dcsim.config.load import load_data

    data, source = load_data(path, overrides)
    return expand_sweep(data, source=source, parse=parse)

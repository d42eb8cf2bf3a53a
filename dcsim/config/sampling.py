"""Where a sweep's points come from: value blocks of ``grid``, ``zip`` and ``sample``.

Owns the schema of sampled parameters (the distributions ``Uniform``, ``LogUniform``,
``IntegerRange``, ``Choice`` and ``SampleSpec``) and the construction of the blocks the points
are the product of: one block per ``grid`` key (its values; duplicates are reported), one block
for all ``zip`` lists together (equal lengths are checked), and one block of ``sample.n`` points
drawn from quantiles at random or by Latin-hypercube sampling (``scipy.stats.qmc``), seeded from
a named stream of ``dcsim.rng``. Also the small helpers shared with ``dcsim.config.sweep``:
issue paths of sweep keys, canonical JSON of values and numpy scalars to Python scalars.

The ``sweep`` section itself (``SweepSpec``), expressions and the expansion into a plan live in
``dcsim.config.sweep``, which imports this module and re-exports its schema classes.

Imports: json, math, pydantic, dcsim.errors, dcsim.units, dcsim.config.catalog (``Frozen``),
dcsim.rng and scipy.stats.qmc lazily. Not ``dcsim.config.sweep``.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from typing import Annotated, Any, Literal

from pydantic import Field, model_validator

from dcsim.config.catalog import Frozen
from dcsim.errors import Issue
from dcsim.units import Integer, Number

__all__ = [
    "DIST_TAGS",
    "Choice",
    "Distribution",
    "IntegerRange",
    "LogUniform",
    "SampleSpec",
    "Uniform",
    "canon",
    "draw_sample",
    "key_path",
    "plain",
    "value_blocks",
]


# ----------------------------------------------------------------------------- the schema


class Uniform(Frozen):
    """A real value drawn uniformly from ``[low, high)``."""

    dist: Literal["uniform"] = "uniform"
    low: Number
    high: Number

    @model_validator(mode="after")
    def _order(self) -> Uniform:
        if not self.high > self.low:
            raise ValueError(f"high ({self.high:g}) must be greater than low ({self.low:g})")
        return self

    def ppf(self, u: float) -> Any:
        """Value at quantile ``u`` in [0, 1)."""
        return self.low + u * (self.high - self.low)


class LogUniform(Frozen):
    """A positive real value whose logarithm is uniform on ``[log low, log high)``."""

    dist: Literal["loguniform"] = "loguniform"
    low: Number = Field(gt=0)
    high: Number = Field(gt=0)

    @model_validator(mode="after")
    def _order(self) -> LogUniform:
        if not self.high > self.low:
            raise ValueError(f"high ({self.high:g}) must be greater than low ({self.low:g})")
        return self

    def ppf(self, u: float) -> Any:
        """Value at quantile ``u`` in [0, 1)."""
        return math.exp(math.log(self.low) + u * (math.log(self.high) - math.log(self.low)))


class IntegerRange(Frozen):
    """An integer drawn uniformly from ``low..high`` (both included)."""

    dist: Literal["integer"] = "integer"
    low: Integer
    high: Integer

    @model_validator(mode="after")
    def _order(self) -> IntegerRange:
        if self.high < self.low:
            raise ValueError(f"high ({self.high}) must not be less than low ({self.low})")
        return self

    def ppf(self, u: float) -> Any:
        """Value at quantile ``u`` in [0, 1)."""
        return min(self.high, self.low + math.floor(u * (self.high - self.low + 1)))


class Choice(Frozen):
    """One of ``values``, each equally likely."""

    dist: Literal["choice"] = "choice"
    values: list[Any] = Field(min_length=1)

    def ppf(self, u: float) -> Any:
        """Value at quantile ``u`` in [0, 1)."""
        return self.values[min(len(self.values) - 1, math.floor(u * len(self.values)))]


Distribution = Annotated[Uniform | LogUniform | IntegerRange | Choice, Field(discriminator="dist")]


class SampleSpec(Frozen):
    """``n`` points drawn at random or by Latin-hypercube sampling."""

    method: Literal["random", "lhs"] = "random"
    n: Integer = Field(gt=0, le=100_000, description="number of sampled points (at most 100,000)")
    seed: Integer | None = Field(None, ge=0,
                                 description="sampling seed; default: the config's seed")
    params: dict[str, Distribution] = Field(min_length=1)


DIST_TAGS = ("uniform", "loguniform", "integer", "choice")


# ----------------------------------------------------------------------------- helpers


def key_path(section: str, key: str) -> str:
    """Issue path of ``key`` in a sweep section: ``sweep.grid["a.b[0]"]``."""
    return f"sweep.{section}[{json.dumps(key)}]"


def canon(obj: Any) -> str:
    """Canonical JSON of a value (sorted keys, no spaces): to compare and hash values."""
    return json.dumps(obj, sort_keys=True, allow_nan=False, separators=(",", ":"), default=str)


def plain(v: Any) -> Any:
    """numpy scalars → Python scalars (stable JSON, YAML and pickling)."""
    return v.item() if hasattr(v, "item") and not isinstance(v, str | bytes) else v


# ----------------------------------------------------------------------------- blocks


def value_blocks(grid: Mapping[str, list[Any]], zipped: Mapping[str, list[Any]],
                 sample: SampleSpec | None, base_seed: int, issues: list[Issue]
                 ) -> list[list[dict[str, Any]]]:
    """The grid, zip and sample blocks, each a list of partial assignments.

    Problems (empty or duplicate values, unequal zip lengths) are appended to ``issues``
    under ``sweep.grid["key"]`` / ``sweep.zip["key"]``; a bad block is left out.
    """
    blocks: list[list[dict[str, Any]]] = []
    for key, values in grid.items():
        if not values:
            issues.append(Issue(key_path("grid", key), "empty list of values"))
            continue
        seen: set[str] = set()  # a set: a list made this quadratic in the number of values
        for v in values:
            c = canon(v)
            if c in seen:
                issues.append(Issue(key_path("grid", key), f"value {v!r} is listed twice"))
            seen.add(c)
        blocks.append([{key: plain(v)} for v in values])
    if zipped:
        lengths = {k: len(v) for k, v in zipped.items()}
        n = next(iter(lengths.values()))
        for key, length in lengths.items():
            if length == 0:
                issues.append(Issue(key_path("zip", key), "empty list of values"))
            elif length != n:
                issues.append(Issue(key_path("zip", key),
                                    f"has {length} values but the first zip list has {n}; "
                                    "zip lists must have equal lengths"))
        if all(length == n for length in lengths.values()) and n:
            blocks.append([{k: plain(v[i]) for k, v in zipped.items()} for i in range(n)])
    if sample is not None:
        blocks.append(draw_sample(sample, base_seed))
    return blocks


def draw_sample(sample: SampleSpec, base_seed: int) -> list[dict[str, Any]]:
    """``sample.n`` assignments from quantiles drawn at random or by Latin-hypercube sampling."""
    from dcsim.rng import RandomStreams

    seed = sample.seed if sample.seed is not None else base_seed
    gen = RandomStreams(seed).fresh(f"sweep.sample.{sample.method}")
    names = list(sample.params)
    if sample.method == "lhs":
        from scipy.stats import qmc

        u = qmc.LatinHypercube(d=len(names), rng=gen).random(sample.n)
    else:
        u = gen.random((sample.n, len(names)))
    return [{name: plain(sample.params[name].ppf(float(u[i, j])))
             for j, name in enumerate(names)} for i in range(sample.n)]

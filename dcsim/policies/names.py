"""Consolidation policy names: ``"npa"``, ``"dvfs"``, ``"<detector>-<selection>[-<parameter>]"``.

:func:`parse_policy` turns a name such as ``"lr-mmt-1.2"`` into a :class:`PolicySpec`, checking the
detector's parameter with the detector's own model, and :func:`build_policy` makes the detector and
selector objects of a ``migration`` spec. Imports: dcsim.policies.{overload, selection}.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError

from dcsim.policies.overload import OVERLOAD, make_detector
from dcsim.policies.selection import SELECTION, make_selector

__all__ = ["PolicySpec", "build_policy", "parse_policy"]


@dataclass(frozen=True, slots=True)
class PolicySpec:
    """A parsed consolidation policy name.

    Attributes
    ----------
    name
        The name as given (lower case).
    kind
        ``"npa"`` (no power awareness), ``"dvfs"`` (power-aware, no migrations) or
        ``"migration"`` (overload detection + selection + PABFD + underload consolidation).
    detector, selection
        Registry names (``"lr"``, ``"mmt"``) for ``kind == "migration"``.
    parameter
        The detector's parameter (threshold or safety), ``None`` = its default.
    """

    name: str
    kind: str
    detector: str = ""
    selection: str = ""
    parameter: float | None = None


def parse_policy(name: str) -> PolicySpec:
    """Parse ``"npa"``, ``"dvfs"`` or ``"<detector>-<selection>[-<parameter>]"``.

    Raises
    ------
    ValueError
        Unknown detector or selection name, or a parameter that is not a number.
    """
    key = name.strip().lower()
    if key in ("npa", "dvfs"):
        return PolicySpec(key, key)
    parts = key.split("-")
    if len(parts) not in (2, 3):
        raise ValueError(
            f"policy {name!r}: expected 'npa', 'dvfs' or '<detector>-<selection>[-<parameter>]' "
            f"(detectors: {', '.join(OVERLOAD.names())}; "
            f"selections: {', '.join(SELECTION.names())})"
        )
    det, sel = parts[0], parts[1]
    if det not in OVERLOAD:
        raise ValueError(f"policy {name!r}: unknown detector {det!r}; known: "
                         f"{', '.join(OVERLOAD.names())}")
    if sel not in SELECTION:
        raise ValueError(f"policy {name!r}: unknown selection {sel!r}; known: "
                         f"{', '.join(SELECTION.names())}")
    param: float | None = None
    if len(parts) == 3:
        try:
            param = float(parts[2])
        except ValueError:
            raise ValueError(f"policy {name!r}: parameter {parts[2]!r} is not a number") from None
        if not math.isfinite(param):
            raise ValueError(f"policy {name!r}: parameter {parts[2]!r} is not a finite number")
        try:  # the detector's own parameter model: threshold > 0, safety > 0, ...
            make_detector(det, param)
        except ValidationError as exc:
            why = "; ".join(str(e.get("msg", "")) for e in exc.errors())
            raise ValueError(f"policy {name!r}: parameter {parts[2]!r}: {why}") from None
    return PolicySpec(key, "migration", det, sel, param)


def build_policy(spec: PolicySpec) -> tuple[Any, Any]:
    """(detector, selector) objects of a ``migration`` policy spec."""
    if spec.kind != "migration":
        raise ValueError(f"policy {spec.name!r} has no detector/selector")
    return make_detector(spec.detector, spec.parameter), make_selector(spec.selection)

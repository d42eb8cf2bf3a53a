"""Canonical units and the parsers that turn config strings into them.

dcsim computes in SI base units everywhere: seconds, bytes, bit/s for network rates, bytes/s for
memory dirtying rates, watts, joules. CPU capacity is expressed in MIPS (million instructions per
second), as in CloudSim. Results convert to display units only at the edge (``energy_kwh``).

Config values carry units as strings (``"300s"``, ``"5m"``, ``"24h"``, ``"870MB"``, ``"4GiB"``,
``"1Gbps"``, ``"100MB/s"``, ``"120W"``, ``"80%"``) or as bare numbers in SI base units. Sizes
(RAM, storage, images) are the exception: a bare number is refused, because ``ram: 4096`` is far
more often a forgotten ``MB`` than a 4 kB machine. Write ``"4096B"`` to mean bytes.

This module imports nothing from dcsim.
"""

from __future__ import annotations

import inspect
import math
import re
from collections.abc import Callable
from typing import Annotated, Any, TypeVar

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    PlainSerializer,
    ValidationInfo,
    WithJsonSchema,
    field_validator,
)

__all__ = [
    "INT_MAX",
    "NUMBER_MAX",
    "NUMBER_MIN",
    "Bitrate",
    "Byterate",
    "Duration",
    "Fraction",
    "Integer",
    "Number",
    "Power",
    "Rate",
    "Size",
    "StrictModel",
    "bounded_number",
    "off_default",
    "parse_bitrate",
    "parse_byterate",
    "parse_duration",
    "parse_fraction",
    "parse_power",
    "parse_rate",
    "parse_size",
]

JOULES_PER_KWH = 3.6e6
MIB = 1024.0**2

_NUM = r"([-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?)"
_PATTERN = re.compile(rf"^\s*{_NUM}\s*([A-Za-z%/µ]*(?:/[A-Za-z]+)?)\s*$")

_TIME = {
    "": 1.0, "s": 1.0, "sec": 1.0, "ms": 1e-3, "us": 1e-6, "µs": 1e-6,
    "m": 60.0, "min": 60.0, "h": 3600.0, "hr": 3600.0, "d": 86400.0, "day": 86400.0,
    "w": 604800.0,
}
_SIZE = {
    "b": 1.0, "kb": 1e3, "mb": 1e6, "gb": 1e9, "tb": 1e12, "pb": 1e15,
    "kib": 1024.0, "mib": 1024.0**2, "gib": 1024.0**3, "tib": 1024.0**4, "pib": 1024.0**5,
    "k": 1e3, "m": 1e6, "g": 1e9, "t": 1e12,
}
_BITRATE = {
    "bps": 1.0, "kbps": 1e3, "mbps": 1e6, "gbps": 1e9, "tbps": 1e12,
    "bit/s": 1.0, "kbit/s": 1e3, "mbit/s": 1e6, "gbit/s": 1e9, "tbit/s": 1e12,
}
_POWER = {"": 1.0, "w": 1.0, "kw": 1e3}
#: power prefixes whose case is their meaning: milli (m) against mega (M)
_POWER_CASED = {"mW": 1e-3, "MW": 1e6}
#: decimal and binary prefixes of a rate written as a bit or byte count per second (``Mb/s``,
#: ``MB/s``, ``MiB/s``): the ``b`` / ``B`` after them decides bits or bytes
_RATE_PREFIX = {"": 1.0, "k": 1e3, "K": 1e3, "M": 1e6, "G": 1e9, "T": 1e12, "P": 1e15,
                "Ki": 1024.0, "Mi": 1024.0**2, "Gi": 1024.0**3, "Ti": 1024.0**4}


class UnitError(ValueError):
    """A value that does not parse as the expected quantity."""


def _split(value: str, what: str, example: str) -> tuple[float, str]:
    m = _PATTERN.match(value)
    if not m:
        raise UnitError(f"expected {what} such as {example!r}, got {value!r}")
    return float(m.group(1)), m.group(2)


#: Magnitudes a quantity may take besides 0 (base units): beyond them products overflow or
#: divisions explode, long before any physical meaning is lost.
LIMITS: dict[str, tuple[float, float]] = {
    "duration": (1e-6, 1e12),        # 1 µs .. ~31,700 years
    "size": (1.0, 1e21),             # 1 byte .. 1 ZB
    "bit rate": (1e-3, 1e16),        # .. 10 Pbit/s
    "byte rate": (1e-3, 1e16),
    "power": (1e-9, 1e9),            # .. 1 GW
    "rate": (1e-12, 1e9),            # events per second
    "fraction": (0.0, 1e6),
}


def _finite(x: float, raw: Any, what: str) -> float:
    if not math.isfinite(x):
        raise UnitError(f"expected a finite {what}, got {raw!r}")
    lo, hi = LIMITS[what]
    if x != 0.0 and not lo <= abs(x) <= hi:
        raise UnitError(f"{what} {raw!r} is out of range: its magnitude must be 0 or between "
                        f"{lo:g} and {hi:g} (base units)")
    return x


NUMBER_MAX = 1e21
"""Largest magnitude of any number in a config model (a ``seed`` may use all 63 bits): the
largest unit range (sizes up to 1 ZB in bytes); unit fields have their own, tighter ranges."""
INT_MAX = 10**15
"""Largest magnitude of an integer in a config (a ``seed``: 63 bits); int64 arrays stay safe."""
NUMBER_MIN = 1e-12
"""Smallest magnitude of a non-zero plain float in a config."""


def bounded_number(value: Any, name: str | None = None) -> Any:
    """``value`` if every number in it is finite and within the plain-number bounds.

    Applied to every field of every config model (lists and dicts are looked into), so that
    products and quotients of config values stay finite: no ``inf`` in a summary after a long
    run. Raises ``ValueError`` naming the bound.
    """
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, int):
        limit = 2**63 if name == "seed" else INT_MAX
        if not -limit < value < limit:
            raise ValueError(f"integer too large: its magnitude must be below {limit:.3g}")
    elif isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError(f"expected a finite number, got {value!r}")
        if value != 0.0 and not NUMBER_MIN <= abs(value) <= NUMBER_MAX:
            raise ValueError(f"number {value!r} out of range: its magnitude must be 0 or "
                             f"between {NUMBER_MIN:g} and {NUMBER_MAX:g}")
    elif isinstance(value, list | tuple):
        for v in value:
            bounded_number(v)
    elif isinstance(value, dict):
        for v in value.values():
            bounded_number(v)
    return value


_F = TypeVar("_F", bound=Callable[..., Any])


def _signed(f: _F) -> _F:
    """``f`` with its signature stored as ``__signature__``, which ``inspect.signature`` returns
    at once: pydantic inspects a validator's signature each time a field uses it (~450 times
    while the config models are built, ~20 ms of CPU at import). Same signature, same schema."""
    f.__signature__ = inspect.signature(f)  # type: ignore[attr-defined]
    return f


class StrictModel(BaseModel):
    """Base of every config model: immutable, unknown keys refused, every number bounded.

    Floats must be finite (``inf``/``nan`` refused) and every number in every field (lists and
    mappings included) within :func:`bounded_number`'s range.
    """

    model_config = ConfigDict(frozen=True, extra="forbid", allow_inf_nan=False)

    @field_validator("*", mode="after")
    @classmethod
    @_signed
    def _bounded(cls, value: Any, info: ValidationInfo) -> Any:
        return bounded_number(value, info.field_name)


def off_default(model: BaseModel, name: str) -> bool:
    """Whether field ``name`` of ``model`` holds another value than its default. Checks of a
    value that would change nothing ask this, not whether the field was written: a results
    folder's ``config.yaml`` writes every default out, and must validate as its run did."""
    return bool(getattr(model, name) != type(model).model_fields[name].default)


def _number(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return float(value)
    return None


@_signed
def parse_duration(value: Any) -> float:
    """Duration in seconds from ``300``, ``"300s"``, ``"5m"``, ``"24h"``, ``"1d"``, ``"300ms"``."""
    n = _number(value)
    if n is not None:
        return _finite(n, value, "duration")
    if not isinstance(value, str):
        raise UnitError(f"expected a duration such as '300s' or '24h', got {value!r}")
    x, unit = _split(value, "a duration", "300s")
    if unit in ("M", "Ms", "MS", "mS"):  # mega- or milli-, minutes or months: say which
        raise UnitError(f"ambiguous time unit {unit!r} in {value!r}; write m or min for "
                        "minutes, ms for milliseconds")
    key = unit if unit in ("m", "ms", "µs") else unit.lower()
    if key not in _TIME:
        raise UnitError(f"unknown time unit {unit!r} in {value!r}; use s, ms, m/min, h, d")
    return _finite(x * _TIME[key], value, "duration")


@_signed
def parse_size(value: Any) -> float:
    """Size in bytes from ``"870MB"`` (10^6), ``"4GiB"`` (2^30), ``"4096B"``; no bare numbers."""
    if _number(value) is not None:
        raise UnitError(
            f"a size needs a unit, e.g. '{value}MB' or '{value}GiB'; got the bare number {value!r} "
            "(write 'B' for bytes)"
        )
    if not isinstance(value, str):
        raise UnitError(f"expected a size such as '870MB' or '4GiB', got {value!r}")
    x, unit = _split(value, "a size", "4GiB")
    key = unit.lower()
    if key not in _SIZE:
        raise UnitError(f"unknown size unit {unit!r} in {value!r}; "
                        "use B, kB, MB, GB, TB, KiB, MiB, GiB, TiB")
    return _finite(x * _SIZE[key], value, "size")


@_signed
def parse_bitrate(value: Any) -> float:
    """Network rate in bit/s from ``1e9``, ``"1Gbps"``, ``"100Mbit/s"``, ``"125MB/s"`` (× 8)."""
    n = _number(value)
    if n is not None:
        return _finite(n, value, "bit rate")
    if not isinstance(value, str):
        raise UnitError(f"expected a bit rate such as '1Gbps', got {value!r}")
    x, unit = _split(value, "a bit rate", "1Gbps")
    if unit == "":  # '1e10': a bare number YAML 1.1 leaves as text; bit/s, as 1e10 unquoted
        return _finite(x, value, "bit rate")
    key = unit.lower()
    if key in _BITRATE:
        return _finite(x * _BITRATE[key], value, "bit rate")
    if unit.endswith("/s") and unit[-3:-2] in ("b", "B") and unit[:-3] in _RATE_PREFIX:
        # Mb/s megabits, MB/s megabytes (× 8): the case of the b is the meaning
        scale = _RATE_PREFIX[unit[:-3]] * (1.0 if unit[-3] == "b" else 8.0)
        return _finite(x * scale, value, "bit rate")
    if key.endswith("/s") and key[:-3] in ("m", "mi") and key[-3] == "b":
        raise UnitError(f"ambiguous rate unit {unit!r} in {value!r}; write Mb/s or Mbps "
                        "(megabits) or MB/s (megabytes)")
    raise UnitError(f"unknown rate unit {unit!r} in {value!r}; use bps, Mbps, Gbps, Mb/s "
                    "(bits) or MB/s, MiB/s (bytes)")


@_signed
def parse_byterate(value: Any) -> float:
    """Data rate in bytes/s from ``1e8``, ``"100MB/s"``, ``"128MiB/s"``, ``"1Gbps"`` (bit/s / 8)."""
    n = _number(value)
    if n is not None:
        return _finite(n, value, "byte rate")
    if not isinstance(value, str):
        raise UnitError(f"expected a byte rate such as '100MB/s', got {value!r}")
    return _finite(parse_bitrate(value) / 8.0, value, "byte rate")


@_signed
def parse_power(value: Any) -> float:
    """Power in watts from ``120``, ``"120W"``, ``"1.5kW"``."""
    n = _number(value)
    if n is not None:
        return _finite(n, value, "power")
    if not isinstance(value, str):
        raise UnitError(f"expected a power such as '120W', got {value!r}")
    x, unit = _split(value, "a power", "120W")
    if unit in _POWER_CASED:
        return _finite(x * _POWER_CASED[unit], value, "power")
    key = unit.lower()
    if key == "mw":  # mw, Mw: milliwatts or megawatts?
        raise UnitError(f"ambiguous power unit {unit!r} in {value!r}; write mW (milliwatts) "
                        "or MW (megawatts)")
    if key not in _POWER:
        raise UnitError(f"unknown power unit {unit!r} in {value!r}; use W, kW, mW or MW")
    return _finite(x * _POWER[key], value, "power")


@_signed
def parse_rate(value: Any) -> float:
    """Event rate in 1/s from ``0.01``, ``"10/h"``, ``"2/min"``, ``"1/d"``."""
    n = _number(value)
    if n is not None:
        return _finite(n, value, "rate")
    if not isinstance(value, str) or "/" not in value:
        raise UnitError(f"expected a rate such as '10/h' or a number per second, got {value!r}")
    num, _, per = value.partition("/")
    try:
        count = float(num)
    except ValueError as exc:
        raise UnitError(f"expected a rate such as '10/h', got {value!r}") from exc
    per = per.strip()
    scale = parse_duration(per if per and (per[0].isdigit() or per[0] in "+-.") else "1" + per)
    if not scale > 0.0:  # 10/0h, 1/0
        raise UnitError(f"the period after '/' must be longer than zero, got {value!r}")
    return _finite(count / scale, value, "rate")


@_signed
def parse_fraction(value: Any) -> float:
    """Fraction from ``0.8`` or ``"80%"``."""
    n = _number(value)
    if n is not None:
        return _finite(n, value, "fraction")
    if isinstance(value, str) and value.strip().endswith("%"):
        try:
            return _finite(float(value.strip()[:-1]) / 100.0, value, "fraction")
        except ValueError:
            pass
    raise UnitError(f"expected a fraction such as 0.8 or '80%', got {value!r}")


def _schema(example: str, unit: str) -> WithJsonSchema:
    return WithJsonSchema(
        {
            "anyOf": [{"type": "number"}, {"type": "string"}],
            "description": f"number in {unit} or a string with a unit, e.g. {example!r}",
        }
    )


@_signed
def _whole(value: Any) -> Any:
    """``value`` unless it is a boolean: YAML's ``true``/``yes``/``on`` is no count or index
    (pydantic's lax mode would read it as 1)."""
    if isinstance(value, bool):
        raise UnitError(f"expected a whole number, got {value!r}")
    return value


@_signed
def _real(value: Any) -> Any:
    """``value`` unless it is a boolean (pydantic's lax mode would read ``true`` as 1.0)."""
    if isinstance(value, bool):
        raise UnitError(f"expected a number, got {value!r}")
    return value


Integer = Annotated[int, BeforeValidator(_whole)]
"""An ``int`` field that refuses booleans (``count: true`` is a typo, not one host)."""
Number = Annotated[float, BeforeValidator(_real)]
"""A ``float`` field that refuses booleans (``pue: yes`` is a typo, not 1.0)."""
Duration = Annotated[float, BeforeValidator(parse_duration), _schema("5m", "seconds")]
@_signed
def _size_str(v: float) -> str:
    """Serialize a size so that it parses back exactly (sizes refuse bare numbers)."""
    return f"{int(v)}B" if float(v).is_integer() else f"{v!r}B"


Size = Annotated[
    float,
    BeforeValidator(parse_size),
    PlainSerializer(_size_str, return_type=str, when_used="json"),
    WithJsonSchema({"type": "string", "description": "size with a unit, e.g. '870MB' or '4GiB'"}),
]
Bitrate = Annotated[float, BeforeValidator(parse_bitrate), _schema("1Gbps", "bit/s")]
Byterate = Annotated[float, BeforeValidator(parse_byterate), _schema("100MB/s", "bytes/s")]
Power = Annotated[float, BeforeValidator(parse_power), _schema("120W", "watts")]
Rate = Annotated[float, BeforeValidator(parse_rate), _schema("10/h", "events per second")]
Fraction = Annotated[float, BeforeValidator(parse_fraction), _schema("80%", "a fraction 0..1")]

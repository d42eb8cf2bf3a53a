"""Unit parsing, values worked out by hand."""

from __future__ import annotations

import re

import pytest

import dcsim
from dcsim import units as u
from tests.conftest import tiny_config


@pytest.mark.parametrize(("raw", "seconds"), [
    (300, 300.0), ("300s", 300.0), ("5m", 300.0), ("5min", 300.0), ("24h", 86400.0),
    ("1d", 86400.0), ("300ms", 0.3), ("1.5h", 5400.0),
])
def test_durations(raw: object, seconds: float) -> None:
    assert u.parse_duration(raw) == pytest.approx(seconds)


@pytest.mark.parametrize(("raw", "nbytes"), [
    ("870MB", 870e6), ("4GiB", 4 * 2**30), ("4096B", 4096.0), ("1TB", 1e12), ("2 MiB", 2**21),
])
def test_sizes(raw: str, nbytes: float) -> None:
    assert u.parse_size(raw) == nbytes


@pytest.mark.parametrize(("raw", "bps"), [
    ("1Gbps", 1e9), ("100Mbps", 1e8), ("10Gbit/s", 1e10), ("125MB/s", 1e9), (1e9, 1e9),
    ("128MiB/s", 128 * 2**20 * 8),
])
def test_bitrates(raw: object, bps: float) -> None:
    assert u.parse_bitrate(raw) == pytest.approx(bps)


def test_other_quantities() -> None:
    assert u.parse_byterate("100MB/s") == 1e8
    assert u.parse_power("1.5kW") == 1500.0
    assert u.parse_rate("10/h") == pytest.approx(10 / 3600)
    assert u.parse_fraction("80%") == pytest.approx(0.8)


REFUSED = [
    (u.parse_size, 4096, "a size needs a unit, e.g. '4096MB' or '4096GiB'; got the bare number"),
    (u.parse_size, "4 parsecs", "unknown size unit 'parsecs' in '4 parsecs'; use B, kB, MB"),
    (u.parse_duration, "24x", "unknown time unit 'x' in '24x'; use s, ms, m/min, h, d"),
    (u.parse_bitrate, "fast", "expected a bit rate such as '1Gbps', got 'fast'"),
    (u.parse_duration, "nan", "expected a duration such as '300s', got 'nan'"),
    (u.parse_size, True, "expected a size such as '870MB' or '4GiB', got True"),
    (u.parse_fraction, "eighty", "expected a fraction such as 0.8 or '80%', got 'eighty'"),
]


@pytest.mark.parametrize(("fn", "raw", "message"), REFUSED)
def test_refused(fn: object, raw: object, message: str) -> None:
    with pytest.raises(ValueError, match=re.escape(message)):
        fn(raw)  # type: ignore[operator]


# Where each parser is used in a config, and the config path the refusal must name.
_FIELD = {u.parse_size: "guests[0].ram", u.parse_duration: "duration",
          u.parse_bitrate: "datacenters[0].hosts[0].bandwidth",
          u.parse_fraction: "guests[0].workload.utilization"}


@pytest.mark.parametrize(("fn", "raw", "message"), REFUSED)
def test_refused_in_a_config_names_the_path(fn: object, raw: object, message: str) -> None:
    cfg = tiny_config()
    path = _FIELD[fn]  # type: ignore[index]
    if path == "duration":
        cfg["duration"] = raw
    elif path == "guests[0].ram":
        cfg["guests"][0]["ram"] = raw
    elif path == "guests[0].workload.utilization":
        cfg["guests"][0]["workload"]["utilization"] = raw
    else:
        cfg["datacenters"][0]["hosts"][0]["bandwidth"] = raw
    with pytest.raises(dcsim.ConfigError) as info:
        dcsim.api._scenario(cfg, None)
    assert [(i.path, message in i.message) for i in info.value.issues] == [(path, True)]


@pytest.mark.parametrize(("fn", "raw", "base"), [
    # the case of a prefix or of the b is its meaning (audit, session 17: mW was read as
    # megawatts and Mb/s as megabytes per second)
    (u.parse_power, "10mW", 0.01), (u.parse_power, "10MW", 1e7), (u.parse_power, "2KW", 2000.0),
    (u.parse_bitrate, "100Mb/s", 1e8), (u.parse_bitrate, "100MB/s", 8e8),
    (u.parse_bitrate, "1kb/s", 1e3), (u.parse_bitrate, "1KB/s", 8e3),
    (u.parse_bitrate, "2Gib/s", 2 * 2.0**30), (u.parse_byterate, "100Mb/s", 1.25e7),
    # a bare number in base units, also as the text YAML 1.1 makes of 1e10 (was refused with
    # "unknown rate unit ''")
    (u.parse_bitrate, "1e10", 1e10), (u.parse_bitrate, "1.0e10", 1e10),
])
def test_case_sensitive_prefixes(fn: object, raw: str, base: float) -> None:
    assert fn(raw) == pytest.approx(base)  # type: ignore[operator]


@pytest.mark.parametrize(("fn", "raw"), [
    (u.parse_power, "10mw"), (u.parse_power, "10Mw"), (u.parse_bitrate, "100mb/s"),
    (u.parse_duration, "5M"), (u.parse_duration, "1Ms"),
])
def test_ambiguous_units_are_refused(fn: object, raw: str) -> None:
    with pytest.raises(ValueError, match="ambiguous"):
        fn(raw)  # type: ignore[operator]

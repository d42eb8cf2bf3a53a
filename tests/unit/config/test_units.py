"""Unit parsing, values worked out by hand."""

from __future__ import annotations

import pytest

from dcsim import units as u


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


@pytest.mark.parametrize(("fn", "raw"), [
    (u.parse_size, 4096), (u.parse_size, "4 parsecs"), (u.parse_duration, "24x"),
    (u.parse_bitrate, "fast"), (u.parse_duration, "nan"), (u.parse_size, True),
    (u.parse_fraction, "eighty"),
])
def test_refused(fn: object, raw: object) -> None:
    with pytest.raises(ValueError, match=r"."):
        fn(raw)  # type: ignore[operator]

"""Fixtures of the workload tests: the small excerpts in tests/data and ../shared/data."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from dcsim.workload.traces import clear_cache

TESTS = Path(__file__).resolve().parents[2]
SHARED_DATA = TESTS.parent / ".." / "shared" / "data"


@pytest.fixture
def test_data() -> Path:
    """tests/data: small excerpts of each trace format."""
    return TESTS / "data"


@pytest.fixture
def shared_data() -> Path:
    """../shared/data with the raw traces; skips when this machine does not have it."""
    if not SHARED_DATA.is_dir():
        pytest.skip("../shared/data is not available on this machine")
    return SHARED_DATA.resolve()


@pytest.fixture
def user_store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """An empty user trace store ($DCSIM_TRACE_DIR) and a clean trace cache."""
    store = tmp_path / "store"
    monkeypatch.setenv("DCSIM_TRACE_DIR", str(store))
    clear_cache()
    yield store
    clear_cache()

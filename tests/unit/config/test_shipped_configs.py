"""Every config shipped with the repository validates (a broken example is a bug)."""

from __future__ import annotations

from pathlib import Path

import pytest

import dcsim

REPO = Path(__file__).resolve().parents[3]
CONFIGS = sorted(
    [*REPO.glob("configs/**/*.yaml"), *REPO.glob("experiments/*/config.yaml")],
    key=str,
)


@pytest.mark.parametrize("path", CONFIGS, ids=lambda p: str(p.relative_to(REPO)))
def test_shipped_config_validates(path: Path) -> None:
    sc = dcsim.load_config(path)
    assert sc.n_hosts > 0
    assert sc.n_guests > 0

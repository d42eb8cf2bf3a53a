"""``dcsim plot --out`` never replaces a file it may not have written (issue 13).

Figures inside the results folder are dcsim's own and are redrawn freely; in a folder named by
``--out`` an existing ``timeseries.png``/``.pdf`` is kept and the call refused (exit 2) unless
``--overwrite`` is given.
"""

from __future__ import annotations

from pathlib import Path

import yaml
from typer.testing import CliRunner

from dcsim.cli import app
from tests.conftest import tiny_config

runner = CliRunner()


def _run(tmp_path: Path) -> Path:
    cfg = tmp_path / "c.yaml"
    cfg.write_text(yaml.safe_dump(tiny_config()), encoding="utf-8")
    res = tmp_path / "res"
    r = runner.invoke(app, ["run", str(cfg), "--out", str(res), "--quiet"])
    assert r.exit_code == 0, r.output
    return res


def test_plot_keeps_a_users_file_in_out(tmp_path: Path) -> None:
    res = _run(tmp_path)
    paper = tmp_path / "paper"
    paper.mkdir()
    mine = paper / "timeseries.pdf"
    mine.write_bytes(b"my own figure")
    r = runner.invoke(app, ["plot", str(res), "--out", str(paper)])
    assert r.exit_code == 2, r.output
    assert "already exists" in r.output
    assert mine.read_bytes() == b"my own figure"
    assert sorted(p.name for p in paper.iterdir()) == ["timeseries.pdf"]  # nothing half-written

    r = runner.invoke(app, ["plot", str(res), "--out", str(paper), "--overwrite"])
    assert r.exit_code == 0, r.output
    assert mine.read_bytes().startswith(b"%PDF")
    assert sorted(p.name for p in paper.iterdir()) == ["timeseries.pdf", "timeseries.png"]


def test_plot_redraws_its_own_figures_in_the_results_folder(tmp_path: Path) -> None:
    res = _run(tmp_path)
    for _ in range(2):
        r = runner.invoke(app, ["plot", str(res)])
        assert r.exit_code == 0, r.output
    assert (res / "timeseries.png").read_bytes().startswith(b"\x89PNG")
    assert not [p for p in res.iterdir() if p.name.startswith(".timeseries")]


def test_plot_refuses_a_target_that_is_not_a_regular_file(tmp_path: Path) -> None:
    res = _run(tmp_path)
    out = tmp_path / "o"
    (out / "timeseries.png").mkdir(parents=True)
    r = runner.invoke(app, ["plot", str(res), "--out", str(out), "--overwrite"])
    assert r.exit_code == 2, r.output
    assert "not a regular file" in r.output
    assert (out / "timeseries.png").is_dir()

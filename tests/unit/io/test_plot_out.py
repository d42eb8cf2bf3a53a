"""``dcsim plot`` never replaces a file it may not have written (issue 13, audit of session 19).

Figures dcsim drew in the results folder (its ledger ``.dcsim-figures`` lists them) are redrawn
freely; any other existing ``timeseries.png``/``.pdf``, in the results folder or in a folder
named by ``--out``, is kept and the call refused (exit 2) unless ``--overwrite`` is given.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from dcsim.cli import app
from dcsim.io.figures import FIGURES_LEDGER, is_figure_name, record_figures, written_figures
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
    assert (res / FIGURES_LEDGER).read_text() == "timeseries.pdf\ntimeseries.png\n"


@pytest.mark.parametrize("folder", ["run", "bare"])
def test_plot_keeps_a_users_figure_in_the_results_folder(tmp_path: Path, folder: str) -> None:
    # mkdir ud; cp r1/timeseries.parquet ud/; echo MINE > ud/timeseries.png; echo MINE >
    # ud/timeseries.pdf; dcsim plot ud -> exit 0 and both files replaced (likewise a user's
    # timeseries.png in a real run folder): a name alone does not make a file dcsim's
    res = _run(tmp_path)
    if folder == "bare":
        ud = tmp_path / "ud"
        ud.mkdir()
        (ud / "timeseries.parquet").write_bytes((res / "timeseries.parquet").read_bytes())
        (ud / "timeseries.pdf").write_bytes(b"MINE\n")
        res = ud
    (res / "timeseries.png").write_bytes(b"MINE\n")
    before = {p.name: p.read_bytes() for p in res.iterdir()}
    r = runner.invoke(app, ["plot", str(res)], terminal_width=400)
    assert r.exit_code == 2, r.output
    assert f"--out: {res / 'timeseries.png'} already exists and dcsim did not write it" in r.output
    assert "pass --overwrite to replace it, or pick another --out" in r.output
    assert "Traceback" not in r.output
    assert {p.name: p.read_bytes() for p in res.iterdir()} == before  # nothing written

    r = runner.invoke(app, ["plot", str(res), "--overwrite"])
    assert r.exit_code == 0, r.output
    assert (res / "timeseries.png").read_bytes().startswith(b"\x89PNG")
    assert (res / "timeseries.pdf").read_bytes().startswith(b"%PDF")
    assert (res / FIGURES_LEDGER).read_text() == "timeseries.pdf\ntimeseries.png\n"
    assert runner.invoke(app, ["plot", str(res)]).exit_code == 0  # now dcsim's: redrawn


def test_plot_refuses_a_target_that_is_not_a_regular_file(tmp_path: Path) -> None:
    res = _run(tmp_path)
    out = tmp_path / "o"
    (out / "timeseries.png").mkdir(parents=True)
    r = runner.invoke(app, ["plot", str(res), "--out", str(out), "--overwrite"])
    assert r.exit_code == 2, r.output
    assert "not a regular file" in r.output
    assert (out / "timeseries.png").is_dir()


def test_the_ledger_trusts_only_names_a_dcsim_figure_can_have(tmp_path: Path) -> None:
    # a hand-edited ledger must not make dcsim replace or delete an arbitrary file
    assert is_figure_name("timeseries.png")
    assert is_figure_name("energy_kwh+sla-vs-count.pdf")
    for bad in ("notes.txt", ".hidden.png", "../x.png", "a/b.pdf", "x.png.txt", ".png", "",
                "timeseries.PNG", "a b.png"):
        assert not is_figure_name(bad), bad
    (tmp_path / FIGURES_LEDGER).write_text("notes.txt\n../x.png\nfig.png\n.hidden.pdf\n")
    assert written_figures(tmp_path) == {"fig.png"}
    record_figures(tmp_path, ["timeseries.pdf"])
    assert (tmp_path / FIGURES_LEDGER).read_text() == "fig.png\ntimeseries.pdf\n"
    with pytest.raises(ValueError, match="not figure names"):
        record_figures(tmp_path, ["notes.txt"])


def test_plot_of_a_missing_folder_says_it_does_not_exist(tmp_path: Path) -> None:
    from dcsim.errors import ConfigError
    from dcsim.experiments.plots import plot_run

    with pytest.raises(ConfigError) as exc:
        plot_run(tmp_path / "nope")
    assert [(i.path, i.message) for i in exc.value.issues] == [
        ("RESULTS", f"{tmp_path / 'nope'}: no such folder")]
    with pytest.raises(ConfigError) as exc:  # a folder that is there but holds no run
        plot_run(tmp_path)
    assert exc.value.issues[0].message == f"{tmp_path} is not a run folder (no timeseries.parquet)"

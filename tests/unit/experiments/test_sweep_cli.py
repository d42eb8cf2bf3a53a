"""The sweep commands end to end: exit codes, report tables, plot files."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from sweep_helpers import tiny
from typer.testing import CliRunner

from dcsim.cli import app
from dcsim.experiments.sweep_plots import axis_label, split_unit

runner = CliRunner()


@pytest.fixture(scope="module")
def results(tmp_path_factory: pytest.TempPathFactory) -> Path:
    tmp = tmp_path_factory.mktemp("cli")
    cfg = tmp / "s.yaml"
    cfg.write_text(yaml.safe_dump(tiny({
        "grid": {"ratio": [1, 2, 4], "datacenters[0].hosts[0].virtualization": ["kvm", "docker"]},
        "derived": {"guests[0].count": "ratio * 2"}, "replications": 3}), sort_keys=False))
    out = tmp / "out"
    res = runner.invoke(app, ["sweep", str(cfg), "--out", str(out), "--executor", "serial"])
    assert res.exit_code == 0, res.output
    assert "| ratio | virtualization | count | n |" in res.stdout
    return out


def _table(text: str) -> list[str]:
    return [line for line in text.splitlines() if line.startswith("|")]


def test_sweep_prints_the_table_report_reads_from_the_folder(tmp_path: Path) -> None:
    # dcsim sweep prints the statistics it just computed; dcsim report reads the folder back
    cfg = tmp_path / "s.yaml"
    cfg.write_text(yaml.safe_dump(tiny({"grid": {"guests[0].count": [1, 2, 3]},
                                        "replications": 3}, duration="30m"), sort_keys=False))
    out = tmp_path / "out"
    swept = runner.invoke(app, ["sweep", str(cfg), "--out", str(out), "--executor", "serial"])
    assert swept.exit_code == 0, swept.output
    report = runner.invoke(app, ["report", str(out)])
    assert report.exit_code == 0, report.output
    assert len(_table(swept.stdout)) == 5  # header, rule, 3 points
    assert _table(swept.stdout) == _table(report.stdout)
    resumed = runner.invoke(app, ["sweep", str(cfg), "--out", str(out), "--executor", "serial"])
    assert _table(resumed.stdout) == _table(report.stdout)


def test_resume_message_and_exit_code(results: Path) -> None:
    cfg = results.parent / "s.yaml"
    res = runner.invoke(app, ["sweep", str(cfg), "--out", str(results), "--executor", "serial"])
    assert res.exit_code == 0
    assert "18 resumed" in res.stdout


def test_changed_config_exits_2_without_traceback(results: Path) -> None:
    cfg = results.parent / "s.yaml"
    res = runner.invoke(app, ["sweep", str(cfg), "--out", str(results), "--executor", "serial",
                              "--set", "duration=1h"])
    assert res.exit_code == 2
    assert "different sweep" in res.output
    assert "Traceback" not in res.output


def test_bad_sweep_exits_2_with_paths(tmp_path: Path) -> None:
    cfg = tmp_path / "bad.yaml"
    cfg.write_text(yaml.safe_dump(tiny({"grid": {"datacenters[0].hosts[0].count": [],
                                                 "guests[0].cnt": [1]}}), sort_keys=False))
    res = runner.invoke(app, ["sweep", str(cfg), "--out", str(tmp_path / "o"), "-e", "serial"])
    assert res.exit_code == 2
    assert 'sweep.grid["datacenters[0].hosts[0].count"]' in res.output
    assert 'sweep.grid["guests[0].cnt"]' in res.output
    assert "Traceback" not in res.output
    assert not (tmp_path / "o").exists()


def test_dry_run_lists_points_and_writes_nothing(tmp_path: Path) -> None:
    cfg = tmp_path / "s.yaml"
    cfg.write_text(yaml.safe_dump(tiny({"grid": {"guests[0].count": [1, 2]}}), sort_keys=False))
    res = runner.invoke(app, ["sweep", str(cfg), "--dry-run", "--out", str(tmp_path / "o")])
    assert res.exit_code == 0
    assert "2 points" in res.stdout
    assert not (tmp_path / "o").exists()


def test_report_markdown_and_latex(results: Path) -> None:
    md = runner.invoke(app, ["report", str(results), "--metrics", "unmet_fraction,energy_it_kwh"])
    assert md.exit_code == 0
    lines = md.stdout.strip().splitlines()
    assert lines[0] == "| ratio | virtualization | count | n | unmet_fraction | energy_it_kwh |"
    assert len(lines) == 2 + 6
    assert " ± " in lines[2]
    tex = runner.invoke(app, ["report", str(results), "--format", "latex"])
    assert tex.exit_code == 0
    assert r"\begin{tabular}" in tex.stdout
    assert r"$\pm$" in tex.stdout
    assert r"energy\_facility\_kwh" in tex.stdout
    bad = runner.invoke(app, ["report", str(results), "--metrics", "nope"])
    assert bad.exit_code == 2
    assert "unknown metric 'nope'" in bad.output
    for empty in (",,", " , "):  # printed a table of parameters alone with n = 0 (exit 0)
        bad = runner.invoke(app, ["report", str(results), "--metrics", empty])
        assert bad.exit_code == 2, bad.output
        assert "--metrics: name at least one metric" in bad.output
        assert "|" not in bad.stdout


def test_plot_sweep_writes_png_and_pdf(results: Path, tmp_path: Path) -> None:
    res = runner.invoke(app, ["plot-sweep", str(results), "--x", "ratio", "--y",
                              "energy_facility_kwh", "--hue", "virtualization",
                              "--out", str(tmp_path)])
    assert res.exit_code == 0, res.output
    png = tmp_path / "energy_facility_kwh-vs-ratio-by-virtualization.png"
    pdf = png.with_suffix(".pdf")
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert pdf.read_bytes()[:5] == b"%PDF-"
    assert png.stat().st_size > 10_000
    multi = runner.invoke(app, ["plot-sweep", str(results), "--x", "virtualization", "--y",
                                "unmet_fraction,mean_active_hosts", "--where", "ratio=2",
                                "--out", str(tmp_path)])
    assert multi.exit_code == 0, multi.output
    assert (tmp_path / "unmet_fraction+mean_active_hosts-vs-virtualization.png").stat().st_size


def test_plot_sweep_needs_hue_or_where(results: Path, tmp_path: Path) -> None:
    res = runner.invoke(app, ["plot-sweep", str(results), "--x", "ratio", "--y",
                              "energy_facility_kwh", "--out", str(tmp_path)])
    assert res.exit_code == 2
    assert "virtualization" in res.output


@pytest.mark.parametrize(("args", "said"), [
    # --hue equal to --x said "several sweep points share each value of count, count"
    (["--x", "count", "--hue", "guests[0].count"],
     "--hue: 'guests[0].count' is the parameter on the x axis (guests[0].count); --hue takes "
     "another parameter"),
    # conflicting filters were accepted (the last one won)
    (["--x", "ratio", "--where", "virtualization=kvm", "--where", "virtualization=docker"],
     "--where: virtualization is given twice (virtualization=kvm, virtualization=docker)"),
    (["--x", "ratio", "--where", "virtualization=kvm",
      "--where", "datacenters[0].hosts[0].virtualization=kvm"],
     "--where: virtualization and datacenters[0].hosts[0].virtualization name the same "
     "parameter (datacenters[0].hosts[0].virtualization)"),
    # a metric null in every run (no jobs in this sweep) was called "unknown metric"
    (["--x", "ratio", "--hue", "virtualization", "--y", "mean_job_slowdown"],
     "--y: metric 'mean_job_slowdown' has no value in any run of this sweep (null in every "
     "run)"),
])
def test_plot_sweep_says_what_is_wrong_with_its_options(results: Path, tmp_path: Path,
                                                         args: list[str], said: str) -> None:
    if "--y" not in args:
        args = [*args, "--y", "energy_facility_kwh"]
    res = runner.invoke(app, ["plot-sweep", str(results), *args, "--out", str(tmp_path)],
                        terminal_width=400)
    assert res.exit_code == 2, res.output
    assert said in res.output
    assert not list(tmp_path.iterdir())


def test_report_says_a_metric_has_no_value_rather_than_unknown(results: Path) -> None:
    res = runner.invoke(app, ["report", str(results), "-m", "energy_it_kwh,mean_job_slowdown"],
                        terminal_width=400)
    assert res.exit_code == 2, res.output
    assert ("--metrics: metric 'mean_job_slowdown' has no value in any run of this sweep"
            in res.output)
    assert "unknown" not in res.output


def test_plot_sweep_refuses_a_run_folder(tmp_path: Path) -> None:
    (tmp_path / "timeseries.parquet").write_bytes(b"")
    res = runner.invoke(app, ["plot-sweep", str(tmp_path), "--x", "a", "--y", "b"])
    assert res.exit_code == 2
    assert "dcsim plot" in res.output


@pytest.mark.parametrize(("name", "label"), [
    ("energy_facility_kwh", "energy facility (kWh)"),
    ("mean_job_time_s", "mean job time (s)"),
    ("unmet_fraction", "unmet (fraction)"),
    ("demand_mi", "demand (MI)"),
    ("mean_cpu_utilization", "mean cpu utilization (fraction)"),
    ("guests_rejected", "guests rejected"),
    ("datacenters[0].hosts[0].count", "count"),
])
def test_axis_labels_carry_units(name: str, label: str) -> None:
    assert axis_label(name) == label
    assert split_unit("power_w") == ("power", "W")

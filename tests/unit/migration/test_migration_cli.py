"""``dcsim migration`` through typer's CliRunner on a small app with ``register``."""

from __future__ import annotations

import json

import pytest
import typer
from typer.testing import CliRunner

from dcsim.cli_migration import register

app = typer.Typer()


@app.callback()
def _root() -> None:
    """Test app (a callback keeps ``migration`` a subcommand)."""


register(app)
runner = CliRunner()


def test_json_output_for_the_issue_example() -> None:
    result = runner.invoke(
        app,
        [
            "migration",
            "--ram",
            "4GiB",
            "--dirty-rate",
            "100MB/s",
            "--bandwidth",
            "10Gbps",
            "--json",
        ],
    )
    assert result.exit_code == 0, result.output
    out = json.loads(result.stdout)
    assert {"total_time_s", "downtime_s", "rounds", "bytes_sent"} <= set(out)
    # 4 GiB at 1.25 GB/s = 3.436 s; 343.6 MB dirtied <= 375 MB threshold -> stop-and-copy
    full = 4 * 2**30 / 1.25e9
    assert out["rounds"] == 2
    assert out["bytes_sent"] == pytest.approx(4 * 2**30 + 100e6 * full)
    assert out["downtime_s"] == pytest.approx(100e6 * full / 1.25e9 + 0.009)
    assert out["total_time_s"] == pytest.approx(full + 100e6 * full / 1.25e9 + 0.009)


def test_options_reach_the_model() -> None:
    args = [
        "migration",
        "--ram",
        "1000MB",
        "--dirty-rate",
        "200MB/s",
        "--bandwidth",
        "800Mbps",
        "--max-rounds",
        "5",
        "--working-set",
        "100%",
        "--max-downtime",
        "300ms",
        "--json",
    ]
    out = json.loads(runner.invoke(app, args).stdout)
    assert out["stop_reason"] == "max_traffic"  # 4 GB sent > 3 x RAM before round 5
    cold = json.loads(
        runner.invoke(
            app,
            [
                "migration",
                "--ram",
                "2000MB",
                "--disk",
                "8GB",
                "--bandwidth",
                "1Gbps",
                "--model",
                "cold",
                "--resume-time",
                "0s",
                "--json",
            ],
        ).stdout
    )
    assert cold["total_time_s"] == pytest.approx(80.0)
    assert cold["downtime_s"] == pytest.approx(80.0)


def test_human_output_is_a_table() -> None:
    result = runner.invoke(app, ["migration", "--ram", "4GiB", "--bandwidth", "10Gbps"])
    assert result.exit_code == 0, result.output
    for word in ("total time", "downtime", "rounds", "bytes sent"):
        assert word in result.stdout


@pytest.mark.parametrize(
    ("option", "value"),
    [
        ("--ram", "4GiX"),
        ("--ram", "4096"),
        ("--dirty-rate", "fast"),
        ("--bandwidth", "10Gbpz"),
        ("--max-downtime", "3 parsecs"),
        ("--working-set", "1.5"),
        ("--model", "teleport"),
    ],
)
def test_bad_value_names_the_option_and_exits_2(option: str, value: str) -> None:
    args = ["migration", "--ram", "4GiB", "--bandwidth", "10Gbps", option, value]
    result = runner.invoke(app, args)
    assert result.exit_code == 2
    assert option in result.output
    assert "Traceback" not in result.output
    assert not isinstance(result.exception, Exception) or isinstance(result.exception, SystemExit)

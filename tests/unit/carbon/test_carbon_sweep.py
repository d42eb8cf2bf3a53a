"""The carbon policies in a sweep: grid over placement, emissions in runs.parquet."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import yaml
from typer.testing import CliRunner

from dcsim.cli import app

ROOT = Path(__file__).resolve().parents[3]


def test_sweep_over_carbon_aware_placement(tmp_path: Path) -> None:
    cfg = yaml.safe_load((ROOT / "configs" / "examples" / "carbon.yaml").read_text())
    cfg["duration"] = "6h"
    cfg["placement"] = {"name": "pabfd"}
    cfg["sweep"] = {"grid": {"placement.name": ["pabfd", "carbon_aware"]}, "replications": 1}
    path = tmp_path / "sweep.yaml"
    path.write_text(yaml.safe_dump(cfg))
    out = tmp_path / "out"
    res = CliRunner().invoke(app, ["sweep", str(path), "--out", str(out), "--executor",
                                   "serial", "-q"])
    assert res.exit_code == 0, res.output
    runs = pd.read_parquet(out / "runs.parquet").set_index("placement.name")
    em = runs["emissions_operational_kg"]
    assert em["carbon_aware"] < em["pabfd"]
    # every host is installed the whole run under both: the same embodied emissions
    assert runs.loc["carbon_aware", "emissions_embodied_kg"] == runs.loc["pabfd",
                                                                         "emissions_embodied_kg"]

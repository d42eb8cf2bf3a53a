"""A reviewer's round trip: an archived results folder reruns to the same numbers.

The README's recipe: archive the results folder, and anyone with the same dcsim version runs
``dcsim run <folder>/config.yaml --seed <manifest seed>`` and gets the same ``summary.json``
(``wall_s``, the wall-clock time, aside) and the same tables. Here the folder is packed into a
tar.gz, unpacked elsewhere (so nothing may depend on where the first run happened), and rerun
through the CLI. (``tests/unit/engine/test_compat_mode.py`` has the same round trip for a
``compat: cloudsim`` folder, whose config.yaml must carry the assumption switches.)
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pandas as pd
from typer.testing import CliRunner

from dcsim.cli import app


def test_archived_results_folder_reruns_to_the_same_summary(tmp_path: Path) -> None:
    runner = CliRunner()
    first = tmp_path / "lab" / "results" / "x"
    # the shipped default (stochastic workloads, Poisson arrivals of short-lived guests,
    # power-aware placement, sleeping hosts), shortened; a seed other than the config's
    res = runner.invoke(app, ["run", "--out", str(first), "--seed", "11", "--set",
                              "duration=3h", "-q"])
    assert res.exit_code == 0, res.output
    archive = shutil.make_archive(str(tmp_path / "x"), "gztar", root_dir=first.parent,
                                  base_dir="x")
    shutil.rmtree(tmp_path / "lab")  # the original folder is gone: only the archive remains
    reviewer = tmp_path / "reviewer"
    shutil.unpack_archive(archive, reviewer)
    folder = reviewer / "x"
    manifest = json.loads((folder / "manifest.json").read_text())
    assert manifest["seed"] == 11
    again = tmp_path / "again"
    res = runner.invoke(app, ["run", str(folder / "config.yaml"), "--seed",
                              str(manifest["seed"]), "--out", str(again), "-q"])
    assert res.exit_code == 0, res.output

    a = json.loads((folder / "summary.json").read_text())
    b = json.loads((again / "summary.json").read_text())
    assert a.pop("wall_s") > 0
    b.pop("wall_s")
    assert a == b  # every metric, exactly (JSON floats round-trip bit for bit)
    assert a["guests_arrived"] > 0
    assert json.loads((again / "manifest.json").read_text())["scenario_id"] == \
        manifest["scenario_id"]
    tables = sorted(p.name for p in folder.glob("*.parquet"))
    assert tables == sorted(p.name for p in again.glob("*.parquet"))
    for name in tables:
        pd.testing.assert_frame_equal(pd.read_parquet(folder / name),
                                      pd.read_parquet(again / name), check_exact=True)

"""``dcsim run`` keeps the cycle collector off during its start-up, and only then.

``dcsim.cli.main`` turns the collector off when the command is ``run`` and
``dcsim.cli._collect_from_here`` freezes what start-up built and turns it back on just before
the simulation (issue 15: start-up CPU). Checked in a fresh interpreter (the collector's state is
per process): the collector's state while the config loads, when the simulation starts and for
another command. No timing here (``experiments/benchmarks/planetlab.py`` prints the figures).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import REPO

# records gc's state inside load_config and at the start of the simulation, then runs main()
PROBE = """
import gc, json, sys
import dcsim, dcsim.api, dcsim.cli
seen = {}
load, run = dcsim.api.load_config, dcsim.api.run
def probe_load(*a, **k):
    seen['load_enabled'] = gc.isenabled()
    return load(*a, **k)
def probe_run(*a, **k):
    seen['run_enabled'], seen['frozen'] = gc.isenabled(), gc.get_freeze_count()
    return run(*a, **k)
dcsim.load_config, dcsim.run = probe_load, probe_run
sys.argv = ['dcsim', *sys.argv[1:]]
try:
    dcsim.cli.main()
except SystemExit as exc:
    seen['code'] = exc.code
seen['end_enabled'] = gc.isenabled()
print(json.dumps(seen))
"""


def _probe(*args: str) -> dict[str, object]:
    proc = subprocess.run([sys.executable, "-c", PROBE, *args], cwd=REPO, capture_output=True,
                          text=True, check=True)
    return json.loads(proc.stdout.strip().splitlines()[-1])


@pytest.mark.parametrize("options", [[], ["--debug"]])
def test_run_loads_without_the_collector_and_simulates_with_it(tmp_path: Path,
                                                               options: list[str]) -> None:
    seen = _probe(*options, "run", "configs/default.yaml", "--set", "duration=10m",
                  "-o", str(tmp_path / "out"), "-q")
    assert seen["code"] in (0, None)
    assert seen["load_enabled"] is False  # start-up: off
    assert seen["run_enabled"] is True  # the simulation: on, as always
    assert seen["frozen"] > 10_000  # start-up's objects (modules, models, ...) frozen
    assert seen["end_enabled"] is True
    assert (tmp_path / "out" / "summary.json").is_file()


def test_a_refused_config_still_exits_2(tmp_path: Path) -> None:
    seen = _probe("run", "configs/default.yaml", "--set", "duration=-1h",
                  "-o", str(tmp_path / "out"), "-q")
    assert seen["code"] == 2
    assert not (tmp_path / "out").exists()


def test_other_commands_keep_the_collector_on() -> None:
    seen = _probe("validate", "configs/default.yaml")
    assert seen["code"] in (0, None)
    assert seen["load_enabled"] is True
    assert "frozen" not in seen

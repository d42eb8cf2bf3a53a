"""Plugins by entry point (dcsim.plugins): a third-party package's entries used by a config.

The example plugin is the package in ``tests/data/plugin_pkg`` (its own ``pyproject.toml``).
It is not pip-installed here: installing a local path builds a wheel in an isolated environment
(setuptools fetched from the package index, slow, and impossible offline) and changes the
interpreter every other test shares. Instead each test lays out what an installed wheel leaves in
site-packages: the package folder on ``sys.path`` and a ``<name>-<version>.dist-info`` folder
with ``METADATA`` and ``entry_points.txt``, on a temporary ``sys.path`` entry. ``importlib.
metadata`` discovers it exactly as it discovers an installed distribution, so the real
entry-point lookup, ``EntryPoint.load()`` and the ``register(api)`` protocol all run. The
``entry_points.txt`` is generated from the package's ``pyproject.toml`` table, so the two
cannot drift.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tomllib
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import dcsim
from dcsim.errors import ConfigError
from dcsim.plugins import PluginWarning, load_plugins, registered, unload_plugins
from dcsim.validate import parse_config

ROOT = Path(__file__).resolve().parents[2]
PKG = ROOT / "tests" / "data" / "plugin_pkg"
ORIGIN = "plugin example (dcsim-example-plugin 0.1.0)"


def _dist_info(site: Path, name: str, version: str, entry_points: dict[str, str]) -> None:
    """What installing a wheel writes beside its package: METADATA and entry_points.txt."""
    info = site / f"{name.replace('-', '_')}-{version}.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n")
    lines = "".join(f"{k} = {v}\n" for k, v in entry_points.items())
    (info / "entry_points.txt").write_text(f"[dcsim.plugins]\n{lines}")


def _example_site(site: Path) -> None:
    project = tomllib.loads((PKG / "pyproject.toml").read_text())["project"]
    _dist_info(site, project["name"], project["version"],
               project["entry-points"]["dcsim.plugins"])


def _broken_site(site: Path) -> None:
    """A distribution with two bad plugins: one that cannot be imported, one that registers a
    workload kind and then a name dcsim already has (``first_fit``)."""
    (site / "dcsim_dup_plugin.py").write_text(
        "from pydantic import BaseModel\n\n\n"
        "class P(BaseModel):\n    pass\n\n\n"
        "def register(api):\n"
        "    api.workload('dup_only', P, lambda params, n, ctx: None)\n"
        "    api.placement('first_fit', type('X', (), {'Params': P, 'place': lambda s, v, g: g}))\n"
    )
    _dist_info(site, "dcsim-broken-plugins", "0.0.1",
               {"broken": "dcsim_no_such_module:register", "dup": "dcsim_dup_plugin:register"})


@pytest.fixture
def site(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A temporary site folder on sys.path (with the example package), plugins unloaded before
    and after so that no other test sees them."""
    folder = tmp_path / "site"
    folder.mkdir()
    monkeypatch.syspath_prepend(str(PKG))
    monkeypatch.syspath_prepend(str(folder))
    unload_plugins()
    yield folder
    unload_plugins()
    for mod in ("dcsim_example_plugin", "dcsim_dup_plugin"):
        sys.modules.pop(mod, None)


def _config(**changes: Any) -> dict[str, Any]:
    """Two empty hosts, two guests; every plugin entry named (see the hand computation)."""
    cfg: dict[str, Any] = {
        "name": "plugin-example", "seed": 1, "duration": "1h", "interval": "5m",
        "datacenters": [{"pue": 1.0, "hosts": [{
            "name": "node", "count": 2, "cores": 4, "mips_per_core": 1000, "ram": "16GiB",
            "storage": "100GiB", "bandwidth": "1Gbit/s",
            "power": {"kind": "cubic", "idle": 100, "max": 200}, "sleep_power": 10,
            "virtualization": "example_hv"}]}],
        "guests": [{"name": "app", "count": 2, "vcpus": 2, "mips": 1000, "ram": "1GiB",
                    "boot": False,
                    "workload": {"kind": "step", "before": 0.5, "after": 1.0, "at": "30m"}}],
        "placement": {"name": "last_fit"},
        "extensions": {"tick_counter": {}},
    }
    cfg.update(changes)
    return cfg


def test_a_config_runs_on_the_plugins_entries(site: Path) -> None:
    _example_site(site)
    infos = load_plugins()
    assert [(i.name, i.status) for i in infos] == [("example", "loaded")]
    rows = set(registered())
    for family, name in (("placement", "last_fit"), ("selection", "max_ram"), ("workload", "step"),
                         ("power model", "cubic"), ("virtualization profile", "example_hv"),
                         ("engine extension", "tick_counter")):
        assert (family, name, ORIGIN) in rows
    assert ("placement", "first_fit", "dcsim") in rows

    res = dcsim.run(_config())
    # last_fit: host 1 (the highest id) fits both 2-vCPU guests (4 cores): both go there, host 0
    # stays empty and sleeps.
    assert res.guests["host"].tolist() == [1, 1]
    # host 1 utilisation = 2 guests x 2 vCPUs x 1000 MIPS x u / 4000 MIPS = u: 0.5 for the
    # first 30 min (step: before), 1.0 after. cubic table: 100 + 100 u^3 -> 112.5 W at 0.5,
    # 200 W at 1.0. Host 0 asleep at 10 W for 1 h. PUE 1:
    # (112.5 x 1800 + 200 x 1800 + 10 x 3600) J = 598500 J = 0.16625 kWh
    assert res.summary["energy_facility_kwh"] == pytest.approx(598500 / 3.6e6, rel=1e-12)
    # demand: 2 guests x 2000 MIPS x (0.5 x 1800 s + 1.0 x 1800 s) = 10.8e6 MI
    assert res.summary["demand_mi"] == pytest.approx(10.8e6, rel=1e-12)
    assert res.summary["example_ticks"] == 12  # 1 h / 5 min scheduling intervals

    # the same config with the built-in first fit puts both guests on host 0
    base = dcsim.run(_config(placement={"name": "first_fit"}, extensions={}))
    assert base.guests["host"].tolist() == [0, 0]
    assert "example_ticks" not in base.summary  # the extension runs only where enabled


def test_a_plugin_selection_makes_consolidation_policy_names(site: Path) -> None:
    _example_site(site)
    load_plugins()
    g = {"vcpus": 2, "mips": 1000, "boot": False,
         "workload": {"kind": "constant", "utilization": 0.9}}
    cfg = _config(guests=[{**g, "name": "small", "ram": "1GiB"},
                          {**g, "name": "big", "ram": "2GiB"}],
                  placement={"name": "first_fit"}, extensions={}, duration="30m")
    cfg["datacenters"][0]["hosts"][0]["power"] = {"kind": "linear", "idle": 100, "max": 200}
    # first fit puts both on host 0: (2 x 2 x 1000 x 0.9) / 4000 = 0.9 > 0.8, overloaded; one
    # guest must leave (then 0.45 on each host: no overload, and host 1 cannot be evacuated
    # onto host 0 without overloading it again). MMT moves the smallest RAM (guest 0),
    # the plugin's max_ram the largest (guest 1).
    for policy, moved in (("thr-mmt-0.8", 0), ("thr-max_ram-0.8", 1)):
        res = dcsim.run({**cfg, "consolidation": {"policy": policy}})
        mig = res.tables["migrations"]
        assert mig[["guest", "source", "destination"]].values.tolist() == [[moved, 0, 1]], policy


def test_plugin_params_are_refused_with_their_config_paths(site: Path) -> None:
    _example_site(site)
    cfg = _config(extensions={"tick_counter": {"typo": 1}})
    cfg["guests"][0]["workload"] = {"kind": "step", "before": 1.5, "after": 1.0, "at": "1h"}
    cfg["datacenters"][0]["hosts"][0]["power"] = {"kind": "cubic", "max": 200, "idel": 1}
    with pytest.raises(ConfigError) as info:
        parse_config(cfg)
    paths = sorted(i.path for i in info.value.issues)
    assert paths == ["datacenters[0].hosts[0].power.idel", "datacenters[0].hosts[0].power.idle",
                     "extensions.tick_counter.typo", "guests[0].workload.before"], \
        info.value.render()


def test_unknown_plugin_names_are_refused(site: Path) -> None:
    # no plugin installed: the names of the example plugin are unknown, with their paths
    with pytest.raises(ConfigError) as info:
        parse_config(_config())
    paths = {i.path for i in info.value.issues}
    assert {"placement.name", "guests[0].workload.kind",
            "datacenters[0].hosts[0].virtualization"} <= paths, info.value.render()


def test_broken_and_duplicate_plugins_are_reported_and_skipped(site: Path) -> None:
    _example_site(site)
    _broken_site(site)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        infos = load_plugins()
    messages = [str(w.message) for w in caught if issubclass(w.category, PluginWarning)]
    assert len(messages) == 2, messages
    assert messages[0].startswith("plugin 'broken' (dcsim-broken-plugins 0.0.1) not loaded: "
                                  "cannot import 'dcsim_no_such_module:register': "
                                  "ModuleNotFoundError")
    assert messages[1] == ("plugin 'dup' (dcsim-broken-plugins 0.0.1) not loaded: placement "
                           "policy 'first_fit' is already registered (by dcsim)")
    assert {i.name: i.status for i in infos} == {"broken": "failed", "dup": "failed",
                                                 "example": "loaded"}
    names = {(f, n) for f, n, _ in registered()}
    assert ("workload", "dup_only") not in names  # a failed plugin is taken out whole
    assert ("placement", "last_fit") in names  # the good plugin still loads
    assert dcsim.load_config(None).scenario_id  # and the built-ins still work


def test_cli_lists_plugins_and_reports_a_broken_one_without_traceback(site: Path) -> None:
    _example_site(site)
    _broken_site(site)
    env = {**os.environ,
           "PYTHONPATH": os.pathsep.join([str(ROOT), str(site), str(PKG)]), "COLUMNS": "200"}
    proc = subprocess.run([sys.executable, "-m", "dcsim", "plugins"], capture_output=True,
                          text=True, env=env, timeout=120, check=False)
    assert proc.returncode == 0, proc.stderr
    assert "Traceback" not in proc.stdout + proc.stderr
    assert "warning: plugin 'broken' (dcsim-broken-plugins 0.0.1) not loaded" in proc.stderr
    row = [line for line in proc.stdout.splitlines() if " last_fit " in line]
    assert len(row) == 1
    assert "placement" in row[0]
    assert ORIGIN in row[0]
    assert any(" first_fit " in line and " dcsim " in line for line in proc.stdout.splitlines())


def test_a_plugin_input_file_is_read_listed_and_hashed(site: Path, tmp_path: Path) -> None:
    """``replay`` declares ``table: InputPath``: the run reads the file, its manifest lists it
    with size and SHA-256, a sweep's hash changes with its bytes, and a missing file is refused
    at its config path before anything runs (from the CLI: exit 2, no traceback)."""
    import hashlib

    import yaml

    from dcsim.experiments.sweep import plan_sweep

    _example_site(site)
    folder = tmp_path / "exp"
    folder.mkdir()
    (folder / "util.txt").write_text("0.5\n1.0\n")
    cfg = _config()
    cfg["guests"][0]["workload"] = {"kind": "replay", "table": "util.txt", "step": "30m"}
    path = folder / "replay.yaml"
    path.write_text(yaml.safe_dump(cfg))
    res = dcsim.run(path)
    # the file's values are the step test's (0.5 for 30 min, then 1.0): the same 598500 J
    assert res.summary["energy_facility_kwh"] == pytest.approx(598500 / 3.6e6, rel=1e-12)
    assert res.manifest["inputs"] == {"guests[0].workload.table": {
        "path": "util.txt", "bytes": 8, "sha256": hashlib.sha256(b"0.5\n1.0\n").hexdigest()}}

    sweep = {**cfg, "sweep": {"grid": {"guests[0].workload.step": ["30m", "15m"]}}}
    spath = folder / "sweep.yaml"
    spath.write_text(yaml.safe_dump(sweep))
    first = plan_sweep(spath).sweep_hash
    assert plan_sweep(spath).sweep_hash == first
    (folder / "util.txt").write_text("0.5\n0.9\n")
    assert plan_sweep(spath).sweep_hash != first

    cfg["guests"][0]["workload"]["table"] = "missing.txt"
    path.write_text(yaml.safe_dump(cfg))
    with pytest.raises(ConfigError) as info:
        dcsim.load_config(path)
    assert [(i.path, i.message) for i in info.value.issues] == [(
        "guests[0].workload.table", "'missing.txt': no such file or folder (a relative name is "
        "relative to the config's folder)")]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), str(site), str(PKG)])}
    out = tmp_path / "out"
    proc = subprocess.run([sys.executable, "-m", "dcsim", "run", str(path), "-o", str(out)],
                          capture_output=True, text=True, env=env, timeout=120, check=False)
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert "guests[0].workload.table" in proc.stdout + proc.stderr
    assert "Traceback" not in proc.stdout + proc.stderr
    assert not out.exists()


def test_a_plugins_buffered_file_survives_the_end_of_dcsim_run(site: Path, tmp_path: Path
                                                                 ) -> None:
    """``dcsim run`` ends without the interpreter's teardown only when no third-party code
    ran: a plugin extension that leaves its log file open (buffered, never flushed) still finds
    its line in the file, as with a normal exit (the file object's finalizer writes it)."""
    import yaml

    _example_site(site)
    (site / "dcsim_log_plugin.py").write_text(
        "from pydantic import BaseModel\n\n\n"
        "class P(BaseModel):\n    path: str\n\n\n"
        "class Log:\n"
        "    def __init__(self, params):\n"
        "        self.fh = open(params.path, 'w', buffering=1 << 20)  # left open on purpose\n"
        "    def start(self, sim):\n        self.fh.write('started\\n')\n"
        "    def finish(self, sim, result):\n        self.fh.write('finished\\n')\n\n\n"
        "def register(api):\n"
        "    api.extension('buffered_log', lambda sim, params: Log(params), P)\n")
    _dist_info(site, "dcsim-log-plugin", "0.0.1", {"log": "dcsim_log_plugin:register"})
    log = tmp_path / "log.txt"
    path = tmp_path / "cfg.yaml"
    path.write_text(yaml.safe_dump(_config(extensions={"buffered_log": {"path": str(log)}})))
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), str(site), str(PKG)])}
    proc = subprocess.run([sys.executable, "-m", "dcsim", "run", str(path), "-o",
                           str(tmp_path / "out"), "-q"], capture_output=True, text=True, env=env,
                          timeout=120, check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert log.read_text() == "started\nfinished\n"

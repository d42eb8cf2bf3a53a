"""Start-up stays cheap: what ``import dcsim``, ``dcsim --help`` and a plain run do NOT import.

Checked in a fresh interpreter (``sys.modules`` after the action), not by timing: pandas,
pyarrow, pydantic, numpy, scipy, networkx and matplotlib cost 0.1-0.5 s each to import, and
issue 15 asks for ``import dcsim`` and ``dcsim --help`` within 0.3 s of CPU.
"""

from __future__ import annotations

import json
import subprocess
import sys

from tests.conftest import REPO

HEAVY = ("pandas", "pyarrow", "pydantic", "numpy", "scipy", "networkx", "matplotlib", "simpy")


def _loaded_after(code: str) -> set[str]:
    """The HEAVY packages a fresh interpreter has imported after running ``code``."""
    probe = (f"{code}\nimport sys, json\n"
             f"print(json.dumps([m for m in {HEAVY!r} if m in sys.modules]))")
    out = subprocess.run([sys.executable, "-c", probe], cwd=REPO, capture_output=True,
                         text=True, check=True, env={"PYTHONPATH": str(REPO), "PATH": ""})
    return set(json.loads(out.stdout.strip().splitlines()[-1]))


def test_import_dcsim_imports_nothing_heavy() -> None:
    assert _loaded_after("import dcsim") == set()


def test_public_names_still_resolve_on_use() -> None:
    code = ("import dcsim\n"
            "api = dcsim.api  # a subpackage as an attribute, before anything imported it\n"
            "from dcsim.api import load_config, run\n"
            "assert api.run is run and dcsim.run is run and dcsim.load_config is load_config\n"
            "assert isinstance(dcsim.__version__, str) and dcsim.__version__\n"
            "assert 'run' in dir(dcsim)\n"
            "try:\n    dcsim.no_such_name\nexcept AttributeError:\n    pass\n"
            "else:\n    raise SystemExit('no AttributeError')\n")
    assert "pydantic" in _loaded_after(code)  # dcsim.api was really imported


def test_cli_help_imports_nothing_heavy() -> None:
    code = ("from dcsim.cli import app\n"
            "try:\n    app(['--help'], standalone_mode=True)\nexcept SystemExit:\n    pass\n")
    assert _loaded_after(code) == set()


def test_a_run_without_network_imports_neither_scipy_nor_networkx() -> None:
    code = ("import dcsim\nfrom tests.conftest import tiny_config\n"
            "r = dcsim.run(tiny_config())\nassert r.summary['guests_placed'] == 1\n")
    assert _loaded_after(code) & {"scipy", "networkx", "matplotlib"} == set()


def test_the_default_config_runs_without_scipy() -> None:
    # uniform workloads with independent steps and Poisson arrivals with exponential lifetimes
    # draw from numpy directly (scipy.stats costs ~1 s to import, in every sweep worker)
    code = "import dcsim\nr = dcsim.run(None, overrides=['duration=1h'])\n"
    assert _loaded_after(code) & {"scipy", "networkx", "matplotlib"} == set()


def test_dcsim_run_writes_its_folder_without_pandas(tmp_path: object) -> None:
    # the tables go from the engine to Parquet through pyarrow (dcsim.io.parquet); pandas
    # (~0.3 s) is imported only when a table is read as a DataFrame
    # main() ends a run through os._exit after the atexit handlers: report from one of them
    code = ("import atexit, json, sys\nfrom dcsim.cli import main\n"
            f"atexit.register(lambda: print(json.dumps([m for m in {HEAVY!r} "
            "if m in sys.modules])))\n"
            f"sys.argv = ['dcsim', 'run', 'configs/planetlab-cloudsim.yaml', '-q', '-o', "
            f"{str(tmp_path)!r} + '/out', '--set', 'duration=1h']\n"
            "try:\n    main()\nexcept SystemExit as e:\n    assert not e.code, e.code\n")
    loaded = _loaded_after(code)
    assert "pyarrow" in loaded  # it did write
    assert "pandas" not in loaded
    code = ("import dcsim\nr = dcsim.run('configs/planetlab-cloudsim.yaml', "
            "overrides=['duration=1h'])\n")
    assert "pandas" not in _loaded_after(code)
    assert "pandas" in _loaded_after(code + "r.timeseries\n")  # reading a table builds it
    # the default config (carbon accounting of embodied emissions on): no pandas either
    code = "import dcsim\nr = dcsim.run(None, overrides=['duration=1h'])\n"
    assert "pandas" not in _loaded_after(code)


def test_faults_jobs_and_network_runs_write_their_folders_without_pandas(
        tmp_path: object) -> None:
    # the faults, link-faults and traffic extensions and the jobs table hand their tables over
    # as Frames (written without pandas, byte for byte what pandas writes:
    # tests/unit/io/test_parquet_bytes.py)
    net = {"name": "net", "seed": 2, "duration": "3h", "interval": "5m",
           "datacenters": [{"hosts": [{"model": "ibm_x3550_x5675", "count": 16, "ram": "64GiB",
                                       "virtualization": "kvm", "cpu_overcommit": 2.0}]}],
           "guests": [{"type": "small", "count": 60,
                       "workload": {"kind": "uniform", "low": 0.0, "high": 1.0}}],
           "placement": {"name": "pabfd"}, "consolidation": {"policy": "thr-mmt-0.8"},
           "network": {"topology": {"kind": "fat_tree", "k": 4, "link": "10Gbps"},
                       "link_timeseries": True},
           "faults": {"links": {"ttf": {"kind": "exponential", "mean": "3h"},
                                "repair": {"kind": "exponential", "mean": "1h"}}}}
    jobs = {"name": "jobs", "seed": 1, "duration": "20s", "interval": "10s",
            "virtualization_profiles": {"plain": {"kind": "type1"}},
            "datacenters": [{"hosts": [{"count": 3, "cores": 1, "mips_per_core": 1000,
                                        "ram": "16GiB", "storage": "1TB",
                                        "power": {"kind": "linear", "idle": 100, "max": 200},
                                        "virtualization": "plain", "cpu_overcommit": 2.0}]}],
            "guests": [{"count": 6, "mips": 1000, "ram": "1GiB", "boot": False,
                        "workload": {"kind": "jobs", "count": 20, "length": 1000,
                                     "spread": 0.5}}]}
    for i, (config, check) in enumerate((
            ("'configs/examples/faults.yaml'", "len(r.raw('recoveries')) > 0"),
            (repr(jobs), "0 < r.summary['jobs_completed'] < r.summary['jobs_total']"),
            (repr(net), "r.summary['link_failures'] > 0 and len(r.raw('flows')) > 0 "
                        "and len(r.raw('links')) > 0 and len(r.raw('network')) > 0"))):
        code = ("import dcsim\nfrom dcsim.io.results import write_run\n"
                f"r = dcsim.run({config})\n"
                f"assert {check}\n"
                f"write_run(r, {str(tmp_path)!r} + '/out{i}')\n")
        loaded = _loaded_after(code)
        assert "pyarrow" in loaded  # it did write
        assert "pandas" not in loaded, config

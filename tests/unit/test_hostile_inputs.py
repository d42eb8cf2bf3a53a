"""Hundreds of hostile inputs through the CLI: exit 0 or 2, no traceback, no hang, no stray writes.

Issue 13: ~540 inputs once gave 45 tracebacks and 26 hangs. This drives the known cases plus
hypothesis-generated ``--set`` values, configs and trace files (well over 300 inputs in all)
through ``dcsim`` in-process (typer's CliRunner), each under a watchdog (SIGALRM), and asserts
for every one: exit code 0 or 2, no ``Traceback`` in the output, finished within
``LIMIT_S`` seconds, nothing written when refused, and no file outside ``--out`` created or
changed. A few inputs that used to block a reader forever (FIFO, ``/dev/zero``) run in a
subprocess with a timeout.
"""

from __future__ import annotations

import gzip
import math
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from dcsim.cli import app
from tests.conftest import REPO, tiny_config

runner = CliRunner()
LIMIT_S = 20
COUNTED: dict[str, int] = {"inputs": 0}


class Hang(BaseException):
    """Raised by the watchdog; a BaseException so that no ``except Exception`` swallows it."""


@contextmanager
def watchdog(seconds: int = LIMIT_S) -> Iterator[None]:
    def fire(signum: int, frame: object) -> None:
        raise Hang(f"no answer within {seconds} s")

    old = signal.signal(signal.SIGALRM, fire)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, old)


def _snapshot(root: Path, skip: Path | None = None) -> dict[str, tuple[int, int]]:
    out = {}
    for dirpath, _dirs, files in os.walk(root):
        if skip is not None and Path(dirpath).is_relative_to(skip):
            continue
        for f in files:
            p = Path(dirpath) / f
            st_ = p.lstat()
            out[str(p)] = (st_.st_mtime_ns, st_.st_size)
    return out


def drive(tmp: Path, args: list[str], out: Path | None = None) -> int:
    """Run ``dcsim ARGS`` in-process under the watchdog; check the invariants; the exit code."""
    COUNTED["inputs"] += 1
    before = _snapshot(tmp, skip=out)
    with watchdog():
        res = runner.invoke(app, args, env={"DCSIM_FORCE": "", "DCSIM_DEBUG": ""})
    text = res.output
    assert res.exit_code in (0, 2), f"{args}: exit {res.exit_code}\n{text}"
    assert "Traceback" not in text, f"{args}\n{text}"
    assert res.exception is None or isinstance(res.exception, SystemExit), (args, text)
    assert _snapshot(tmp, skip=out) == before, f"{args}: files outside --out changed"
    if out is not None and res.exit_code == 2:
        assert not out.exists(), f"{args}: refused but wrote {out}"
    return res.exit_code


@pytest.fixture
def cfg_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)  # anything written to the working folder would be seen
    p = tmp_path / "cfg.yaml"
    p.write_text(yaml.safe_dump(tiny_config()))
    return p


# ------------------------------------------------------------------------- the known cases
BOMB = ("[&a [1,1,1,1,1,1,1,1,1,1], &b [*a,*a,*a,*a,*a,*a,*a,*a,*a,*a], "
        "&c [*b,*b,*b,*b,*b,*b,*b,*b,*b,*b], &d [*c,*c,*c,*c,*c,*c,*c,*c,*c,*c], "
        "&e [*d,*d,*d,*d,*d,*d,*d,*d,*d,*d], &f [*e,*e,*e,*e,*e,*e,*e,*e,*e,*e]]")
KNOWN_SETS = [
    "datacenters[0].pue=.inf", "datacenters[0].pue=.nan", "datacenters[0].pue=1.0e300",
    "datacenters[0].hosts[0].cpu_overcommit=.inf", "datacenters[0].hosts[0].mips_per_core=.inf",
    "guests[0].cpu_weight=.inf", "guests[0].cpu_weight=1.0e-300",
    "virtualization_profiles={nolayer: {kind: type1, sched_overhead: {slope: .inf}}}",
    "guests[0].workload={kind: normal, mean: 0.5, sd: 1.0e300}",
    "guests[0].workload={kind: beta, a: 1.0e308, b: 1.0e308}",
    "guests[0].workload={kind: beta, a: 1.0e15, b: 1.0e15}",
    "guests[0].arrival={kind: poisson, rate: 1/h, lifetime: {kind: weibull, shape: 1.0e-12, "
    "scale: 1h}}",
    "consolidation={policy: thr-mmt-nan}", "consolidation={policy: iqr-mc-0}",
    "consolidation={policy: thr-mmt-inf}", "consolidation={policy: lr-mmt-1e308}",
    "consolidation={policy: mad-mc--5}", "consolidation={policy: ''}",
    "guests[0].count=1000000000000", "datacenters[0].hosts[0].count=100000000",
    "duration=1e30", "duration=1e12", "interval=1e-9", "interval=-5m", "duration=0",
    "network={topology: {kind: fat_tree, k: 2000}}",
    "network={topology: {kind: fat_tree, k: 3}}",
    "network={traffic: [{random_pairs: 1000000000, rate: 1Gbps}]}",
    "network={traffic: [{src_host: 0, dst_host: 99, rate: 1Gbps}]}",
    "network={traffic: [{src_guest: 0, dst_guest: 99, rate: 1Gbps}]}",
    "network={traffic: [{src_host: 0, dst_host: 1, rate: 1e-300bps}]}",
    "guests[0].workload={kind: jobs, count: 100000000000, length: 1000}",
    "seed=99999999999999999999", "seed=" + "9" * 5000, "seed=-1", "seed=1.5",
    "x=" + BOMB, "guests=" + BOMB, "name=" + "[" * 5000, "name=.", "name=../x",
    "placement.name=zzz", "placement.params={x: 1}", "guests[5].count=1", "a..b=1", "=1",
    "noequals", "guests[0].ram=1e300GiB", "guests[0].ram=4096",
    "datacenters[0].hosts[0].sleep_power=1e300W", "power_management.wake_latency=1e20s",
    "guests[0].workload={kind: trace, name: csv, path: /dev/zero}",
    "guests[0].workload={kind: trace, name: csv, path: /etc}",
    "guests[0].workload={kind: trace, name: nosuchtrace}",
    "guests[0].arrival={kind: trace, path: /dev/null}",
    "faults={hosts: {mtbf: 1e-300s}}", "compat=cloudsim",
]


@pytest.mark.parametrize("override", KNOWN_SETS, ids=[s[:50] for s in KNOWN_SETS])
def test_known_hostile_run(cfg_file: Path, tmp_path: Path, override: str) -> None:
    out = tmp_path / "out"
    drive(tmp_path, ["run", str(cfg_file), "--out", str(out), "-q", "--set", override], out)


# Refused with exit 2 and the field's path; each was exit 1 ("a bug in dcsim") or read silently
# wrong before the session-17 input audit.
AUDIT17 = [
    ("guests[0].arrival={kind: poisson, rate: 10/0h, mean_lifetime: 1h}", "guests[0].arrival"),
    ("guests[0].arrival={kind: poisson, rate: 1/0, mean_lifetime: 1h}", "guests[0].arrival"),
    ("virtualization_profiles={nolayer: {kind: type1}, v2: {base: [nolayer]}}",
     "virtualization_profiles.v2.base"),
    ("host_models={hx: {base: {a: 1}}}", "host_models.hx.base"),
    ("guest_types={gx: {base: [small]}}", "guest_types.gx.base"),
    ("clock={start: '9999-12-31 23:00'}", "datacenters[0].carbon"),
    ("datacenters[0].hosts[0].sleep_power=10mw", "datacenters[0].hosts[0].sleep_power"),
    ("power_management.wake_latency=5M", "power_management.wake_latency"),
    # background traffic that starts no flow, or flows that go nowhere (exit 0 before)
    ("network={traffic: [{src_host: 0, rate: 1Gbps}]}", "network.traffic[0].dst_host"),
    ("network={traffic: [{src_host: 1, dst_host: 1, rate: 1Gbps}]}",
     "network.traffic[0].dst_host"),
    ("network={traffic: [{guest_pairs: 3, rate: 1Gbps}]}", "network.traffic[0].guest_pairs"),
    ("network={traffic: [{rate: 1Gbps}]}", "network.traffic[0]: starts no flow"),
    ("network={traffic: [{src_host: 0, dst_host: 1, rate: 1Gbps, start: 1h, stop: 30m}]}",
     "network.traffic[0].stop"),
    ("network={wan: {bandwidth: 100Mbps}}", "network.wan"),  # no per_datacenter: no WAN
    # post-copy on a profile without live migration: accepted, then 0 migrations (audit)
    ("virtualization_profiles={nolayer: {kind: type1, live_migration: false, post_copy: true}}"
     "", "live_migration is false"),
]


@pytest.mark.parametrize(("override", "where"), AUDIT17, ids=[a[0][:40] for a in AUDIT17])
def test_refused_with_the_field_named(cfg_file: Path, tmp_path: Path, override: str,
                                      where: str) -> None:
    cfg = yaml.safe_load(cfg_file.read_text())
    if override.startswith("clock="):  # the clock matters to a carbon series only
        cfg["datacenters"][0]["carbon"] = {"series": "de-2020-spring"}
    if "post_copy" in override:  # the migration model matters to consolidation only
        cfg["consolidation"] = {"policy": "thr-mmt-0.8", "migration": {"model": "postcopy"}}
    cfg_file.write_text(yaml.safe_dump(cfg))
    out = tmp_path / "out"
    args = ["run", str(cfg_file), "--out", str(out), "-q", "--set", override]
    with watchdog():
        res = runner.invoke(app, args, env={"DCSIM_FORCE": "", "DCSIM_DEBUG": ""})
    assert res.exit_code == 2, res.output
    assert where in res.output, res.output
    assert not out.exists()


def test_other_commands(cfg_file: Path, tmp_path: Path) -> None:
    """plot on a corrupt parquet, migration on absurd numbers, sweep with a bad scheduler..."""
    bad = tmp_path / "results"
    bad.mkdir()
    (bad / "timeseries.parquet").write_bytes(b"PAR1 not really")
    (bad / "manifest.json").write_text("{}")
    sweep_cfg = tmp_path / "sweep.yaml"
    sweep_cfg.write_text(yaml.safe_dump(tiny_config(
        sweep={"grid": {"guests[0].count": [1, 2]}})))
    cases = [
        ["plot", str(bad), "--out", str(tmp_path / "plots")],
        ["plot", "/dev/zero"], ["plot", str(tmp_path / "missing")],
        ["migration", "--bandwidth", "1e-300bps"], ["migration", "--bandwidth", "-1Gbps"],
        ["migration", "--ram", "1e300GiB"], ["migration", "--dirty-rate", "nan"],
        ["sweep", str(sweep_cfg), "--executor", "dask", "--scheduler", "zzz://",
         "--out", str(tmp_path / "s1")],
        ["sweep", str(sweep_cfg), "--dry-run", "--set", "sweep.replications=1000000000"],
        ["sweep", str(sweep_cfg), "--dry-run", "--set",
         "sweep.derived={name: \"'a'*10**9\"}"],
        ["sweep", str(sweep_cfg), "--dry-run", "--set",
         "sweep.derived={name: \"((9**64)**64)**64\"}"],
        ["sweep", str(sweep_cfg), "--dry-run", "--set", "sweep.derived={name: \"float('nan')\"}"],
        ["sweep", str(sweep_cfg), "--dry-run", "--set",
         "sweep.sample={n: 1000000000, params: {x: {dist: uniform, low: 0, high: 1}}}"],
        ["sweep", str(sweep_cfg), "--executor", "nope", "--out", str(tmp_path / "s2")],
        ["sweep", str(sweep_cfg), "--workers", "0", "--out", str(tmp_path / "s3")],
        ["sweep", str(sweep_cfg), "--workers", "100000", "--out", str(tmp_path / "s4")],
        ["report", str(bad)], ["report", "/dev/zero"], ["plot-sweep", str(bad), "--x", "a",
                                                        "--y", "b"],
        ["traces", "import", "csv", str(cfg_file), "--out", str(tmp_path / "store")],
        ["traces", "import", "nope", str(cfg_file)],
        ["validate", "/dev/null"], ["validate", str(tmp_path)], ["schema"],
    ]
    for args in cases:
        out = next((Path(a) for i, a in enumerate(args) if i and args[i - 1] == "--out"), None)
        drive(tmp_path, args, out)


# ------------------------------------------------------------------------- generated inputs
PATHS = ["seed", "duration", "interval", "name", "datacenters[0].pue",
         "datacenters[0].hosts[0].count", "datacenters[0].hosts[0].cores",
         "datacenters[0].hosts[0].mips_per_core", "datacenters[0].hosts[0].ram",
         "datacenters[0].hosts[0].cpu_overcommit", "datacenters[0].hosts[0].power",
         "guests[0].count", "guests[0].mips", "guests[0].ram", "guests[0].cpu_weight",
         "guests[0].cpu_cap", "guests[0].workload", "guests[0].workload.utilization",
         "guests[0].arrival", "placement.name", "placement.params", "consolidation",
         "consolidation.policy", "network", "network.traffic", "faults", "output", "sweep",
         "virtualization_profiles.nolayer", "power_management.wake_latency"]
NUMBERS = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True),
    st.integers(min_value=-(10**30), max_value=10**30),
    st.sampled_from([0, -1, 1e-300, 1e300, 1e15, 1e16, 2**63, 2**64, 10**19]),
)
UNITS = st.builds(lambda x, u: f"{x!r}{u}", st.floats(allow_nan=True, allow_infinity=True),
                  st.sampled_from(["s", "ms", "h", "d", "GiB", "MB", "B", "W", "kW", "Gbps",
                                   "bps", "%", "/h", "/s", "MB/s", "fortnights", ""]))
SCALARS = st.one_of(NUMBERS, UNITS, st.text(max_size=30), st.booleans(), st.none())
YAMLISH = st.sampled_from([
    "{kind: constant, utilization: 2}", "{kind: uniform, low: 0.9, high: 0.1}",
    "{kind: diurnal, amplitude: 1.0e300}", "{kind: onoff, mean_on: 0s, mean_off: 1e-300s}",
    "{kind: trace, name: csv}", "{kind: jobs, length: 1.0e15, count: 1000000}",
    "{kind: poisson, rate: 1e9/s}", "{policy: thr-mmt-0}", "[" * 200, "{a: " * 100,
    "&a [*a]", "!!python/object/apply:os.system [echo]", "{traffic: [{random_pairs: -1}]}",
    "{topology: {kind: leaf_spine, leaves: 100000, spines: 100000}}",
    "{topology: {kind: three_tier, access: 1000000}}", "{hosts: {mtbf: 1s, mttr: 0s}}",
])


def _yaml_value(v: object) -> str:
    if isinstance(v, float) and not math.isfinite(v):
        return ".nan" if math.isnan(v) else (".inf" if v > 0 else "-.inf")
    if isinstance(v, str):
        return v
    return yaml.safe_dump(v, default_flow_style=True).strip().removesuffix("...").strip()


@settings(max_examples=150, deadline=None, database=None, derandomize=True,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(path=st.sampled_from(PATHS), value=st.one_of(SCALARS, YAMLISH))
def test_generated_set_values(cfg_file: Path, tmp_path: Path, path: str, value: object) -> None:
    drive(tmp_path, ["validate", str(cfg_file), "--set", f"{path}={_yaml_value(value)}"])


JSONISH = st.recursive(SCALARS, lambda inner: st.one_of(
    st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=8), inner, max_size=4)),
    max_leaves=12)


@settings(max_examples=60, deadline=None, database=None, derandomize=True,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(key=st.sampled_from(["datacenters", "guests", "network", "faults", "sweep", "output",
                            "placement", "consolidation", "host_models", "guest_types",
                            "duration", "seed", "unknown"]), value=JSONISH)
def test_generated_configs(cfg_file: Path, tmp_path: Path, key: str, value: object) -> None:
    cfg = tiny_config()
    cfg[key] = value
    try:
        text = yaml.safe_dump(cfg, allow_unicode=True)
    except yaml.YAMLError:  # pragma: no cover - a value YAML cannot hold
        return
    p = tmp_path / "generated.yaml"
    p.write_text(text)
    drive(tmp_path, ["validate", str(p)])
    p.unlink()


CELL = st.one_of(st.sampled_from(["inf", "-inf", "nan", "1e300", "-1", "0", "1.5", "",
                                  "1e12", "abc", "root:$6$x$y:1:0:::", '"', "0x10"]),
                 st.floats(allow_nan=False, allow_infinity=False).map(repr),
                 st.integers(min_value=0, max_value=10**6).map(str))


@settings(max_examples=60, deadline=None, database=None, derandomize=True,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(rows=st.lists(st.tuples(st.sampled_from(["a", "b", ""]), CELL, CELL, CELL),
                     min_size=0, max_size=6),
       header=st.sampled_from(["guest,time_s,cpu,vcpus", "guest,time_s,cpu_pct,ram_mib",
                               "guest,time,cpu,x", "root:x:0:0", ""]),
       packing=st.sampled_from(["plain", "gz", "truncated-gz"]))
def test_generated_trace_files(cfg_file: Path, tmp_path: Path, rows: list[tuple[str, ...]],
                               header: str, packing: str) -> None:
    body = (header + "\n" + "".join(",".join(r) + "\n" for r in rows)).encode()
    name = "trace.csv" + ("" if packing == "plain" else ".gz")
    data = body if packing == "plain" else gzip.compress(body)
    if packing == "truncated-gz":
        data = data[: max(1, len(data) // 2)]
    trace = tmp_path / name
    trace.write_bytes(data)
    cfg = tiny_config()
    cfg["guests"][0].update(workload={"kind": "trace", "name": "csv", "path": str(trace)},
                            size_from_trace=True)
    p = tmp_path / "trace-cfg.yaml"
    p.write_text(yaml.safe_dump(cfg))
    drive(tmp_path, ["validate", str(p)])
    p.unlink()
    trace.unlink()


# ------------------------------------------------------------------------- blocking files
@pytest.mark.parametrize("target", ["fifo", "/dev/zero", "fifo-trace"])
def test_blocking_inputs_in_a_subprocess(tmp_path: Path, target: str) -> None:
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    if target == "fifo":
        args = ["validate", str(fifo)]
    elif target == "/dev/zero":
        args = ["validate", "/dev/zero"]
    else:
        cfg = tiny_config()
        cfg["guests"][0]["workload"] = {"kind": "trace", "name": "csv", "path": str(fifo)}
        (tmp_path / "cfg.yaml").write_text(yaml.safe_dump(cfg))
        args = ["validate", str(tmp_path / "cfg.yaml")]
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    proc = subprocess.run([sys.executable, "-m", "dcsim", *args], capture_output=True,
                          text=True, timeout=60, env=env, cwd=tmp_path, check=False)
    assert proc.returncode == 2, proc.stderr
    assert "Traceback" not in proc.stderr + proc.stdout

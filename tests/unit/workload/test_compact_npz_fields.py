"""dcsim's own .npz files (compact traces, stored carbon series) are checked field by field when
loaded: a hand-edited file is refused with ConfigError at the config path that named it, the
file and the bad field (exit 2 from the CLI, before anything runs); the shipped files load as
before."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import yaml
from typer.testing import CliRunner

from dcsim.cli import app
from dcsim.config.workloads import TraceWorkload
from dcsim.errors import ConfigError
from dcsim.workload.carbon import load_series, package_store
from dcsim.workload.checks import check_trace_spec
from dcsim.workload.traces import (
    TraceData,
    clear_cache,
    load_compact,
    load_trace,
    package_trace_dir,
    save_compact,
)
from tests.unit.carbon.test_carbon import one_host

Arrays = dict[str, Any]


def _good_trace(tmp_path: Path) -> Arrays:
    """The arrays save_compact writes for 2 guests × 3 samples every 300 s, with memory and
    sizes: cpu uint8 percent (scale 100), mem uint8 percent."""
    trace = TraceData(
        name="csv", util=np.array([[0.1, 0.2, 0.3], [0.5, 0.6, 1.0]], dtype=np.float32),
        interval_s=300.0, guest_names=["a", "b"],
        mem_util=np.array([[0.4, 0.4, 0.4], [0.2, 0.2, 0.2]], dtype=np.float32),
        vcpus=np.array([2, 4], dtype=np.int64), ram_bytes=np.array([2.0**30, 2.0**31]),
        mips_per_vcpu=np.array([1000.0, 2500.0]), source="hand-made",
    )
    p = save_compact(trace, tmp_path / "good.npz")
    with np.load(p) as z:
        return {k: z[k] for k in z.files}


def _edit(**changes: Any) -> Callable[[Arrays], Arrays]:
    """The arrays with ``changes`` applied (None removes a field)."""
    def apply(a: Arrays) -> Arrays:
        out = dict(a)
        for k, v in changes.items():
            if v is None:
                out.pop(k)
            else:
                out[k] = v(a) if callable(v) else v
        return out
    return apply


def _nan_at_1_2(a: Arrays) -> Any:
    cpu = a["cpu"] / 100.0
    cpu[1, 2] = np.nan
    return cpu


def _150_at_0_1(a: Arrays) -> Any:
    cpu = a["cpu"].copy()
    cpu[0, 1] = 150
    return cpu


# (edit, message after "<file>: "), worked out by hand from the good trace above
TRACE_CASES: dict[str, tuple[Callable[[Arrays], Arrays], str]] = {
    "interval-zero": (_edit(interval_s=np.float64(0)),
                      "interval_s 0: expected seconds between samples, a finite number > 0 and "
                      "<= 604800 (a week)"),
    "interval-nan": (_edit(interval_s=np.float64(np.nan)), "interval_s nan: expected seconds"),
    "interval-inf": (_edit(interval_s=np.float64(np.inf)), "interval_s inf: expected seconds"),
    "interval-negative": (_edit(interval_s=np.float64(-300)),
                          "interval_s -300: expected seconds"),
    "interval-huge": (_edit(interval_s=np.float64(1e300)),
                      "interval_s 1e+300: expected seconds"),
    "interval-two-values": (_edit(interval_s=np.array([300.0, 300.0])),
                            "interval_s is a 1-D float64 array of shape (2,); expected a number "
                            "scalar: seconds between samples"),
    "interval-missing": (_edit(interval_s=None), "missing field 'interval_s' (a number scalar"),
    "scale-nan": (_edit(cpu_scale=np.float64(np.nan)),
                  "cpu_scale nan: expected a finite number > 0 and <= 1e+09 (units of cpu per "
                  "full utilisation)"),
    "scale-huge": (_edit(cpu_scale=np.float64(1e300)), "cpu_scale 1e+300: expected a finite"),
    "scale-zero": (_edit(cpu_scale=np.float64(0)), "cpu_scale 0: expected a finite"),
    "cpu-float-nan": (_edit(cpu=_nan_at_1_2, cpu_scale=np.float64(1)),
                      "cpu[1, 2] (guest 1, sample 2) is nan; expected 0 to cpu_scale 1 "
                      "(utilisation 0 to 1)"),
    "cpu-above-scale": (_edit(cpu=_150_at_0_1),
                        "cpu[0, 1] (guest 0, sample 1) is 150; expected 0 to cpu_scale 100"),
    "cpu-3d": (_edit(cpu=lambda a: a["cpu"][None]),
               "cpu is a 3-D uint8 array of shape (1, 2, 3); expected a 2-D array of integers "
               "or numbers (guests × samples)"),
    "cpu-no-columns": (_edit(cpu=lambda a: a["cpu"][:, :0]),
                       "cpu has shape (2, 0); expected at least one guest (row) and one sample"),
    "cpu-no-rows": (_edit(cpu=lambda a: a["cpu"][:0], names=lambda a: a["names"][:0],
                          mem=None, mem_scale=None, vcpus=None, ram_bytes=None,
                          mips_per_vcpu=None), "cpu has shape (0, 3); expected at least one"),
    "cpu-text": (_edit(cpu=np.array([["x"]])), "cpu is a 2-D <U1 array of shape (1, 1)"),
    "cpu-missing": (_edit(cpu=None), "missing field 'cpu' (a 2-D array"),
    "names-short": (_edit(names=lambda a: a["names"][:1]),
                    "names has 1 entry; expected one per guest (2, the rows of cpu)"),
    "names-numbers": (_edit(names=np.array([1, 2])),
                      "names is a 1-D int64 array of shape (2,); expected a 1-D text array"),
    "mem-shape": (_edit(mem=lambda a: a["mem"][:, :2]),
                  "mem has shape (2, 2); expected (2, 3) like cpu"),
    "mem-without-scale": (_edit(mem_scale=None), "missing field 'mem_scale'"),
    "vcpus-float": (_edit(vcpus=np.array([2.0, 4.0])),
                    "vcpus is a 1-D float64 array of shape (2,); expected a 1-D array of whole "
                    "numbers of cores, one per guest"),
    "vcpus-zero": (_edit(vcpus=np.array([2, 0])),
                   "vcpus[1] is 0; expected whole numbers of cores, > 0 and <= 4096"),
    "ram-count": (_edit(ram_bytes=np.array([1.0, 2.0, 3.0])),
                  "ram_bytes has 3 entries; expected one per guest (2, the rows of cpu)"),
    "mips-nan": (_edit(mips_per_vcpu=np.array([np.nan, 1000.0])),
                 "mips_per_vcpu[0] is nan; expected MIPS per vCPU, > 0 and <= 1e+07"),
    "source-missing": (_edit(source=None), "missing field 'source' (a text scalar)"),
}


def _write_bad(tmp_path: Path, case: str, target: Path) -> Path:
    edit, _ = TRACE_CASES[case]
    target.parent.mkdir(parents=True, exist_ok=True)
    np.savez(target, **edit(_good_trace(tmp_path)))
    return target


@pytest.mark.parametrize("case", list(TRACE_CASES))
def test_bad_compact_trace_refused_at_path(tmp_path: Path, case: str) -> None:
    p = _write_bad(tmp_path, case, tmp_path / "bad" / "all.npz")
    before = p.read_bytes()
    with pytest.raises(ConfigError) as exc:
        load_trace("csv", path=p)
    issue = exc.value.issues[0]
    assert issue.path == "path"
    assert issue.message.startswith(f"{p}: "), issue.message
    assert TRACE_CASES[case][1] in issue.message, issue.message
    # the config layer names the workload's field
    issues = check_trace_spec(TraceWorkload(name="csv", path=str(p)), "guests[0].workload")
    assert issues[0].path == "guests[0].workload.path"
    assert TRACE_CASES[case][1] in issues[0].message
    assert p.read_bytes() == before


def test_good_compact_trace_loads(tmp_path: Path) -> None:
    p = tmp_path / "good.npz"
    np.savez(p, **_good_trace(tmp_path))
    t = load_compact(p)
    assert (t.n_guests, t.n_samples, t.interval_s, t.guest_names) == (2, 3, 300.0, ["a", "b"])
    assert t.util[1].tolist() == pytest.approx([0.5, 0.6, 1.0])
    assert t.vcpus is not None
    assert t.vcpus.tolist() == [2, 4]


def test_bad_stored_trace_named_at_name(tmp_path: Path, user_store: Path) -> None:
    p = _write_bad(tmp_path, "interval-zero", user_store / "mine" / "all.npz")
    issues = check_trace_spec(TraceWorkload(name="mine"), "guests[0].workload")
    assert len(issues) == 1
    assert issues[0].path == "guests[0].workload.name"
    assert issues[0].message.startswith(f"{p}: interval_s 0: expected seconds")


def _cfg_file(tmp_path: Path, cfg: dict[str, Any]) -> Path:
    p = tmp_path / "cfg.yaml"
    p.write_text(yaml.safe_dump(cfg))
    return p


@pytest.mark.parametrize("case", ["interval-zero", "names-short", "cpu-3d"])
def test_cli_validate_and_run_exit_2(tmp_path: Path, user_store: Path, case: str) -> None:
    p = _write_bad(tmp_path, case, user_store / "mine" / "all.npz")
    cfg = one_host()
    cfg["guests"][0]["workload"] = {"kind": "trace", "name": "mine"}
    cfg_path = _cfg_file(tmp_path, cfg)
    out = tmp_path / "out"
    runner = CliRunner()
    for args in (["validate", str(cfg_path)], ["run", str(cfg_path), "--out", str(out)]):
        res = runner.invoke(app, args)
        assert res.exit_code == 2, res.output
        text = " ".join(res.output.split())  # rich wraps long lines
        assert f"guests[0].workload.name: {p}: " in text, text
        assert " ".join(TRACE_CASES[case][1].split()) in text
        assert "internal error" not in res.output
    assert not out.exists()


def test_shipped_traces_load_unchanged() -> None:
    """Every shipped day: the checked loader returns exactly what the arrays say."""
    clear_cache()
    files = sorted(package_trace_dir().glob("*/*.npz"))
    assert len(files) >= 21  # planetlab 10 days, google 10, bitbrains-sample 1
    for f in files:
        t = load_compact(f)
        with np.load(f) as z:
            assert np.array_equal(t.util, z["cpu"].astype(np.float32) / np.float32(z["cpu_scale"]))
            assert t.guest_names == z["names"].tolist()
            assert t.interval_s == float(z["interval_s"]) == 300.0
            if "mem" in z.files:
                assert t.mem_util is not None
                assert np.array_equal(t.mem_util, z["mem"].astype(np.float32)
                                      / np.float32(z["mem_scale"]))
            for key in ("vcpus", "ram_bytes", "mips_per_vcpu"):
                got = getattr(t, key)
                assert (got is None) == (key not in z.files)
                if got is not None:
                    assert np.array_equal(got, z[key])
                    assert got.dtype == z[key].dtype


# ------------------------------------------------------------------ stored carbon series

T0 = 1578268800  # 2020-01-06 00:00 UTC


def _carbon(**changes: Any) -> Arrays:
    good: Arrays = {"t": np.array([T0, T0 + 3600, T0 + 7200], dtype=np.int64),
                    "v": np.array([300.0, 50.0, 80.0], dtype=np.float32),
                    "source": np.array("hand-made")}
    for k, v in changes.items():
        if v is None:
            good.pop(k)
        else:
            good[k] = v
    return good


CARBON_CASES: dict[str, tuple[Arrays, str]] = {
    "v-nan": (_carbon(v=np.array([300.0, np.nan, 80.0])),
              "v[1] is nan; expected a finite intensity >= 0 (g CO2-eq/kWh)"),
    "v-negative": (_carbon(v=np.array([300.0, 50.0, -1.0])), "v[2] is -1; expected a finite"),
    "v-short": (_carbon(v=np.array([300.0, 50.0])),
                "v has 2 entries; expected one per instant of t (3)"),
    "v-missing": (_carbon(v=None), "missing field 'v' (a 1-D array of intensities"),
    "t-2d": (_carbon(t=np.array([[T0, T0 + 3600, T0 + 7200]])),
             "t is a 2-D int64 array of shape (1, 3); expected a 1-D array of instants"),
    "t-empty": (_carbon(t=np.array([], dtype=np.int64), v=np.array([])),
                "t is empty; expected at least one instant"),
    "t-backwards": (_carbon(t=np.array([T0, T0 + 3600, T0 + 3600])),
                    "t[2] is 1578272400, not after t[1] 1578272400; expected strictly "
                    "increasing instants"),
    "t-inf": (_carbon(t=np.array([T0, np.inf, T0 + 7200.0])),
              "t[1] is inf; expected an instant within years 1 to 9999"),
    "t-text": (_carbon(t=np.array(["a", "b", "c"])), "t is a 1-D <U1 array of shape (3,)"),
}


@pytest.mark.parametrize("case", list(CARBON_CASES))
def test_bad_carbon_series_refused_at_series(user_store: Path, case: str) -> None:
    arrays, fragment = CARBON_CASES[case]
    p = user_store / "carbon" / "grid.npz"
    p.parent.mkdir(parents=True)
    np.savez(p, **arrays)
    with pytest.raises(ConfigError) as exc:
        load_series("grid", "datacenters[0].carbon.series")
    issue = exc.value.issues[0]
    assert issue.path == "datacenters[0].carbon.series"
    assert issue.message.startswith(f"{p}: "), issue.message
    assert fragment in issue.message, issue.message


def test_bad_carbon_series_cli_exit_2(tmp_path: Path, user_store: Path) -> None:
    p = user_store / "carbon" / "grid.npz"
    p.parent.mkdir(parents=True)
    np.savez(p, **CARBON_CASES["v-nan"][0])
    cfg = one_host(carbon={"series": "grid"})
    cfg.update(duration="1h", clock={"start": "2020-01-06 00:30"})
    res = CliRunner().invoke(app, ["validate", str(_cfg_file(tmp_path, cfg))])
    assert res.exit_code == 2, res.output
    assert f"datacenters[0].carbon.series: {p}: v[1] is nan" in " ".join(res.output.split())


def test_good_and_shipped_carbon_series_load_unchanged(user_store: Path) -> None:
    p = user_store / "carbon" / "grid.npz"
    p.parent.mkdir(parents=True)
    np.savez(p, **_carbon())
    s = load_series("grid", "x")
    assert s.t.tolist() == [T0, T0 + 3600, T0 + 7200]
    assert s.v.tolist() == [300.0, 50.0, 80.0]
    shipped = sorted(package_store().glob("*.npz"))
    assert len(shipped) == 12
    for f in shipped:
        s = load_series(f.stem, "x")
        with np.load(f) as z:
            assert np.array_equal(s.t, z["t"].astype(np.float64))
            assert np.array_equal(s.v, z["v"].astype(np.float64))
            assert s.source == str(z["source"])



def _damage(p: Path, member: str) -> None:
    """Flip 4 bytes inside the compressed data of ``member`` (its CRC no longer matches; the
    .npy header at its start still reads, so only loading the data finds it)."""
    import zipfile

    with zipfile.ZipFile(p) as z:
        info = z.getinfo(member)
    data = bytearray(p.read_bytes())
    start = info.header_offset + 30 + len(info.filename.encode()) + len(info.extra)
    mid = start + info.compress_size // 2
    data[mid:mid + 4] = bytes(b ^ 0xFF for b in data[mid:mid + 4])
    p.write_bytes(bytes(data))


def test_damaged_member_refused(tmp_path: Path, user_store: Path) -> None:
    arrays = _good_trace(tmp_path)
    rng = np.random.default_rng(0)  # incompressible, so the member is long
    arrays["cpu"] = rng.integers(0, 101, size=(2, 20000)).astype(np.uint8)
    arrays["mem"] = arrays["mem"][:, :1].repeat(20000, axis=1)
    p = user_store / "mine" / "all.npz"
    p.parent.mkdir(parents=True)
    np.savez_compressed(p, **arrays)
    _damage(p, "cpu.npy")
    issues = check_trace_spec(TraceWorkload(name="mine"), "guests[0].workload")
    assert issues[0].path == "guests[0].workload.name"
    assert issues[0].message.startswith(f"{p}: not a readable dcsim .npz file ("), issues
    c = user_store / "carbon" / "grid.npz"
    c.parent.mkdir(parents=True)
    np.savez_compressed(c, **_carbon(t=T0 + 60 * np.arange(20000),
                                     v=rng.random(20000).astype(np.float32)))
    _damage(c, "v.npy")
    with pytest.raises(ConfigError) as exc:
        load_series("grid", "datacenters[0].carbon.series")
    assert str(exc.value.issues[0]).startswith(
        f"datacenters[0].carbon.series: {c}: not a readable dcsim .npz file (")

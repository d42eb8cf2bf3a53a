"""Hostile trace files are refused with their path, never hang, never leak content (issue 13)."""

from __future__ import annotations

import gzip
import io
import os
import zipfile
from pathlib import Path

import numpy as np
import pytest
import yaml
from typer.testing import CliRunner

import dcsim
from dcsim.cli import app
from dcsim.errors import ConfigError
from dcsim.workload.readers import read_bitbrains, read_generic
from dcsim.workload.safeio import check_npz, read_trace_bytes
from tests.conftest import tiny_config

runner = CliRunner()
SECRET = "root:$6$Zx9fQe$k1Jm0sEcReTHaSh:19000:0:99999:7:::\n"


def _csv(tmp_path: Path, body: str, name: str = "t.csv") -> Path:
    p = tmp_path / name
    p.write_text("guest,time_s,cpu,vcpus\n" + body)
    return p


def _trace_cfg(tmp_path: Path, trace: Path) -> Path:
    cfg = tiny_config()
    cfg["guests"][0].update(workload={"kind": "trace", "name": "csv", "path": str(trace)},
                            size_from_trace=True)
    p = tmp_path / "cfg.yaml"
    p.write_text(yaml.safe_dump(cfg))
    return p


def test_infinite_vcpus_refused_with_line(tmp_path: Path) -> None:
    # vcpus=inf became INT64_MIN vCPUs and -6.6e24 MI of demand, exit 0
    trace = _csv(tmp_path, "a,0,0.5,inf\na,300,0.5,inf\n")
    with pytest.raises(ConfigError, match=r"t\.csv line 2: vcpus inf must be finite"):
        read_generic(trace)
    with pytest.raises(ConfigError, match="vcpus"):
        dcsim.load_config(_trace_cfg(tmp_path, trace))


def test_fractional_vcpus_refused(tmp_path: Path) -> None:
    trace = _csv(tmp_path, "a,0,0.5,1.5\na,300,0.5,1.5\n")
    with pytest.raises(ConfigError, match=r"line 2: vcpus 1.5 must be a whole number"):
        read_generic(trace)


def test_trace_span_bounded(tmp_path: Path) -> None:
    # 0 .. 1e9 s (32 years, within MAX_SPAN_S) on a 1 s grid: 10^9 samples were allocated
    trace = _csv(tmp_path, "a,0,0.5,1\na,1,0.5,1\na,1000000000,0.5,1\n")
    with pytest.raises(ConfigError, match=r"t\.csv line 4: time_s 1e\+09 makes the trace span "
                       r"1,000,000,001 samples"):
        read_generic(trace)


def test_truncated_csv_gz_refused_with_path(tmp_path: Path) -> None:
    data = gzip.compress(b"guest,time_s,cpu\n" + b"a,0,0.5\n" * 5000)
    p = tmp_path / "t.csv.gz"
    p.write_bytes(data[: len(data) // 2])
    with pytest.raises(ConfigError, match=r"t\.csv\.gz: truncated or corrupt gzip"):
        read_generic(p)


def test_gzip_bomb_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import dcsim.workload.safeio as safeio

    monkeypatch.setattr(safeio, "MAX_DECOMPRESSED_BYTES", 1 << 20)  # 1 MiB cap for the test
    p = tmp_path / "bomb.csv.gz"
    p.write_bytes(gzip.compress(b"0" * (8 << 20)))  # 8 MiB of zeros, ~8 kB compressed
    with pytest.raises(ConfigError, match="decompresses to more than"):
        read_trace_bytes(p)


def test_bitbrains_truncated_gz(tmp_path: Path) -> None:
    (tmp_path / "1.csv.gz").write_bytes(gzip.compress(b"x" * 10000)[:30])
    with pytest.raises(ConfigError, match=r"1\.csv\.gz: truncated or corrupt"):
        read_bitbrains(tmp_path)


@pytest.mark.parametrize("kind", ["fifo", "devzero"])
def test_trace_path_not_a_regular_file(tmp_path: Path, kind: str) -> None:
    if kind == "fifo":
        trace = tmp_path / "t.csv"
        os.mkfifo(trace)  # pandas would block on it forever
    else:
        trace = Path("/dev/zero")
    with pytest.raises(ConfigError, match="regular"):
        read_generic(trace)


def test_npz_with_object_array_refused(tmp_path: Path) -> None:
    p = tmp_path / "day.npz"
    np.savez(p, cpu=np.array([{"x": 1}], dtype=object))
    with pytest.raises(ConfigError, match=r"not a readable \.npz"):
        check_npz(p)


def test_npz_declaring_huge_array_refused(tmp_path: Path) -> None:
    """A member whose .npy header claims 10^12 floats (the data is absent): refused from the
    header, before numpy allocates anything."""
    from numpy.lib import format as npy

    buf = io.BytesIO()
    npy.write_array_header_1_0(buf, {"descr": "<f8", "fortran_order": False,
                                     "shape": (10**12,)})
    p = tmp_path / "day.npz"
    with zipfile.ZipFile(p, "w") as z:
        z.writestr("cpu.npy", buf.getvalue())
    with pytest.raises(ConfigError, match="arrays total"):
        check_npz(p)


def test_zip_bomb_npz_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import dcsim.workload.safeio as safeio

    monkeypatch.setattr(safeio, "MAX_DECOMPRESSED_BYTES", 1 << 20)
    p = tmp_path / "day.npz"
    np.savez_compressed(p, cpu=np.zeros(1 << 20))  # 8 MiB of zeros compress to ~8 kB
    with pytest.raises(ConfigError, match="arrays total"):
        check_npz(p)


@pytest.mark.parametrize("how", ["csv", "planetlab"])
def test_errors_do_not_echo_arbitrary_files(tmp_path: Path, how: str) -> None:
    """A trace path pointed at a credentials file: refused, its content never printed."""
    secret = tmp_path / "folder" / "shadow"
    secret.parent.mkdir()
    secret.write_text(SECRET)
    cfg = tiny_config()
    cfg["guests"][0]["workload"] = (
        {"kind": "trace", "name": "csv", "path": str(secret)} if how == "csv"
        else {"kind": "trace", "name": "planetlab", "path": str(secret.parent)})
    path = tmp_path / "cfg.yaml"
    path.write_text(yaml.safe_dump(cfg))
    res = runner.invoke(app, ["validate", str(path)])
    assert res.exit_code == 2, res.output
    assert "shadow" in res.output  # the file is named ...
    for token in ("Zx9fQe", "k1Jm0sEcReTHaSh", "root:"):  # ... its content is not
        assert token not in res.output


def test_topology_file_fifo_refused(tmp_path: Path) -> None:
    fifo = tmp_path / "net.edges"
    os.mkfifo(fifo)
    cfg = tiny_config(network={"topology": {"kind": "file", "path": str(fifo)}})
    p = tmp_path / "cfg.yaml"
    p.write_text(yaml.safe_dump(cfg))
    with pytest.raises(ConfigError, match="regular"):
        dcsim.load_config(p)

"""Trace readers, the compact store and the shipped traces."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from dcsim.workload.traces import (
    available_traces,
    clear_cache,
    load_compact,
    load_trace,
    read_bitbrains,
    read_generic,
    read_google,
    read_planetlab,
    save_compact,
)

PLANETLAB_DAYS = {
    "20110303": 1052, "20110306": 898, "20110309": 1061, "20110322": 1516, "20110325": 1078,
    "20110403": 1463, "20110409": 1358, "20110411": 1233, "20110412": 1054, "20110420": 1033,
}


def test_shipped_planetlab_days() -> None:
    for day, n in PLANETLAB_DAYS.items():
        t = load_trace("planetlab", day)
        assert t.util.shape == (n, 288)
        assert t.util.dtype == np.float32
        assert t.interval_s == 300.0
        assert t.guest_names == sorted(t.guest_names)
        assert t.util.min() >= 0.0
        assert t.util.max() <= 1.0
        assert "Beloglazov" in t.source
    every = load_trace("planetlab")
    assert every.n_guests == 11_746
    assert every.guest_names[0].startswith("20110303/")


def test_loaded_days_are_cached_until_cleared() -> None:
    # (load times are printed by experiments/benchmarks/workloads.py, not asserted here)
    clear_cache()
    first = {day: load_trace("planetlab", day) for day in PLANETLAB_DAYS}
    assert all(load_trace("planetlab", day) is t for day, t in first.items())
    clear_cache()
    again = load_trace("planetlab", "20110303")
    assert again is not first["20110303"]
    np.testing.assert_array_equal(again.util, first["20110303"].util)


def test_shipped_google_and_bitbrains_sample() -> None:
    g = load_trace("google")
    assert g.n_guests == 1600
    assert g.mem_util is not None
    assert float(g.mem_util.max()) == 1.0
    assert g.util.max() <= 0.9 + 1e-6
    assert load_trace("google", "6").n_guests == 189
    b = load_trace("bitbrains-sample")
    assert b.n_guests == 5
    assert b.vcpus is not None
    assert b.ram_bytes is not None
    assert b.mips_per_vcpu is not None
    assert b.n_samples == 8640
    names = {t.name for t in available_traces()}
    assert {"planetlab", "google", "bitbrains-sample"} <= names


def test_read_planetlab_excerpt(test_data: Path) -> None:
    t = read_planetlab(test_data / "planetlab", "20110303")
    assert t.n_guests == 3
    assert "aladdin_planetlab_extranet_uni-passau_de_ rnp_dcc_ufjf" in t.guest_names
    assert t.guest_names == sorted(t.guest_names)
    shipped = load_trace("planetlab", "20110303")
    for i, name in enumerate(t.guest_names):
        assert np.array_equal(t.util[i], shipped.util[shipped.guest_names.index(name)])
    first = (test_data / "planetlab/20110303" / t.guest_names[0]).read_text().split()
    assert t.util[0, :3] == pytest.approx([int(x) / 100 for x in first[:3]])


def test_read_google_excerpt(test_data: Path) -> None:
    t = read_google(test_data / "google" / "GCD_VMs_excerpt.tar.gz")
    assert t.guest_names == ["vm_259235987_1", "vm_259235987_2", "vm_6219557576_2"]
    assert t.mem_util is not None
    assert float(t.mem_util[2].max()) == 1.0  # 215 % clipped
    assert t.util.shape == (3, 288)
    assert read_google(test_data / "google" / "GCD_VMs_excerpt.tar.gz", "2").n_guests == 2


def test_read_bitbrains_excerpt(test_data: Path) -> None:
    t = read_bitbrains(test_data / "bitbrains", "2013-8")
    assert t.guest_names == ["1", "123", "265"]
    assert t.vcpus is not None
    assert t.ram_bytes is not None
    assert t.mips_per_vcpu is not None
    assert t.vcpus[0] == 2
    assert t.ram_bytes[0] == 8_388_608 * 1024
    assert t.mips_per_vcpu[0] == pytest.approx(5851.9989 / 2)
    assert t.interval_s == 300.0
    assert t.mem_util is not None
    assert t.util.min() >= 0
    assert t.util.max() <= 1
    assert t.mem_util.max() <= 1
    # VM 123's slice starts inside its all-zero block: utilisation 0 there (VM off)
    assert np.all(t.util[1, :10] == 0)
    # VM 1 row 1 (t = 1375308176 s, CPU 12.77 %) lands on the first grid point of its own grid
    one = read_bitbrains(test_data / "bitbrains" / "2013-8",
                         files=[test_data / "bitbrains/2013-8/1.csv.gz"])
    assert one.util[0, 0] == pytest.approx(0.12766666, abs=1e-6)
    assert one.n_samples == 300


def test_read_generic_csv(test_data: Path) -> None:
    t = read_generic(test_data / "generic" / "small.csv")
    assert t.guest_names == ["web-1", "db-1"]
    assert t.interval_s == 300.0
    assert t.util[0] == pytest.approx([0.1, 0.2, 0.4, 0.0])
    # db-1: samples at 300 s and 900 s, interpolated at 600 s, 0 before its first sample
    assert t.util[1] == pytest.approx([0.0, 0.5, 0.65, 0.8])
    assert t.mem_util is not None
    assert t.mem_util[1, 1] == pytest.approx(0.6)
    assert t.vcpus is not None
    assert t.ram_bytes is not None
    assert t.vcpus.tolist() == [2, 4]
    assert t.ram_bytes.tolist() == [4096 * 2**20, 8192 * 2**20]


def test_generic_parquet_roundtrip(tmp_path: Path) -> None:
    import pandas as pd

    df = pd.DataFrame({"guest": ["a", "a", "b", "b"], "time_s": [0, 60, 0, 60],
                       "cpu": [0.1, 0.2, 0.3, 0.4]})
    df.to_parquet(tmp_path / "x.parquet")
    t = load_trace("mine", path=tmp_path / "x.parquet")
    assert t.interval_s == 60.0
    assert t.util == pytest.approx(np.array([[0.1, 0.2], [0.3, 0.4]]))


def test_compact_roundtrip_and_user_store(test_data: Path, user_store: Path) -> None:
    t = read_generic(test_data / "generic" / "small.csv", name="mine")
    save_compact(t, user_store / "mine" / "d1.npz")
    back = load_compact(user_store / "mine" / "d1.npz")
    assert back.guest_names == t.guest_names
    assert np.allclose(back.util, t.util, atol=5e-5)
    assert back.vcpus is not None
    assert back.vcpus.tolist() == [2, 4]
    found = load_trace("mine", "d1")
    assert found.name == "mine"
    assert found.day == "d1"
    assert "mine" in {i.name for i in available_traces()}


def test_raw_planetlab_matches_shipped(shared_data: Path) -> None:
    for day in ("20110303", "20110420"):
        raw = read_planetlab(shared_data / "planetlab", day)
        shipped = load_trace("planetlab", day)
        assert raw.guest_names == shipped.guest_names
        assert np.array_equal(raw.util, shipped.util)


def test_raw_google_matches_shipped(shared_data: Path) -> None:
    raw = read_google(shared_data / "google2011-gcd-vms" / "GCD_VMs.tar.gz")
    shipped = load_trace("google")
    assert raw.n_guests == 1600
    assert [n.split("/")[1] for n in shipped.guest_names] == raw.guest_names
    assert np.allclose(raw.util, shipped.util, atol=5.1e-5)
    assert float(raw.util.mean()) == pytest.approx(0.2185, abs=5e-4)  # README: mean 21.85 %


def test_raw_bitbrains(shared_data: Path) -> None:
    folder = shared_data / "bitbrains-rnd"
    files = [folder / "2013-8" / f"{i}.csv.gz" for i in (1, 3, 123, 265)]
    t = read_bitbrains(folder / "2013-8", files=files)
    assert t.n_guests == 4
    assert t.n_samples == pytest.approx(30 * 288, abs=2)
    assert t.vcpus is not None
    # sizes are the most common non-zero value (VM 265 is mostly zero rows)
    assert t.vcpus.tolist() == [2, 1, 4, 2]
    # README: vm 1 mean CPU 2.48 %
    assert float(t.util[0].mean()) == pytest.approx(0.0248, abs=0.001)
    shipped = load_trace("bitbrains-sample")
    assert shipped.guest_names[:2] == ["1", "3"]

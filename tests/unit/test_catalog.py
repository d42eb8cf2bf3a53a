"""The shipped catalogs (dcsim/catalog/*.yaml): they load, validate, cite their numbers and keep the
orderings the published measurements imply."""

from __future__ import annotations

import itertools
import re
from importlib import resources
from typing import Any

import pytest
import yaml

from dcsim.config import catalog as cat

CATALOGS = {
    "hosts": (cat.host_models, cat.HostModel),
    "virtualization": (cat.virtualization_profiles, cat.VirtualizationProfile),
    "guests": (cat.guest_types, cat.GuestType),
}
UNCITED = {"description", "sources", "kind"}
MARKERS = re.compile(r"\[(V|A|S|D|E)\]")

# CloudSim's SPECpower tables (virtualization-overheads.md section 6; CloudSim power models).
ML110_G4 = [86, 89.4, 92.6, 96, 99.5, 102, 106, 108, 112, 114, 117]
ML110_G5 = [93.7, 97, 101, 105, 110, 116, 121, 125, 129, 133, 135]


def raw(name: str) -> dict[str, Any]:
    text = resources.files("dcsim.catalog").joinpath(f"{name}.yaml").read_text("utf-8")
    data = yaml.safe_load(text)
    assert isinstance(data, dict)
    return data


def entries() -> list[Any]:
    return [
        pytest.param(c, key, entry, id=f"{c}.{key}")
        for c in CATALOGS
        for key, entry in raw(c).items()
    ]


@pytest.mark.parametrize("name", sorted(CATALOGS))
def test_catalog_loads_and_validates(name: str) -> None:
    loader, model = CATALOGS[name]
    loaded = loader()
    assert loaded, f"{name} catalog is empty"
    assert set(loaded) == set(raw(name))
    for key, entry in loaded.items():
        assert isinstance(entry, model), key


@pytest.mark.parametrize(("catalog", "key", "entry"), entries())
def test_every_set_field_is_cited(catalog: str, key: str, entry: dict[str, Any]) -> None:
    fields = set(CATALOGS[catalog][1].model_fields)
    sources = entry.get("sources") or {}
    missing = sorted(set(entry) - UNCITED - set(sources))
    assert not missing, f"{catalog}.{key}: fields set without a citation in `sources`: {missing}"
    unknown = sorted(set(sources) - fields)
    assert not unknown, f"{catalog}.{key}: `sources` names unknown fields: {unknown}"
    for field, citation in sources.items():
        assert isinstance(citation, str), f"{catalog}.{key}.sources.{field}"
        assert citation.strip(), f"{catalog}.{key}.sources.{field} is empty"
        assert MARKERS.search(citation), (
            f"{catalog}.{key}.sources.{field} carries no evidence marker ([V]/[A]/[S]/[D]/[E])"
        )


@pytest.mark.parametrize("key", sorted(raw("hosts")))
def test_spec_tables_have_11_non_decreasing_values(key: str) -> None:
    host = cat.host_models()[key]
    if host.power.kind != "spec":
        pytest.skip("linear power model")
    table = host.power.table()
    assert len(table) == 11
    assert all(b >= a for a, b in itertools.pairwise(table)), table
    assert table[0] > 0
    assert not host.power.problems()


def test_ml110_tables_equal_cloudsim() -> None:
    hosts = cat.host_models()
    assert hosts["hp_ml110_g4"].power.table() == [float(w) for w in ML110_G4]
    assert hosts["hp_ml110_g5"].power.table() == [float(w) for w in ML110_G5]


def test_ml110_hosts_match_cloudsim_planetlab() -> None:
    hosts = cat.host_models()
    for key, mips in (("hp_ml110_g4", 1860.0), ("hp_ml110_g5", 2660.0)):
        h = hosts[key]
        assert (h.cores, h.mips_per_core) == (2, mips)
        assert h.ram == 4 * 1024**3
        assert h.storage == 1e12  # 1,000,000 MB
        assert h.bandwidth == 1e9
        assert h.sleep_power == 0.0


def test_at_least_three_current_servers() -> None:
    """Three hosts whose SPECpower result (power_ssj2008-YYYYMMDD-NNNNN) is from 2019 or later."""
    current = []
    for key, entry in raw("hosts").items():
        m = re.search(r"power_ssj2008-(\d{4})\d{4}-\d{5}", entry["sources"]["power"])
        assert m, f"{key}: power citation names no SPECpower result id"
        if int(m.group(1)) >= 2019:
            current.append(key)
    assert len(current) >= 3, current


def test_cloudsim_guest_types() -> None:
    g = cat.guest_types()
    expect = {
        "cloudsim_2500": (2500, 870),
        "cloudsim_2000": (2000, 1740),
        "cloudsim_1000": (1000, 1740),
        "cloudsim_500": (500, 613),
    }
    for key, (mips, ram_mb) in expect.items():
        t = g[key]
        assert (t.vcpus, t.mips, t.ram) == (1, mips, ram_mb * 1e6)
        assert t.disk == 2500e6
        assert t.bandwidth == 100e6


def test_profile_kinds() -> None:
    p = cat.virtualization_profiles()
    kinds = {
        "bare_metal": "bare_metal",
        "kvm": "type1",
        "xen": "type1",
        "esxi": "type1",
        "hyperv": "type1",
        "virtualbox": "type2",
        "vmware_workstation": "type2",
        "docker": "container",
        "lxc": "container",
    }
    for key, kind in kinds.items():
        assert p[key].kind == kind, key
    bm = p["bare_metal"]
    assert bm.max_guests == 1
    assert bm.cpu_overhead == bm.mem_overhead_per_guest == bm.host_reserved_mem == 0
    assert not bm.live_migration


def test_cpu_overhead_order() -> None:
    p = cat.virtualization_profiles()
    assert (
        p["bare_metal"].cpu_overhead
        <= p["docker"].cpu_overhead
        <= p["kvm"].cpu_overhead
        <= p["virtualbox"].cpu_overhead
    )
    by_kind: dict[str, list[float]] = {}
    for prof in p.values():
        by_kind.setdefault(prof.kind, []).append(prof.cpu_overhead)
    assert max(by_kind["bare_metal"]) <= min(by_kind["container"])
    assert max(by_kind["container"]) <= min(by_kind["type1"])
    assert max(by_kind["type1"]) <= min(by_kind["type2"])


def test_memory_overhead_order() -> None:
    p = cat.virtualization_profiles()
    by_kind: dict[str, list[float]] = {}
    for prof in p.values():
        by_kind.setdefault(prof.kind, []).append(prof.mem_overhead_per_guest)
    assert max(by_kind["container"]) < min(by_kind["type1"])
    assert max(by_kind["type1"]) < min(by_kind["type2"])


def test_boot_times() -> None:
    p = cat.virtualization_profiles()
    assert p["docker"].boot_time.mean < p["kvm"].boot_time.mean
    assert (p["kvm"].boot_time.mean, p["kvm"].boot_time.sd) == (8.47, 0.17)
    assert (p["xen"].boot_time.mean, p["xen"].boot_time.sd) == (18.20, 0.15)
    assert (p["docker"].boot_time.mean, p["docker"].boot_time.sd) == (0.234, 0.012)
    assert (p["lxc"].boot_time.mean, p["lxc"].boot_time.sd) == (6.33, 0.14)


def test_migration_capabilities() -> None:
    p = cat.virtualization_profiles()
    for key in ("kvm", "xen", "esxi", "hyperv"):
        assert p[key].live_migration, key
    assert p["kvm"].post_copy
    assert not any(p[k].post_copy for k in ("xen", "esxi", "hyperv", "virtualbox"))
    assert p["virtualbox"].live_migration
    assert not p["vmware_workstation"].live_migration
    for key in ("docker", "lxc"):
        assert not p[key].live_migration, key
        assert p[key].checkpoint_restore, key


def test_sched_overhead_derivation() -> None:
    kvm = cat.virtualization_profiles()["kvm"].sched_overhead
    # Barham: r = 128 domains / 2 CPUs = 64 runnable vCPUs per core -> 7.5 % loss.
    assert min(kvm.max, kvm.slope * (64 - 1)) == pytest.approx(0.075, rel=1e-3)

"""No dead profile field: changing any numeric virtualization-profile field moves some metric.

A table maps every numeric field of ``VirtualizationProfile`` (nested ``boot_time`` and
``sched_overhead`` included) to a small scenario that exercises it and to a changed value; a
field added to the profile without a row here fails ``test_every_numeric_field_has_a_scenario``,
and a field the engine never reads fails ``test_changing_the_field_moves_a_metric``.

The scenario: one 4-core host of 2000 MIPS (not saturated) running a probe profile, 8 one-vCPU
guests of 1000 MIPS at 80 % (RAM and storage fill the host exactly, so footprints bind), each
exercising one part of the model: plain CPU, syscall-heavy, memory-bound, sequential / random /
latency-bound storage I/O, bulk / request-response network I/O, antisocial neighbours.
"""

from __future__ import annotations

import math
from typing import Any

import pytest
from pydantic import BaseModel

import dcsim
from dcsim.config.catalog import BootTime, SchedOverhead, VirtualizationProfile

GUEST_RAM = 256 * 2**20
GUEST_DISK = 1e9
PROBE = {  # every field away from its neutral value, none binding unless a row says so
    "kind": "type1", "cpu_overhead": 0.05, "syscall_overhead": 0.1, "mem_bw_overhead": 0.05,
    "mem_overhead_per_guest": 100e6, "host_reserved_mem": 500e6, "disk_overhead_per_guest": 2e9,
    "io_seq_factor": 0.9, "io_rand_factor": 0.6, "io_latency_mult": 2.0, "net_bulk_factor": 0.8,
    "net_latency_add": 30e-6, "boot_time": {"dist": "normal", "mean": 10.0, "sd": 2.0},
    "sched_overhead": {"slope": 0.01, "max": 0.2}, "interference": 0.02,
    "interference_max": 0.25,
}
GUESTS: list[dict[str, Any]] = [
    {},
    {"syscall_fraction": 0.5},
    {"mem_bound_fraction": 0.5},
    {"io_fraction": 0.3, "io_pattern": "sequential"},
    {"io_fraction": 0.3, "io_pattern": "random"},
    {"io_fraction": 0.3, "io_pattern": "latency"},
    {"net_fraction": 0.3, "net_pattern": "bulk"},
    {"net_fraction": 0.3, "net_pattern": "request", "antisocial": True},
]
N = len(GUESTS)
SIZES = ("mem_overhead_per_guest", "host_reserved_mem", "disk_overhead_per_guest")

#: field -> (probe changes that make the field bind, changed value of the field)
ROWS: dict[str, tuple[dict[str, Any], Any]] = {
    "cpu_overhead": ({}, 0.1),
    "syscall_overhead": ({}, 0.2),
    "mem_bw_overhead": ({}, 0.1),
    "mem_overhead_per_guest": ({}, 101e6),        # RAM is full: one guest no longer fits
    "host_reserved_mem": ({}, 501e6),
    "disk_overhead_per_guest": ({}, 2.001e9),     # storage is full
    "io_seq_factor": ({}, 0.5),
    "io_rand_factor": ({}, 0.3),
    "io_latency_mult": ({}, 4.0),
    "net_bulk_factor": ({}, 0.5),
    "net_latency_add": ({}, 100e-6),
    "boot_time.mean": ({}, 20.0),
    "boot_time.sd": ({}, 4.0),
    # 8 busy vCPUs on 4 cores: r = 2, overhead min(max, slope x 1)
    "sched_overhead.slope": ({}, 0.02),                                    # 0.01 -> 0.02
    "sched_overhead.max": ({"sched_overhead": {"slope": 0.5, "max": 0.2}}, 0.1),  # max binds
    # guests 7 and 0..6: one antisocial neighbour each (guest 7 has none)
    "interference": ({}, 0.05),
    "interference_max": ({"interference": 0.2, "interference_max": 0.15}, 0.1),  # max binds
    "max_guests": ({}, N - 1),
    # memory (dcsim.engine.memory): working sets at half the allocation; "_ram" shrinks the host
    # to that share of the exact fit and "_ratio" is its mem_overcommit, so that allocations
    # exceed the RAM and the host reclaims (balloons, else swaps)
    "sharing_fraction": ({"page_sharing": True, "sharing_fraction": 0.3, "_ratio": 1.5}, 0.5),
    "balloon_cost": ({"ballooning": True, "balloon_cost": 0.03, "_ram": 0.8, "_ratio": 2.0},
                     0.06),
    "swap_penalty": ({"swap_penalty": 5.0, "_ram": 0.8, "_ratio": 2.0}, 10.0),
}


def _numeric_fields(model: type[BaseModel], prefix: str = "") -> list[str]:
    out = []
    for name, f in model.model_fields.items():
        ann = f.annotation
        if ann in (BootTime, SchedOverhead):
            out += _numeric_fields(ann, f"{prefix}{name}.")
        elif (ann in (float, int) or str(ann) in ("int | None", "float | None")
              or str(ann).startswith(("typing.Optional[typing.Annotated[float",
                                      "typing.Optional[typing.Annotated[int"))):
            out.append(prefix + name)
    return out


def _cfg(profile: dict[str, Any], sized_for: dict[str, Any]) -> dict[str, Any]:
    # the host's RAM and storage hold the N guests exactly under the ``sized_for`` profile
    ram = sized_for["host_reserved_mem"] + N * (GUEST_RAM + sized_for["mem_overhead_per_guest"])
    ram *= sized_for.get("_ram", 1.0)
    ratio = sized_for.get("_ratio", 1.0)
    memory = ({"memory": {"kind": "constant", "utilization": 0.5}, "os_image": "probe"}
              if ratio > 1 else {})
    profile = {k: v for k, v in profile.items() if not k.startswith("_")}
    storage = N * (GUEST_DISK + sized_for["disk_overhead_per_guest"])
    return {
        "name": "probe", "seed": 3, "duration": "1h", "interval": "5m",
        "datacenters": [{"hosts": [{
            "count": 1, "cores": 4, "mips_per_core": 2000, "ram": f"{ram:.0f}B",
            "storage": f"{storage:.0f}B", "power": {"kind": "linear", "idle": 100, "max": 200},
            "virtualization": "probe", "cpu_overcommit": 4.0, "mem_overcommit": ratio}]}],
        "virtualization_profiles": {"probe": {
            k: (f"{v:.0f}B" if k in SIZES else v) for k, v in profile.items()}},
        "guests": [{"count": 1, "mips": 1000, "ram": f"{GUEST_RAM}B", "disk": f"{GUEST_DISK:.0f}B",
                    "workload": {"kind": "constant", "utilization": 0.8}, **memory, **g}
                   for g in GUESTS],
        "placement": {"name": "first_fit"},
        "power_management": {"sleep_idle_hosts": False},
    }


def _with(profile: dict[str, Any], field: str, value: Any) -> dict[str, Any]:
    out = {k: (dict(v) if isinstance(v, dict) else v) for k, v in profile.items()}
    if "." in field:
        outer, inner = field.split(".")
        out[outer][inner] = value
    else:
        out[field] = value
    return out


def _metrics(profile: dict[str, Any], sized_for: dict[str, Any]) -> dict[str, float]:
    s = dcsim.run(_cfg(profile, sized_for)).summary
    return {k: float(v) for k, v in s.items()
            if isinstance(v, int | float) and k not in ("wall_s", "events")}


def _same(a: float, b: float) -> bool:
    if math.isnan(a) or math.isnan(b):
        return math.isnan(a) and math.isnan(b)  # NaN: a quantity this run does not have
    return abs(a - b) <= 1e-12 * max(1.0, abs(a))


def test_every_numeric_field_has_a_scenario() -> None:
    assert sorted(_numeric_fields(VirtualizationProfile)) == sorted(ROWS)


@pytest.mark.parametrize("field", sorted(ROWS))
def test_changing_the_field_moves_a_metric(field: str) -> None:
    changes, value = ROWS[field]
    base = {**PROBE, **changes}
    before = _metrics(base, base)
    after = _metrics(_with(base, field, value), base)
    moved = [k for k in before if not _same(before[k], after.get(k, math.nan))]
    assert moved, f"{field}: {value!r} instead of the base changes no metric"


# ---------------------------------------------------------------- host models
HOST = {"cores": 4, "mips_per_core": 2000, "bandwidth": 1e9, "rack_units": 2,
        "sleep_power": 5.0, "power": {"kind": "linear", "idle": 100.0, "max": 200.0}}

#: HostModel field -> changed value. Scenario: two hosts of the model, the probe guests fill
#: host 0 exactly (RAM, storage), host 1 sleeps; 100 Mbit/s of traffic from host 0 to host 1
#: on the star of NICs.
HOST_ROWS: dict[str, Any] = {
    "cores": 5,
    "mips_per_core": 2500,
    "ram": -1e6,          # relative: 1 MB less, one guest no longer fits
    "storage": -1e6,
    "bandwidth": 2e9,     # link utilisation of the 100 Mbit/s flow halves
    "rack_units": 1,
    "sleep_power": 10.0,
    "power.idle": 90.0,
    "power.max": 250.0,
    "embodied_kgco2e": 2000.0,  # against 1,000 kg over 1,000 days (the two go together)
    "lifetime": 500 * 86400.0,
}
#: the embodied pair's baseline: both set (one without the other is refused)
EMBODIED_BASE = {"embodied_kgco2e": 1000.0, "lifetime": 1000 * 86400.0}


def _host_metrics(field: str | None, value: Any) -> dict[str, float]:
    cfg = _cfg(PROBE, PROBE)
    host = cfg["datacenters"][0]["hosts"][0]
    ram = float(host["ram"][:-1])
    storage = float(host["storage"][:-1])
    host.update(count=2, **{k: (dict(v) if isinstance(v, dict) else v) for k, v in HOST.items()})
    host["bandwidth"] = f"{host['bandwidth']:.0f}bps"
    if field == "ram":
        ram += value
    elif field == "storage":
        storage += value
    elif field == "bandwidth":
        host["bandwidth"] = f"{value:.0f}bps"
    elif field in EMBODIED_BASE or field == "embodied":
        host.update(EMBODIED_BASE)
        if field in EMBODIED_BASE:
            host[field] = value
    elif field is not None and "." in field:
        host["power"][field.split(".")[1]] = value
    elif field is not None:
        host[field] = value
    host["ram"], host["storage"] = f"{ram:.0f}B", f"{storage:.0f}B"
    cfg["power_management"] = {"sleep_idle_hosts": True}
    cfg["network"] = {"topology": {"kind": "star"},
                      "traffic": [{"src_host": 0, "dst_host": 1, "rate": "100Mbps"}]}
    s = dcsim.run(cfg).summary
    return {k: float(v) for k, v in s.items()
            if isinstance(v, int | float) and k not in ("wall_s", "events")}


def test_every_numeric_host_field_has_a_scenario() -> None:
    from dcsim.config.catalog import HostModel, PowerSpec

    fields = _numeric_fields(HostModel)
    fields += [f"power.{n}" for n, f in PowerSpec.model_fields.items()  # Optional[Power]
               if str(f.annotation).startswith("typing.Optional[typing.Annotated[float")]
    assert sorted(fields) == sorted(HOST_ROWS)


@pytest.mark.parametrize("field", sorted(HOST_ROWS))
def test_changing_a_host_field_moves_a_metric(field: str) -> None:
    before = _host_metrics("embodied" if field in EMBODIED_BASE else None, None)
    after = _host_metrics(field, HOST_ROWS[field])
    moved = [k for k in before if not _same(before[k], after.get(k, math.nan))]
    assert moved, f"{field}: {HOST_ROWS[field]!r} changes no metric"

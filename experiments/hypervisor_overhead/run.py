"""Hypervisor overhead: the same CPU-bound batch on bare metal, Type 1, Type 2 and containers.

    python experiments/hypervisor_overhead/run.py [--out DIR]

Runs ``config.yaml`` (next to this file) for four virtualization layers (``bare_metal``, ``kvm``,
``virtualbox``, ``docker``: the shipped catalog profiles) at 1, 2, 4, 8, 16 and 32 guests per
host. Every guest runs the same finite batch (10 CPU-bound jobs of ~60 s on 4 vCPUs), so what
changes between points is only the layer and how many guests share the host.

* Type 1, Type 2, containers: one host holding N guests.
* Bare metal: one workload per machine by definition (the profile admits one guest), so "ratio N"
  is N hosts for N workloads: the un-consolidated data center the others are compared against.

Each point is run twice, both with the shipped profiles: ``well_behaved`` (the guests are not
``antisocial``, the default: co-located CPU-bound guests share the CPU and pay the layer's own CPU
and time-slicing cost, nothing else) and ``antisocial`` (every guest ``antisocial: true``, i.e.
``--set guests[0].antisocial=true``: a host full of noisy neighbours, so each busy guest also pays
the profile's ``interference`` per busy co-located guest, up to ``interference_max``; the worst
case the interference figures describe). See README.md.

Maximum density per host is measured separately: guests of a fixed size (1 vCPU, 100 MIPS,
64 MiB / 512 MiB / 2 GiB of application RAM, no data disk) arrive together on one host until
placement rejects them; CPU is never the limit (cpu_overcommit leaves room), RAM plus the layer's
footprint is. The count found is checked against the arithmetic bound of the profile.

Job slowdown is reported twice: the engine's ``mean_job_slowdown`` (a guest's first job counted
from its arrival, so its boot is in it) and ``mean_run_slowdown`` (first job counted from when the
guest started running: the layer's CPU cost alone), which the tables and the figure show.

Writes to ``--out`` (default: this folder): ``results.csv`` (one row per layer x ratio x variant),
``density.csv``, ``results.md`` (both as Markdown tables) and ``hypervisor_overhead.png``.
"""

from __future__ import annotations

import argparse
import math
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import yaml

import dcsim
from dcsim.config.catalog import host_models, virtualization_profiles
from dcsim.metrics.result import Result
from dcsim.units import parse_size

HERE = Path(__file__).resolve().parent
CONFIG = HERE / "config.yaml"
LAYERS = ("bare_metal", "kvm", "virtualbox", "docker")
LABELS = {"bare_metal": "bare metal (N hosts)", "kvm": "Type 1: KVM",
          "virtualbox": "Type 2: VirtualBox [E]", "docker": "container: Docker"}
COLORS = {"bare_metal": "black", "kvm": "tab:blue", "virtualbox": "tab:red",
          "docker": "tab:green"}
RATIOS = (1, 2, 4, 8, 16, 32)
VARIANTS = ("well_behaved", "antisocial")
DENSITY_RAM_MIB = (64, 512, 2048)
DENSITY_MAX = 5000  # guests offered to the host in a density run


def base_config() -> dict[str, Any]:
    with CONFIG.open() as f:
        cfg: dict[str, Any] = yaml.safe_load(f)
    return cfg


def ratio_overrides(layer: str, n: int, variant: str) -> list[str]:
    ov = [f"guests[0].count={n}", f"datacenters[0].hosts[0].virtualization={layer}"]
    if layer == "bare_metal":
        ov.append(f"datacenters[0].hosts[0].count={n}")  # one workload per machine
    if variant == "antisocial":
        ov.append("guests[0].antisocial=true")  # every guest a noisy neighbour
    return ov


def run_slowdown(r: Result) -> pd.Series:
    """Each job's slowdown measured from the guest's start of running (after its wake and boot).

    The engine's ``slowdown`` counts a guest's first job from its arrival, so the boot time is in
    it (response time). Here the first job starts when the guest started running instead, which
    leaves the layer's CPU cost alone: the run-phase slowdown. Later jobs are unchanged.
    """
    jobs = r.tables["jobs"]
    started = r.guests.set_index("guest")["start_s"]
    start = np.where(jobs["job"].eq(0), started.loc[jobs["guest"]].to_numpy(), jobs["start_s"])
    ref = jobs["time_s"] / jobs["slowdown"]  # length / (vCPUs x MIPS): alone, no layer
    return (jobs["end_s"] - start) / ref


def run_ratios(cfg: dict[str, Any]) -> pd.DataFrame:
    host = cfg["datacenters"][0]["hosts"][0]
    cores = host_models()[host["model"]].cores
    vcpus = cfg["guests"][0]["vcpus"]
    rows = []
    for variant in VARIANTS:
        for layer in LAYERS:
            if variant != "well_behaved" and layer == "bare_metal":
                continue  # nothing co-located: identical to the well-behaved run
            for n in RATIOS:
                r = dcsim.run(cfg, overrides=ratio_overrides(layer, n, variant))
                s = r.summary
                hosts = n if layer == "bare_metal" else 1
                delivered = s["demand_mi"] - s["unmet_mi"]
                host_h = s["mean_active_hosts"] * s["simulated_s"] / 3600.0  # awake host-hours
                jobs = int(s["jobs_completed"])
                run_sd = run_slowdown(r)
                delay = r.guests["start_s"] - r.guests["arrival_s"]  # wait + wake + boot
                assert jobs == s["jobs_total"], f"{layer} x{n}: batch did not finish"
                rows.append({
                    "variant": variant,
                    "layer": layer,
                    "kind": virtualization_profiles()[layer].kind,
                    "guests_per_host": n,
                    "hosts": hosts,
                    "vcpus_per_core": n * vcpus / cores if layer != "bare_metal" else vcpus / cores,
                    "jobs": jobs,
                    "makespan_s": s["makespan_s"],
                    "active_host_hours": host_h,
                    "jobs_per_active_host_hour": jobs / host_h,
                    "mean_job_time_s": s["mean_job_time_s"],
                    "mean_job_slowdown": s["mean_job_slowdown"],
                    "p95_job_slowdown": s["p95_job_slowdown"],
                    "mean_run_slowdown": float(run_sd.mean()),
                    "p95_run_slowdown": float(run_sd.quantile(0.95)),
                    "mean_start_delay_s": float(delay.mean()),
                    "cpu_overhead_fraction": s["overhead_mi"] / delivered,
                    "mean_cpu_utilization": s["mean_cpu_utilization"],
                    "energy_it_kwh": s["energy_it_kwh"],
                    "energy_it_wh_per_job": s["energy_it_kwh"] * 1000.0 / jobs,
                    "energy_facility_wh_per_job": s["energy_facility_kwh"] * 1000.0 / jobs,
                })
    return pd.DataFrame(rows)


def density_config(cfg: dict[str, Any], layer: str, ram_mib: int) -> dict[str, Any]:
    c = yaml.safe_load(yaml.safe_dump(cfg))
    c.update(duration="5m", interval="5m")
    c["datacenters"][0]["hosts"][0].update(count=1, virtualization=layer)
    c["guests"] = [{
        "name": "probe", "count": DENSITY_MAX, "vcpus": 1, "mips": 100, "ram": f"{ram_mib}MiB",
        "disk": "0GB", "boot": False, "workload": {"kind": "constant", "utilization": 0.1},
    }]
    return c


def density_bound(cfg: dict[str, Any], layer: str, ram_mib: int) -> tuple[int, str]:
    """The most guests the profile's arithmetic allows on the host, and what binds it."""
    h = cfg["datacenters"][0]["hosts"][0]
    model = host_models()[h["model"]]
    p = virtualization_profiles()[layer]
    disk = parse_size(h["storage"]) if "storage" in h else model.storage
    ram_g = ram_mib * 2**20 + p.mem_overhead_per_guest
    limits = {
        "RAM": math.floor((model.ram - p.host_reserved_mem) / ram_g),
        "disk": math.floor(disk / p.disk_overhead_per_guest) if p.disk_overhead_per_guest
        else math.inf,
        "CPU": math.floor(model.cores * model.mips_per_core * h["cpu_overcommit"] / 100),
        "layer": p.max_guests or math.inf,
    }
    what = min(limits, key=lambda k: limits[k])
    return int(limits[what]), what


def run_density(cfg: dict[str, Any]) -> pd.DataFrame:
    rows = []
    for layer in LAYERS:
        p = virtualization_profiles()[layer]
        for ram in DENSITY_RAM_MIB:
            r = dcsim.run(density_config(cfg, layer, ram), check_invariants=True)
            bound, binding = density_bound(cfg, layer, ram)
            placed = int(r.summary["guests_placed"])
            assert placed == min(bound, DENSITY_MAX), (layer, ram, placed, bound)
            rows.append({
                "layer": layer, "app_ram_mib": ram, "guests_admitted": placed,
                "binding_resource": binding,
                "footprint_per_guest_mb": p.mem_overhead_per_guest / 1e6,
                "host_reserved_mb": p.host_reserved_mem / 1e6,
            })
    return pd.DataFrame(rows)


def plot(res: pd.DataFrame, dens: pd.DataFrame, path: Path, cfg: dict[str, Any]) -> None:
    host = cfg["datacenters"][0]["hosts"][0]
    cores = host_models()[host["model"]].cores
    vcpus = cfg["guests"][0]["vcpus"]
    fig, ax = plt.subplots(1, 3, figsize=(15, 4.6))
    for layer in LAYERS:
        for variant, style in (("well_behaved", "-"), ("antisocial", "--")):
            d = res[(res.layer == layer) & (res.variant == variant)]
            if d.empty:
                continue
            lab = LABELS[layer] if variant == "well_behaved" else None
            ax[0].plot(d.guests_per_host, d.mean_run_slowdown, style, marker="o", ms=4,
                       color=COLORS[layer], label=lab)
            ax[1].plot(d.guests_per_host, d.energy_it_wh_per_job, style, marker="o", ms=4,
                       color=COLORS[layer], label=lab)
    ideal = [max(1.0, n * vcpus / cores) for n in RATIOS]
    ax[0].plot(RATIOS, ideal, ":", color="grey", label="no overhead: max(1, vCPUs/cores)")
    ax[0].plot([], [], "--", color="grey", label="dashed: every guest antisocial")
    ax[0].set(xscale="log", xlabel="guests per host (bare metal: hosts)",
              ylabel="mean run-phase job slowdown\n"
                     "(job time after boot / time on 4 unshared vCPUs)",
              title="CPU-bound job slowdown (boot excluded)")
    ax[1].set(xscale="log", xlabel="guests per host (bare metal: hosts)",
              ylabel="IT energy per job, Wh", title="Energy per job (host sleeps when empty)")
    for a in ax[:2]:
        a.set_xticks(RATIOS, [str(r) for r in RATIOS])
        a.grid(alpha=0.3)
    ax[0].legend(fontsize=8)
    width = 0.8 / len(LAYERS)
    for i, layer in enumerate(LAYERS):
        d = dens[dens.layer == layer]
        xs = [k + (i - (len(LAYERS) - 1) / 2) * width for k in range(len(DENSITY_RAM_MIB))]
        bars = ax[2].bar(xs, d.guests_admitted, width, color=COLORS[layer], label=LABELS[layer])
        ax[2].bar_label(bars, fontsize=7)
    ax[2].set_xticks(range(len(DENSITY_RAM_MIB)), [f"{m} MiB" for m in DENSITY_RAM_MIB])
    ax[2].set(yscale="log", xlabel="application RAM per guest",
              ylabel="guests admitted on one host",
              title="Maximum density (RAM + layer footprint)")
    ax[2].legend(fontsize=8)
    fig.suptitle("Same CPU-bound batch per guest on bare metal, KVM, VirtualBox and Docker "
                 f"({host['model']}, shipped dcsim profiles)", fontsize=11)
    fig.tight_layout()
    fig.savefig(path, dpi=130)
    plt.close(fig)


def md_table(df: pd.DataFrame, digits: int = 3) -> str:
    """A GitHub Markdown table (no tabulate dependency)."""
    def cell(v: object) -> str:
        if isinstance(v, float):
            return f"{v:.{digits}f}"
        return str(v)

    lines = ["| " + " | ".join(df.columns) + " |", "|" + "---|" * len(df.columns)]
    lines += ["| " + " | ".join(cell(v) for v in row) + " |"
              for row in df.itertuples(index=False)]
    return "\n".join(lines)


def markdown(res: pd.DataFrame, dens: pd.DataFrame) -> str:
    cols = ["layer", "guests_per_host", "hosts", "vcpus_per_core", "makespan_s",
            "jobs_per_active_host_hour", "mean_run_slowdown", "p95_run_slowdown",
            "mean_job_slowdown", "p95_job_slowdown", "mean_start_delay_s",
            "cpu_overhead_fraction", "mean_cpu_utilization", "energy_it_wh_per_job"]
    out = ["# Hypervisor overhead: results", "",
           "Written by `python experiments/hypervisor_overhead/run.py`; see README.md.", ""]
    for variant in VARIANTS:
        out += [f"## Batch runs, guests: {variant.replace('_', ' ')}", "",
                md_table(res[res.variant == variant][cols]), ""]
    out += ["## Maximum density (guests admitted on one host)", "",
            md_table(dens, digits=0), ""]
    return "\n".join(out)


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", type=Path, default=HERE, help="output folder (default: here)")
    args = ap.parse_args(argv)
    out: Path = args.out
    out.mkdir(parents=True, exist_ok=True)
    cfg = base_config()
    res = run_ratios(cfg)
    dens = run_density(cfg)
    res.to_csv(out / "results.csv", index=False, float_format="%.6g")
    dens.to_csv(out / "density.csv", index=False)
    (out / "results.md").write_text(markdown(res, dens))
    plot(res, dens, out / "hypervisor_overhead.png", cfg)
    for variant in VARIANTS:
        print(f"guests: {variant}")
        cols = ["layer", "guests_per_host", "mean_run_slowdown", "mean_job_slowdown",
                "cpu_overhead_fraction",
                "energy_it_wh_per_job"]
        print(res[res.variant == variant][cols].to_string(index=False))
    print(dens.pivot(index="layer", columns="app_ram_mib", values="guests_admitted"))
    print(f"wrote {out}")


if __name__ == "__main__":
    main()

"""Figures from results folders (matplotlib, Agg backend; PNG and PDF side by side).

Imports: matplotlib, pandas, dcsim.errors.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd

from dcsim.errors import ConfigError, Issue


def _figure_module() -> Any:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def plot_run(results: Path, out_dir: Path | None = None) -> list[Path]:
    """Power, active hosts and CPU utilisation over time for one run folder."""
    ts_path = Path(results) / "timeseries.parquet"
    if not ts_path.exists() and (Path(results) / "runs.parquet").exists():
        raise ConfigError(Issue("RESULTS", f"{results} is a sweep folder: use "
                                "`dcsim plot-sweep RESULTS --x PARAM --y METRIC`"))
    if not ts_path.exists():
        raise ConfigError(Issue("RESULTS",
                                f"{results} is not a run folder (no timeseries.parquet)"))
    try:
        ts = pd.read_parquet(ts_path)
    except (OSError, ValueError) as exc:  # pyarrow's ArrowInvalid is a ValueError
        raise ConfigError(Issue("RESULTS", f"{ts_path}: not a readable Parquet file "
                                f"({type(exc).__name__})")) from None
    plt = _figure_module()
    fig, axes = plt.subplots(3, 1, figsize=(7, 7), sharex=True)
    hours = ts["time_s"] / 3600.0
    axes[0].plot(hours, ts["power_it_w"] / 1e3, label="IT")
    axes[0].plot(hours, ts["power_facility_w"] / 1e3, label="facility (× PUE)")
    axes[0].set_ylabel("power (kW)")
    axes[0].legend(frameon=False)
    axes[1].step(hours, ts["active_hosts"], where="post")
    axes[1].set_ylabel("active hosts")
    axes[2].plot(hours, ts["cpu_utilization"] * 100)
    axes[2].set_ylabel("CPU utilisation of\nactive hosts (%)")
    axes[2].set_xlabel("time (h)")
    for ax in axes:
        ax.grid(alpha=0.3)
    fig.tight_layout()
    dest = Path(out_dir) if out_dir is not None else Path(results)
    dest.mkdir(parents=True, exist_ok=True)
    paths = [dest / "timeseries.png", dest / "timeseries.pdf"]
    for p in paths:
        fig.savefig(p, dpi=150)
    plt.close(fig)
    return paths

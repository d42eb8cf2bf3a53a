"""Figures from results folders (matplotlib, Agg backend; PNG and PDF side by side).

Imports: matplotlib, pandas, dcsim.errors.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pandas as pd

from dcsim.errors import ConfigError, Issue


def _figure_module() -> Any:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def save_figures(fig: Any, paths: list[Path], *, replace: bool, dpi: int = 150) -> None:
    """Write ``fig`` to each of ``paths`` (format from the suffix), never clobbering a user's file.

    ``replace`` is True where the destination is dcsim's own (inside a results folder) or the user
    said ``--overwrite``; otherwise an existing file of the same name is refused (``--out``) before
    anything is written. Each file is written to a hidden temporary name, then renamed, so a
    figure is either the old or the new one.
    """
    from dcsim.io.outdir import check_can_create

    check_can_create(paths[0])  # --out a file, under one, or unwritable: exit 2, not 1
    for p in paths:
        if p.exists() or p.is_symlink():
            if not p.is_file() or p.is_symlink():
                raise ConfigError(Issue("--out", f"{p} exists and is not a regular file"))
            if not replace:
                raise ConfigError(Issue("--out", f"{p} already exists: dcsim does not replace "
                                        "files it may not have written (pass --overwrite)"))
    for p in paths:
        p.parent.mkdir(parents=True, exist_ok=True)
        tmp = p.with_name(f".{p.name}.tmp-{os.getpid()}")
        try:
            fig.savefig(tmp, dpi=dpi, format=p.suffix.lstrip("."))
            os.replace(tmp, p)
        finally:
            tmp.unlink(missing_ok=True)


def plot_run(results: Path, out_dir: Path | None = None, *, overwrite: bool = False) -> list[Path]:
    """Power, active hosts and CPU utilisation over time for one run folder.

    Figures go into the results folder (replacing earlier ones there) or into ``out_dir``, where
    existing files of the same name are kept unless ``overwrite``.
    """
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
    need = ("time_s", "power_it_w", "power_facility_w", "active_hosts", "cpu_utilization")
    bad = [c for c in need if c not in ts.columns or not pd.api.types.is_numeric_dtype(ts[c])]
    if bad:  # another tool's table, or one edited by hand
        raise ConfigError(Issue("RESULTS", f"{ts_path} is not a dcsim time series: column(s) "
                                f"{', '.join(bad)} missing or not numeric"))
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
    paths = [dest / "timeseries.png", dest / "timeseries.pdf"]
    try:
        save_figures(fig, paths, replace=overwrite or out_dir is None)
    finally:
        plt.close(fig)
    return paths

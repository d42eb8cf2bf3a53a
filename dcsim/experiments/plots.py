"""Figures from results folders (matplotlib, Agg backend; PNG and PDF side by side).

Which existing figures may be replaced: those the folder's ledger says dcsim wrote
(``dcsim.io.figures``), or any with ``--overwrite``; a user's file of the same name is refused.

Imports: matplotlib, pandas, dcsim.errors, dcsim.io.{atomic, figures, outdir}.
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


def save_figures(fig: Any, paths: list[Path], *, overwrite: bool, ledger: bool,
                 dpi: int = 150) -> None:
    """Write ``fig`` to each of ``paths`` (format from the suffix), never clobbering a user's file.

    An existing file of the same name is replaced only if the user said ``overwrite`` or, with
    ``ledger`` (the folder is a results folder dcsim keeps figures in), the folder's ledger says
    dcsim wrote it; otherwise the call is refused (``--out``) before anything is written. Each
    file is written to a hidden temporary name, then renamed, so a figure is either the old or
    the new one. With ``ledger`` the names are added to the ledger once the figures are in place.
    """
    from dcsim.io.atomic import temporary_name
    from dcsim.io.figures import record_figures, written_figures
    from dcsim.io.outdir import check_can_create

    check_can_create(paths[0])  # --out a file, under one, or unwritable: exit 2, not 1
    ours = written_figures(paths[0].parent) if ledger else set()
    for p in paths:
        if p.exists() or p.is_symlink():
            if not p.is_file() or p.is_symlink():
                raise ConfigError(Issue("--out", f"{p} exists and is not a regular file"))
            if not overwrite and p.name not in ours:
                raise ConfigError(Issue("--out", f"{p} already exists and dcsim did not write "
                                        "it (it is not in the folder's list of dcsim's figures, "
                                        ".dcsim-figures): pass --overwrite to replace it, or "
                                        "pick another --out"))
    for p in paths:
        p.parent.mkdir(parents=True, exist_ok=True)
        tmp = temporary_name(p)
        try:
            fig.savefig(tmp, dpi=dpi, format=p.suffix.lstrip("."))
            os.replace(tmp, p)
        finally:
            tmp.unlink(missing_ok=True)
    if ledger:
        record_figures(paths[0].parent, [p.name for p in paths])


def _same_folder(a: Path, b: Path) -> bool:
    """Whether ``a`` and ``b`` name the same folder (``b`` need not exist)."""
    return os.path.realpath(a) == os.path.realpath(b)


def plot_run(results: Path, out_dir: Path | None = None, *, overwrite: bool = False) -> list[Path]:
    """Power, active hosts and CPU utilisation over time for one run folder.

    Figures go into the results folder or into ``out_dir``. Existing files of the same name are
    replaced if ``overwrite``, or, in the results folder, if dcsim drew them there (its ledger,
    ``.dcsim-figures``, lists them); otherwise the call is refused before anything is written.
    """
    ts_path = Path(results) / "timeseries.parquet"
    if not Path(results).exists():
        raise ConfigError(Issue("RESULTS", f"{results}: no such folder"))
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
        save_figures(fig, paths, overwrite=overwrite, ledger=_same_folder(dest, Path(results)))
    finally:
        plt.close(fig)
    return paths

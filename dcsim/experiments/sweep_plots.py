"""Figures from sweep folders: a metric against a parameter, one line per value of another.

Each point of a line is the mean over replications with a 95 % Student-t confidence interval as
its error bar (``summary.csv`` statistics). Axis labels carry units derived from the column names'
suffixes (``_kwh`` → kWh, ``_s`` → s, ``_fraction`` → fraction; see :data:`UNITS`). Files are PNG
(300 dpi) and PDF side by side, named after what they show, never after a time.

Imports: matplotlib (Agg), numpy, pandas, dcsim.errors, dcsim.experiments.{plots, report}.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from dcsim.errors import ConfigError, Issue
from dcsim.experiments.report import load_results, resolve_names

__all__ = ["UNITS", "axis_label", "plot_sweep", "split_unit"]

#: Column-name suffix → unit shown on an axis (longest suffix wins).
UNITS: dict[str, str] = {
    "_kwh": "kWh", "_wh": "Wh", "_kw": "kW", "_w": "W", "_j": "J",
    "_s": "s", "_ms": "ms", "_h": "h",
    "_mi": "MI", "_mips": "MIPS",
    "_fraction": "fraction", "_percent": "%", "_pct": "%",
    "_b": "B", "_bytes": "B", "_kib": "KiB", "_mib": "MiB", "_gib": "GiB", "_mb": "MB",
    "_gb": "GB", "_tb": "TB",
    "_bps": "bit/s", "_mbps": "Mbit/s", "_gbps": "Gbit/s",
}
#: Whole names whose unit is implied rather than suffixed.
_IMPLIED = {"mean_cpu_utilization": "fraction", "cpu_utilization": "fraction"}


def split_unit(name: str) -> tuple[str, str | None]:
    """``energy_facility_kwh`` → ``("energy facility", "kWh")``; names without a unit → None."""
    base = name.split(".")[-1]
    base = re.sub(r"\[\d+\]$", "", base)
    if base in _IMPLIED:
        return base.replace("_", " "), _IMPLIED[base]
    for suffix in sorted(UNITS, key=len, reverse=True):
        if base.endswith(suffix) and len(base) > len(suffix):
            return base[: -len(suffix)].replace("_", " "), UNITS[suffix]
    return base.replace("_", " "), None


def axis_label(name: str) -> str:
    """Human label with the unit in parentheses: ``energy facility (kWh)``."""
    text, unit = split_unit(name)
    return f"{text} ({unit})" if unit else text


def _short(name: str) -> str:
    return re.sub(r"\[\d+\]$", "", name.split(".")[-1])


def _safe(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.+-]+", "_", name).strip("_")


def _numeric(values: pd.Series) -> bool:
    return bool(pd.api.types.is_numeric_dtype(values)) and not pd.api.types.is_bool_dtype(values)


def _filters(where: dict[str, str], params: list[str], table: pd.DataFrame) -> pd.DataFrame:
    seen: dict[str, str] = {}  # full name → the name it was given as
    for name, raw in where.items():
        full = resolve_names([name], params, "parameter", "--where")[0]
        if full in seen:  # a short and a full name of one parameter: which value is meant?
            raise ConfigError(Issue("--where", f"{seen[full]} and {name} name the same "
                                    f"parameter ({full}); give it once"))
        seen[full] = name
        col = table[full]
        if _numeric(col):
            try:
                value: Any = float(raw)
            except ValueError:
                raise ConfigError(Issue("--where", f"{name} is numeric, got {raw!r}")) from None
            table = table[np.isclose(col.astype(float), value)]
        else:
            table = table[col.astype(str) == raw]
        if table.empty:
            raise ConfigError(Issue("--where", f"no sweep point has {name}={raw}"))
    return table


def _panel(ax: Any, table: pd.DataFrame, x_full: str, y_full: str, hue_full: str | None,
           logx: bool | None) -> None:
    """One metric against x on ``ax``: a line (or dodged markers) per hue value, CI bars."""
    numeric_x = _numeric(table[x_full])
    categories = list(dict.fromkeys(table[x_full].astype(str))) if not numeric_x else []
    groups = list(table.groupby(hue_full, sort=False)) if hue_full else [(None, table)]
    n_groups = len(groups)
    for gi, (label, grp) in enumerate(groups):
        grp = grp.sort_values(x_full) if numeric_x else grp
        if numeric_x:
            xs = grp[x_full].astype(float).to_numpy()
        else:
            # Dodge the groups a little so that error bars at one category do not overlap.
            offset = (gi - (n_groups - 1) / 2) * min(0.08, 0.6 / max(n_groups, 1))
            xs = np.array([categories.index(str(v)) for v in grp[x_full]], dtype=float) + offset
        ys = grp["mean"].astype(float).to_numpy()
        err = np.nan_to_num(grp["ci95"].astype(float).to_numpy(), nan=0.0)
        ax.errorbar(xs, ys, yerr=err, marker="o", markersize=4, capsize=3, linewidth=1.2,
                    linestyle="-" if numeric_x else "none",
                    label=None if label is None else str(label))
    if numeric_x:
        xv = table[x_full].astype(float)
        if logx is None:
            logx = bool((xv > 0).all() and xv.max() / xv.min() >= 16)
        if logx:
            ax.set_xscale("log", base=2)
            ticks = sorted(set(xv))
            if len(ticks) <= 12:
                ax.set_xticks(ticks, [f"{t:g}" for t in ticks])
    else:
        ax.set_xticks(range(len(categories)), categories)
    ax.set_xlabel(axis_label(x_full))
    ax.set_ylabel(axis_label(y_full))
    ax.grid(alpha=0.3)


def plot_sweep(results: str | Path, x: str, y: str | list[str], hue: str | None = None,
               where: dict[str, str] | None = None, out_dir: str | Path | None = None,
               logx: bool | None = None, name: str | None = None,
               overwrite: bool = False) -> list[Path]:
    """Draw metrics against ``x`` (a parameter), one line per ``hue`` value, one panel each.

    Parameters
    ----------
    results : a sweep folder.
    x, hue : parameters (full path or unambiguous short name, e.g. ``virtualization``).
    y : a metric column (e.g. ``energy_facility_kwh``) or several (one panel each).
    where : ``{parameter: value}`` filters for the parameters neither on ``x`` nor ``hue``.
    out_dir : where to write; default ``RESULTS/plots``.
    logx : logarithmic (base 2) x axis; default: when x is positive and spans a factor ≥ 16.
    name : file name without suffix; default ``<y>-vs-<x>[-by-<hue>]``.
    overwrite : replace same-named files dcsim did not write (they are kept, and the call
        refused, otherwise; figures dcsim drew in ``RESULTS/plots``, which its ledger
        ``.dcsim-figures`` lists, are replaced anyway).

    Returns
    -------
    list of Path
        The PNG and the PDF.

    Raises
    ------
    ConfigError
        Unknown names, or several points per (x, hue) pair (the message names the parameters to
        fix with ``where`` or ``hue``).
    """
    from dcsim.experiments.plots import _figure_module, _same_folder, save_figures

    res = load_results(results)
    params = res.params
    x_full = resolve_names([x], params, "parameter", "--x")[0]
    hue_full = resolve_names([hue], params, "parameter", "--hue")[0] if hue else None
    if hue_full == x_full:
        raise ConfigError(Issue("--hue", f"{hue!r} is the parameter on the x axis ({x_full}); "
                                "--hue takes another parameter (one line per its value)"))
    ys = resolve_names([y] if isinstance(y, str) else list(y), res.metrics, "metric", "--y",
                       res.valueless)
    if not ys:
        raise ConfigError(Issue("--y", "name at least one metric"))
    table = _filters(where or {}, params, res.summary)
    keys = [x_full] + ([hue_full] if hue_full else [])
    dup = table[table["metric"] == ys[0]].duplicated(subset=keys, keep=False)
    if dup.any():
        varying = [p for p in params if p not in keys and table[p].nunique(dropna=False) > 1]
        raise ConfigError(Issue("--x", "several sweep points share each value of "
                                f"{', '.join(keys)}; they also differ in "
                                f"{', '.join(varying)}: choose one with --hue or "
                                "--where NAME=VALUE"))
    plt = _figure_module()
    ncols = 1 if len(ys) == 1 else 2 if len(ys) in (2, 4) else 3
    nrows = -(-len(ys) // ncols)
    fig, axes = plt.subplots(nrows, ncols, figsize=(6.0 if ncols == 1 else 4.2 * ncols,
                                                    4.0 if nrows == 1 else 3.3 * nrows),
                             squeeze=False)
    flat = list(axes.ravel())
    for ax, y_full in zip(flat, ys, strict=False):
        _panel(ax, table[table["metric"] == y_full], x_full, y_full, hue_full, logx)
    for ax in flat[len(ys):]:
        ax.set_visible(False)
    ns = sorted({int(v) for v in table[table["metric"].isin(ys)]["n"]})
    note = f"mean ± 95 % CI over n = {'/'.join(str(v) for v in ns)} replications"
    if len(ys) == 1:
        flat[0].set_title(note, fontsize=9)
    else:
        fig.suptitle(note, fontsize=10)
    if hue_full:
        flat[0].legend(title=axis_label(hue_full), frameon=False, fontsize=8)
    fig.tight_layout()
    dest = Path(out_dir) if out_dir is not None else res.root / "plots"
    if name is None:
        name = f"{'+'.join(_safe(m) for m in ys)}-vs-{_safe(_short(x_full))}"
        if hue_full:
            name += f"-by-{_safe(_short(hue_full))}"
        name = name[:150]
    paths = [dest / f"{_safe(name)}.png", dest / f"{_safe(name)}.pdf"]
    # In RESULTS/plots a figure dcsim wrote there before (its ledger says so) is replaced; a
    # user's file of the same name is kept unless --overwrite, as anywhere else.
    try:
        save_figures(fig, paths, overwrite=overwrite,
                     ledger=_same_folder(dest, res.root / "plots"), dpi=200)
    finally:
        plt.close(fig)
    return paths

"""Statistics over replications: mean, sample standard deviation and Student-t confidence intervals.

Pure functions from tables to tables; nothing here reads or writes files.

For ``n`` finite values ``x`` of a metric at one sweep point::

    mean = sum(x) / n
    std  = sqrt(sum((x - mean)**2) / (n - 1))              (sample standard deviation)
    ci95 = t_{0.975, n-1} * std / sqrt(n)                   (half-width of the 95 % CI)

with ``t`` the Student t quantile (``scipy.stats.t.ppf``, computed as ``scipy.special.stdtrit``,
which is what ``t.ppf`` evaluates: the same numbers, without importing scipy.stats, ~0.6 s more
per sweep). With ``n = 1``, ``std`` and ``ci95``
are undefined (NaN, an empty cell in CSV); with ``n = 0`` so is the mean. Only runs with
``status == "ok"`` count; failed runs are counted in ``n_failed``.

Imports: numpy, pandas, scipy.special (only when some point has two or more values).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np
import pandas as pd

__all__ = ["SUMMARY_COLUMNS", "ci_halfwidth", "describe", "load_quantiles", "metric_columns",
           "summarize", "valueless_columns"]

#: Statistics columns of ``summary.csv`` (after ``point, point_id``, the parameters, ``metric``).
SUMMARY_COLUMNS = ("n", "mean", "std", "ci95", "n_failed")

_NOT_METRICS = {"point", "point_id", "replication", "seed", "status", "error", "scenario_id",
                "config_hash", "dcsim_version", "key", "run_wall_s", "wall_s"}


def load_quantiles() -> None:
    """Import what :func:`ci_halfwidth` needs for two or more values (scipy.special, ~0.15 s of
    CPU), ahead of the summary: a sweep's parent calls it while its workers run."""
    import scipy.special  # noqa: F401


def ci_halfwidth(values: Sequence[float] | np.ndarray, confidence: float = 0.95) -> float:
    """Half-width of the two-sided Student-t confidence interval of the mean.

    Parameters
    ----------
    values : the replications' values (NaN ignored).
    confidence : coverage, 0 < confidence < 1.

    Returns
    -------
    float
        ``t_{(1+confidence)/2, n-1} * s / sqrt(n)``; NaN when fewer than two finite values.
    """
    x = np.asarray(values, dtype=np.float64)
    x = x[np.isfinite(x)]
    n = x.size
    if n < 2:
        return math.nan
    from scipy.special import stdtrit  # lazy: only intervals need it; t.ppf(q, df) is this

    s = float(np.std(x, ddof=1))
    return float(stdtrit(n - 1, 0.5 + confidence / 2.0)) * s / math.sqrt(n)


def describe(values: Sequence[float] | np.ndarray,
             confidence: float = 0.95) -> tuple[int, float, float, float]:
    """``(n, mean, std, ci)`` of the finite values (NaN where undefined)."""
    x = np.asarray(values, dtype=np.float64)
    x = x[np.isfinite(x)]
    n = int(x.size)
    mean = float(x.mean()) if n else math.nan
    std = float(np.std(x, ddof=1)) if n > 1 else math.nan
    return n, mean, std, ci_halfwidth(x, confidence)


def metric_columns(runs: pd.DataFrame, params: Iterable[str] = ()) -> list[str]:
    """Numeric metric columns of a runs table (not metadata, parameters or wall times)."""
    skip = _NOT_METRICS | set(params)
    out = []
    for col in runs.columns:
        if col in skip:
            continue
        if pd.api.types.is_bool_dtype(runs[col]):
            continue
        if pd.api.types.is_numeric_dtype(runs[col]):
            out.append(col)
    return out


def valueless_columns(runs: pd.DataFrame, params: Iterable[str] = ()) -> list[str]:
    """Metric columns of a runs table with no value in any run (null in every row: a quantity
    none of the runs has, e.g. a job metric in a sweep without jobs); :func:`metric_columns`
    leaves them out, having no numeric type."""
    skip = _NOT_METRICS | set(params)
    return [c for c in runs.columns if c not in skip and len(runs) and runs[c].isna().all()]


def summarize(runs: pd.DataFrame, params: Sequence[str],
              metrics: Sequence[str] | None = None, confidence: float = 0.95) -> pd.DataFrame:
    """One row per sweep point and metric: parameters, ``n, mean, std, ci95, n_failed``.

    Parameters
    ----------
    runs : a runs table (``runs.parquet``): ``point``, ``point_id``, ``status``, parameters and
        metric columns.
    params : the parameter columns, in sweep order.
    metrics : metrics to summarise; default: every numeric metric column.
    confidence : coverage of the interval (the column is still called ``ci95`` at 0.95).

    Returns
    -------
    pandas.DataFrame
        Tidy: ``point, point_id, <params...>, metric, n, mean, std, ci95, n_failed``, ordered by
        point then metric (in column order of ``runs``).
    """
    params = [p for p in params if p in runs.columns]
    if metrics is None:
        metrics = metric_columns(runs, params)
    ci_name = "ci95" if confidence == 0.95 else f"ci{round(confidence * 100):d}"
    cols = ["point", "point_id", *params, "metric", "n", "mean", "std", ci_name, "n_failed"]
    if runs.empty:
        return pd.DataFrame(columns=cols)
    ok_mask = ((runs["status"] == "ok").to_numpy(dtype=bool) if "status" in runs
               else np.ones(len(runs), dtype=bool))
    # a numeric column as float64 once, sliced per point below: the same values, in the same
    # order, as converting each point's rows on their own (an object column is still converted
    # per point: pd.to_numeric infers its type from the values it is given)
    whole = {m: runs[m].to_numpy(dtype=np.float64) for m in metrics
             if m in runs and pd.api.types.is_numeric_dtype(runs[m])
             and not pd.api.types.is_bool_dtype(runs[m])}
    records = []
    indices: dict[Any, Any] = runs.groupby("point", sort=True).indices
    for key in sorted(indices):
        pos: np.ndarray = np.asarray(indices[key])  # the point's rows, in table order
        first = runs.iloc[pos[0]]
        head = {"point": int(first["point"]), "point_id": first["point_id"]}
        head.update({p: first[p] for p in params})
        ok = pos[ok_mask[pos]]
        n_failed = int(len(pos) - len(ok))
        for m in metrics:
            if m in whole:
                vals = whole[m][ok]
            elif m in runs:
                vals = pd.to_numeric(runs[m].iloc[ok], errors="coerce").to_numpy(dtype=np.float64)
            else:
                vals = np.array([])
            n, mean, std, ci = describe(vals, confidence)
            records.append({**head, "metric": m, "n": n, "mean": mean, "std": std,
                            ci_name: ci, "n_failed": n_failed})
    return pd.DataFrame.from_records(records, columns=cols)

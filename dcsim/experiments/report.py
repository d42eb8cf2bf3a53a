"""Reading a sweep folder back and printing its statistics as a Markdown or LaTeX table.

``dcsim report RESULTS`` shows one row per sweep point: the parameter values (by their short
names when unambiguous), ``n`` (successful replications) and ``mean ± ci95`` for each chosen
metric. The text is built here; the CLI prints it.

Imports: pandas, dcsim.config.sweep (short names), dcsim.errors, dcsim.experiments.{stats, store}.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import pandas as pd

from dcsim.config.sweep import short_names
from dcsim.errors import ConfigError, Issue
from dcsim.experiments.stats import summarize, valueless_columns
from dcsim.experiments.store import SWEEP_KIND, SweepStore, is_sweep_folder
from dcsim.io.outdir import RUN_KIND

__all__ = ["DEFAULT_METRICS", "SweepResults", "format_table", "load_results", "resolve_names"]

#: Metrics a report shows when none are asked for (those present in the results).
DEFAULT_METRICS = ("energy_facility_kwh", "unmet_fraction", "mean_active_hosts",
                   "guests_rejected", "mean_job_slowdown")


@dataclass(frozen=True)
class SweepResults:
    """A sweep folder loaded: manifest, runs (one row per run), summary (tidy statistics)."""

    root: Path
    manifest: dict[str, Any]
    runs: pd.DataFrame
    summary: pd.DataFrame

    @property
    def params(self) -> list[str]:
        return [str(p) for p in self.manifest.get("parameters", [])]

    @property
    def metrics(self) -> list[str]:
        return list(dict.fromkeys(self.summary["metric"])) if len(self.summary) else []

    @property
    def valueless(self) -> list[str]:
        """Metric columns null in every run (not in :attr:`metrics`: nothing to show)."""
        return valueless_columns(self.runs, self.params)


def load_results(root: str | Path) -> SweepResults:
    """Load a sweep folder; statistics are recomputed from ``runs/`` (so equal to ``summary.csv``
    after a sweep, and up to date while one is still running).

    Raises
    ------
    ConfigError
        If ``root`` is not a sweep folder (a single run's folder gets a hint to ``dcsim plot``).
    """
    root = Path(root)
    if not is_sweep_folder(root):
        hint = (" (it is a single run's folder: use `dcsim plot`)"
                if (root / "timeseries.parquet").exists() else "")
        raise ConfigError(Issue("RESULTS", f"{root} is not a sweep results folder "
                                f"(no manifest.json){hint}"))
    store = SweepStore(root)
    manifest = store.manifest()
    if manifest.get("kind") != SWEEP_KIND:
        hint = (" (a single run's folder: use `dcsim plot`)"
                if manifest.get("kind") == RUN_KIND else "")
        raise ConfigError(Issue("RESULTS", f"{root} is not a sweep results folder (its "
                                f"manifest.json is of kind {manifest.get('kind')!r}){hint}"))
    raw = manifest.get("parameters", [])
    if not isinstance(raw, list) or not all(isinstance(p, str) for p in raw):
        raise ConfigError(Issue("RESULTS", f"{root / 'manifest.json'}: 'parameters' is not a "
                                "list of names; the manifest was changed by hand"))
    params = list(raw)
    runs = store.read_runs(params)
    if runs.empty:
        raise ConfigError(Issue("RESULTS", f"{root} holds no readable finished run yet (runs/ "
                                "is empty, missing, or its files are corrupt)"))
    missing = [p for p in params if p not in runs.columns]
    if missing:  # every run row carries every parameter: a manifest edited or from elsewhere
        raise ConfigError(Issue("RESULTS", f"{root / 'manifest.json'} names parameter(s) "
                                f"{', '.join(missing)} that the runs in {root / 'runs'} do not "
                                "have (no such column): the folder is damaged or its manifest "
                                "was changed by hand"))
    return SweepResults(root, manifest, runs, summarize(runs, params))


def resolve_names(asked: list[str], known: list[str], what: str, option: str,
                  valueless: list[str] | tuple[str, ...] = ()) -> list[str]:
    """Full names for ``asked`` (each a full name or an unambiguous short name).

    ``valueless``: names that exist but have no value in any run (said so, not "unknown").

    Raises
    ------
    ConfigError
        Listing every name that is not known, with the known ones.
    """
    shorts = short_names(known)
    out, issues = [], []
    for name in asked:
        if name in known:
            out.append(name)
        elif name in shorts:
            out.append(shorts[name])
        elif name in valueless:
            issues.append(Issue(option, f"{what} {name!r} has no value in any run of this "
                                "sweep (null in every run), so there is nothing to show"))
        else:
            listing = ", ".join(known) if known else "none"
            issues.append(Issue(option, f"unknown {what} {name!r}; known: {listing}"))
    if issues:
        raise ConfigError(issues)
    return out


def _num(x: Any) -> str:
    if isinstance(x, float):
        if math.isnan(x):
            return "–"
        return f"{x:.4g}"
    return str(x)


def _mean_ci(mean: float, ci: float) -> tuple[str, str]:
    """Mean and CI half-width, the half-width to two significant digits, the mean to match.

    Values within 1e-12 of zero, and half-widths below 1e-9 of the mean, are floating-point
    noise of constant results and shown as 0.
    """
    if abs(mean) < 1e-12:
        mean = 0.0
    if ci < 1e-12 or ci < 1e-9 * abs(mean):
        ci = 0.0
    if ci > 0 and math.isfinite(ci) and math.isfinite(mean):
        decimals = 1 - math.floor(math.log10(ci))
        if 0 <= decimals <= 8:
            return f"{mean:.{decimals}f}", f"{ci:.{decimals}f}"
        return _num(mean), f"{ci:.2g}"
    return _num(mean), _num(ci)


def _latex_escape(text: str) -> str:
    for a, b in (("\\", r"\textbackslash{}"), ("&", r"\&"), ("%", r"\%"), ("$", r"\$"),
                 ("#", r"\#"), ("_", r"\_"), ("{", r"\{"), ("}", r"\}"), ("~", r"\~{}"),
                 ("^", r"\^{}")):
        text = text.replace(a, b)
    return text


def format_table(results: SweepResults, metrics: list[str] | None = None,
                 fmt: Literal["markdown", "latex"] = "markdown") -> str:
    """The sweep's statistics as a Markdown (GitHub pipes) or LaTeX (booktabs) table.

    Parameters
    ----------
    results : a loaded sweep folder.
    metrics : full or short metric names (at least one: ``[]`` is refused at ``--metrics``);
        ``None`` → :data:`DEFAULT_METRICS` present in the results (or every metric if none of
        them is); ``["all"]`` → every metric.
    fmt : ``markdown`` or ``latex``.
    """
    known = results.metrics
    asked = metrics
    if metrics is None:
        metrics = [m for m in DEFAULT_METRICS if m in known] or known
    elif metrics == ["all"]:
        metrics = known
    else:
        metrics = resolve_names(metrics, known, "metric", "--metrics", results.valueless)
    if not metrics and asked is not None:  # -m ",,": parameters alone, n shown as 0
        raise ConfigError(Issue("--metrics", "name at least one metric (comma-separated, e.g. "
                                "energy_facility_kwh,unmet_fraction), or 'all'"))
    params = results.params
    shorts = {full: short for short, full in short_names(params).items()}
    header = [shorts.get(p, p) for p in params] + ["n"] + list(metrics)
    summary = results.summary
    body: list[list[str]] = []
    for _, grp in summary.groupby("point", sort=True):
        first = grp.iloc[0]
        by_metric: Any = grp.set_index("metric")
        n_values = sorted({int(by_metric.loc[m, "n"]) for m in metrics if m in by_metric.index})
        cells = [_num(first[p]) for p in params]
        cells.append("/".join(str(v) for v in n_values) or "0")
        for m in metrics:
            if m not in by_metric.index:
                cells.append("–")
                continue
            mean, ci = float(by_metric.loc[m, "mean"]), float(by_metric.loc[m, "ci95"])
            pm = " ± " if fmt == "markdown" else r" $\pm$ "
            cells.append(_num(mean) if math.isnan(ci) else pm.join(_mean_ci(mean, ci)))
        body.append(cells)
    if fmt == "markdown":
        lines = ["| " + " | ".join(header) + " |",
                 "|" + "|".join("---" if i < len(params) else "---:"
                                for i in range(len(header))) + "|"]
        lines += ["| " + " | ".join(row) + " |" for row in body]
        return "\n".join(lines) + "\n"
    if fmt != "latex":
        raise ConfigError(Issue("--format", f"unknown format {fmt!r}; expected markdown or latex"))
    spec = "l" * len(params) + "r" * (len(header) - len(params))
    lines = [r"\begin{tabular}{" + spec + "}", r"\toprule",
             " & ".join(_latex_escape(h) for h in header) + r" \\", r"\midrule"]
    lines += [" & ".join(c if r"$\pm$" in c else _latex_escape(c) for c in row) + r" \\"
              for row in body]
    lines += [r"\bottomrule", r"\end{tabular}"]
    return "\n".join(lines) + "\n"

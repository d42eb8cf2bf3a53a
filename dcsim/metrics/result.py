"""The outcome of one run: scalar summary plus tidy tables (pandas DataFrames).

Column names carry units (``time_s``, ``power_w``, ``energy_kwh``). What a result holds — every
summary key, table and column, with units — is defined once in ``dcsim.metrics.contract``.

Imports: pandas.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pandas as pd


@dataclass
class Result:
    """What ``dcsim.run`` returns.

    Attributes
    ----------
    summary : one number (or string) per metric; every key of
        ``dcsim.metrics.contract.SUMMARY`` (NaN where the run's mode has no such quantity).
    timeseries : one row per scheduling interval (data-center level).
    hosts : one row per host and interval, or empty if ``output.host_timeseries`` is off.
    guests : one row per guest that arrived.
    tables : further named tables (migrations, flows, …) from optional modules.
    """

    summary: dict[str, Any]
    timeseries: pd.DataFrame
    hosts: pd.DataFrame
    guests: pd.DataFrame
    tables: dict[str, pd.DataFrame] = field(default_factory=dict)
    config: dict[str, Any] = field(default_factory=dict)
    resolved: dict[str, Any] = field(default_factory=dict)
    manifest: dict[str, Any] = field(default_factory=dict)

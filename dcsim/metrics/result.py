"""The outcome of one run: scalar summary plus tidy tables (pandas DataFrames).

Column names carry units (``time_s``, ``power_w``, ``energy_kwh``). What a result holds — every
summary key, table and column, with units — is defined once in ``dcsim.metrics.contract``.

The engine hands its tables over as :class:`Frame` objects, built into DataFrames on first access
(``result.timeseries``, ``result.tables["migrations"]``): a run whose tables are only written
(``dcsim run``) never imports pandas (~0.3 s of CPU); ``dcsim.io.results`` writes a Frame's
Parquet file with pyarrow, the same bytes pandas writes.

Imports: nothing at module level; pandas and dcsim.metrics.contract (its cast) when a table
is built.
"""

from __future__ import annotations

from collections.abc import Iterator, MutableMapping
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pandas as pd

    from dcsim.metrics.contract import Column

__all__ = ["Frame", "Result", "Tables"]


class Frame:
    """A table not built yet: the arguments of the ``pandas.DataFrame`` the engine would build.

    ``data`` is a dict of columns (lists or 1-D arrays, in order), or, with ``columns``, a list
    of row tuples. ``contract`` (set by ``dcsim.metrics.contract.conform``) is the contract's
    columns the table is brought to when built.
    """

    __slots__ = ("columns", "contract", "data")

    def __init__(self, data: dict[str, Any] | list[tuple[Any, ...]],
                 columns: list[str] | None = None) -> None:
        self.data = data
        self.columns = columns
        self.contract: dict[str, Column] | None = None

    def __len__(self) -> int:
        if isinstance(self.data, list):
            return len(self.data)
        return len(next(iter(self.data.values()))) if self.data else 0

    def column_data(self) -> dict[str, Any]:
        """The columns as a dict of lists/arrays, in order (rows transposed)."""
        if isinstance(self.data, dict):
            return self.data
        names = self.columns or []
        return {c: [r[i] for r in self.data] for i, c in enumerate(names)}

    def build(self) -> pd.DataFrame:
        """The DataFrame: ``pd.DataFrame(data[, columns=...])``, brought to ``contract``."""
        import pandas as pd

        df = (pd.DataFrame(self.data, columns=self.columns) if isinstance(self.data, list)
              else pd.DataFrame(self.data))
        if self.contract is not None:
            from dcsim.metrics.contract import cast

            df = cast(df, self.contract)
        return df


class Tables(MutableMapping[str, Any]):
    """``Result.tables``: a dict of DataFrames whose Frames are built when first read."""

    def __init__(self, items: dict[str, Any] | None = None) -> None:
        self._d: dict[str, Any] = dict(items or {})

    def __getitem__(self, key: str) -> pd.DataFrame:
        value = self._d[key]
        if isinstance(value, Frame):
            value = self._d[key] = value.build()
        out: pd.DataFrame = value
        return out

    def __setitem__(self, key: str, value: Any) -> None:
        self._d[key] = value

    def __delitem__(self, key: str) -> None:
        del self._d[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._d)

    def __len__(self) -> int:
        return len(self._d)

    def __repr__(self) -> str:
        return f"Tables({sorted(self._d)})"

    def raw(self, key: str) -> Any:
        """The stored value (a Frame, a DataFrame, or None when absent), not built."""
        return self._d.get(key)


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

    def __init__(self, summary: dict[str, Any], timeseries: Any, hosts: Any, guests: Any,
                 tables: dict[str, Any] | None = None, config: dict[str, Any] | None = None,
                 resolved: dict[str, Any] | None = None,
                 manifest: dict[str, Any] | None = None) -> None:
        self.summary = summary
        self._main: dict[str, Any] = {"timeseries": timeseries, "hosts": hosts,
                                      "guests": guests}
        self.tables: Tables = tables if isinstance(tables, Tables) else Tables(tables)
        self.config: dict[str, Any] = config if config is not None else {}
        self.resolved: dict[str, Any] = resolved if resolved is not None else {}
        self.manifest: dict[str, Any] = manifest if manifest is not None else {}

    def _get(self, name: str) -> pd.DataFrame:
        value = self._main[name]
        if isinstance(value, Frame):
            value = self._main[name] = value.build()
        out: pd.DataFrame = value
        return out

    @property
    def timeseries(self) -> pd.DataFrame:
        return self._get("timeseries")

    @timeseries.setter
    def timeseries(self, value: Any) -> None:
        self._main["timeseries"] = value

    @property
    def hosts(self) -> pd.DataFrame:
        return self._get("hosts")

    @hosts.setter
    def hosts(self, value: Any) -> None:
        self._main["hosts"] = value

    @property
    def guests(self) -> pd.DataFrame:
        return self._get("guests")

    @guests.setter
    def guests(self, value: Any) -> None:
        self._main["guests"] = value

    def raw(self, name: str) -> Any:
        """Table ``name`` as stored (a Frame, a DataFrame or None), not built."""
        return self._main[name] if name in self._main else self.tables.raw(name)

    def __repr__(self) -> str:
        return (f"Result(summary={len(self.summary)} keys, tables="
                f"{sorted([*self._main, *self.tables])})")

"""One results table as a Parquet file: the bytes pandas writes, without pandas when it can.

A table the engine handed over as a ``dcsim.metrics.result.Frame`` (not built into a DataFrame)
is written with pyarrow directly: each contract column as its Arrow type (float64 → double,
int64 → int64, bool → bool, str → large_string, what pandas' string dtype becomes) and the
``pandas`` schema metadata pyarrow's ``Table.from_pandas`` attaches, then
``pyarrow.parquet.write_table`` with pandas' compression (snappy): the file is byte for byte
``DataFrame.to_parquet(path, index=False)``'s (``tests/unit/io/test_parquet_bytes.py``). A
Frame whose values need pandas' own conversion (columns beyond the contract, an int column that
is not integer, strings that are not ``str``) is built and written by pandas, as every
DataFrame is.

Imports: numpy, pyarrow, dcsim.metrics.{result, contract}.
"""

from __future__ import annotations

import json
from functools import cache
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np

from dcsim.metrics.contract import Column
from dcsim.metrics.result import Frame

__all__ = ["write_table"]

#: contract dtype -> (pandas_type, numpy_type) of pyarrow's pandas metadata
_PANDAS_TYPES = {"float64": ("float64", "float64"), "int64": ("int64", "int64"),
                 "bool": ("bool", "bool"), "str": ("object", "str")}


@cache
def _pandas_version() -> str | None:
    try:
        return metadata.version("pandas")
    except metadata.PackageNotFoundError:  # pragma: no cover - pandas is a dependency
        return None


def _arrays(frame: Frame) -> dict[str, Any] | None:
    """The contract columns of ``frame`` as numpy arrays/lists of str (None: leave it to
    pandas)."""
    contract = frame.contract
    if contract is None:
        return None
    data = frame.column_data()
    if any(c not in contract for c in data):
        return None  # columns beyond the contract: pandas infers their types
    n = len(frame)
    out: dict[str, Any] = {}
    for name, col in contract.items():
        if n == 0:
            out[name] = [] if col.dtype == "str" else np.zeros(0, dtype=col.dtype)
            continue
        if name not in data:
            if col.dtype != "float64":
                return None  # pandas' cast raises the contract's error
            out[name] = np.full(n, np.nan)
            continue
        if col.dtype == "str":
            values = data[name]
            values = values.tolist() if isinstance(values, np.ndarray) else list(values)
            if not all(type(v) is str for v in values):
                return None
            out[name] = values
            continue
        a = np.asarray(data[name])
        if a.ndim != 1 or a.shape[0] != n:
            return None
        if col.dtype == "float64":
            if a.dtype.kind not in "fiub":
                return None
            out[name] = a.astype(np.float64)
        elif col.dtype == "int64":
            if a.dtype.kind not in "iub":
                return None
            out[name] = a.astype(np.int64)
        else:  # bool
            if a.dtype.kind != "b":
                return None
            out[name] = a
    return out


def _arrow_array(pa: Any, values: Any, dtype: str) -> Any:
    """One column as an Arrow array built from its buffers (``pa.array`` would import pandas to
    look for pandas objects): NaN is null in a float column, as ``Table.from_pandas`` makes it."""
    if dtype == "str":
        raw = [v.encode("utf-8") for v in values]
        offsets = np.zeros(len(raw) + 1, dtype=np.int64)
        np.cumsum([len(b) for b in raw], out=offsets[1:])
        return pa.Array.from_buffers(pa.large_string(), len(raw),
                                     [None, pa.py_buffer(offsets), pa.py_buffer(b"".join(raw))])
    a = np.ascontiguousarray(values)
    n = a.shape[0]
    if dtype == "bool":
        bits = np.packbits(a.astype(np.bool_), bitorder="little")
        return pa.Array.from_buffers(pa.bool_(), n, [None, pa.py_buffer(bits)])
    if dtype == "float64":
        nulls = np.isnan(a)
        k = int(np.count_nonzero(nulls))
        valid = pa.py_buffer(np.packbits(~nulls, bitorder="little")) if k else None
        return pa.Array.from_buffers(pa.float64(), n, [valid, pa.py_buffer(a)], null_count=k)
    return pa.Array.from_buffers(pa.int64(), n, [None, pa.py_buffer(a)], null_count=0)


def _write_arrow(arrays: dict[str, Any], contract: dict[str, Column], path: Path,
                 version: str) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    types = {"float64": pa.float64(), "int64": pa.int64(), "bool": pa.bool_(),
             "str": pa.large_string()}
    cols = [{"name": name, "field_name": name, "pandas_type": _PANDAS_TYPES[c.dtype][0],
             "numpy_type": _PANDAS_TYPES[c.dtype][1], "metadata": None}
            for name, c in contract.items()]
    meta = json.dumps({"index_columns": [], "column_indexes": [], "columns": cols,
                       "attributes": {}, "creator": {"library": "pyarrow",
                                                     "version": pa.__version__},
                       "pandas_version": version}).encode("utf8")
    schema = pa.schema([pa.field(name, types[c.dtype]) for name, c in contract.items()],
                       metadata={b"pandas": meta})
    table = pa.Table.from_arrays(
        [_arrow_array(pa, arrays[name], c.dtype) for name, c in contract.items()], schema=schema)
    pq.write_table(table, path, compression="snappy")


def write_table(value: Any, path: Path) -> None:
    """Write one results table (a DataFrame, or a conformed Frame) to ``path`` as Parquet."""
    if isinstance(value, Frame):
        arrays = _arrays(value)
        version = _pandas_version()
        if arrays is not None and version is not None and value.contract is not None:
            _write_arrow(arrays, value.contract, path, version)
            return
        value = value.build()
    value.to_parquet(path, index=False)

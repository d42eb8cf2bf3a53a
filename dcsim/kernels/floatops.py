"""numpy's elementwise ``minimum``/``maximum`` for two float64 scalars, in numba code.

The compiled passes (:mod:`dcsim.kernels.hostsettle`, :mod:`dcsim.kernels.propshare`) must give
numpy's bits, and Python's ``min``/``max`` follow another rule: numpy returns NaN if either
argument is NaN, else the smaller (larger), the first argument on ties (``a <= b ? a : b``,
which also decides between ``0.0`` and ``-0.0``).

Imports numba.
"""

from __future__ import annotations

from numba import njit


@njit(cache=True, nogil=True, error_model="numpy")
def minimum(a, b):  # type: ignore[no-untyped-def]
    """``np.minimum(a, b)`` of two floats (NaN-propagating, ``a`` on ties)."""
    if a != a:
        return a
    if b != b:
        return b
    return a if a <= b else b


@njit(cache=True, nogil=True, error_model="numpy")
def maximum(a, b):  # type: ignore[no-untyped-def]
    """``np.maximum(a, b)`` of two floats (NaN-propagating, ``a`` on ties)."""
    if a != a:
        return a
    if b != b:
        return b
    return a if a >= b else b

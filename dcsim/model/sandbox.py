"""Copy-on-use pieces of ``ClusterState.sandbox`` (policies try placements on a sandbox).

``LazyMembers`` copies a host's member list the first time it is used; ``BatchArray`` owns
copies of a batch's entries of a per-guest array only.

Imports: numpy, dcsim.errors.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np
from numpy.typing import NDArray

from dcsim.errors import InvariantViolation

I64 = NDArray[np.intp]


class LazyMembers(list[list[int]]):
    """Per-host member lists of a sandbox: a host's list is copied the first time it is used."""

    def __init__(self, base: list[list[int]]) -> None:
        super().__init__()
        self._base = base
        self._own: dict[int, list[int]] = {}

    def __getitem__(self, h: Any) -> Any:
        h = int(h)
        if h not in self._own:
            self._own[h] = list(self._base[h])
        return self._own[h]

    def __len__(self) -> int:
        return len(self._base)

    def __iter__(self) -> Iterator[list[int]]:
        return (self[h] for h in range(len(self._base)))


class BatchArray:
    """A per-guest array of a sandbox that owns copies of a batch's entries only.

    Reads of other guests see the live values; writes to other guests are refused. A small
    batch keeps its copies in a dict (O(batch)); a batch of at least 1/8 of all guests keeps
    them in an array with a position per guest (O(guests), but no Python object per guest).
    """

    __slots__ = ("_base", "_own", "_pos", "_vals")

    def __init__(self, base: NDArray[Any], guests: I64, ids: list[int]) -> None:
        """``ids``: ``guests.tolist()`` (shared by the sandbox's arrays)."""
        self._base = base
        self._pos: I64 | None = None
        self._own: dict[int, Any] = {}
        if guests.shape[0] * 8 >= base.shape[0]:
            self._pos = np.full(base.shape[0], -1, dtype=np.intp)
            self._pos[guests] = np.arange(guests.shape[0], dtype=np.intp)
            self._vals = base[guests].copy()
        else:  # (an element of a 1-D array is a new scalar: a copy)
            self._own = {g: base[g] for g in ids}

    @classmethod
    def small(cls, base: NDArray[Any], ids: list[int]) -> BatchArray:
        """The dict form for the batch ``ids`` (what ``__init__`` builds for a small batch)."""
        out = cls.__new__(cls)
        out._base = base
        out._pos = None
        out._own = {g: base[g] for g in ids}
        return out

    def __getitem__(self, g: Any) -> Any:
        if isinstance(g, int | np.integer):
            if self._pos is not None:
                k = self._pos[g]
                return self._base[g] if k < 0 else self._vals[k]
            own = self._own.get(int(g))
            return self._base[g] if own is None else own
        idx = np.asarray(g)
        out = self._base[idx].copy()
        if self._pos is not None:
            pos = self._pos[idx]
            mine = pos >= 0
            out[mine] = self._vals[pos[mine]]
            return out
        flat = np.atleast_1d(idx)
        for i, k in enumerate(flat.tolist()):
            if k in self._own:
                np.atleast_1d(out)[i] = self._own[k]
        return out

    def __setitem__(self, g: Any, value: Any) -> None:
        k = int(g)
        if self._pos is not None:
            if self._pos[k] < 0:
                raise InvariantViolation(f"sandbox for a batch cannot change guest {k}")
            self._vals[self._pos[k]] = value
            return
        if k not in self._own:
            raise InvariantViolation(f"sandbox for a batch cannot change guest {k}")
        self._own[k] = np.asarray(value, dtype=self._base.dtype)

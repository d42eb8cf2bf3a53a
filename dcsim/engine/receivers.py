"""The hosts an underload trial may move a guest to, kept per guest shape during one step.

The default-mode consolidation step (``dcsim.engine.consolidation``) tries to evacuate the
least-loaded hosts one after another. Each trial asks, guest by guest, which receivers can take
the guest now: awake hosts holding guests, not overloaded, not already evacuated, not the source,
on which the guest fits (``ClusterState.feasible``). Asked afresh, that is a pass over all hosts
per guest; at PlanetLab ×20 (16,000 hosts) about 70,000 such passes a day, most of them finding
no host at all.

:class:`Receivers` keeps, for each *shape* of guest (everything ``feasible`` reads of a guest:
kind, RAM, disk, vCPUs, MIPS per vCPU), the mask of receivers it fits on, valid for the
*committed* state of the step (before the trial under way) and updated only where that state
changes:

* a failed trial is undone exactly (its reservations are restored value for value), so the
  committed masks stay valid and nothing is recomputed;
* a successful trial changes its destinations (recomputed with ``ClusterState.fits``, the scalar
  form of the same test, per cached shape) and evacuates its source (removed from every mask);
* within a trial, the destinations it has reserved so far are re-tested for the guest asked about.

A query answers the same ascending host ids as the full pass (``candidates``). Feasibility only
shrinks while a trial reserves room (free RAM, storage and CPU only decrease, guests and placed
vCPUs only increase), so a guest of the source that fits no receiver before the trial fits none
during it: :meth:`Receivers.hopeless` finds such trials, which would fail, without running them.

Imports: numpy.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import NDArray

B = NDArray[np.bool_]
IP = NDArray[np.intp]
Shape = tuple[int, float, float, float, float]

#: Shapes whose masks are kept per step; beyond this (many guest sizes), a shape's candidates
#: are computed afresh each time, as without this class.
MAX_SHAPES = 32


class Receivers:
    """Per guest shape, the receivers it fits on (see the module docstring).

    Parameters
    ----------
    sb : the step's sandbox ``ClusterState`` (reservations of trials are made in it).
    base : (n_hosts,) receivers of the step: awake, holding guests, not overloaded. Must not
        change during the step except by :meth:`commit` (an evacuated source leaves it).
    """

    def __init__(self, sb: Any, base: B) -> None:
        self.sb = sb
        self.base = np.array(base, dtype=bool)
        self.masks: dict[Shape, B] = {}
        self.counts: dict[Shape, int] = {}
        self.rep: dict[Shape, int] = {}  # a guest of that shape (fits reads only its shape)
        self.fresh: list[Shape] = []  # masks built while a trial held reservations
        self.touched: list[int] = []  # distinct hosts the trial under way reserved room on

    def shape(self, g: int) -> Shape:
        sb = self.sb
        return (int(sb.kind[g]), float(sb.gram[g]), float(sb.gdisk[g]), float(sb.vcpus[g]),
                float(sb.mips[g]))

    def _mask(self, g: int, k: Shape) -> B | None:
        m = self.masks.get(k)
        if m is None and len(self.masks) < MAX_SHAPES:
            at = np.flatnonzero(self.base)
            m = np.zeros(self.base.shape[0], dtype=bool)
            m[at] = self.sb.feasible(g, at=at)
            self.masks[k], self.counts[k], self.rep[k] = m, int(np.count_nonzero(m)), g
            if self.touched:
                self.fresh.append(k)
        return m

    def candidates(self, g: int, src: int) -> IP:
        """Receivers other than ``src`` that guest ``g`` fits on now, ascending ids."""
        k = self.shape(g)
        m = self._mask(g, k)
        if m is None:  # too many shapes: the full pass
            ok = self.base.copy()
            ok[src] = False
            at = np.flatnonzero(ok)
            out: IP = at[np.asarray(self.sb.feasible(g, at=at), dtype=bool)]
            return out
        n = self.counts[k] - int(m[src])
        drop: list[int] = [src] if m[src] else []
        add: list[int] = []
        for x in self.touched:  # reserved by this trial: their committed entry may be stale
            if x == src:
                continue
            now = self.sb.fits(g, x)
            if now != m[x]:
                (add if now else drop).append(x)
                n += 1 if now else -1
        if n <= 0:
            return np.zeros(0, dtype=np.intp)
        idx = np.flatnonzero(m)
        if drop:
            idx = idx[~np.isin(idx, drop)]
        if add:
            idx = np.union1d(idx, np.asarray(add, dtype=np.intp))
        return idx

    def hopeless(self, h: int, guests: list[int]) -> bool:
        """Whether some guest of source ``h`` fits no receiver (before the trial): the trial
        would fail, as feasibility only shrinks while it reserves room."""
        seen: set[Shape] = set()
        for g in guests:
            k = self.shape(g)
            if k in seen:
                continue
            seen.add(k)
            m = self._mask(g, k)
            if m is not None and self.counts[k] - int(m[h]) <= 0:
                return True
        return False

    def hopeless_hosts(self, hosts: IP) -> B:
        """(n_hosts,) :meth:`hopeless` of every host of ``hosts`` at once, for the committed
        state (True where some guest fits no receiver but its own host). Builds the masks of
        the guest shapes on those hosts that it lacks, as :meth:`hopeless` would."""
        sb = self.sb
        out = np.zeros(self.base.shape[0], dtype=bool)
        if not hosts.shape[0]:
            return out
        on = np.zeros(self.base.shape[0], dtype=bool)
        on[hosts] = True
        host_of = sb.host_of
        guests = np.flatnonzero(on[host_of] & (host_of >= 0))
        if not guests.shape[0]:
            return out
        rows = np.column_stack((sb.kind[guests], sb.gram[guests], sb.gdisk[guests],
                                sb.vcpus[guests], sb.mips[guests])).astype(np.float64)
        _, first, inverse = np.unique(rows, axis=0, return_index=True, return_inverse=True)
        inverse = inverse.reshape(-1)
        for u, i in enumerate(first.tolist()):
            g = int(guests[i])
            k = self.shape(g)
            m = self._mask(g, k)
            if m is None:
                continue  # too many shapes: only the trial's own scan can tell
            of = guests[inverse == u]
            src = host_of[of]
            out[src[self.counts[k] - m[src].astype(np.int64) <= 0]] = True
        return out

    def only(self, g: int, src: int) -> int:
        """The one receiver other than ``src`` that guest ``g`` fits on now, or -1 if it has
        none or several (between trials only: the committed masks)."""
        k = self.shape(g)
        m = self._mask(g, k)
        if m is None or self.counts[k] - int(m[src]) != 1:
            return -1
        at = np.flatnonzero(m)
        return int(at[0] if at[0] != src else at[1])

    def reserved(self, h: int) -> None:
        """The trial under way reserved room on host ``h``."""
        if h not in self.touched:
            self.touched.append(h)

    def _retest(self, hosts: list[int], shapes: list[Shape]) -> None:
        for k in shapes:
            m, g = self.masks[k], self.rep[k]
            for x in hosts:
                now = bool(self.base[x]) and self.sb.fits(g, x)
                if now != m[x]:
                    m[x] = now
                    self.counts[k] += 1 if now else -1

    def commit(self, src: int) -> None:
        """The trial under way succeeded: its reservations stay and ``src`` is evacuated."""
        self.base[src] = False
        self._retest([*self.touched, src], list(self.masks))
        self.touched.clear()
        self.fresh.clear()

    def discard(self) -> None:
        """The trial under way failed and its reservations were restored."""
        self._retest(self.touched, self.fresh)
        self.touched.clear()
        self.fresh.clear()

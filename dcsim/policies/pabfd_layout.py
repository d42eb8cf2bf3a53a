"""The layout of PABFD's packed working arrays, shared by Python and the compiled kernels.

Row and field indices of :class:`dcsim.policies.pabfd._Work`'s arrays and of a candidate pool's
compact rows, and the screening modes of :func:`dcsim.policies.pabfd_kernel.pick`. A module of
its own so that the compiled kernels (:mod:`dcsim.policies.pabfd_kernel`,
:mod:`dcsim.policies.planner_kernel`), whose disk caches depend on the sources they compile in
(``CACHE_DEPENDS_ON``), depend on these few lines and not on all of ``pabfd.py``; re-exported
by :mod:`dcsim.policies.pabfd`.

Imports nothing.
"""

from __future__ import annotations

#: how :func:`dcsim.policies.pabfd_kernel.pick` screens trial hosts: static threshold, LR's linear
#: features, or every test handed back to Python
THRESHOLD, LINEAR, DEFER = 0, 1, 2
#: rows of the working state's packed arrays (:class:`_Work`: ``hf`` per-host floats, ``hi``
#: per-host ints, ``gf`` per-guest floats) and fields of its int state ``ist``
H_U, H_T, H_AVAIL, H_PE, H_STALE, H_REQ, H_MAXRAM = range(7)
H_OFF, H_HLEN, H_NLIST, H_JMARK, H_TTYPE, H_POFF = range(6)
#: rows of a pool's compact candidate floats (:class:`CandidatePool` ``pc``): allocated MIPS,
#: capacity, free MIPS, per-core MIPS, stale power; the row's bound terms, derived from those
#: and its power table by :func:`dcsim.policies.pabfd_kernel.derive` (NaN in ``C_BL`` until
#: then): the power now minus the stale power (lowered by a margin, W), the utilisation left to
#: 100 % and to the end of the current table segment, the slopes (W per unit of utilisation)
#: of the current and the next segment and the least slope beyond; last, one search's lower
#: bounds of the increases (scratch)
(C_U, C_T, C_AVAIL, C_PE, C_STALE, C_BL, C_REM, C_ROOM, C_SA, C_SN, C_SR,
 C_D) = range(12)
#: number of rows of ``pc``
C_ROWS = C_D + 1
G_RQ, G_RAM = range(2)
#: trial open, trial number, journal entries, clean host woken by the last commit, search mode,
#: history kept, features kept, mode of the selection loop's screen, why a placement sequence
#: stopped (1: a host to test exactly), that host
(IST_ON, IST_EPOCH, IST_N, IST_WOKE, IST_MODE, IST_HIST, IST_FEATS, IST_RMODE, IST_STOP,
 IST_UNSURE) = range(10)

"""The compact PABFD search (what the planner's placements run) answers as the plain scan.

``pabfd_kernel._csearch`` reads the candidates' values from contiguous rows (the candidate
pool's active hosts, then the class representatives) and takes ``(p2 - p1) / 10`` and ``i / 10``
from per-class tables; ``pabfd_kernel.pick`` is the plain scan through per-host arrays and
per-host power tables. On random states they must give the same answer, including the host
handed back for an exact test (``-(h + 2)``) at every round of the caller's protocol (that host
skipped, search again): exact ties (equal values on several hosts, lowest id wins whatever the
order of the candidates), increases equal up to rounding, NaN (first) and infinite (never)
increases from NaN / infinite allocations, capacities, demands and stale powers, -0.0, hosts
without the free or per-core MIPS, the static threshold, LR's linear screen with short
histories, non-finite migration times and a wide unsure band, and the deferred mode (every
trial test handed back). The pool's compact rows themselves are checked against the working
state in ``test_pabfd_fused`` (``_same``).
"""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from dcsim.policies.pabfd import (
    C_AVAIL,
    C_D,
    C_ROWS,
    DEFER,
    H_AVAIL,
    H_PE,
    H_POFF,
    H_STALE,
    H_T,
    H_U,
    LINEAR,
    THRESHOLD,
    class_tables,
    host_classes,
)
from dcsim.policies.pabfd_kernel import _csearch, _increases, _put_row, pick
from tests.property.test_pabfd_candidates import G4, G5

NAN, INF = float("nan"), float("inf")
#: (capacity, per-core capacity, table); G4's table with other capacities, a table with flat
#: segments, and one with an infinite and a NaN point
KINDS = [(3720.0, 1860.0, G4), (5320.0, 2660.0, G5), (3720.0, 1860.0, G5),
         (2660.0, 2660.0, G4), (3720.0, 930.0, [0.0] * 5 + [50.0] * 6),
         (3720.0, 1860.0, [*G4[:3], NAN, *G4[4:6], INF, *G4[7:]])]  # odd states only


def _grid(*values: float) -> st.SearchStrategy[float]:
    return st.sampled_from(list(values))


@st.composite
def states(draw: st.DrawFn) -> dict[str, object]:
    n_h = draw(st.integers(1, 14))
    odd = draw(st.integers(0, 3)) == 0  # non-finite or zero values somewhere
    kind = [draw(st.integers(0, len(KINDS) - 1 - (not odd))) for _ in range(n_h)]
    T = np.array([KINDS[k][0] for k in kind])
    pe = np.array([KINDS[k][1] for k in kind])
    tables = np.array([KINDS[k][2] for k in kind], dtype=np.float64)
    extra = (NAN, INF) if odd else ()
    # (744 and 1860 of 3720 MIPS: 20 % and 50 %, points of the tables, with a demand of 0)
    U = np.array([draw(_grid(0.0, -0.0, 100.0, 744.0, 930.0, 1860.0, 2500.0, 3720.0, *extra))
                  for _ in range(n_h)])
    if odd and draw(st.booleans()):
        T[draw(st.integers(0, n_h - 1))] = draw(_grid(0.0, NAN, INF))
    # stale power: the table's value at the allocation (increases equal up to rounding on
    # hosts of one segment), a table point, or an odd value
    with np.errstate(divide="ignore", invalid="ignore"):
        util = np.nan_to_num(np.clip(U / T, 0.0, 1.0), nan=0.0)
    stale = np.array([
        draw(_grid(86.0, 93.7, 102.0, 117.0, 0.0, -0.0, *extra)) if draw(st.booleans())
        else float(np.interp(util[h], np.linspace(0, 1, 11), tables[h])) for h in range(n_h)])
    avail = np.array([draw(_grid(0.0, 100.0, 930.0, 1860.0, 2500.0, 5320.0, INF, *extra))
                      for _ in range(n_h)])
    if odd and draw(st.booleans()):
        pe[draw(st.integers(0, n_h - 1))] = NAN
    n_v = 3
    ftab = np.array([[[draw(_grid(-0.02, 0.0, 0.05, 0.3, 0.45)) for _ in range(2)]
                      for _ in range(n_v)] for _ in range(2)])
    return dict(
        n_h=n_h, T=T, pe=pe, tables=tables, U=U, stale=stale, avail=avail, ftab=ftab,
        reqsum=np.array([draw(_grid(0.0, 500.0, 2000.0, 3000.0, *extra)) for _ in range(n_h)]),
        hlen=np.array([draw(_grid(0, 5, 12)) for _ in range(n_h)], dtype=np.int64),
        maxram=np.array([draw(_grid(0.0, 613.0, 1740.0, *extra)) for _ in range(n_h)]),
        ttype=np.array([draw(st.integers(0, 1)) for _ in range(n_h)], dtype=np.int64),
        F=np.array([[draw(_grid(-0.01, 0.0, 0.05, 0.3, 0.8)) for _ in range(2)]
                    for _ in range(n_h)]),
        r=draw(_grid(0.0, 100.0, 250.0, 500.0, 930.0, 1860.0, 2500.0, *extra)),
        check_pe=draw(st.booleans()), mode=draw(st.sampled_from([THRESHOLD, LINEAR, DEFER])),
        v=draw(st.integers(0, n_v - 1)), vl=draw(_grid(0, 5, 12)), rv=draw(_grid(613.0, 1740.0)),
        # [threshold, MB/s (0: infinite migration time, unsure), interval, safety, unsure
        # band (wide: many unsure screens), fallback, points, (unused)]
        c=np.array([draw(_grid(0.5, 0.8, 1.0)), draw(_grid(62.5, 62.5, 0.0)), 300.0, 1.2,
                    draw(_grid(1e-9, 0.3)), 0.7, 10.0, 0.0]),
    )


def _compact(s: dict[str, object], order: list[int]
             ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """``order``'s hosts as the pool lays them out: ids, table offsets, value rows, tables."""
    n_h = int(s["n_h"])  # type: ignore[call-overload]
    tables = np.asarray(s["tables"])
    T, pe = np.asarray(s["T"]), np.asarray(s["pe"])
    hf = np.zeros((7, n_h))
    hi = np.zeros((6, n_h), dtype=np.int64)
    for row, key in ((H_U, "U"), (H_T, "T"), (H_AVAIL, "avail"), (H_PE, "pe"),
                     (H_STALE, "stale")):
        hf[row] = np.asarray(s[key])
    ptab, hi[H_POFF] = class_tables(tables, host_classes(T, pe, tables))
    ids = np.zeros(n_h, dtype=np.int64)
    poff = np.zeros(n_h, dtype=np.int64)
    pc = np.full((C_ROWS, n_h), -1.0)
    for k, h in enumerate(order):
        _put_row(k, h, hf, hi, ids, poff, pc)
    return ids, poff, pc, ptab


@settings(max_examples=600, deadline=None)
@given(states(), st.data())
def test_compact_search_answers_as_the_plain_scan(s: dict[str, object],
                                                  data: st.DataObject) -> None:
    n_h = int(s["n_h"])  # type: ignore[call-overload]
    hosts = data.draw(st.lists(st.integers(0, n_h - 1), unique=True, max_size=n_h))
    split = data.draw(st.integers(0, len(hosts)))
    order = data.draw(st.permutations(hosts))  # the compact search in any candidate order
    ids, poff, pc, ptab = _compact(s, order)
    act = np.array(hosts[:split], dtype=np.intp)
    reps = np.array(hosts[split:], dtype=np.intp)
    tables = np.asarray(s["tables"])
    off = np.arange(n_h) * tables.shape[1]
    skip = np.array(data.draw(st.lists(st.integers(0, n_h - 1), max_size=3)), dtype=np.intp)
    r, check_pe, mode = s["r"], s["check_pe"], s["mode"]
    rest = (s["reqsum"], s["hlen"], s["maxram"], s["ttype"], s["F"], s["ftab"], s["v"],
            s["vl"], s["rv"], s["c"])
    for _ in range(n_h + 1):  # the caller's protocol: an unsure host is skipped, search again
        plain = int(pick(act, reps, skip, r, check_pe, mode, s["U"], s["T"], s["avail"],
                         s["pe"], off, tables.ravel(), s["stale"], *rest))
        got = int(_csearch(len(order), ids, poff, pc, ptab, skip, r, check_pe, mode, *rest))
        assert got == plain
        if got >= -1:
            break
        skip = np.append(skip, -got - 2)


def test_compact_search_by_hand() -> None:
    """Three G4 hosts of 3720 MIPS (table 86, 89.4, ..., 102 W at 50 %, 106 W at 60 %), a
    guest of 372 MIPS (10 %). Hosts 0 and 1: 1860 MIPS allocated, stale 102 W; 2232 / 3720 =
    0.6 -> 106 W: increase 4.0 W on both (the same bits: a tie, host 0 wins in any order).
    Host 2: clean, stale 80 W; 372 / 3720 = 0.1 -> 89.4 W: increase 9.4 W. Threshold 1.0 and
    no requested MIPS: nobody overloaded. Host 0 skipped (the caller found it overloaded): host
    1; both: host 2 (a clean host is never tested, so skipping it does nothing); no free MIPS
    anywhere: -1."""
    s = {"n_h": 3, "T": np.full(3, 3720.0), "pe": np.full(3, 1860.0),
         "tables": np.array([G4] * 3), "U": np.array([1860.0, 1860.0, 0.0]),
         "stale": np.array([102.0, 102.0, 80.0]), "avail": np.full(3, 1860.0)}
    rest = (np.zeros(3), np.zeros(3, dtype=np.int64), np.zeros(3), np.zeros(3, dtype=np.int64),
            np.zeros((3, 2)), np.zeros((2, 1, 2)), 0, 0, 0.0,
            np.array([1.0, 62.5, 300.0, 1.2, 1e-9, 0.7, 10.0, 0.0]))
    for order in ([0, 1, 2], [2, 1, 0], [1, 2, 0]):
        ids, poff, pc, ptab = _compact(s, order)
        for skip, want in (([], 0), ([0], 1), ([0, 1], 2), ([2, 0, 1], -1)):
            sk = np.array(skip, dtype=np.intp)
            if want == -1:
                pc[C_AVAIL, :] = 0.0  # no free MIPS anywhere
            got = _csearch(3, ids, poff, pc, ptab, sk, 372.0, False, THRESHOLD, *rest)
            assert got == want, (order, skip)


def _plain_increase(U: float, r: float, T: float, table: list[float], stale: float) -> float:
    """The power increase as :func:`dcsim.policies.pabfd_kernel._search` computes it (CloudSim's
    arithmetic, float64 scalars, in its order)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        x = (np.float64(U) + np.float64(r)) / np.float64(T)
    u = np.float64(1.0) if x > 1.0 else x
    t10 = u * 10.0
    if t10 != t10:
        return float(t10)
    i1 = np.floor(t10)
    p1, p2 = np.float64(table[int(i1)]), np.float64(table[int(np.ceil(t10))])
    with np.errstate(invalid="ignore"):
        return float(p1 + (p2 - p1) / 10.0 * (u - i1 / 10.0) * 100.0 - np.float64(stale))


@settings(max_examples=400, deadline=None)
@given(states(), st.data())
def test_compact_increases_have_the_plain_bits(s: dict[str, object],
                                               data: st.DataObject) -> None:
    """Every candidate's increase (the first pass of the compact search) equals the plain
    formula's value, +inf for a host without the free or per-core MIPS; allocations also at the
    tables' points (i / 10 of the capacity), where ``ceil == floor``."""
    n_h = int(s["n_h"])  # type: ignore[call-overload]
    U, T = np.asarray(s["U"]), np.asarray(s["T"])
    tables = np.asarray(s["tables"])
    for h in range(n_h):
        if data.draw(st.booleans()):
            U[h] = data.draw(st.integers(0, 10)) * T[h] / 10.0
        if data.draw(st.integers(0, 2)) == 0:
            tables[h] = KINDS[-1][2]  # the table with a NaN and an infinite point
    r = data.draw(st.sampled_from([0.0, float(s["r"])]))  # type: ignore[arg-type]
    order = data.draw(st.permutations(range(n_h)))
    _, poff, pc, ptab = _compact(s, order)
    _increases(n_h, r, bool(s["check_pe"]), pc, ptab, poff)
    avail, pe, stale = np.asarray(s["avail"]), np.asarray(s["pe"]), np.asarray(s["stale"])
    for k, h in enumerate(order):
        fits = avail[h] >= r and (not s["check_pe"] or pe[h] >= r)
        want = _plain_increase(U[h], r, T[h], tables[h].tolist(), stale[h]) if fits else INF
        got = float(pc[C_D, k])
        assert got == want or (got != got and want != want), (h, got, want)


def test_the_trial_overload_rule_by_hand() -> None:
    """The trial overload test of the plain scan (the compact search is held to it above) at
    its boundaries, on one G4 host: 1000 MIPS, 600 requested; ``pick`` answers 0 (passes), -1
    (overloaded) or -2 (host 0 unsure). Threshold 0.8: a 200 MIPS guest makes 800 / 1000 = 0.8,
    not above -> passes; 201 -> 0.801 -> overloaded; a skipped host is overloaded. LR with a
    short history (4 < 10 points) uses the fallback 0.7: 100 MIPS -> 0.7 passes, 101
    overloaded. LR with 10 points: migration 600 MB / 62.5 MB/s = 9.6 s, horizon 10 + ceil(9.6
    / 300) = 11, prediction 1.2 * ((0.5 + 0.1) + (11 - 5.5) * (slope + 0)): slope 0.02 -> 0.852
    passes; 0.05 -> 1.05 overloaded; with a guard of 0.1 the same 1.05 is unsure; no bandwidth
    (an infinite migration time) is unsure; the deferred mode always is."""
    one = np.zeros(1, dtype=np.int64)
    none = np.zeros(0, dtype=np.int64)
    reqsum, hlen, maxram = np.array([600.0]), np.array([4], dtype=np.int64), np.array([600.0])
    ftab = np.array([[[0.1, 0.0]]])

    def c(thr: float = 0.8, bw: float = 62.5, guard: float = 1e-9) -> np.ndarray:
        return np.array([thr, bw, 300.0, 1.2, guard, 0.7, 10.0, 0.0])

    def trial(r: float, mode: int, slope: float, cc: np.ndarray, skip: np.ndarray = none,
              n: int = 4) -> int:
        hlen[0] = n
        return int(pick(one, none, skip, r, False, mode, np.array([600.0]), np.array([1000.0]),
                        np.array([1000.0]), np.array([1000.0]), one, np.array(G4, dtype=float),
                        np.zeros(1), reqsum, hlen, maxram, one, np.array([[0.5, slope]]), ftab,
                        0, n, 300.0, cc))

    assert trial(200.0, THRESHOLD, 0.02, c()) == 0
    assert trial(201.0, THRESHOLD, 0.02, c()) == -1
    assert trial(0.0, THRESHOLD, 0.02, c(), skip=np.zeros(1, dtype=np.int64)) == -1
    assert trial(100.0, LINEAR, 0.02, c()) == 0
    assert trial(101.0, LINEAR, 0.02, c()) == -1
    assert trial(0.0, LINEAR, 0.02, c(), n=10) == 0
    assert trial(0.0, LINEAR, 0.05, c(), n=10) == -1
    assert trial(0.0, LINEAR, 0.05, c(guard=0.1), n=10) == -2
    assert trial(0.0, LINEAR, 0.02, c(bw=0.0), n=10) == -2
    assert trial(0.0, DEFER, 0.02, c()) == -2

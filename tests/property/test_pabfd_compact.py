"""The compact PABFD search (what the planner's placements run) answers as the plain scan.

``pabfd_kernel._csearch`` reads the candidates' values from contiguous rows (``pabfd_rows``: the
candidate pool's active hosts, then the class representatives) and takes ``(p2 - p1) / 10`` and
``i / 10`` from per-class tables; ``pabfd_kernel.pick`` is the plain scan through per-host
arrays and per-host power tables. On random states they must give the same answer, including the
host handed back for an exact test (``-(h + 2)``) at every round of the caller's protocol (that
host skipped, search again): exact ties (equal values on several hosts, lowest id wins whatever
the order of the candidates), increases equal up to rounding, NaN (first) and infinite (never)
increases from NaN / infinite allocations, capacities, demands and stale powers, -0.0, hosts
without the free or per-core MIPS, the static threshold, LR's linear screen with short
histories, non-finite migration times and a wide unsure band, and the deferred mode (every trial
test handed back). The pool's compact rows themselves are checked against the working state in
``test_pabfd_fused`` (``_same``). """

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
from dcsim.policies.pabfd_kernel import _csearch, pick
from dcsim.policies.pabfd_rows import _bounds, _increase, _put_row, derive
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
    """Every candidate's increase (what the compact search computes for a host it evaluates)
    equals the plain formula's value, and the bound pass marks exactly the hosts without the
    free or per-core MIPS with +inf (never evaluated); allocations also at the tables' points
    (i / 10 of the capacity), where ``ceil == floor``."""
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
    _bounds(n_h, r, bool(s["check_pe"]), pc)
    avail, pe, stale = np.asarray(s["avail"]), np.asarray(s["pe"]), np.asarray(s["stale"])
    for k, h in enumerate(order):
        fits = avail[h] >= r and (not s["check_pe"] or pe[h] >= r)
        assert (pc[C_D, k] == INF) == (not fits), (h, pc[C_D, k])
        want = _plain_increase(U[h], r, T[h], tables[h].tolist(), stale[h])
        got = float(_increase(k, r, pc, ptab, poff))
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


# ---------------------------------------------------------------- the pruning bound (derive)
#: a table that falls somewhere (slopes of both signs; the bound must hold for any table)
BUMPY = [90.0, 95.0, 93.0, 93.0, 120.0, 119.5, 130.0, 130.0, 131.0, 125.0, 140.0]


@st.composite
def rows(draw: st.DrawFn) -> dict[str, object]:
    """One compact row anywhere: allocations at, just below and just above the tables' points
    (the segment boundaries the bound's terms switch at) or anywhere, over 100 % (CloudSim's
    in-migration allowance), negative or non-finite; stale powers at the table's value or off."""
    T = draw(_grid(3720.0, 5320.0, 2660.0, 1e-3, 0.0, INF, NAN))
    table = draw(st.sampled_from([G4, G5, BUMPY, [0.0] * 5 + [50.0] * 6,
                                  [*G4[:3], NAN, *G4[4:6], INF, *G4[7:]]]))
    i = draw(st.integers(0, 11))
    at = i / 10.0 * (T if np.isfinite(T) else 1.0)
    U = draw(st.one_of(
        st.just(at), st.just(float(np.nextafter(at, -INF))), st.just(float(np.nextafter(at, INF))),
        st.floats(0.0, 1.3 * (T if np.isfinite(T) else 1.0)), _grid(-1.0, -0.0, NAN, INF)))
    stale = draw(st.one_of(st.just(None), st.floats(-10.0, 200.0), _grid(NAN, INF)))
    return {"T": T, "table": table, "U": U, "stale": stale}


@settings(max_examples=1500, deadline=None)
@given(rows(), st.one_of(st.floats(0.0, 8000.0), _grid(0.0, 5e-324, 372.0, 1860.0, INF, NAN,
                                                        -1.0)), st.booleans())
def test_the_bound_never_exceeds_the_increase(row: dict[str, object], r: float,
                                              room_exact: bool) -> None:
    """For any row and demand, the bound the search prunes with is at most the increase it would
    compute (or ``-inf`` / NaN, never skipped, where the increase is NaN), and ``+inf`` only for
    a host without the free MIPS. ``room_exact``: a demand that fills the row's segment to its
    end exactly (the bound's terms switch there)."""
    T, U = float(row["T"]), float(row["U"])  # type: ignore[arg-type]
    table = np.asarray(row["table"], dtype=np.float64)
    if row["stale"] is None:
        with np.errstate(invalid="ignore", divide="ignore"):
            u = float(np.clip(U / T, 0.0, 1.0)) if T == T and T > 0 and U == U else 0.0
        stale = float(np.interp(u, np.linspace(0, 1, 11), table))
    else:
        stale = float(row["stale"])  # type: ignore[arg-type]
    if room_exact and T > 0 and np.isfinite(T) and np.isfinite(U) and U >= 0:
        r = max(0.0, (np.floor(min(U / T, 1.0) * 10.0) + 1.0) / 10.0 * T - U)
    s = {"n_h": 1, "T": np.array([T]), "pe": np.array([T]), "tables": np.array([table]),
         "U": np.array([U]), "stale": np.array([stale]), "avail": np.array([INF])}
    _, poff, pc, ptab = _compact(s, [0])
    derive(0, pc, ptab, poff)
    _bounds(1, r, False, pc)
    lb = float(pc[C_D, 0])
    d = float(_increase(0, r, pc, ptab, poff))
    if not r <= INF:  # a NaN demand fits nowhere (the search skips the host)
        assert lb == INF
    elif d != d:
        assert lb == -INF or lb != lb, (lb, d)
    else:
        assert lb <= d, (lb, d)
    if 0 < r < INF:
        pc[C_AVAIL, 0] = r / 2  # no room: never a candidate
        _bounds(1, r, False, pc)
        assert pc[C_D, 0] == INF


def test_the_bound_by_hand() -> None:
    """G4 (102 W at 50 %, 106 W at 60 %, 108 W at 70 %, then 112, 114, 117 W), a host of 3720
    MIPS at 55 % whose stale power is its power now (104 W). A demand of 3 % of the host stays in
    the 50-60 % segment (40 W per unit): bound 40 * 0.03 = 1.2 W, the increase itself; 10 %
    reaches 65 %: 40 * 0.05 + 20 * 0.05 = 3.0 W (exact: 107 - 104); 30 % reaches 85 %: 2.0 + 2.0
    for the first two segments and the least slope beyond (20 W per unit, 80-90 %) for the last
    15 %: 7.0 W below the increase of 9.0 W (113 - 104). Each less the margin, 1e-9 * (1 +
    117 + 104) W."""
    s = {"n_h": 1, "T": np.array([3720.0]), "pe": np.array([3720.0]),
         "tables": np.array([G4]), "U": np.array([0.55 * 3720.0]), "stale": np.array([104.0]),
         "avail": np.array([INF])}
    _, poff, pc, ptab = _compact(s, [0])
    derive(0, pc, ptab, poff)
    margin = 1e-9 * (1.0 + 117.0 + 104.0)
    for frac, want, inc in ((0.03, 1.2, 1.2), (0.10, 3.0, 3.0), (0.30, 7.0, 9.0)):
        _bounds(1, frac * 3720.0, False, pc)
        assert abs(pc[C_D, 0] - (want - margin)) < 1e-9, frac
        assert abs(_increase(0, frac * 3720.0, pc, ptab, poff) - inc) < 1e-9, frac


@settings(max_examples=60, deadline=None)
@given(st.integers(0, 2**32 - 1))
def test_pruned_search_on_a_large_realistic_pool(seed: int) -> None:
    """Eighty G4 / G5 hosts with allocations anywhere (some exactly alike: ties the lowest id
    must win; some at segment ends), stale powers at or near their power, LR's screen turning
    many cheap hosts down: the compact search (which evaluates only what its bounds let
    through) answers every demand as the plain scan does."""
    rng = np.random.default_rng(seed)
    n_h = 80
    g5 = rng.random(n_h) < 0.5
    T = np.where(g5, 5320.0, 3720.0)
    tables = np.where(g5[:, None], np.array(G5), np.array(G4))
    U = rng.uniform(0.0, 0.95, n_h) * T
    ends = rng.random(n_h) < 0.15
    U[ends] = np.round(U[ends] / T[ends] * 10.0) / 10.0 * T[ends]
    twins = rng.integers(0, n_h, 12)
    U[twins[6:]], T[twins[6:]], tables[twins[6:]] = U[twins[:6]], T[twins[:6]], tables[twins[:6]]
    util = np.clip(U / T, 0.0, 1.0)
    stale = np.array([np.interp(util[h], np.linspace(0, 1, 11), tables[h]) for h in range(n_h)])
    off = rng.random(n_h) < 0.4
    stale[off] += rng.normal(0.0, 3.0, int(off.sum()))
    stale[twins[6:]] = stale[twins[:6]]
    s = {"n_h": n_h, "T": T, "pe": T / 2, "tables": tables, "U": U, "stale": stale,
         "avail": T - U, "reqsum": U * rng.uniform(0.7, 1.3, n_h),
         "hlen": np.full(n_h, 12, dtype=np.int64), "maxram": np.full(n_h, 1740.0),
         "ttype": g5.astype(np.int64), "F": rng.uniform(0.0, 0.8, (n_h, 2)) * [1.0, 0.05],
         "ftab": rng.uniform(0.0, 0.2, (2, 4, 2)) * [1.0, 0.01]}
    s["F"][twins[6:]] = s["F"][twins[:6]]
    s["reqsum"][twins[6:]] = s["reqsum"][twins[:6]]
    order = [int(h) for h in rng.permutation(n_h)]
    ids, poff, pc, ptab = _compact(s, order)
    off_ = np.arange(n_h) * 11
    act = np.arange(n_h, dtype=np.intp)
    c = np.array([0.8, 62.5, 300.0, 1.2, 1e-9, 0.7, 10.0, 0.0])
    rest = (s["reqsum"], s["hlen"], s["maxram"], s["ttype"], s["F"], s["ftab"])
    for r in np.concatenate([rng.uniform(0.0, 2500.0, 40), [0.0, 372.0, 1860.0]]):
        for mode in (THRESHOLD, LINEAR):
            v = int(rng.integers(0, 4))
            plain = int(pick(act, act[:0], act[:0], r, False, mode, s["U"], T, s["avail"],
                             s["pe"], off_, tables.ravel(), stale, *rest, v, 12, 1740.0, c))
            got = int(_csearch(n_h, ids, poff, pc, ptab, act[:0], r, False, mode, *rest, v, 12,
                               1740.0, c))
            assert got == plain, (r, mode)

"""SLATAH, PDM, shutdown and migration times (pure functions and the streaming recorder)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from dcsim.metrics.consolidation import (
    StateHistoryRecorder,
    esv,
    mean_sd,
    pdm,
    slatah,
    slav,
    times_before_migration,
    times_before_shutdown,
)


def test_slatah_pooled_hand_worked() -> None:
    # host 0: active 0-10 (violating), active 10-30 (ok), inactive 30-40
    # host 1: active 0-20 (violating); last entry at 20
    host = np.array([0, 0, 0, 0, 1, 1])
    t = np.array([0.0, 10.0, 30.0, 40.0, 0.0, 20.0])
    alloc = np.array([5.0, 10.0, 0.0, 0.0, 1.0, 1.0])
    req = np.array([10.0, 10.0, 0.0, 0.0, 2.0, 2.0])
    act = np.array([True, True, False, False, True, True])
    # active time = 10 + 20 + 20 = 50; violation = 10 + 20 = 30 (pooled, not a per-host mean)
    assert slatah(host, t, alloc, req, act) == pytest.approx(30 / 50)


def test_pdm_ratio_of_sums() -> None:
    vm = np.array([0, 0, 0, 1, 1])
    t = np.array([0.0, 10.0, 20.0, 0.0, 30.0])
    alloc = np.array([90.0, 100.0, 100.0, 50.0, 50.0])
    req = np.array([100.0, 100.0, 100.0, 50.0, 50.0])
    mig = np.array([True, False, False, False, False])
    # requested: 100*10 + 100*10 + 50*30 = 3500; degradation: (100-90)*10 = 100
    assert pdm(vm, t, alloc, req, mig) == pytest.approx(100 / 3500)
    assert slav(0.5, 0.1) == pytest.approx(0.05)
    assert esv(200.0, 0.05) == pytest.approx(10.0)


def test_times_before_shutdown_and_migration() -> None:
    host = np.array([0, 0, 0, 0, 1])
    t = np.array([300.1, 600.1, 900.1, 1200.1, 300.1])
    act = np.array([True, False, True, False, False])
    # host 0: off at 600.1 (on since 0) -> 600.1; on 900.1, off 1200.1 -> 300; host 1 -> 300.1
    np.testing.assert_allclose(times_before_shutdown(host, t, act), [600.1, 300.0, 300.1])
    vm = np.array([0, 0, 0, 0])
    tv = np.array([300.1, 314.02, 600.1, 627.94])
    m = np.array([True, False, True, False])
    np.testing.assert_allclose(times_before_migration(vm, tv, m), [13.92, 27.84])
    mean, sd = mean_sd(np.array([1.0, 2.0, 3.0]))
    assert (mean, sd) == (2.0, 1.0)  # sample sd
    assert math.isnan(mean_sd(np.zeros(0))[0])


def test_recorder_matches_pure_functions() -> None:
    rng = np.random.default_rng(4)
    n_h, n_v = 5, 7
    rec = StateHistoryRecorder(n_h, n_v)
    H: list[tuple[int, float, float, float, bool]] = []
    V: list[tuple[int, float, float, float, bool]] = []
    t = 0.0
    alive = np.ones(n_v, dtype=bool)
    for _ in range(60):
        t += float(rng.choice([0.0, 9.808, 13.92, 300.0]))
        alloc = rng.uniform(0, 10, n_h).round(0)
        req = alloc + rng.choice([0.0, 1.0], n_h)
        act = rng.uniform(size=n_h) > 0.3
        rec.host_entries(t, alloc, req, act)
        for h in range(n_h):
            if H and any(e[0] == h and e[1] == t for e in H):
                H = [e for e in H if not (e[0] == h and e[1] == t)]
            H.append((h, t, alloc[h], req[h], bool(act[h])))
        ids = np.flatnonzero(alive)
        va = rng.uniform(0, 5, ids.size).round(0)
        vr = va + rng.choice([0.0, 2.0], ids.size)
        vm_mig = rng.uniform(size=ids.size) > 0.7
        rec.vm_entries(t, ids, va, vr, vm_mig)
        for k, v in enumerate(ids.tolist()):
            V = [e for e in V if not (e[0] == v and e[1] == t)]
            V.append((v, t, va[k], vr[k], bool(vm_mig[k])))
        if rng.uniform() < 0.1:
            alive[rng.integers(n_v)] = False
    s = rec.summary()
    Ha = sorted(H)
    Va = sorted(V)
    h_id, h_t, h_a, h_r, h_act = (np.array(x) for x in zip(*Ha, strict=True))
    v_id, v_t, v_a, v_r, v_m = (np.array(x) for x in zip(*Va, strict=True))
    assert s.slatah == pytest.approx(slatah(h_id, h_t, h_a, h_r, h_act))
    assert s.pdm == pytest.approx(pdm(v_id, v_t, v_a, v_r, v_m))
    np.testing.assert_allclose(np.sort(s.shutdown_times_s),
                               np.sort(times_before_shutdown(h_id, h_t, h_act)))
    np.testing.assert_allclose(np.sort(s.migration_times_s),
                               np.sort(times_before_migration(v_id, v_t, v_m)))

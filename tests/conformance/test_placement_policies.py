"""Every registered placement policy obeys the placement protocol (sklearn-style conformance)."""

from __future__ import annotations

import numpy as np
import pytest

import dcsim
from dcsim.model.cluster import ClusterState
from dcsim.policies.placement import PLACEMENT
from tests.conftest import tiny_config


def _state(n_hosts: int, n_guests: int, ram: str = "1GiB") -> tuple[ClusterState, object]:
    cfg = tiny_config()
    cfg["datacenters"][0]["hosts"][0].update(count=n_hosts, cpu_overcommit=4.0)
    cfg["guests"][0].update(count=n_guests, ram=ram)
    sc = dcsim.api._scenario(cfg, None)
    return ClusterState.build(sc), sc


@pytest.mark.parametrize("name", PLACEMENT.names())
def test_feasible_choices_and_view_left_alone(name: str) -> None:
    st, sc = _state(3, 8)
    before = {k: v.copy() for k, v in vars(st).items() if isinstance(v, np.ndarray)}
    policy = PLACEMENT.get(name)(sc.placement_params, np.random.default_rng(1))
    hosts = policy.place(st.sandbox(), np.arange(8))
    for k, v in before.items():  # the real state is untouched
        np.testing.assert_array_equal(getattr(st, k), v, err_msg=k)
    for g, h in enumerate(hosts.tolist()):  # every choice fits, applied in order
        if h >= 0:
            assert st.fits(g, h)
            st.place(g, h)
    st.check()
    # 4 GiB hosts, 1 GiB guests, 3 hosts: 12 fit by RAM, 4 per host by CPU (1000 x 4 / 1000)
    assert (hosts >= 0).sum() == 8


@pytest.mark.parametrize("name", PLACEMENT.names())
def test_deterministic_for_a_given_rng(name: str) -> None:
    st, sc = _state(4, 10)
    cls = PLACEMENT.get(name)
    a = cls(sc.placement_params, np.random.default_rng(7)).place(st.sandbox(), np.arange(10))
    b = cls(sc.placement_params, np.random.default_rng(7)).place(st.sandbox(), np.arange(10))
    np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("name", PLACEMENT.names())
def test_full_cluster_rejects_and_empty_batch_is_fine(name: str) -> None:
    st, sc = _state(1, 6, ram="1.5GiB")  # two 1.5 GiB guests fill a 4 GiB host's RAM
    policy = PLACEMENT.get(name)(sc.placement_params, np.random.default_rng(0))
    hosts = policy.place(st.sandbox(), np.arange(6))
    assert (hosts >= 0).sum() == 2
    assert np.all(hosts[hosts < 0] == -1)
    assert policy.place(st.sandbox(), np.zeros(0, dtype=np.intp)).shape == (0,)

"""A batch sandbox (``ClusterState.sandbox(batch)``) owns copies of the batch's guests only.

A batch of fewer than 1/8 of all guests keeps its copies in a dict, a larger one in an array
with a position per guest; both must behave the same: the batch's placements change the sandbox
and never the live state, other guests read live values, and writing another guest is refused.
"""

from __future__ import annotations

import numpy as np
import pytest

import dcsim
from dcsim.errors import InvariantViolation
from dcsim.model.cluster import ClusterState
from tests.conftest import tiny_config


def _state() -> ClusterState:
    cfg = tiny_config()
    cfg["datacenters"][0]["hosts"][0].update(count=4, cores=4)
    cfg["guests"][0].update(count=16, ram="512MiB")
    return ClusterState.build(dcsim.api._scenario(cfg, None))


@pytest.mark.parametrize("batch", [[5], [5, 9, 3]], ids=["dict", "array"])  # 1/16, 3/16
def test_batch_sandbox_isolated_and_guarded(batch: list[int]) -> None:
    st = _state()
    st.place(0, 2)  # a guest outside the batch, placed in the live state
    b = np.asarray(batch, dtype=np.intp)
    sb = st.sandbox(b)
    assert (sb.host_of._pos is None) == (len(batch) == 1)  # the mode under test
    for h, g in enumerate(batch):
        sb.place(g, h)
    # the sandbox sees its placements, one by one and as a vector (guest 0 is live: host 2)
    assert [int(sb.host_of[g]) for g in batch] == list(range(len(batch)))
    assert sb.host_of[np.asarray([0, *batch])].tolist() == [2, *range(len(batch))]
    assert int(sb.host_of[1]) == -1  # other guests: live values
    # the live state is untouched
    assert st.host_of[b].tolist() == [-1] * len(batch)
    assert st.n_guests.tolist() == [0.0, 0.0, 1.0, 0.0]
    st.place(1, 3)  # live changes of other guests show through
    assert int(sb.host_of[1]) == 3
    with pytest.raises(InvariantViolation, match="cannot change guest 1"):
        sb.host_of[1] = 0
    with pytest.raises(InvariantViolation, match="cannot change guest 1"):
        sb.release(1)

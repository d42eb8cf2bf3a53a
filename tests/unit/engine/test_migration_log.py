"""``MigrationLog.columns`` of a CloudSim-mode run (numeric columns as arrays, straight from the
completion groups' blocks) gives the same ``migrations`` table, values and dtypes, as the
records the log iterates, field by field."""

from __future__ import annotations

import pandas as pd

from dcsim.api import _scenario
from dcsim.engine.migration_log import COLUMNS
from dcsim.engine.simulation import Simulation
from tests.conftest import cloudsim_cut


def test_block_columns_equal_the_records() -> None:
    cfg = cloudsim_cut("3h")
    sim = Simulation(_scenario(cfg, None))
    sim.run()
    log = sim.migration_records
    assert len(log) >= 50  # not vacuous: several completion groups
    cols = log.columns()
    assert not isinstance(cols["guest"], list)  # the array form
    got = pd.DataFrame(cols)
    want = pd.DataFrame({c: [getattr(r, c) for r in log] for c in COLUMNS})
    assert got.dtypes.tolist() == want.dtypes.tolist()
    assert got.equals(want)
    assert (pd.util.hash_pandas_object(got).tolist()
            == pd.util.hash_pandas_object(want).tolist())
    assert log.bytes_sent() == [r.bytes_sent for r in log]

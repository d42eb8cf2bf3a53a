"""One BLAS/OpenMP thread per dcsim process.

dcsim's linear algebra is tiny (a local regression over ten samples per host), so a BLAS thread
pool only costs: OpenBLAS starts one thread per core when numpy is imported (~0.05 s of CPU
per process on two cores), and in a sweep every worker's pool competes with the other workers
for the same cores. The ``dcsim`` command (``dcsim.cli.main``, before numpy is imported) and the
process pool of sweeps (``dcsim.experiments.executors``, for its workers) ask for one thread
each through the usual environment variables, unless the user has set them.
"""

from __future__ import annotations

import os

__all__ = ["THREAD_VARS", "one_thread_each"]

#: the environment variables OpenMP, OpenBLAS and MKL read their thread count from at start-up
THREAD_VARS = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")


def one_thread_each() -> dict[str, str | None]:
    """Set each of :data:`THREAD_VARS` to ``"1"`` where it is unset; returns their earlier values
    (None: unset), for a caller that restores them."""
    before = {k: os.environ.get(k) for k in THREAD_VARS}
    for k in THREAD_VARS:
        os.environ.setdefault(k, "1")
    return before

"""``dcsim.kernels.jit.light_cache``: cached numba functions load without numba's compiler
set-up, give the same results, and still compile when the cache misses.

Each case runs in a fresh interpreter (what is imported is per process) with its own numba cache
folder; no timing is asserted (``experiments/benchmarks/planetlab.py`` prints the cost).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

pytest.importorskip("numba")

REPO = Path(__file__).resolve().parents[3]

# a compiled function that allocates (numba's runtime), calls another compiled function and
# returns an array: what the planner's kernels do
KERNEL = """
import numpy as np
from numba import njit


@njit(cache=True)
def _scale(x, k):
    return x * k


@njit(cache=True)
def cumulate(a, k):
    out = np.empty(a.shape[0])
    s = 0.0
    for i in range(a.shape[0]):
        s += _scale(a[i], k)
        out[i] = s
    return out
"""

CALL = """
import json, sys
import numpy as np
sys.path.insert(0, sys.argv[1])
import kern
light = sys.argv[2] == "light"
if light:
    from dcsim.kernels.jit import light_cache
    switched = light_cache(kern)
else:
    switched = 0
out = kern.cumulate(np.array([0.1, 0.2, 0.7, 1e-17]), 3.0)
print(json.dumps({
    "out": [float(v).hex() for v in out],
    "switched": switched,
    "hits": sum(kern.cumulate.stats.cache_hits.values()),
    "misses": sum(kern.cumulate.stats.cache_misses.values()),
    "refreshed": "numba.np.arraymath" in sys.modules,
}))
"""


def _call(folder: Path, mode: str) -> dict[str, object]:
    env = {**os.environ, "NUMBA_CACHE_DIR": str(folder / "cache"),
           "PYTHONPATH": str(REPO) + os.pathsep + os.environ.get("PYTHONPATH", "")}
    done = subprocess.run([sys.executable, "-c", CALL, str(folder), mode], env=env,
                          capture_output=True, text=True, timeout=300, check=True)
    return dict(json.loads(done.stdout.strip().splitlines()[-1]))


def test_cached_functions_load_light_and_give_the_same_bits(tmp_path: Path) -> None:
    (tmp_path / "kern.py").write_text(textwrap.dedent(KERNEL))
    first = _call(tmp_path, "plain")  # compiles and writes the cache
    assert (first["misses"], first["refreshed"]) == (1, True)
    plain = _call(tmp_path, "plain")  # numba's own loader: refreshes the context
    assert (plain["hits"], plain["misses"], plain["refreshed"]) == (1, 0, True)
    light = _call(tmp_path, "light")
    assert light["switched"] == 2  # both dispatchers of the module
    # loaded from the cache, numba's implementation modules never imported
    assert (light["hits"], light["misses"], light["refreshed"]) == (1, 0, False)
    assert light["out"] == plain["out"] == first["out"]


def test_a_cache_miss_still_compiles(tmp_path: Path) -> None:
    (tmp_path / "kern.py").write_text(textwrap.dedent(KERNEL))
    _call(tmp_path, "plain")
    # a changed source invalidates the cache: the light loader finds nothing and numba compiles
    (tmp_path / "kern.py").write_text(textwrap.dedent(KERNEL).replace("x * k", "x * k + 1.0"))
    light = _call(tmp_path, "light")
    assert (light["hits"], light["misses"], light["refreshed"]) == (0, 1, True)
    # (0.1*3+1), + (0.2*3+1), + (0.7*3+1), + (1e-17*3+1), summed left to right
    want, s = [], 0.0
    for v in (0.1, 0.2, 0.7, 1e-17):
        s += v * 3.0 + 1.0
        want.append(s.hex())
    assert light["out"] == want

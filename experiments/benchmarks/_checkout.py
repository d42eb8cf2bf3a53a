"""Imported first by the benchmark scripts: this checkout's root goes first on ``sys.path``.

A script run as ``python experiments/benchmarks/X.py`` has its own folder first on the path,
not the checkout, so ``import dcsim`` would load whichever dcsim the environment has installed
(another checkout, a release) and the script would time that. With this, it times the dcsim
next to it, in its own process and in the children it starts (they run these scripts too).
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
if sys.path[:1] != [str(ROOT)]:
    sys.path.insert(0, str(ROOT))

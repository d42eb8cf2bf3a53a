"""The benchmark scripts time the dcsim of their own checkout (``experiments/benchmarks/
_checkout.py``), not another dcsim that comes first on the path (an installed release, another
checkout: the editable install of one worktree is what a second worktree's scripts found)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
BENCH = REPO / "experiments" / "benchmarks"


def test_a_benchmark_script_imports_its_checkouts_dcsim(tmp_path: Path) -> None:
    other = tmp_path / "other"
    (other / "dcsim").mkdir(parents=True)
    (other / "dcsim" / "__init__.py").write_text("WHO = 'another dcsim'\n")
    script = tmp_path / "probe.py"  # what a benchmark script does first, from its folder
    script.write_text("import sys\n"
                      f"sys.path.insert(0, {str(BENCH)!r})\n"
                      "import _checkout  # noqa: F401\n"
                      "import dcsim\n"
                      "print(dcsim.__file__)\n")
    env = {**os.environ, "PYTHONPATH": str(other)}  # the other dcsim first
    out = subprocess.run([sys.executable, str(script)], env=env, cwd=tmp_path, check=True,
                         capture_output=True, text=True).stdout.strip()
    assert Path(out) == REPO / "dcsim" / "__init__.py"

"""Executed tutorials (an MkDocs hook, see mkdocs.yml).

Each ``docs/tutorials/t*.py`` is a short, self-contained script that writes one figure to the
folder given as its argument. At every build the hook runs each script in a fresh process
(``mkdocs build --strict`` in CI therefore executes them all; a failing script fails the build)
and publishes a page per tutorial: its docstring as the title, the script, what it printed, and
its figure.
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

TUTORIALS = Path(__file__).resolve().parent / "tutorials"
ROOT = TUTORIALS.parents[1]
#: The experiments' committed figures the validation page shows (site path -> repository path).
FIGURES = {
    "validation/medians.png": "experiments/planetlab_consolidation/medians.png",
    "validation/cpu_study.png": "experiments/planetlab_consolidation/cpu_study.png",
    "validation/ladder_energy_kwh.png": "experiments/cloudsim_ladder/ladder_energy_kwh.png",
    "validation/migration_vs_dirty_rate.png":
        "experiments/migration_validation/migration_vs_dirty_rate.png",
    "validation/hypervisor_overhead.png":
        "experiments/hypervisor_overhead/hypervisor_overhead.png",
    "validation/carbon_study.png": "experiments/carbon_aware/carbon_study.png",
    "validation/learning.png": "experiments/rl_consolidation/learning.png",
}


def scripts() -> list[Path]:
    return sorted(TUTORIALS.glob("t*.py"))


def run(script: Path, out: Path) -> str:
    """Run one tutorial with figures going to ``out``; its standard output (RuntimeError with
    its error output if it fails)."""
    proc = subprocess.run([sys.executable, str(script), str(out)], capture_output=True,
                          text=True, cwd=script.parents[2], check=False)
    if proc.returncode != 0:
        raise RuntimeError(f"tutorial {script.name} failed:\n{proc.stderr}")
    return proc.stdout


def page(script: Path, output: str) -> str:
    source = script.read_text(encoding="utf-8")
    title = source.split('"""')[1].strip().splitlines()[0]
    code = source.split('"""', 2)[2].lstrip("\n")
    return (f"# {title}\n\n```python\n{code}```\n\nIt prints:\n\n```text\n{output}```\n\n"
            f"![{script.stem}]({script.stem}.png)\n")


def on_files(files: Any, config: Any) -> Any:
    """MkDocs hook: run every tutorial, add its page and figure to the site; add the
    experiments' figures of the validation page."""
    from mkdocs.structure.files import File

    for uri, path in FIGURES.items():
        files.append(File.generated(config, uri, content=(ROOT / path).read_bytes()))

    with tempfile.TemporaryDirectory() as tmp:
        for script in scripts():
            output = run(script, Path(tmp))
            files.append(File.generated(config, f"tutorials/{script.stem}.md",
                                        content=page(script, output)))
            png = (Path(tmp) / f"{script.stem}.png").read_bytes()
            files.append(File.generated(config, f"tutorials/{script.stem}.png", content=png))
    return files

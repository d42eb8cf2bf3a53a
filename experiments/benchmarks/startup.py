"""Start-up benchmark: what a short dcsim command costs before it does any work.

    python experiments/benchmarks/startup.py [--repeat 15]

Issue 15's start-up targets, each a whole fresh process, CPU seconds (user + system) and wall:

* ``dcsim --help`` <= 0.3 s: the console script that installing dcsim put next to this
  interpreter (``bin/dcsim`` of the virtual environment), as a user's shell runs it; where there is
  none (dcsim not installed), ``python -m dcsim --help``;
* ``import dcsim`` <= 0.3 s of CPU: ``python -c "import dcsim"``;

and, for reference (no target): the bare interpreter (``python -c pass``, the floor of every row)
and ``dcsim run`` of a trivial config (``configs/examples/consolidate-two-servers.yaml``: 2 hosts,
2 VMs, one day; results written into a throw-away folder). A wrapper that a shell may find first
on ``PATH`` (a pyenv shim: a shell script that runs ``pyenv exec``, ~0.08 s on the development
VM) is not timed: what it adds is not dcsim's.

The commands run in rounds (A B C D, A B C D, ...) ``--repeat`` times, so that a drift of the
machine's speed between minutes slows each alike; each row prints the median and the least CPU
and wall over its runs. Every child gets this checkout first on ``PYTHONPATH``: it times the
dcsim next to this script, whichever dcsim the environment has installed.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

import _checkout  # noqa: F401  (this checkout's dcsim, not an installed one)
from _child import run_child

REPO = Path(__file__).resolve().parents[2]
TRIVIAL = REPO / "configs" / "examples" / "consolidate-two-servers.yaml"


@dataclass
class Row:
    """One timed command: its label, its argv, its target (CPU s, or None) and its runs."""

    label: str
    cmd: list[str]
    target_cpu_s: float | None
    cpu: list[float]
    wall: list[float]


def console_script() -> list[str]:
    """The ``dcsim`` console script installed beside this interpreter, or ``python -m dcsim``."""
    here = Path(sys.executable).parent / ("dcsim.exe" if os.name == "nt" else "dcsim")
    if here.is_file():
        return [str(here)]
    return [sys.executable, "-m", "dcsim"]


def rows(out_dir: Path) -> list[Row]:
    """The commands to time, in round order."""
    script = console_script()
    run_out = out_dir / "run"
    cmds: list[tuple[str, list[str], float | None]] = [
        ("python -c pass (the interpreter alone)", [sys.executable, "-c", "pass"], None),
        ('python -c "import dcsim"', [sys.executable, "-c", "import dcsim"], 0.3),
        ("dcsim --help" + ("" if len(script) == 1 else " (python -m dcsim: no console script)"),
         [*script, "--help"], 0.3),
        ("dcsim run (trivial config: 2 hosts, 2 VMs, one day)",
         [*script, "run", str(TRIVIAL), "-o", str(run_out), "-q", "--overwrite"], None),
    ]
    return [Row(label, cmd, target, [], []) for label, cmd, target in cmds]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=15, help="rounds of all commands (default 15)")
    args = ap.parse_args(argv)
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else 0.0  # before our own load
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(
        [str(REPO), *filter(None, [os.environ.get("PYTHONPATH")])])}
    with tempfile.TemporaryDirectory(prefix="dcsim-startup-") as tmp:
        table = rows(Path(tmp))
        for r in table:  # one untimed round: the bytecode cache and the page cache are warm
            run_child(r.cmd, env=env, cwd=tmp)
        for _ in range(max(1, args.repeat)):
            for r in table:
                cpu, wall, _proc = run_child(r.cmd, env=env, cwd=tmp)
                r.cpu.append(cpu)
                r.wall.append(wall)
    print(f"start-up, {max(1, args.repeat)} interleaved rounds (CPU = user + system of the "
          f"whole process, s; median and least):")
    width = max(len(r.label) for r in table)
    print(f"  {'command':<{width}}  {'CPU med':>7}  {'CPU min':>7}  {'wall med':>8}  "
          f"{'wall min':>8}  target")
    for r in table:
        med = statistics.median(r.cpu)
        verdict = ""
        if r.target_cpu_s is not None:
            verdict = f"<= {r.target_cpu_s:g} s CPU: {'met' if med <= r.target_cpu_s else 'MISSED'}"
        print(f"  {r.label:<{width}}  {med:7.3f}  {min(r.cpu):7.3f}  "
              f"{statistics.median(r.wall):8.3f}  {min(r.wall):8.3f}  {verdict}")
    base = statistics.median(table[0].cpu)
    print(f"beyond the interpreter (medians): import dcsim "
          f"{statistics.median(table[1].cpu) - base:.3f} s, dcsim --help "
          f"{statistics.median(table[2].cpu) - base:.3f} s, a trivial run "
          f"{statistics.median(table[3].cpu) - base:.3f} s of CPU")
    if load > 0.5:
        print(f"warning: 1-minute load average {load:.1f} before the benchmark: other processes "
              f"share the cores, so the timings are pessimistic")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""Dependencies point one way (DESIGN.md, README "Architecture").

Parses every module of ``dcsim/`` (module-level, function-local and ``TYPE_CHECKING`` imports
alike) and checks the package graph: no cycle between packages, and every import is allowed by
the layer table below. A "package" is the first name under ``dcsim``: a subpackage
(``dcsim.engine``) or a top-level module (``dcsim.cli``, ``dcsim.validate``).
"""

from __future__ import annotations

import ast
from collections import defaultdict
from pathlib import Path

import networkx as nx

DCSIM = Path(__file__).resolve().parents[2] / "dcsim"

#: Leaf modules every layer may use; they import nothing from dcsim.
BASE = frozenset({"units", "errors", "rng", "version", "registry", "threads"})
#: Data-only packages (YAML/trace resources).
DATA = frozenset({"configs", "data", "catalog"})
MIDDLE = frozenset({"kernels", "model", "workload", "network"})

#: package → the packages it may import, lowest layer first. The table is the documented order:
#: base → config → {kernels, model, workload, network} → {policies, metrics, io} → engine →
#: plugins → validate → rl → api → experiments → the CLI.
ALLOWED: dict[str, frozenset[str]] = {
    "units": frozenset(),
    "errors": frozenset(),
    "rng": frozenset(),
    "version": frozenset(),
    "registry": frozenset(),
    "threads": frozenset(),
    "configs": frozenset(),
    "data": frozenset(),
    "catalog": frozenset(),
    "config": frozenset({"units", "errors", "rng", "registry"}),
    # model, kernels, workload and network: config and each other, one way (the cycle check)
    "kernels": BASE | {"config"} | MIDDLE,
    "model": BASE | {"config"} | MIDDLE,
    "workload": BASE | {"config"} | MIDDLE,
    "network": BASE | {"config"} | MIDDLE,
    "policies": BASE | {"config"} | MIDDLE,
    "metrics": BASE | {"config"} | MIDDLE,
    "io": BASE | {"config", "metrics"} | MIDDLE,
    "engine": BASE | {"config", "policies", "metrics", "io"} | MIDDLE,
    # third-party entries, registered into the registries of every layer below
    "plugins": BASE | {"config", "policies", "engine"} | MIDDLE,
    "validate": BASE | {"config", "policies", "engine", "plugins"} | MIDDLE,
    # the Gymnasium environments: over the engine, with the configs checked as `dcsim run` does
    "rl": BASE | {"config", "policies", "metrics", "io", "engine", "validate"} | MIDDLE,
    "api": BASE | {"config", "validate", "engine", "metrics", "io", "rl"},
    "console": frozenset({"errors"}),
    "help_formatter": frozenset(),  # typer's help module, imported lighter (dcsim.cli.main)
    "__init__": frozenset({"api", "errors", "version", "experiments"}),
    "experiments": BASE | {"config", "policies", "metrics", "io", "engine", "validate", "api",
                           "console"} | MIDDLE,
    "cli_migration": BASE | {"config", "engine", "console"} | MIDDLE,
    "cli_traces": BASE | {"config", "io", "console"} | MIDDLE,
    "cli": BASE | {"__init__", "config", "metrics", "io", "engine", "experiments", "console",
                   "plugins",
                   "cli_migration", "cli_traces", "workload", "help_formatter"} | MIDDLE,
    "entry": frozenset({"cli"}),  # the console script: imports the CLI inside a Ctrl-C guard
    "__main__": frozenset({"entry"}),
}


def _package_of(path: Path) -> str:
    rel = path.relative_to(DCSIM).with_suffix("").parts
    return rel[0]


def _module_of(path: Path) -> list[str]:
    parts = ["dcsim", *path.relative_to(DCSIM).with_suffix("").parts]
    return parts[:-1] if parts[-1] == "__init__" else parts


def _targets(node: ast.AST, path: Path) -> list[str]:
    """Dotted names of the dcsim modules (or module.attr) an import statement refers to."""
    if isinstance(node, ast.Import):
        return [a.name for a in node.names]
    if isinstance(node, ast.ImportFrom):
        if node.level:
            here = _module_of(path)
            if path.name != "__init__.py":
                here = here[:-1]
            base = here[: len(here) - (node.level - 1)]
            mod = ".".join(base + ([node.module] if node.module else []))
        else:
            mod = node.module or ""
        if mod == "dcsim":  # `from dcsim import x`: x is a module or a name of dcsim/__init__
            return [f"dcsim.{a.name}" if (DCSIM / a.name).exists()
                    or (DCSIM / f"{a.name}.py").exists() else "dcsim" for a in node.names]
        return [mod]
    return []


def package_edges() -> dict[tuple[str, str], list[str]]:
    """(importer package, imported package) → the files where the import is written."""
    edges: dict[tuple[str, str], list[str]] = defaultdict(list)
    for path in sorted(DCSIM.rglob("*.py")):
        src = _package_of(path)
        for node in ast.walk(ast.parse(path.read_text("utf-8"), str(path))):
            for name in _targets(node, path):
                parts = name.split(".")
                if parts[0] != "dcsim":
                    continue
                dst = parts[1] if len(parts) > 1 else "__init__"
                if dst != src:
                    edges[(src, dst)].append(str(path.relative_to(DCSIM.parent)))
    return edges


def test_every_package_is_in_the_layer_table() -> None:
    found = {_package_of(p) for p in DCSIM.rglob("*.py")}
    missing = sorted(found - set(ALLOWED))
    assert not missing, f"add these packages to ALLOWED in {Path(__file__).name}: {missing}"


def test_no_import_cycle_between_packages() -> None:
    g = nx.DiGraph(list(package_edges()))
    cycles = list(nx.simple_cycles(g))
    assert not cycles, f"import cycles between packages: {cycles}"


def test_every_import_follows_the_layer_order() -> None:
    bad = [f"{src} imports {dst} ({', '.join(sorted(set(files)))})"
           for (src, dst), files in sorted(package_edges().items())
           if dst not in ALLOWED.get(src, frozenset())]
    assert not bad, "imports against the layer order:\n" + "\n".join(bad)


def test_config_imports_only_base_modules() -> None:
    """DESIGN.md: config imports no other dcsim package (besides the leaf modules)."""
    out = {dst for (src, dst) in package_edges() if src == "config"}
    assert out <= {"units", "errors", "rng", "registry"}, out


def test_the_parser_sees_function_local_and_type_checking_imports(tmp_path: Path) -> None:
    """The scan finds imports inside functions and ``if TYPE_CHECKING`` blocks."""
    src = ("from typing import TYPE_CHECKING\n"
           "if TYPE_CHECKING:\n    from dcsim.engine.simulation import Simulation\n"
           "def f():\n    from dcsim.cli import app\n    import dcsim.policies.registry\n")
    path = DCSIM / "config" / "x.py"
    names = [n for node in ast.walk(ast.parse(src)) for n in _targets(node, path)]
    assert names == ["typing", "dcsim.engine.simulation", "dcsim.cli",
                     "dcsim.policies.registry"]

"""The generated reference pages of the documentation site (docs/gen_reference.py).

They are rendered from the code at every ``mkdocs build`` (CI runs ``mkdocs build --strict``,
the ``docs`` extra); these tests check, without MkDocs, that every config key and every CLI
command reaches them.
"""

from __future__ import annotations

from pathlib import Path
from types import ModuleType

import typer.main

from dcsim.cli import app
from dcsim.config.schema import Config
from tests.conftest import load_script

ROOT = Path(__file__).resolve().parents[2]


def _gen() -> ModuleType:
    return load_script(ROOT / "docs" / "gen_reference.py", "gen_reference")


def test_config_reference_lists_every_key_of_every_model() -> None:
    page = _gen().config_reference()
    schema = Config.model_json_schema()
    models = {"Config": schema, **schema["$defs"]}
    for name, model in models.items():
        if name != "Config":
            assert f"### {name}\n" in page, name
        for key in model.get("properties", {}):
            assert f"| `{key}` |" in page, (name, key)
    # a default and a description as the schema states them
    assert "| `interval` | quantity | `300.0` | scheduling interval, s |" in page


def test_cli_reference_lists_every_command_and_option() -> None:
    page = _gen().cli_reference()

    def walk(cmd: typer.core.TyperGroup, path: list[str]) -> None:
        if path:
            assert f"## `dcsim {' '.join(path)}`" in page, path
            for p in cmd.params:
                if p.param_type_name == "option" and p.name != "help":
                    assert f"`{p.opts[0]}`" in page, (path, p.opts)
        for name, sub in getattr(cmd, "commands", {}).items():
            walk(sub, [*path, name])

    walk(typer.main.get_command(app), [])
    assert "## `dcsim plugins`" in page

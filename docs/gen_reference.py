"""Generated reference pages of the documentation site (an MkDocs hook, see mkdocs.yml).

The config reference is rendered from the pydantic schema (``dcsim.config.schema.Config``) and
the CLI reference from the typer application (``dcsim.cli.app``) at every build, so neither can
drift from the code. ``tests/unit/test_docs.py`` checks the renderers without MkDocs.
"""

from __future__ import annotations

import json
from typing import Any

CONFIG_PAGE = "reference/config.md"
CLI_PAGE = "reference/cli.md"


def _cell(text: Any) -> str:
    """Markdown table cell: one line, pipes escaped."""
    text = " ".join(str(text).split()).replace("|", "\\|")
    return text.replace("<", "&lt;").replace(">", "&gt;")


def _type(prop: dict[str, Any]) -> str:
    """A short type label of a JSON-schema property."""
    if "$ref" in prop:
        return f"[{prop['$ref'].rsplit('/', 1)[-1]}](#{prop['$ref'].rsplit('/', 1)[-1].lower()})"
    if "enum" in prop:
        return " | ".join(f"`{v}`" for v in prop["enum"])
    if "const" in prop:
        return f"`{prop['const']}`"
    for key in ("anyOf", "oneOf"):
        if key in prop:
            parts = [_type(p) for p in prop[key] if p.get("type") != "null"]
            null = len(parts) < len(prop[key])
            if parts == ["number", "string"]:
                parts = ["quantity"]
            return " or ".join(dict.fromkeys(parts)) + (" or null" if null else "")
    kind = prop.get("type", "any")
    if kind == "array":
        return f"list of {_type(prop.get('items', {}))}"
    if kind == "object" and isinstance(prop.get("additionalProperties"), dict):
        return f"mapping to {_type(prop['additionalProperties'])}"
    hint = prop.get("description") if kind == "string" and "unit" in str(
        prop.get("description", "")) else None
    return f"{kind} ({hint})" if hint else str(kind)


def _model_table(name: str, schema: dict[str, Any]) -> list[str]:
    lines = [f"### {name}", ""]
    doc = schema.get("description", "")
    if doc:
        lines += [" ".join(doc.split()), ""]
    props: dict[str, Any] = schema.get("properties", {})
    if not props:
        return [*lines, "No keys.", ""]
    required = set(schema.get("required", []))
    lines += ["| key | type | default | description |", "|---|---|---|---|"]
    for key, prop in props.items():
        default = "required" if key in required else f"`{json.dumps(prop['default'])}`" \
            if "default" in prop else ""
        lines.append(f"| `{key}` | {_cell(_type(prop))} | {_cell(default)} | "
                     f"{_cell(prop.get('description', ''))} |")
    return [*lines, ""]


def config_reference() -> str:
    """The config reference page: every model of the schema, every key, type, default."""
    from dcsim.config.schema import Config

    schema = Config.model_json_schema()
    lines = ["# Config reference", "",
             "Generated from the pydantic schema at every documentation build (`dcsim schema` "
             "prints the same schema as JSON). A *quantity* is a number in the base unit (s, "
             "bit/s, W) or a string with a unit (`'5m'`, `'10Gbit/s'`, `'120W'`); sizes are "
             "strings with a unit (`'16GiB'`).", "",
             "## Config (the top level)", ""]
    top = {k: v for k, v in schema.items() if k != "$defs"}
    lines += _model_table("Config", top)[2:]
    lines += ["## Sections", ""]
    for name, sub in sorted(schema.get("$defs", {}).items()):
        lines += _model_table(name, sub)
    return "\n".join(lines)


def cli_reference() -> str:
    """The CLI reference page: every command, its summary, arguments and options."""
    import typer.main

    from dcsim.cli import app

    root = typer.main.get_command(app)
    lines = ["# CLI reference", "", "Generated from the command definitions at every build "
             "(`dcsim COMMAND --help` shows the same).", ""]

    def walk(cmd: Any, path: list[str]) -> None:
        if path:
            lines.extend([f"## `dcsim {' '.join(path)}`", "",
                          " ".join((cmd.help or "").split()), ""])
            params = [p for p in cmd.params if p.name != "help"]
            if params:
                lines.extend(["| argument / option | help |", "|---|---|"])
                for p in params:
                    names = ", ".join(f"`{o}`" for o in p.opts) if (
                        p.param_type_name == "option") else f"`{p.name}`"
                    helptext = getattr(p, "help", None) or ""
                    lines.append(f"| {_cell(names)} | {_cell(helptext)} |")
                lines.append("")
        subs = getattr(cmd, "commands", {})
        for name in sorted(subs):
            walk(subs[name], [*path, name])

    walk(root, [])
    return "\n".join(lines)


def on_files(files: Any, config: Any) -> Any:
    """MkDocs hook: add the generated pages to the site."""
    from mkdocs.structure.files import File

    for uri, render in ((CONFIG_PAGE, config_reference), (CLI_PAGE, cli_reference)):
        files.append(File.generated(config, uri, content=render()))
    return files

"""CITATION.cff and CHANGELOG.md agree with the package version, and ``dcsim --version``.

The CFF file's schema validity is checked with ``cffconvert --validate`` (not a test
dependency: it pins old versions of jsonschema); this test keeps its version, its required keys
and the changelog in step with ``pyproject.toml``, which every release touches.
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import yaml
from typer.testing import CliRunner

from dcsim.cli import app

ROOT = Path(__file__).resolve().parents[2]


def _version() -> str:
    return str(tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["version"])


def test_citation_file_names_this_version() -> None:
    cff = yaml.safe_load((ROOT / "CITATION.cff").read_text(encoding="utf-8"))
    assert cff["cff-version"] == "1.2.0"
    for key in ("message", "title", "authors", "version", "license", "type"):
        assert cff.get(key), key
    assert all("name" in a or "family-names" in a for a in cff["authors"])
    assert str(cff["version"]) == _version()


def test_changelog_has_this_version_and_unreleased() -> None:
    text = (ROOT / "CHANGELOG.md").read_text(encoding="utf-8")
    heads = re.findall(r"^## \[([^\]]+)\]", text, flags=re.MULTILINE)
    assert heads[0] == "Unreleased"
    assert _version() in heads
    dated = re.findall(r"^## \[[^\]]+\] - (\d{4}-\d{2}-\d{2})$", text, flags=re.MULTILINE)
    assert dated == sorted(dated, reverse=True)  # newest first


def test_version_option_prints_the_installed_version() -> None:
    from dcsim.version import __version__

    res = CliRunner().invoke(app, ["--version"], prog_name="dcsim")
    assert res.exit_code == 0, res.output
    assert res.output == f"dcsim {__version__}\n"

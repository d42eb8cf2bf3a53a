"""The executed tutorials (docs/run_tutorials.py): every script is on the site's menu and its page
shows the code, the output and the figure. CI's ``mkdocs build --strict`` runs them."""

from __future__ import annotations

from pathlib import Path
from types import ModuleType

import yaml

from tests.conftest import load_script

ROOT = Path(__file__).resolve().parents[2]


def _hook() -> ModuleType:
    return load_script(ROOT / "docs" / "run_tutorials.py", "run_tutorials")


def _nav_pages(node: object) -> list[str]:
    if isinstance(node, str):
        return [node]
    if isinstance(node, dict):
        return [p for v in node.values() for p in _nav_pages(v)]
    if isinstance(node, list):
        return [p for v in node for p in _nav_pages(v)]
    return []


def test_every_tutorial_is_on_the_menu_and_there_are_five() -> None:
    hook = _hook()
    nav = _nav_pages(yaml.safe_load((ROOT / "mkdocs.yml").read_text())["nav"])
    names = [f"tutorials/{s.stem}.md" for s in hook.scripts()]
    assert len(names) >= 5
    assert [n for n in names if n not in nav] == []


def test_a_page_shows_code_output_and_figure() -> None:
    hook = _hook()
    script = hook.scripts()[0]
    text = hook.page(script, "IT energy 1.0 kWh\n")
    assert text.startswith("# Tutorial 1: a first run, and its results in pandas")
    assert "import dcsim" in text
    assert "IT energy 1.0 kWh" in text
    assert f"![{script.stem}]({script.stem}.png)" in text


def test_every_readme_section_a_page_includes_exists() -> None:
    import re

    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    refs = {m.group(1) for page in (ROOT / "docs").rglob("*.md")
            for m in re.finditer(r'--8<-- "README\.md:([a-z_-]+)"', page.read_text())}
    assert {"model", "results", "sweeps", "carbon", "rl", "validation"} <= refs
    missing = [r for r in sorted(refs) if f"[start:{r}]" not in readme
               or f"[end:{r}]" not in readme]
    assert missing == []

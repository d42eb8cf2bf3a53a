"""``--help`` of every dcsim command: what it shows, and that the fast path shows the same.

``dcsim.cli.main`` imports typer's help formatter without its markdown and traceback renderers
(``dcsim.help_formatter``, issue 15: ``dcsim --help`` within 0.3 s of CPU). These tests check the
help screens' content (every command listed, every option of every command shown with its help
text) and that the console script's screens are byte for byte those of typer's ordinary path.
No timing here: ``experiments/benchmarks`` and the issue note hold the figures.
"""

from __future__ import annotations

import itertools
import json
import re
import subprocess
import sys

import typer.main
from typer.testing import CliRunner

from dcsim.cli import app
from tests.conftest import REPO

# the commands a user can ask help for (hand-listed: a command that disappears or is not
# mounted fails the test)
COMMANDS = ["run", "validate", "schema", "plot", "plugins", "migration", "sweep", "report",
            "plot-sweep", "traces"]
TRACES = ["list", "import"]
PATHS = [[], *([c] for c in COMMANDS), *(["traces", c] for c in TRACES)]

# what a few screens must show (hand-written from the command definitions)
MUST_SHOW = {
    "run": ["--out", "-o", "--seed", "--set", "-s", "--quiet", "-q", "--check", "--overwrite",
            "--allow-rejections", "Simulate a config and write its results folder."],
    "sweep": ["--out", "--executor", "--workers", "--scheduler", "--retry-errors", "--dry-run",
              "--allow-rejections",
              "Running the same command again resumes: finished runs are skipped."],
    "traces import": ["bitbrains", "planetlab", "google", "csv"],
}


def _flat(text: str) -> str:
    """Help text without the panels' box characters, whitespace collapsed (wrapped lines join)."""
    return " ".join(re.sub(r"[│╭╮╰╯─]", " ", text).split())


def _commands() -> dict[str, typer.core.TyperCommand]:
    """Every command of the CLI by its path ("" for ``dcsim`` itself), from the click tree."""
    found = {}

    def walk(cmd: typer.core.TyperCommand, path: list[str]) -> None:
        found[" ".join(path)] = cmd
        for name, sub in getattr(cmd, "commands", {}).items():
            walk(sub, [*path, name])

    walk(typer.main.get_command(app), [])
    return found


def test_every_command_is_listed_with_its_summary() -> None:
    assert sorted(_commands()) == sorted(" ".join(p) for p in PATHS)
    res = CliRunner().invoke(app, ["--help"], prog_name="dcsim")
    assert res.exit_code == 0
    flat = _flat(res.output)
    assert "Usage: dcsim [OPTIONS] COMMAND [ARGS]..." in flat
    for name in COMMANDS:
        assert re.search(rf"(^| ){re.escape(name)} [A-Z]", flat), name  # name, then its summary


def test_each_help_screen_shows_every_option_and_its_help() -> None:
    for path, cmd in _commands().items():
        res = CliRunner().invoke(app, [*path.split(), "--help"], prog_name="dcsim")
        assert res.exit_code == 0, (path, res.output)
        flat = _flat(res.output)
        assert f"Usage: {' '.join(['dcsim', *path.split()])} [OPTIONS]" in flat, path
        first = _flat((cmd.help or "").split("\n\n")[0])
        assert first, path
        assert first in flat, (path, first)
        for param in cmd.params:
            for opt in param.opts:
                shown = opt if opt.startswith("-") else opt.lower()
                assert shown in flat, (path, opt)
            helptext = _flat(getattr(param, "help", None) or "")
            assert helptext.replace("[", "").replace("]", "") in flat.replace("[", "").replace(
                "]", ""), (path, param.name, helptext)
        for must in MUST_SHOW.get(path, []):
            assert must in flat, (path, must)


_PROBE = """
import contextlib, io, json, sys
paths = json.loads(sys.argv[1])
fast = sys.argv[2] == "fast"
if not fast:
    import typer.rich_utils  # typer's ordinary import, markdown and traceback included
from dcsim.cli import app, main
screens = []
for path in paths:
    buf = io.StringIO()
    with contextlib.redirect_stdout(buf):
        try:
            if fast:
                sys.argv = ["dcsim", *path]  # the console script: main() reads sys.argv
                main()
            else:
                app(path, prog_name="dcsim")
        except SystemExit as exc:
            screens.append([buf.getvalue(), exc.code])
loaded = [m for m in ("rich.markdown", "rich.traceback", "markdown_it", "pygments")
          if m in sys.modules]
import rich.markdown, typer.rich_utils
md = typer.rich_utils._make_rich_text(text="*x*", markup_mode="markdown")
print(json.dumps({"screens": screens, "loaded": loaded,
                  "markdown_real": type(md) is rich.markdown.Markdown and bool(md.parsed)}))
"""


def _screens(mode: str) -> dict[str, object]:
    paths = [*PATHS[:1], *([*p, "--help"] for p in PATHS)]  # `dcsim` alone shows help too
    paths.append(["traces"])  # a group alone shows its help
    out = subprocess.run([sys.executable, "-c", _PROBE, json.dumps(paths), mode], cwd=REPO,
                         capture_output=True, text=True, check=True,
                         env={"PYTHONPATH": str(REPO), "PATH": "", "COLUMNS": "100"})
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_console_script_help_is_typers_help_without_markdown_or_traceback() -> None:
    fast, plain = _screens("fast"), _screens("plain")
    assert len(fast["screens"]) == len(PATHS) + 2
    assert fast["screens"] == plain["screens"]  # same text and exit code, byte for byte
    assert all(code == 0 for _, code in fast["screens"][1:-1])  # the --help screens
    assert fast["loaded"] == []  # the help screens needed neither renderer
    assert "rich.markdown" in plain["loaded"]
    # a later import gets the real modules, and typer's markdown mode still renders
    assert fast["markdown_real"]
    assert plain["markdown_real"]


def test_a_typer_that_needs_more_from_those_modules_gets_them_imported_normally() -> None:
    # the stand-in rich.markdown offers only "Other": typer's `from rich.markdown import
    # Markdown` fails, and the formatter is imported with the real modules instead
    code = ("import sys, dcsim.help_formatter as h\n"
            "h._DEFERRED = (('rich.markdown', 'Other'), ('rich.traceback', 'Traceback'))\n"
            "h.load_help_formatter()\n"
            "import rich.markdown, rich.traceback, typer.rich_utils as r\n"
            "assert r.Markdown is rich.markdown.Markdown, r.Markdown\n"
            "assert r.Traceback is rich.traceback.Traceback, r.Traceback\n"
            "print('ok')\n")
    out = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True,
                         env={"PYTHONPATH": str(REPO), "PATH": ""})
    assert out.stdout.strip() == "ok", out.stderr


def test_help_paragraphs_break_only_where_the_screen_ends() -> None:
    """A docstring's own line breaks are not kept (on an 80-column screen they broke lines again
    mid-sentence: "... earlier dcsim run's results and / --overwrite be / given; ..."): every
    line of a help paragraph but its last reaches the panel's width."""
    width = 80
    for path in PATHS:
        res = CliRunner().invoke(app, [*path, "--help"], prog_name="dcsim",
                                 env={"COLUMNS": str(width)})
        assert res.exit_code == 0, path
        intro = res.output.split("╭", 1)[0]  # usage and the command's help, before the panels
        paragraphs = [[ln.strip() for ln in block.splitlines() if ln.strip()]
                      for block in re.split(r"\n\s*\n", intro)]
        for lines in paragraphs:
            for line, nxt in itertools.pairwise(lines):
                # a line broken early: the next line's first word would have fitted
                assert len(line) + 1 + len(nxt.split()[0]) > width - 2, (path, line, nxt)

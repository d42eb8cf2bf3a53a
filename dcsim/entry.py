"""The ``dcsim`` console script and ``python -m dcsim``: :func:`dcsim.cli.main`, imported here.

A Ctrl-C while the command line itself is imported (typer, rich, the command modules: the first
~0.1-0.3 s of every command) or before a command's own guard runs ends as one during a command
does: "interrupted" and exit 130, not a Python traceback. Imports only the standard library
until :func:`main` runs.
"""

from __future__ import annotations

import sys


def main() -> None:
    """Import and run the command line; an early Ctrl-C is exit 130 without a traceback."""
    try:
        from dcsim.cli import main as cli_main

        cli_main()
    except KeyboardInterrupt:  # before the CLI's guard (dcsim.cli._Guarded) took over
        sys.stderr.write("interrupted\n")
        raise SystemExit(130) from None

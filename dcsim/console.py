"""What every ``dcsim`` command shares: the two consoles and the error guard.

``dcsim.cli`` and the sub-command modules it mounts (``dcsim.experiments.cli``,
``dcsim.cli_migration``) import this module; it imports none of them, so the command modules
do not import each other (DESIGN.md: no import circles).

Exit codes: 0 success, 2 bad input (every problem listed with its config path, nothing written),
1 an unexpected internal error, 130 interrupted (Ctrl-C), 143 terminated (SIGTERM).

Imports: typer, rich, dcsim.errors.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

import typer
from rich.console import Console

from dcsim.errors import ConfigError, DcsimError, Terminated

__all__ = ["err", "guard", "out"]

out = Console()
err = Console(stderr=True)
T = TypeVar("T")


def guard(fn: Callable[[], T]) -> T:
    """Run ``fn``; turn dcsim's errors into a clean message and exit code (no traceback)."""
    try:
        return fn()
    except ConfigError as exc:
        err.print(f"[bold red]error:[/] {exc.render()}", highlight=False, soft_wrap=True)
        raise typer.Exit(2) from None
    except DcsimError as exc:
        err.print(f"[bold red]error:[/] {exc}", highlight=False)
        raise typer.Exit(1) from None
    except OSError as exc:  # e.g. an output folder that cannot be written
        err.print(f"[bold red]error:[/] {exc.strerror or exc}: {exc.filename or ''}",
                  highlight=False)
        raise typer.Exit(1) from None
    except KeyboardInterrupt as exc:  # Ctrl-C, or SIGTERM (dcsim.cli.main raises Terminated)
        term = isinstance(exc, Terminated)
        err.print("terminated" if term else "interrupted")
        raise typer.Exit(143 if term else 130) from None

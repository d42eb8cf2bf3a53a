"""What every ``dcsim`` command shares: the two consoles and the error guard.

``dcsim.cli`` and the sub-command modules it mounts (``dcsim.experiments.cli``,
``dcsim.cli_migration``) import this module; it imports none of them, so the command modules
do not import each other (DESIGN.md: no import circles).

Exit codes: 0 success, 2 bad input (every problem listed with its config path, nothing written),
1 an unexpected internal error, 130 interrupted (Ctrl-C), 143 terminated (SIGTERM).

No traceback ever reaches the user: :func:`report_escaped` (called by the ``dcsim`` click group
for any exception that escapes a command) prints one line and picks the exit code; ``dcsim
--debug CMD`` or ``DCSIM_DEBUG=1`` prints the traceback as well. Messages are printed with
rich markup escaped, so text from user input cannot restyle or hide them.

Imports: typer, rich, dcsim.errors.
"""

from __future__ import annotations

import gc
import os
import traceback
from collections.abc import Callable
from typing import TypeVar

import typer
from rich.console import Console
from rich.markup import escape

from dcsim.errors import ConfigError, DcsimError, Terminated

__all__ = ["DEBUG", "QUICK_EXIT", "end_startup", "err", "guard", "out", "report_escaped",
           "startup_without_gc"]

out = Console()
err = Console(stderr=True)
T = TypeVar("T")
DEBUG = {"on": os.environ.get("DCSIM_DEBUG", "") not in ("", "0")}
"""``DEBUG["on"]``: print tracebacks of unexpected errors (``--debug`` or ``DCSIM_DEBUG=1``)."""
QUICK_EXIT = {"on": False}
"""``QUICK_EXIT["on"]``: set by a command that has written everything it writes and ran no
third-party code (plugins, agents); once it returns with success, ``dcsim.cli.main`` ends the
process without the interpreter's teardown (``dcsim.cli._exit_now``)."""
_STARTUP = {"gc_off": False}


def startup_without_gc() -> None:
    """Turn the cycle collector off for a command's start-up, until :func:`end_startup`.

    Start-up (imports, typer's parameter adapters, config models, the checked config) builds
    ~200,000 container objects that nearly all live to the end of the process; the collector
    would traverse them again and again (two or three full passes, ~25-50 ms each).
    """
    if gc.isenabled():
        gc.disable()
        _STARTUP["gc_off"] = True


def end_startup() -> None:
    """End of start-up: freeze what it built out of every later collection and turn the cycle
    collector back on (if :func:`startup_without_gc` turned it off). Only the first call acts.

    The few cycles dropped during start-up stay (~1 MB); collecting them first would cost the
    full pass this avoids.
    """
    if _STARTUP["gc_off"]:
        _STARTUP["gc_off"] = False
        gc.freeze()
        gc.enable()


def _one_line(exc: BaseException) -> str:
    """``Type: message`` on one line, cut at 300 characters."""
    text = " ".join(str(exc).split())
    text = text if len(text) <= 300 else text[:297] + "..."
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def report_escaped(exc: BaseException) -> int:
    """Print an exception that escaped a command in one line; the exit code it deserves.

    2 for dcsim's ``ConfigError`` and for running out of memory (the input asked for more than
    the machine has), 1 for anything else (a bug).
    """
    if DEBUG["on"]:
        err.print(escape("".join(traceback.format_exception(exc))), highlight=False,
                  soft_wrap=True)
    if isinstance(exc, ConfigError):
        err.print(f"[bold red]error:[/] {escape(exc.render())}", highlight=False, soft_wrap=True)
        return 2
    if isinstance(exc, MemoryError):
        err.print("[bold red]error:[/] out of memory: the input asks for more than this machine "
                  "has (reduce counts, duration or topology size)", highlight=False)
        return 2
    hint = "" if DEBUG["on"] else " (run with --debug for the traceback)"
    err.print(f"[bold red]internal error[/] (a bug in dcsim, please report it){hint}: "
              f"{escape(_one_line(exc))}", highlight=False, soft_wrap=True)
    return 1


def guard(fn: Callable[[], T]) -> T:
    """Run ``fn``; turn dcsim's errors into a clean message and exit code (no traceback)."""
    try:
        return fn()
    except ConfigError as exc:
        err.print(f"[bold red]error:[/] {escape(exc.render())}", highlight=False, soft_wrap=True)
        raise typer.Exit(2) from None
    except DcsimError as exc:
        err.print(f"[bold red]error:[/] {escape(str(exc))}", highlight=False)
        raise typer.Exit(1) from None
    except OSError as exc:  # e.g. an output folder that cannot be written
        err.print(f"[bold red]error:[/] {escape(str(exc.strerror or exc))}: "
                  f"{escape(str(exc.filename or ''))}", highlight=False)
        raise typer.Exit(1) from None
    except KeyboardInterrupt as exc:  # Ctrl-C, or SIGTERM (dcsim.cli.main raises Terminated)
        term = isinstance(exc, Terminated)
        err.print("terminated" if term else "interrupted")
        raise typer.Exit(143 if term else 130) from None

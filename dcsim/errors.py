"""Exceptions and warnings dcsim raises on purpose. Imports nothing from dcsim."""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Issue:
    """One problem in user input; ``path`` is its dotted config path (``guests[0].ram``)."""

    path: str
    message: str

    def __str__(self) -> str:
        return f"{self.path}: {self.message}" if self.path else self.message


@dataclass(frozen=True, slots=True)
class Inert(Issue):
    """A value that changes nothing in its config (a parameter of another topology kind, a wake
    latency where no host sleeps, ...): not an error, since one ``--set`` can make it so (sleep
    off in a config with a wake latency), but said, as an :class:`InertWarning`. A sweep says
    it only for a value that changes nothing in any of its points
    (``dcsim.config.sweep.expand_sweep``)."""


class InertWarning(UserWarning):
    """A config value changes nothing in its run (an :class:`Inert` issue); the run goes on."""


def say_inert(inert: Sequence[Issue], where: str = "") -> None:
    """Say each value that changes nothing: an :class:`InertWarning` each, which the CLI prints
    as ``warning: PATH: ...``; ``where`` is appended (a sweep's points)."""
    for issue in inert:
        warnings.warn(f"{issue}{where}", InertWarning, stacklevel=3)


class DcsimError(Exception):
    """Base class of dcsim's own errors."""


class ConfigError(DcsimError):
    """User input (config, unit, trace, topology) was refused; carries every issue found."""

    def __init__(self, issues: list[Issue] | Issue, source: str | None = None) -> None:
        self.issues = [issues] if isinstance(issues, Issue) else list(issues)
        self.source = source
        # args rebuild the error (SimPy re-raises a failed process's error as type(e)(*e.args);
        # pickling a run's error from a child process does the same)
        super().__init__(self.issues, source)

    def __str__(self) -> str:
        return self.render()

    def at(self, path: str) -> ConfigError:
        """The same problems, each at ``path``: a reader's issues moved to the config field or
        option that named its file (the messages, which name the file, are kept)."""
        return ConfigError([Issue(path, i.message) for i in self.issues])

    def render(self) -> str:
        head = f"invalid input in {self.source}" if self.source else "invalid input"
        lines = [f"{head} ({len(self.issues)} problem{'s' if len(self.issues) != 1 else ''}):"]
        lines += [f"  - {issue}" for issue in self.issues]
        return "\n".join(lines)


class InvariantViolation(DcsimError):
    """A model invariant (capacity, conservation) was broken: always a bug in dcsim."""


class SimulationError(DcsimError):
    """The simulation could not continue."""


class Terminated(KeyboardInterrupt):
    """SIGTERM arrived: handled exactly like Ctrl-C (finished work kept, nothing half-written)."""

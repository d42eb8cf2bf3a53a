"""Which figures in a folder dcsim wrote: the ledger ``.dcsim-figures``.

``dcsim plot`` (in a run folder) and ``dcsim plot-sweep`` (in a sweep's ``plots/``) add the
name of each figure they write to the folder's ledger, one per line. Only those figures are
dcsim's to replace without ``--overwrite``, or to delete with the folder's results (``dcsim
run --overwrite``, ``dcsim sweep --overwrite``); a file of the same name that is not in the
ledger is the user's and is kept.

The ledger is a plain text file a user can edit, so it is trusted only for names a dcsim
figure can have (:func:`is_figure_name`: a PNG or PDF file name of safe characters, not
hidden, no folder): a line naming ``notes.txt`` or ``../x.png`` is ignored, and a ledger can
never make dcsim delete an arbitrary file.

Imports: re, dcsim.io.atomic.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import Path

from dcsim.io.atomic import atomic_write_bytes

__all__ = ["FIGURES_LEDGER", "figures_ledger_file", "is_figure_name", "record_figures",
           "written_figures"]

#: The ledger's file name, in the folder whose figures it lists.
FIGURES_LEDGER = ".dcsim-figures"
#: A name dcsim gives a figure: characters of ``sweep_plots._safe`` (and ``timeseries``), not
#: starting with a dot, ending in the suffix of a format dcsim writes.
_FIGURE_NAME = re.compile(r"^[A-Za-z0-9_+-][A-Za-z0-9_.+-]*\.(?:png|pdf)$")


def is_figure_name(name: str) -> bool:
    """Whether ``name`` is a file name a figure written by dcsim can have."""
    return bool(_FIGURE_NAME.match(name))


def figures_ledger_file(folder: Path) -> bool:
    """Whether ``folder`` holds a ledger dcsim can own: a regular file, not a symbolic link."""
    p = Path(folder) / FIGURES_LEDGER
    return p.is_file() and not p.is_symlink()


def written_figures(folder: Path) -> set[str]:
    """The figure names ``folder``'s ledger lists (only names :func:`is_figure_name` accepts;
    an empty set without a readable ledger)."""
    if not figures_ledger_file(folder):
        return set()
    try:
        text = (Path(folder) / FIGURES_LEDGER).read_text("utf-8")
    except (OSError, UnicodeDecodeError):
        return set()
    return {line for line in text.splitlines() if is_figure_name(line)}


def record_figures(folder: Path, names: Iterable[str]) -> None:
    """Add ``names`` (figure names, see :func:`is_figure_name`) to ``folder``'s ledger.

    Written to a temporary file and renamed, so the ledger is the old or the new one. Call it
    after the figures are in place: a kill in between leaves a figure the ledger does not list
    (kept as the user's, the safe side), never a listed name with a user's file behind it.
    """
    folder = Path(folder)
    names = set(names)
    bad = sorted(n for n in names if not is_figure_name(n))
    if bad:
        raise ValueError(f"not figure names: {bad}")
    final = folder / FIGURES_LEDGER
    if (final.exists() or final.is_symlink()) and not figures_ledger_file(folder):
        return  # something else has the ledger's name: not ours to replace; figures unlisted
    known = written_figures(folder) | names
    atomic_write_bytes(final, "".join(f"{n}\n" for n in sorted(known)).encode("utf-8"))
